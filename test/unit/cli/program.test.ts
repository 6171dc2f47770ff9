// runCli is called in-process (by tests and by main.ts): a usage error, --help or --version in any verb, however
// deep, must come back as an exit code, never as a call to process.exit.
import * as assert from 'node:assert/strict';
import { cli } from '../targets/helpers';

describe('syncord CLI exits only through its return value', () => {
  const realExit = process.exit;
  before(() => {
    (process as { exit: unknown }).exit = (code?: number) => {
      throw new Error(`process.exit(${code}) was called`);
    };
  });
  after(() => {
    process.exit = realExit;
  });

  it('returns 2 for an unknown option of a nested verb, and says so on stderr', async () => {
    const r = await cli(['task', 'add', '--no-such-option']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown option '--no-such-option'/);
  });

  it('returns 2 for an unknown verb under a group', async () => {
    const r = await cli(['target', 'no-such-verb']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown command 'no-such-verb'/);
  });

  it('returns 0 for --help of a nested verb, printing its usage', async () => {
    const r = await cli(['task', 'add', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: syncord task add/);
  });

  it('returns 0 for --version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
