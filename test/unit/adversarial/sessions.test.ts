// Sessions and workspace-defined commands, tried as an attacker (or a careless agent) who can write any file in
// the workspace would: the real `syncord` CLI in its own processes on temporary workspaces, the stand-in
// runtimes of test/fixtures/runtimes/bin on PATH, and the user's trust record in a temporary XDG_CONFIG_HOME.
// Canary files outside the workspace are checked by sha256; a command that must never run would create PWNED.
import * as assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExitCode } from '../../../src/cli/exit';
import { Run, runSyncord } from '../cli/runSyncord';
import { FAKES, until } from '../sessions/helpers';

interface Session {
  session_id: string;
  instance: string;
  runtime: string;
  state: string;
  pid: number | null;
  agent_pid?: number | null;
  end_reason?: string | null;
  send_command?: string[] | null;
  command: string[];
}
interface Delivery {
  session: string | null;
  status: string;
  error?: string | null;
}

const HOST = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost';
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Every file below `dir` with its sha256 (symlinks as their target text). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) out[path.relative(dir, p)] = `-> ${fs.readlinkSync(p)}`;
      else out[path.relative(dir, p)] = sha(p);
    }
  };
  walk(dir);
  return out;
}

function processStart(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('adversarial: sessions and workspace-defined commands', function () {
  this.timeout(90_000);
  let base: string;
  let root: string;
  let dir: string;
  let outside: string;
  let config: string;
  let canaries: Record<string, string>;
  let pwned: string;
  const children: ChildProcess[] = [];

  const env = (extra: Record<string, string> = {}) => ({ PATH: `${FAKES}${path.delimiter}${process.env.PATH}`, XDG_CONFIG_HOME: config, ...extra });
  const syncord = (args: string[], extra: Record<string, string> = {}): Promise<Run> => runSyncord(root, args, { env: env(extra) });
  const ok = (r: Run) => {
    assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };
  const json = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
  const sessions = () => json<{ sessions: Session[] }>('sessions.json').sessions;
  const sessionOf = (instance: string) => sessions().filter((s) => s.instance === instance).pop();
  const deliveriesOf = (id: string) =>
    json<{ messages: { message_id: string; deliveries?: Delivery[] }[] }>('communication-log.json').messages.find((m) => m.message_id === id)?.deliveries ?? [];
  const completed = () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks;

  /** A session record as an agent could write it by hand. */
  const record = (over: Record<string, unknown>) => ({
    session_id: randomUUID(),
    instance: 'w1',
    runtime: 'claude',
    mode: 'headless',
    state: 'idle',
    host: HOST,
    pid: null,
    pid_start: null,
    agent_pid: null,
    cwd: root,
    command: ['/bin/sh', '-c', `id > ${pwned}`],
    send_command: ['/bin/sh', '-c', `id > ${pwned}`, '{prompt}'],
    started: new Date().toISOString(),
    updated: new Date().toISOString(),
    queue: [],
    ...over,
  });
  const writeSessions = (text: string) => fs.writeFileSync(path.join(dir, 'sessions.json'), text);

  beforeEach(async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-adv-sessions-')));
    root = path.join(base, 'ws');
    outside = path.join(base, 'outside');
    config = path.join(base, 'config');
    fs.mkdirSync(root);
    fs.mkdirSync(outside);
    fs.mkdirSync(config);
    dir = path.join(root, 'coordination');
    pwned = path.join(outside, 'PWNED');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'the user\'s secret, not for agents\n');
    fs.writeFileSync(path.join(outside, 'notes.md'), '# notes\n');
    canaries = snapshot(outside);
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: root });
    ok(await syncord(['init']));
  });

  afterEach(() => {
    let pids: (number | null | undefined)[] = [];
    try {
      pids = sessions().flatMap((s) => [s.pid, s.agent_pid]);
    } catch {
      // no sessions file, or a deliberately broken one
    }
    for (const c of children.splice(0)) c.kill('SIGKILL');
    // The processes of sessions the test started through Syncord (hand-written records name the test's own
    // sleep, killed above; never a process group or every process: only positive ids).
    for (const pid of pids) {
      if (typeof pid === 'number' && pid > 0 && alive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    // Nothing outside the workspace was written, changed or deleted; the PWNED canary was never created.
    const after = fs.existsSync(outside) ? snapshot(outside) : {};
    fs.rmSync(base, { recursive: true, force: true });
    assert.deepEqual(after, canaries, 'files outside the workspace changed');
  });

  describe('no command line from data', () => {
    it('an idle session whose recorded send_command is a shell gets its hand-over through the claude runtime; the shell never runs', async () => {
      ok(await syncord(['spawn', 'backend-claude', '--role', 'backend']));
      await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
      // An agent rewrites the record's command lines.
      const file = json<{ sessions: Session[] }>('sessions.json');
      const rec = file.sessions.find((s) => s.instance === 'backend-claude')!;
      rec.send_command = ['/bin/sh', '-c', `id > ${pwned}`, '{prompt}'];
      rec.command = ['/bin/sh', '-c', `id > ${pwned}`];
      writeSessions(JSON.stringify(file, null, 2));

      ok(await syncord(['task', 'add', 'Write the API docs']));
      ok(await syncord(['sling', 'task_001', 'backend-claude']));
      await until('the task to be completed by the claude stand-in', () => completed().find((t) => t.task_id === 'task_001'));
      const log = ok(await syncord(['session', 'log', 'backend-claude'])).stdout;
      assert.match(log, /fake-claude: \$ syncord task complete task_001/);
      await until('the session to go idle again', () => sessionOf('backend-claude')?.state === 'idle');
      assert.equal(fs.existsSync(pwned), false, 'the recorded command line ran');
    });

    it("a conversation id that reads as an option is refused with file:line:col before it reaches the runtime's command line", async () => {
      ok(await syncord(['instance', 'add', 'w1', '--role', 'dev']));
      const text = JSON.stringify({ sessions: [record({ runtime: 'opencode', agent_session: '--dangerously-skip-permissions' })] }, null, 2);
      writeSessions(text);
      const line = text.split('\n').findIndex((l) => l.includes('"agent_session"')) + 1;
      ok(await syncord(['task', 'add', 'Anything']));
      const r = await syncord(['sling', 'task_001', 'w1']);
      assert.equal(r.code, ExitCode.invalidFile, r.stdout + r.stderr);
      assert.ok(r.stderr.includes(`${path.join(dir, 'sessions.json')}:${line}:`), r.stderr);
      assert.match(r.stderr, /agent session id: letters, digits/);
      assert.equal(fs.existsSync(pwned), false);
    });

    it('a record naming a runtime the user never defined is refused, and the hand-over stays undelivered', async () => {
      ok(await syncord(['instance', 'add', 'w1', '--role', 'dev']));
      writeSessions(JSON.stringify({ sessions: [record({ runtime: 'evil' })] }, null, 2));
      ok(await syncord(['task', 'add', 'Anything']));
      const r = await syncord(['sling', 'task_001', 'w1']);
      assert.equal(r.code, ExitCode.problemsFound, r.stdout + r.stderr);
      assert.match(r.stdout, /NOT delivered: could not start the session's process: session [0-9a-f]{8} of w1: unknown runtime "evil" \(known: claude, opencode\).*not handed over/);
      const d = deliveriesOf('msg_001');
      assert.equal(d.length, 1);
      assert.equal(d[0].status, 'failed');
      assert.equal(sessionOf('w1')!.state, 'idle', 'the session is left idle, its queue emptied');
      assert.equal(fs.existsSync(pwned), false);
    });

    it('a record whose working folder lies outside the workspace gets no agent started there', async () => {
      ok(await syncord(['instance', 'add', 'w1', '--role', 'dev']));
      writeSessions(JSON.stringify({ sessions: [record({ cwd: outside })] }, null, 2));
      ok(await syncord(['task', 'add', 'Anything']));
      const r = await syncord(['sling', 'task_001', 'w1']);
      assert.equal(r.code, ExitCode.problemsFound, r.stdout + r.stderr);
      assert.match(r.stdout, /NOT delivered: .*its working folder .*outside.* is neither the workspace nor one of its git worktrees/);
      assert.equal(deliveriesOf('msg_001')[0].status, 'failed');
    });
  });

  describe('commands the workspace defines run only once the user trusted them', () => {
    const settingsFile = () => path.join(root, '.vscode', 'settings.json');
    const defineReviewer = (extra = '') => {
      fs.mkdirSync(path.join(root, '.vscode'), { recursive: true });
      fs.writeFileSync(
        settingsFile(),
        `{
  "editor.tabSize": 2,
  "syncord.sessions.runtimes": {
    "reviewer": {
      "command": ["claude", "--session-id", "{session}", "{prompt}"],
      "headless": ["claude", "--print", "--session-id", "{session}", "{prompt}"${extra}],
      "send": ["claude", "--print", "--resume", "{session}", "{prompt}"]
    }
  }
}
`,
      );
    };

    it('a custom runtime is refused (exit 8, naming the file and `syncord trust`) until trusted, and again once it changes', async () => {
      defineReviewer();
      const refused = await syncord(['spawn', 'rev-1', '--role', 'review', '--runtime', 'reviewer']);
      assert.equal(refused.code, ExitCode.untrusted, refused.stderr);
      assert.equal(ExitCode.untrusted, 8);
      assert.ok(refused.stderr.includes(`${settingsFile()}:4:5: runtime "reviewer" is defined by this workspace`), refused.stderr);
      assert.match(refused.stderr, /`syncord trust --show`, then run `syncord trust`/);
      assert.ok(!fs.existsSync(path.join(dir, 'sessions.json')) || sessions().length === 0, 'no session is recorded');

      const show = ok(await syncord(['trust', '--show']));
      assert.match(show.stdout, /runtime "reviewer"\s+\(\.vscode\/settings\.json:4:5\)\s+\[NEW, not trusted\]/);
      assert.match(show.stdout, /headless: \["claude","--print","--session-id","\{session\}","\{prompt\}"\]/);
      assert.deepEqual(fs.readdirSync(config), [], '--show records nothing');

      const trusted = ok(await syncord(['trust']));
      assert.match(trusted.stdout, /Trusted 1 command defined by /);
      const record = path.join(config, 'syncord', 'trusted.json');
      const stored = JSON.parse(fs.readFileSync(record, 'utf8')) as { workspaces: Record<string, { definitions: Record<string, string> }> };
      assert.deepEqual(Object.keys(stored.workspaces), [root]);
      assert.match(stored.workspaces[root].definitions['runtime:reviewer'], /^[0-9a-f]{64}$/);
      assert.equal(fs.statSync(record).mode & 0o777, 0o600);

      ok(await syncord(['spawn', 'rev-1', '--role', 'review', '--runtime', 'reviewer']));
      await until('the trusted runtime to go idle', () => sessionOf('rev-1')?.state === 'idle');

      // An agent edits the runtime: the CLI asks again, for spawning and for handing over alike.
      defineReviewer(', "--dangerously-skip-permissions"');
      assert.match(ok(await syncord(['trust', '--show'])).stdout, /\[CHANGED since trusted\]/);
      ok(await syncord(['task', 'add', 'Review']));
      const sling = await syncord(['sling', 'task_001', 'rev-1']);
      assert.equal(sling.code, ExitCode.untrusted, sling.stdout + sling.stderr);
      assert.match(sling.stderr, /runtime "reviewer" is defined by this workspace and would run a command; it changed since you trusted this workspace/);
      const d = deliveriesOf('msg_001');
      assert.equal(d[0].status, 'failed', 'the hand-over stays undelivered');
      assert.match(d[0].error ?? '', /syncord trust/);

      ok(await syncord(['untrust']));
      const again = await syncord(['spawn', 'rev-2', '--role', 'review', '--runtime', 'reviewer']);
      assert.equal(again.code, ExitCode.untrusted, again.stderr);
      assert.match(again.stderr, /you have not trusted this workspace's commands yet/);
    });

    it('the built-in runtimes need no trust', async () => {
      defineReviewer();
      ok(await syncord(['spawn', 'backend-claude', '--role', 'backend']));
      await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
    });

    it('a trust record inside the workspace is refused: an agent cannot trust for the user', async () => {
      defineReviewer();
      const inside = path.join(root, '.config');
      const r = await syncord(['trust'], { XDG_CONFIG_HOME: inside });
      assert.equal(r.code, ExitCode.usage, r.stderr);
      assert.match(r.stderr, /the trust record .*trusted\.json is inside the workspace/);
      assert.equal(fs.existsSync(inside), false);
      // A record an agent wrote there by hand is not believed either.
      fs.mkdirSync(path.join(inside, 'syncord'), { recursive: true });
      ok(await syncord(['trust']));
      fs.copyFileSync(path.join(config, 'syncord', 'trusted.json'), path.join(inside, 'syncord', 'trusted.json'));
      const spawn = await syncord(['spawn', 'rev-1', '--role', 'review', '--runtime', 'reviewer'], { XDG_CONFIG_HOME: inside });
      assert.equal(spawn.code, ExitCode.untrusted, spawn.stderr);
      assert.match(spawn.stderr, /is inside the workspace, so it cannot be relied on/);
    });

    it('a verify command from sync-rules.jsonc is refused (exit 8) until trusted, then runs in the target', async () => {
      const target = path.join(base, 'target-app');
      fs.mkdirSync(target);
      fs.mkdirSync(path.join(root, 'docs'));
      fs.writeFileSync(path.join(root, 'docs', 'INDEX.md'), '# Index\n');
      execFileSync('git', ['add', '-A'], { cwd: root });
      execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '-m', 'docs'], { cwd: root });
      ok(await syncord(['target', 'add', 'app', '--path', target, '--type', 'source']));
      ok(await syncord(['sync', 'rules', '--init']));
      const rulesFile = path.join(dir, 'sync-rules.jsonc');
      fs.writeFileSync(rulesFile, fs.readFileSync(rulesFile, 'utf8').replace('"commands": [],', '"commands": [{ "name": "ran", "command": "touch RAN" }],'));
      ok(await syncord(['sync', 'run', '--target', 'app']));

      const refused = await syncord(['sync', 'verify', '--target', 'app', '--tests', 'commands']);
      assert.equal(refused.code, ExitCode.untrusted, refused.stdout + refused.stderr);
      assert.match(refused.stderr, new RegExp(`${rulesFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+:\\d+: verify command "ran" is defined by this workspace`));
      assert.equal(fs.existsSync(path.join(target, 'RAN')), false, 'the untrusted command ran');
      // Skipping the commands needs no trust.
      ok(await syncord(['sync', 'verify', '--target', 'app', '--tests', 'commands', '--no-commands']));

      assert.match(ok(await syncord(['trust', '--show'])).stdout, /verify "ran" .*\[NEW, not trusted\]\n\s+command:\s+touch RAN/);
      ok(await syncord(['trust']));
      const v = ok(await syncord(['sync', 'verify', '--target', 'app', '--tests', 'commands']));
      assert.match(v.stdout, /pass {2}command:ran/);
      assert.equal(fs.existsSync(path.join(target, 'RAN')), true);
    });
  });

  describe('process identity before any signal', () => {
    const userSleep = () => {
      const c = spawn('sleep', ['300'], { stdio: 'ignore' });
      children.push(c);
      return c.pid!;
    };

    // Without a start time the process cannot be told from the session's: it is left alone, and said so. With a
    // start time that does not match, the session's process is known to be gone: the session is marked exited.
    for (const [label, over, says] of [
      ['a supervisor pid without a recorded start time', (pid: number) => ({ pid, pid_start: null }), (pid: number) => `Process ${pid} is not the session's supervisor any more \\(no start time recorded for it\\); not signalled\\.`],
      ['an agent pid without a recorded start time', (pid: number) => ({ agent_pid: pid }), (pid: number) => `Process ${pid} is not the session's agent any more \\(no start time recorded for it\\); not signalled\\.`],
      ['a supervisor pid whose start time does not match', (pid: number) => ({ pid, pid_start: processStart(pid) + 1 }), () => 'is exited \\(its process ended without recording an exit'],
      ['an agent pid whose start time does not match', (pid: number) => ({ agent_pid: pid, agent_pid_start: processStart(pid) + 1 }), (pid: number) => `Process ${pid} is not the session's agent any more; not signalled\\.`],
    ] as const) {
      it(`session stop never signals ${label}: the user's sleep survives`, async () => {
        const pid = userSleep();
        const start = processStart(pid);
        ok(await syncord(['instance', 'add', 'w1', '--role', 'dev']));
        writeSessions(JSON.stringify({ sessions: [record({ state: 'running', ...over(pid) })] }, null, 2));
        const r = ok(await syncord(['session', 'stop', 'w1']));
        assert.match(r.stdout, new RegExp(says(pid)));
        assert.equal(sessionOf('w1')!.state, 'exited');
        assert.ok(alive(pid), 'the sleep was killed');
        assert.equal(processStart(pid), start, 'it is the same process');
      });
    }

    it('a pid of 0 or -1 (a process group, every process) is refused by the schema with file:line:col', async () => {
      for (const pid of [0, -1]) {
        const text = JSON.stringify({ sessions: [record({ state: 'running', pid, pid_start: 1 })] }, null, 2);
        writeSessions(text);
        const line = text.split('\n').findIndex((l) => l.includes(`"pid": ${pid},`)) + 1;
        const r = await syncord(['session', 'stop', 'w1']);
        assert.equal(r.code, ExitCode.invalidFile, r.stderr);
        assert.ok(r.stderr.includes(`${path.join(dir, 'sessions.json')}:${line}:`), r.stderr);
      }
    });
  });

  describe('ids and paths from sessions.json', () => {
    it('a session id with ../ is refused with file:line:col by every verb, and nothing is written for it', async () => {
      writeSessions(JSON.stringify({ sessions: [record({ session_id: '../../../outside/ESCAPED' })] }, null, 2));
      for (const args of [['agents'], ['session', 'log', 'w1'], ['session', 'stop', 'w1'], ['spawn', 'w2', '--role', 'dev']]) {
        const r = await syncord(args);
        assert.equal(r.code, ExitCode.invalidFile, `${args.join(' ')}: ${r.stderr}`);
        assert.ok(r.stderr.includes(`${path.join(dir, 'sessions.json')}:4:`), r.stderr);
        assert.match(r.stderr, /session id: use letters, digits/);
      }
      for (const bad of ['a/b', 'x\u0000y', '..', 'a..b']) {
        writeSessions(JSON.stringify({ sessions: [record({ session_id: bad })] }, null, 2));
        assert.equal((await syncord(['agents'])).code, ExitCode.invalidFile, JSON.stringify(bad));
      }
      writeSessions(JSON.stringify({ sessions: [record({ instance: '../x' })] }, null, 2));
      assert.equal((await syncord(['agents'])).code, ExitCode.invalidFile);
      writeSessions(JSON.stringify({ sessions: [record({ runtime: 'a/b' })] }, null, 2));
      assert.equal((await syncord(['agents'])).code, ExitCode.invalidFile);
    });

    it('session log prints only the log Syncord derives from the id, never the file named in the record', async () => {
      const id = randomUUID();
      writeSessions(JSON.stringify({ sessions: [record({ session_id: id, log: path.join(outside, 'secret.txt') })] }, null, 2));
      const r = await syncord(['session', 'log', 'w1']);
      assert.equal(r.code, ExitCode.notFound, r.stderr);
      assert.match(r.stderr, new RegExp(`has no output yet \\(.*coordination/\\.syncord/sessions/${id}\\.log\\)`));
      assert.doesNotMatch(r.stdout + r.stderr, /secret/);

      // The derived log replaced by a link to the secret is not followed.
      const logs = path.join(dir, '.syncord', 'sessions');
      fs.mkdirSync(logs, { recursive: true });
      fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(logs, `${id}.log`));
      const linked = await syncord(['session', 'log', 'w1']);
      assert.equal(linked.code, ExitCode.conflict, linked.stderr);
      assert.match(linked.stderr, /refusing to go through the symlink .*\.log \(session log\)/);
      assert.doesNotMatch(linked.stdout, /secret/);

      // So is the logs folder replaced by a link.
      fs.rmSync(logs, { recursive: true });
      fs.symlinkSync(outside, logs);
      const folder = await syncord(['session', 'log', 'w1']);
      assert.equal(folder.code, ExitCode.conflict, folder.stderr);
      assert.match(folder.stderr, /refusing to go through the symlink/);
      assert.doesNotMatch(folder.stdout, /secret/);
    });

    it('spawn writes neither the agent shim nor the log through a symlinked state folder', async () => {
      const state = path.join(dir, '.syncord');
      fs.mkdirSync(state, { recursive: true });
      fs.symlinkSync(outside, path.join(state, 'bin'));
      const r = await syncord(['spawn', 'backend-claude', '--role', 'backend']);
      assert.equal(r.code, ExitCode.conflict, r.stderr);
      assert.match(r.stderr, /refusing to go through the symlink .*\.syncord\/bin/);
      fs.unlinkSync(path.join(state, 'bin'));
      fs.symlinkSync(outside, path.join(state, 'sessions'));
      const r2 = await syncord(['spawn', 'backend-claude', '--role', 'backend']);
      assert.equal(r2.code, ExitCode.conflict, r2.stderr);
      assert.match(r2.stderr, /refusing to go through the symlink .*\.syncord\/sessions/);
    });
  });
});
