// `syncord … | head`: the reader closes the pipe after the lines it wants; the CLI ends quietly, as other tools do.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

describe('cli: output into a pipe closed early', () => {
  it('ends without an error or a stack trace when the reader stops after the first line', async () => {
    if (!fs.existsSync(CLI)) assert.fail(`${CLI} is missing: build with \`node esbuild.js\` first`);
    // The reader is gone before the CLI writes: every write hits a closed pipe.
    const child = spawn(process.execPath, [CLI, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    assert.equal(stderr, '', 'nothing on standard error');
    assert.equal(code, 0);
  });
});
