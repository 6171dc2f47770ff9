import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { TestWorkspace, workspace } from './helpers';

/** The compiled CLI entry beside the compiled tests. */
const CLI = path.resolve(__dirname, '../../../src/cli/main.js');

function health(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const k of ['SYNCORD_INSTANCE', 'SYNCORD_WORKSPACE', 'SYNCORD_COORDINATION_DIR']) delete e[k];
    for (const k of ['SYNCORD_STALE_HOURS', 'SYNCORD_RESPONSE_HOURS']) if (!(k in env)) delete e[k];
    const child = spawn(process.execPath, [CLI, 'health', '--json', '--now', '2024-01-15T16:00:00Z', ...args], { cwd, env: e });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const warnings = (stdout: string) =>
  (JSON.parse(stdout).findings as { severity: string; code: string; subject: string }[])
    .filter((f) => f.severity === 'warning')
    .map((f) => `${f.code} ${f.subject}`)
    .sort();

describe('syncord health thresholds', function () {
  this.timeout(60_000);
  // On the seed at 16:00: instance-1 checked in 5h 30m ago, instance-2 4h 45m ago; the question was due at 12:00.
  let ws: TestWorkspace;
  before(async () => {
    ws = await workspace();
  });
  after(() => ws?.dispose());

  it('uses the seed rule (24 h) by default, and SYNCORD_STALE_HOURS when set', async () => {
    const byDefault = await health(ws.root, []);
    assert.equal(byDefault.code, 1, byDefault.stderr);
    assert.deepEqual(warnings(byDefault.stdout), ['overdue-response msg_001']);

    const fromEnv = await health(ws.root, [], { SYNCORD_STALE_HOURS: '5' });
    assert.deepEqual(warnings(fromEnv.stdout), ['overdue-response msg_001', 'stale-checkin instance-1']);
  });

  it('lets --stale-hours win over SYNCORD_STALE_HOURS', async () => {
    const r = await health(ws.root, ['--stale-hours', '4'], { SYNCORD_STALE_HOURS: '100' });
    assert.deepEqual(warnings(r.stdout), ['overdue-response msg_001', 'stale-checkin instance-1', 'stale-checkin instance-2']);
  });

  it('names the environment variable that holds a value that is not a number of hours', async () => {
    const r = await health(ws.root, [], { SYNCORD_RESPONSE_HOURS: 'soon' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SYNCORD_RESPONSE_HOURS needs a positive number of hours, not "soon"/);
  });
});
