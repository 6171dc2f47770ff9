import * as assert from 'node:assert';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, Run, runSyncord } from '../cli/runSyncord';
import { FAKES, until as untilShort } from './helpers';

/**
 * Sessions on another machine over ssh, against a real OpenSSH server on 127.0.0.1 (its own host key, a key made
 * here, a known-hosts file holding the host key): "the other machine" is a second clone of the project reached
 * over ssh, with the stand-in agents on its PATH.
 */

const SSHD = '/usr/sbin/sshd';

interface Session {
  session_id: string;
  instance: string;
  mode: string;
  state: string;
  host: string;
  endpoint?: string | null;
  remote?: string | null;
  heartbeat_interval?: number;
  end_reason?: string | null;
  queue?: string[];
  log?: string | null;
}

interface Delivery {
  session: string | null;
  instance: string;
  status: string;
  attempts: number;
  error?: string | null;
}

/** Waits for what the agents bring about over ssh (each forwarded verb starts a process on both ends). */
const until = <T>(what: string, probe: () => T | undefined | false, timeoutMs = 90_000) => untilShort(what, probe, timeoutMs);

describe('syncord sessions over ssh (real sshd on loopback, fake runtimes)', function () {
  this.timeout(300_000);
  let tmp: string;
  let sshd: ChildProcess | undefined;
  let port: number;
  let clientKey: string;
  let knownHosts: string;
  let remoteSyncord: string;
  let root: string;
  let dir: string;
  let remoteFolder: string;
  let config: string;

  before(async function () {
    // Not skipped when missing: these tests are part of the unit tier, and CI installs the server (.ci/run).
    assert.ok(fs.existsSync(SSHD), `${SSHD} is missing: install openssh-server (apt-get install openssh-server openssh-client) to run the ssh session tests`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-ssh-'));
    const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    keygen(path.join(tmp, 'host_key'));
    clientKey = path.join(tmp, 'client_key');
    keygen(clientKey);
    fs.copyFileSync(`${clientKey}.pub`, path.join(tmp, 'authorized_keys'));
    port = await freePort();
    knownHosts = path.join(tmp, 'known_hosts');
    const hostKey = fs.readFileSync(path.join(tmp, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKey}\n`);
    // The other machine's `syncord`: this build, run by this Node.
    remoteSyncord = path.join(tmp, 'remote-bin', 'syncord');
    fs.mkdirSync(path.dirname(remoteSyncord));
    fs.writeFileSync(remoteSyncord, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`, { mode: 0o755 });
    const remotePath = [FAKES, path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');
    const cfg = path.join(tmp, 'sshd_config');
    fs.writeFileSync(
      cfg,
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${path.join(tmp, 'host_key')}`,
        `AuthorizedKeysFile ${path.join(tmp, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'StrictModes no',
        `PidFile ${path.join(tmp, 'sshd.pid')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        // The stand-in agents are on the other machine's PATH.
        `SetEnv PATH=${remotePath}`,
        '',
      ].join('\n'),
    );
    // sshd's privilege separation folder (Debian makes it at boot when the service runs; it does not here).
    if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    sshd = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let sshdLog = '';
    sshd.stderr!.on('data', (d) => (sshdLog += d));
    await until(
      'sshd to accept logins',
      () => {
        if (sshd!.exitCode !== null) throw new Error(`sshd exited: ${sshdLog}`);
        execFileSync('ssh', [...sshOptions(), `${os.userInfo().username}@127.0.0.1`, '--', 'true'], { stdio: 'ignore', timeout: 10_000 });
        return true;
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${sshdLog}`);
    });
  });

  after(() => {
    sshd?.kill('SIGTERM');
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  const sshOptions = () => ['-T', '-o', 'BatchMode=yes', '-p', String(port), '-i', clientKey, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'StrictHostKeyChecking=yes'];

  const env = (extra: Record<string, string> = {}) => ({ PATH: `${FAKES}${path.delimiter}${process.env.PATH}`, XDG_CONFIG_HOME: config, ...extra });
  const syncord = (args: string[], extra: Record<string, string> = {}): Promise<Run> => runSyncord(root, args, { env: env(extra) });
  const json = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
  const sessions = () => json<{ sessions: Session[] }>('sessions.json').sessions;
  const sessionOf = (instance: string) => sessions().filter((s) => s.instance === instance).pop();
  const registry = () => json<{ instances: Record<string, { status: string; current_session_id?: string | null }> }>('instance-registry.json').instances;
  const completed = (id: string) => json<{ completed_tasks: { task_id: string; status: string; assigned_to: string; completion_note?: string }[] }>('task-queue.json').completed_tasks.find((t) => t.task_id === id);
  const deliveriesOf = (id: string) =>
    json<{ messages: { message_id: string; deliveries?: Delivery[] }[] }>('communication-log.json').messages.find((m) => m.message_id === id)?.deliveries ?? [];
  const ok = (r: Run) => {
    assert.strictEqual(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const logOf = (s: Session) => fs.readFileSync(path.join(dir, '.syncord', 'sessions', `${s.session_id}.log`), 'utf8');

  /** Writes the workspace settings with the remote `box`, and trusts them (as the user would: `syncord trust`). */
  const settings = async (extra: Record<string, unknown> = {}) => {
    fs.mkdirSync(path.join(root, '.vscode'), { recursive: true });
    fs.writeFileSync(
      path.join(root, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'syncord.sessions.remotes': {
            box: {
              kind: 'ssh',
              target: `${os.userInfo().username}@127.0.0.1`,
              port,
              identityFile: clientKey,
              knownHostsFile: knownHosts,
              folder: remoteFolder,
              syncord: remoteSyncord,
              heartbeatInterval: 1,
            },
          },
          ...extra,
        },
        null,
        2,
      ),
    );
    ok(await syncord(['trust']));
  };

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-ssh-main-'));
    config = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-ssh-config-'));
    dir = path.join(root, 'coordination');
    execFileSync('git', ['init', '-q'], { cwd: root });
    fs.writeFileSync(path.join(root, 'README.md'), '# app\n');
    execFileSync('git', ['add', 'README.md'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'init'], { cwd: root });
    // The other machine's clone of the project (without the coordination folder, which is not committed here).
    remoteFolder = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-ssh-remote-')), 'app');
    execFileSync('git', ['clone', '-q', root, remoteFolder]);
    ok(await syncord(['init']));
  });

  afterEach(async () => {
    // Stops what the tests started: each session (its relay stops the agent on the other machine).
    for (const s of fs.existsSync(path.join(dir, 'sessions.json')) ? sessions() : []) {
      if (s.state !== 'exited') await syncord(['session', 'stop', s.session_id]);
      for (const pid of relayPids(s.session_id)) killQuietly(pid);
    }
    await until('the ssh connections of the test to close', () => sessions().every((s) => !sshClientPid(s.session_id)), 20_000).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    fs.rmSync(path.dirname(remoteFolder), { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    fs.rmSync(config, { recursive: true, force: true });
  });

  it('spawns an agent over ssh whose syncord commands land in the coordinating host, then hands it a task it completes', async () => {
    await settings();
    const spawned = ok(await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']));
    assert.match(spawned.stdout, new RegExp(`Starting backend-claude \\(newly registered\\) with claude .* on ssh ${os.userInfo().username}@127\\.0\\.0\\.1 \\(remote box\\)`));
    const s = sessionOf('backend-claude')!;
    assert.strictEqual(s.mode, 'remote');
    assert.strictEqual(s.remote, 'box');
    assert.strictEqual(s.endpoint, `${os.userInfo().username}@127.0.0.1`);
    assert.strictEqual(s.heartbeat_interval, 1);

    // The agent ran `syncord inbox` and `syncord checkin` on the other machine: they were run here, as its instance.
    await until('the remote agent to check in', () => registry()['backend-claude']?.status === 'active');
    assert.strictEqual(registry()['backend-claude'].current_session_id, s.session_id);
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
    assert.strictEqual(sessionOf('backend-claude')!.host, os.hostname(), 'the host is the one the supervisor reported');
    assert.ok(!fs.existsSync(path.join(remoteFolder, 'coordination', 'instance-registry.json')), "nothing is written to the other machine's coordination files");
    const log = logOf(s);
    assert.match(log, /fake-claude: \$ syncord checkin/, 'the agent output comes back into the session log');
    assert.match(log, /Checked in backend-claude|backend-claude/);

    // `syncord agents` lists it as a remote session, reachable.
    const agents = ok(await syncord(['agents']));
    assert.match(agents.stdout, /backend-claude\s+claude\s+idle\s.*ssh \S+@127\.0\.0\.1 \(remote box\)/);

    ok(await syncord(['task', 'add', 'Write the API docs', '--priority', 'high']));
    const sling = ok(await syncord(['sling', 'task_001', 'backend-claude', '--json']));
    const r = JSON.parse(sling.stdout) as { message: { message_id: string }; delivery: Delivery };
    assert.strictEqual(r.delivery.status, 'pending');
    const done = await until('the task to be completed', () => completed('task_001'));
    assert.strictEqual(done.status, 'completed');
    assert.strictEqual(done.assigned_to, 'backend-claude');
    assert.match(done.completion_note ?? '', /done by fake claude/);
    const d = await until('the hand-over to be acknowledged', () => deliveriesOf(r.message.message_id).find((x) => x.status === 'acknowledged'));
    assert.strictEqual(d.session, s.session_id);
    assert.strictEqual(d.attempts, 1);
    await until('the session to go idle again', () => sessionOf('backend-claude')?.state === 'idle');

    // Stopped from here: the relay stops the agent there and the ssh connection closes.
    const stop = ok(await syncord(['session', 'stop', 'backend-claude']));
    assert.match(stop.stdout, /is exited \(stopped\)/);
    await until('the ssh connection to close', () => !sshClientPid(s.session_id));
    assert.strictEqual(registry()['backend-claude'].status, 'offline');
  });

  it('hands work to an opencode agent over ssh in its own conversation, the one it reported', async () => {
    await settings();
    ok(await syncord(['spawn', 'docs-opencode', '--role', 'docs', '--remote', 'box']));
    await until('the session to go idle', () => sessionOf('docs-opencode')?.state === 'idle');
    const conversation = await until('the agent to report its conversation', () => json<{ sessions: (Session & { agent_session?: string })[] }>('sessions.json').sessions.find((x) => x.instance === 'docs-opencode')?.agent_session);
    assert.match(conversation, /^ses_/);
    ok(await syncord(['task', 'add', 'Document the API']));
    ok(await syncord(['sling', 'task_001', 'docs-opencode']));
    const done = await until('the task to be completed', () => completed('task_001'));
    assert.match(done.completion_note ?? '', /done by fake opencode/);
    const log = logOf(sessionOf('docs-opencode')!);
    assert.ok(log.includes(`handing msg_001 to opencode (conversation ${conversation})`), log);
  });

  it("refuses the verbs an agent on another machine may not run on the coordinating host, and runs the others as its instance", async () => {
    await settings();
    ok(await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']));
    const s = sessionOf('backend-claude')!;
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
    // The agent's `syncord` on the other machine reaches its supervisor through the socket the log names.
    const socket = await until('the forwarding socket', () => /forwards through (\S+)/.exec(logOf(s))?.[1]);
    const asAgent = (args: string[], input?: string) =>
      runSyncord(remoteFolder, args, { input, env: { PATH: process.env.PATH ?? '', SYNCORD_FORWARD: socket, SYNCORD_INSTANCE: 'backend-claude' } });

    const spawnThere = await asAgent(['spawn', 'intruder', '--role', 'x']);
    assert.strictEqual(spawnThere.code, 5, spawnThere.stderr);
    assert.match(spawnThere.stderr, /`syncord spawn` is not available to an agent on another machine/);
    const runThere = await asAgent(['session', 'run', s.session_id]);
    assert.match(runThere.stderr, /`syncord session run` is not available to an agent on another machine/);
    const elsewhere = await asAgent(['--workspace', '/', 'inbox']);
    assert.strictEqual(elsewhere.code, 2);
    assert.match(elsewhere.stderr, /--workspace is not available to an agent on another machine/);
    const other = await asAgent(['--as', 'lead', 'checkout']);
    assert.strictEqual(other.code, 2);
    assert.match(other.stderr, /this session acts as backend-claude only/);
    assert.strictEqual(registry().lead, undefined, 'nothing was done as another instance');
    assert.strictEqual(registry().intruder, undefined, 'nothing was spawned');

    // A coordination verb runs on the coordinating host as the session's instance, its output and code come back.
    ok(await syncord(['checkin', '--as', 'lead', '--role', 'lead']));
    const msg = ok(await asAgent(['msg', 'send', 'lead', 'Question', '-m', 'Which API version?', '--type', 'question']));
    assert.match(msg.stdout, /msg_\d+/);
    ok(await asAgent(['msg', 'send', 'lead', 'Details', '-m', '-', '--type', 'info'], 'The body, read from standard input there.\n'));
    const log = json<{ messages: { from: string; to: string; subject: string; message: string }[] }>('communication-log.json').messages;
    assert.deepStrictEqual(
      log.filter((m) => m.to === 'lead').map((m) => [m.from, m.subject, m.message.trim()]),
      [
        ['backend-claude', 'Question', 'Which API version?'],
        ['backend-claude', 'Details', 'The body, read from standard input there.'],
      ],
    );
    const missing = await asAgent(['task', 'start', 'task_999']);
    assert.strictEqual(missing.code, 4, 'the exit code of the verb run on the coordinating host');
    assert.match(missing.stderr, /task_999/);
  });

  it('shows a session whose connection broke as unreachable, ends it after the timeout and keeps its hand-overs to resend', async () => {
    // A timeout long enough to see it unreachable first, whatever the machine's load.
    await settings({ 'syncord.sessions.remoteTimeout': 3600 });
    ok(await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']));
    const s = sessionOf('backend-claude')!;
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');

    // The connection breaks: the ssh client is killed. No heartbeat comes any more.
    const ssh = sshClientPid(s.session_id);
    assert.ok(ssh, 'the ssh client of the session runs');
    process.kill(ssh, 'SIGKILL');
    await until('the relay to notice', () => /the connection to \S+ closed/.test(logOf(s)));

    // Work handed to it meanwhile waits, pending.
    ok(await syncord(['task', 'add', 'Write the API docs']));
    const sling = ok(await syncord(['sling', 'task_001', 'backend-claude', '--json']));
    const messageId = (JSON.parse(sling.stdout) as { message: { message_id: string } }).message.message_id;
    assert.strictEqual(deliveriesOf(messageId)[0].status, 'pending');

    const listed = await untilAsync('syncord agents to show the session unreachable', async () => {
      const r = ok(await syncord(['agents']));
      return /backend-claude\s+claude\s+UNREACHABLE \(no heartbeat for \d+s\)/.test(r.stdout) ? r : undefined;
    });
    assert.match(listed.stdout, /ssh \S+ \(remote box\)/);
    const health = await untilAsync('syncord health to warn about it', async () => {
      const r = await syncord(['health']);
      return r.code === 1 && /session \w{8} of backend-claude on .* is unreachable: no heartbeat for \d+s/.test(r.stdout) ? r : undefined;
    });
    assert.match(health.stdout, /\[unreachable-session\]/);

    // Past the timeout (now 1 s), the next writer (here: the listing) ends it; the hand-over stays pending.
    await settings({ 'syncord.sessions.remoteTimeout': 1 });
    await untilAsync('the session to end by heartbeat timeout', async () => {
      ok(await syncord(['agents']));
      return sessionOf('backend-claude')?.state === 'exited';
    });
    const ended = sessionOf('backend-claude')!;
    assert.strictEqual(ended.end_reason, 'heartbeat-timeout');
    assert.strictEqual(deliveriesOf(messageId)[0].status, 'pending');
    assert.strictEqual(registry()['backend-claude'].status, 'offline');

    // A new session of the instance (on this machine) gets it by resending.
    ok(await syncord(['spawn', 'backend-claude']));
    await until('the new session to go idle', () => sessionOf('backend-claude')?.state === 'idle' && sessionOf('backend-claude')!.session_id !== s.session_id);
    ok(await syncord(['session', 'resend', messageId]));
    await until('the task to be completed', () => completed('task_001'));
    const d = await until('the resent hand-over to be acknowledged', () => deliveriesOf(messageId).find((x) => x.status === 'acknowledged'));
    assert.notStrictEqual(d.session, s.session_id);
  });

  it('ends a session at once when ssh cannot reach the other machine', async () => {
    await settings();
    // A known-hosts file without the host's key: ssh refuses the host (StrictHostKeyChecking).
    const wrong = path.join(tmp, 'empty_known_hosts');
    fs.writeFileSync(wrong, '');
    const value = JSON.parse(fs.readFileSync(path.join(root, '.vscode', 'settings.json'), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
    value['syncord.sessions.remotes'].box.knownHostsFile = wrong;
    fs.writeFileSync(path.join(root, '.vscode', 'settings.json'), JSON.stringify(value));
    // A remote changed since it was trusted is refused until it is trusted again.
    const untrusted = await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']);
    assert.strictEqual(untrusted.code, 8, untrusted.stderr);
    assert.match(untrusted.stderr, /remote "box" is defined by this workspace and would run Syncord and an agent over ssh/);
    ok(await syncord(['trust']));
    ok(await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']));
    const s = await until('the session to end', () => (sessionOf('backend-claude')?.state === 'exited' ? sessionOf('backend-claude') : undefined));
    assert.match(s.end_reason ?? '', /^spawn-failed: could not reach \S+@127\.0\.0\.1 over ssh \(ssh exited with code 255\)/);
    assert.match(logOf(s), /Host key verification failed/);
  });

  it('refuses a remote whose target would be read as an ssh option, naming the settings file', async () => {
    await settings();
    const file = path.join(root, '.vscode', 'settings.json');
    const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
    value['syncord.sessions.remotes'].box.target = '-oProxyCommand=touch /tmp/pwned';
    fs.writeFileSync(file, JSON.stringify(value, null, 2));
    const r = await syncord(['spawn', 'backend-claude', '--role', 'backend', '--remote', 'box']);
    assert.strictEqual(r.code, 3, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.match(r.stderr, /must not start with '-'/);
    assert.ok(!fs.existsSync(path.join(dir, 'sessions.json')) || sessions().length === 0, 'no session was recorded');
  });

  async function untilAsync<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe().catch(() => undefined);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
});

/** The pid of a running `ssh` client whose command line names this session (the relay's connection). */
function sshClientPid(sessionId: string): number | undefined {
  return processesWith((argv) => path.basename(argv[0] ?? '') === 'ssh' && argv.some((a) => a.includes(sessionId)))[0];
}

/** The relay processes of a session (`syncord … session relay <id>`). */
function relayPids(sessionId: string): number[] {
  return processesWith((argv) => argv.includes('relay') && argv.includes(sessionId));
}

function processesWith(match: (argv: string[]) => boolean): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
      continue;
    }
    if (match(argv)) out.push(Number(entry));
  }
  return out;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}
