import * as assert from 'node:assert/strict';
import { Run, runSyncord } from '../cli/runSyncord';
import { TestWorkspace, workspace } from './helpers';

function health(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runSyncord(cwd, ['health', '--json', '--now', '2024-01-15T16:00:00Z', ...args], { env });
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
