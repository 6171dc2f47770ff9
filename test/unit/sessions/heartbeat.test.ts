// Remote sessions without the network: how a heartbeat reads and shows (CLI table, Sessions view), the ssh command
// line built from a remote's settings, and which verbs an agent on another machine may forward.
import * as assert from 'node:assert/strict';
import { sessionsTable, stateColumn } from '../../../src/cli/sessions';
import { forwardedArgv, sshArgv, SshRemote } from '../../../src/core/sessions/ssh';
import { RemoteSettingSchema } from '../../../src/core/sessions/remotes';
import { heartbeatOf, SessionRecord } from '../../../src/core/sessions/schema';
import { SessionsSettingsSchema } from '../../../src/core/sessions/runtimes';
import { buildSessionsTree } from '../../../src/views/sessions';
import { session } from '../views/samples';

const NOW = Date.parse('2026-02-27T10:10:00Z');
const MIN = 60_000;
const TIMEOUT = 15 * MIN;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

function remote(extra: Partial<SessionRecord> = {}): SessionRecord {
  return session('dddddddd-4', {
    instance: 'backend-claude',
    mode: 'remote',
    state: 'idle',
    host: 'build-box',
    pid: null,
    remote: 'build-box',
    endpoint: 'dev@build-box',
    heartbeat_interval: 60,
    updated: ago(30_000),
    ...extra,
  });
}

