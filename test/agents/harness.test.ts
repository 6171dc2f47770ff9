// The harness's own promises, without any agent: cleanup ends exactly the processes started with a scratch's
// environment, the scratch workspace is what `syncord` expects, and a failed wait says what it waited for.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MARK_VARIABLE, Scratch, createScratch, markedProcesses, runCli, runProgram, waitFor } from './harness';
import { ScriptedModel, startScriptedModel } from './scriptedModel';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is gone for our purposes.
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('agents harness', function () {
  let model: ScriptedModel;
  let scratch: Scratch | undefined;
  const started: number[] = [];

  beforeEach(async function () {
    model = await startScriptedModel();
  });

  afterEach(async function () {
    await scratch?.cleanup();
    scratch = undefined;
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already ended */
      }
    }
    await model.close();
  });

  it('cleanup ends a detached process started with the scratch env and leaves one without its mark alive', async function () {
    scratch = await createScratch(model);
    const s = scratch;
    // A stray "agent": its own session, not a child anyone waits for.
    const stray = spawn('sleep', ['300'], { cwd: s.workspace, env: s.env, detached: true, stdio: 'ignore' });
    stray.unref();
    const other = spawn('sleep', ['300'], { env: { ...s.env, [MARK_VARIABLE]: 'someone-else' }, detached: true, stdio: 'ignore' });
    other.unref();
    started.push(stray.pid!, other.pid!);
    await waitFor(() => markedProcesses(s.mark).includes(stray.pid!), { what: 'the stray process to be found by its mark', timeoutMs: 10_000 });
    assert.ok(!markedProcesses(s.mark).includes(other.pid!));

    await s.cleanup();
    scratch = undefined;
    await waitFor(() => !alive(stray.pid!), { what: 'the stray process to end', timeoutMs: 10_000 });
    assert.ok(alive(other.pid!), 'a process without the mark was ended');
    assert.ok(!fs.existsSync(s.root), `${s.root} is still there`);
  });

  it('the scratch workspace is a committed git repository with coordination files, and syncord runs from the shim', async function () {
    scratch = await createScratch(model, { instance: 'instance-1' });
    const s = scratch;
    assert.deepEqual(fs.readdirSync(path.join(s.workspace, 'coordination')).sort(), [
      'communication-log.json',
      'decisions.json',
      'instance-registry.json',
      'task-queue.json',
    ]);
    const checkin = await runCli(['checkin', '--role', 'tester'], { cwd: s.workspace, env: s.env });
    assert.equal(checkin.code, 0, checkin.stderr);
    assert.match(checkin.stdout, /^instance-1 checked in \(newly registered\): tester/);
    // The same through the `syncord` command an agent finds on PATH.
    const viaShim = await runProgram('sh', ['-c', 'command -v syncord && syncord inbox'], { cwd: s.workspace, env: s.env });
    assert.equal(viaShim.code, 0, viaShim.stderr);
    assert.equal(viaShim.stdout, `${path.join(s.bin, 'syncord')}\nNothing waiting for instance-1.\n`);
    const log = await runProgram('git', ['log', '--format=%s', '--name-only'], { cwd: s.workspace, env: s.env });
    assert.equal(log.code, 0, log.stderr);
    assert.match(log.stdout, /^First commit\n/);
    assert.match(log.stdout, /coordination\/task-queue\.json/);
  });

  it('a wait that never succeeds fails with what it waited for, the last error, and the state', async function () {
    let calls = 0;
    await assert.rejects(
      waitFor(
        () => {
          calls++;
          throw new Error('not there yet');
        },
        { what: 'the impossible', timeoutMs: 300, intervalMs: 50, detail: () => 'the screen was empty' },
      ),
      (e: Error) => {
        assert.equal(e.message, 'timed out after 0.3 s waiting for the impossible (last error: not there yet)\nthe screen was empty');
        return true;
      },
    );
    assert.ok(calls > 1);
  });
});