describe('remote sessions: heartbeat', () => {
  it('reads fresh within 3 intervals, unreachable after, timed out past the timeout', () => {
    assert.equal(heartbeatOf(remote({ updated: ago(30_000) }), NOW, TIMEOUT), 'fresh');
    assert.equal(heartbeatOf(remote({ updated: ago(3 * MIN) }), NOW, TIMEOUT), 'fresh', 'exactly 3 intervals is still fresh');
    assert.equal(heartbeatOf(remote({ updated: ago(3 * MIN + 1000) }), NOW, TIMEOUT), 'unreachable');
    assert.equal(heartbeatOf(remote({ updated: ago(TIMEOUT + 1000) }), NOW, TIMEOUT), 'timed-out');
    // The interval recorded on the session counts: 10 s → unreachable after 30 s.
    assert.equal(heartbeatOf(remote({ heartbeat_interval: 10, updated: ago(31_000) }), NOW, TIMEOUT), 'unreachable');
    // Without an interval, the default of 60 s.
    assert.equal(heartbeatOf(remote({ heartbeat_interval: undefined, updated: ago(2 * MIN) }), NOW, TIMEOUT), 'fresh');
  });

  it('never calls a local or an exited session unreachable, nor one stamped ahead of this clock', () => {
    assert.equal(heartbeatOf(session('aaaaaaaa-1', { updated: ago(TIMEOUT * 2) }), NOW, TIMEOUT), 'fresh');
    assert.equal(heartbeatOf(remote({ state: 'exited', updated: ago(TIMEOUT * 2) }), NOW, TIMEOUT), 'fresh');
    assert.equal(heartbeatOf(remote({ updated: new Date(NOW + MIN).toISOString() }), NOW, TIMEOUT), 'fresh');
  });

  it('shows an unreachable session in `syncord agents` with how long it has been silent, and where it runs', () => {
    const silent = { ...remote({ updated: ago(5 * MIN) }), instance_status: 'active', current_task: 'task_004', heartbeat: 'unreachable' as const };
    assert.equal(stateColumn(silent, NOW), 'UNREACHABLE (no heartbeat for 5m)');
    const fresh = { ...remote(), instance_status: 'active', current_task: null, heartbeat: 'fresh' as const };
    assert.equal(stateColumn(fresh, NOW), 'idle');
    const table = sessionsTable([silent], NOW).split('\n');
    assert.match(table[1], /^backend-claude\s+claude\s+UNREACHABLE \(no heartbeat for 5m\)\s+-\s+task_004\s+dddddddd\s+ssh dev@build-box \(remote build-box\)\s+10m ago$/);
  });

  it('shows an unreachable session in the Sessions view with its own icon and its last heartbeat', () => {
    const silent = { ...remote({ updated: ago(5 * MIN) }), instance_status: 'active', current_task: 'task_004', heartbeat: 'unreachable' as const };
    const [row] = buildSessionsTree([silent], [], () => false, undefined, () => NOW).roots;
    assert.equal(row.description, 'claude on build-box · unreachable · task_004');
    assert.equal(row.icon?.id, 'debug-disconnect');
    const tip = row.tooltip!();
    assert.match(tip, /^mode: remote build-box$/m);
    assert.match(tip, /^endpoint: dev@build-box \(on build-box\)$/m);
    assert.match(tip, /^heartbeat: 5m ago \(2026-02-27T10:05:00.000Z\); unreachable: none for more than 3 intervals$/m);
    const fresh = buildSessionsTree([{ ...remote(), instance_status: null, current_task: null, heartbeat: 'fresh' }], [], () => false, undefined, () => NOW).roots[0];
    assert.equal(fresh.description, 'claude on build-box · idle');
    assert.match(fresh.tooltip!(), /^heartbeat: just now \(/m);
  });
});

describe('remote sessions: ssh settings and command line', () => {
  const box: SshRemote = { kind: 'ssh', target: 'dev@build-box', folder: '/src/my app', port: 2222, identityFile: '/home/me/.ssh/box', syncord: '/opt/syncord/bin/syncord' };

  it('builds ssh options only from the checked fields, the target after them, and the remote command as quoted words', () => {
    assert.deepEqual(sshArgv(box, ['/opt/syncord/bin/syncord', '--workspace', '/src/my app', 'session', 'run', 'abc', '--remote-worker']), [
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      'ServerAliveInterval=60',
      '-o',
      'ServerAliveCountMax=3',
      '-p',
      '2222',
      '-i',
      '/home/me/.ssh/box',
      '-o',
      'IdentitiesOnly=yes',
      'dev@build-box',
      '--',
      "/opt/syncord/bin/syncord --workspace '/src/my app' session run abc --remote-worker",
    ]);
    // Whatever the folder holds, it stays one word for the remote shell.
    const tricky = sshArgv({ ...box, folder: "/x'; rm -rf ~; echo '$(id)" }, ['syncord', '--workspace', "/x'; rm -rf ~; echo '$(id)"]);
    assert.equal(tricky[tricky.length - 1], `syncord --workspace '/x'\\''; rm -rf ~; echo '\\''$(id)'`);
  });

  it('refuses a target that ssh would read as an option, unknown fields and unknown kinds', () => {
    const problems = (v: unknown) => {
      const r = RemoteSettingSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.match(problems({ ...box, target: '-oProxyCommand=sh' }).join('\n'), /target: must not start with '-'/);
    assert.match(problems({ ...box, target: 'dev@box; rm -rf /' }).join('\n'), /target: a host or user@host/);
    assert.match(problems({ ...box, command: ['ssh', 'evil'] }).join('\n'), /command/);
    assert.match(problems({ ...box, folder: '/src\nrm -rf /' }).join('\n'), /folder: no control characters/);
    assert.match(problems({ ...box, knownHostsFile: '/tmp/a /tmp/b' }).join('\n'), /knownHostsFile/);
    assert.notDeepEqual(problems({ ...box, kind: 'telnet' }), []);
    assert.deepEqual(problems(box), []);
    // Remote names become record fields and arguments: ids only.
    assert.equal(SessionsSettingsSchema.safeParse({ 'syncord.sessions.remotes': { '../x': box } }).success, false);
  });
});

describe('remote sessions: forwarded verbs', () => {
  const as = 'backend-claude';

  it('runs the coordination verbs, always as the session instance', () => {
    assert.deepEqual(forwardedArgv(['checkin'], as), ['checkin']);
    assert.deepEqual(forwardedArgv(['--as', as, 'task', 'start', 'task_001'], as), ['task', 'start', 'task_001']);
    assert.deepEqual(forwardedArgv(['--json', 'msg', 'reply', 'msg_001', '-m', 'ok'], as), ['--json', 'msg', 'reply', 'msg_001', '-m', 'ok']);
    assert.deepEqual(forwardedArgv(['session', 'hook', 'claude'], as), ['session', 'hook', 'claude']);
    assert.deepEqual(forwardedArgv(['agents', '--all'], as), ['agents', '--all']);
    assert.deepEqual(forwardedArgv(['--session', 'ses-1', 'checkin'], as, 'ses-1'), ['checkin']);
    assert.throws(() => forwardedArgv(['--session=ses-2', 'checkin'], as, 'ses-1'), /this is session ses-1 \(not "ses-2"\)/);
  });

  it('refuses the verbs that start sessions or run commands on the coordinating host, other folders and other instances', () => {
    const refusal = (argv: unknown) => {
      try {
        forwardedArgv(argv, as);
      } catch (e) {
        return (e as Error).message;
      }
      return 'allowed';
    };
    assert.match(refusal(['spawn', 'x']), /^`syncord spawn` is not available to an agent on another machine/);
    assert.match(refusal(['sling', 'task_001', 'x']), /`syncord sling` is not available/);
    assert.match(refusal(['session', 'run', 'abc']), /`syncord session run` is not available/);
    assert.match(refusal(['session', 'relay', 'abc']), /`syncord session relay` is not available/);
    assert.match(refusal(['session', 'stop', 'x']), /`syncord session stop` is not available/);
    assert.match(refusal(['mcp']), /`syncord mcp` is not available/);
    assert.match(refusal(['sync', 'all']), /`syncord sync` is not available/);
    assert.match(refusal(['target', 'verify', 'x']), /`syncord target` is not available/);
    assert.match(refusal(['trust']), /`syncord trust` is not available/);
    assert.match(refusal(['init']), /`syncord init` is not available/);
    assert.match(refusal([]), /no command is not available/);
    assert.match(refusal(['--workspace', '/etc', 'inbox']), /--workspace is not available/);
    assert.match(refusal(['-w/etc', 'inbox']), /is not available/);
    assert.match(refusal(['--coordination-dir=../x', 'inbox']), /--coordination-dir is not available/);
    assert.match(refusal(['--as', 'lead', 'checkout']), /this session acts as backend-claude only \(not "lead"\)/);
    assert.match(refusal(['checkout', '--as=lead']), /acts as backend-claude only/);
    assert.match(refusal(['--session', 'other-session', 'checkin']), /this is session \? \(not "other-session"\)/);
    assert.match(refusal(['inbox', 42]), /a list of at most 200 words/);
  });
});
