// The workspace's daemon: calls through either client (the Node client, and the agents' command, which goes through
// Perl while a daemon runs) are answered as the CLI answers them, each with its own identity; verbs it does not run,
// and calls when it is gone, run in the caller's process.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeAgentFiles } from '../../../src/core/sessions/launch';
import { resolveWorkspace } from '../../../src/core/workspace';
import { socketPath } from '../../../src/core/daemonSocket';
import { ping } from '../../../src/cli/daemon';
import { daemonCall, gitEnvOf, sameGitEnv } from '../../../src/cli/daemonShared';
import { CLIENT, Run, runSyncord } from './runSyncord';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIST_CLI = path.join(ROOT, 'dist', 'cli.js');

type Opts = { env?: Record<string, string>; input?: string };

/** The two ways a call reaches the daemon. */
const CLIENTS: { name: string; run: (ws: string, args: string[], opts: Opts) => Promise<Run> }[] = [
  { name: 'the Node client (client.js)', run: (ws, args, opts) => runSyncord(ws, args, { ...opts, script: CLIENT }) },
  {
    name: "the agents' command (client.pl)",
    run: (ws, args, opts) => runSyncord(ws, args, { ...opts, command: path.join(ws, 'coordination', '.syncord', 'bin', 'syncord') }),
  },
];

interface Status {
  running: boolean;
  pid: number | null;
  calls: number | null;
  socket: string;
}

for (const way of CLIENTS) describe(`syncord daemon, through ${way.name}`, function () {
  let ws: string;
  // The CLI in its own process (it too would hand a call to the daemon).
  const direct = (args: string[], opts: Opts = {}) => runSyncord(ws, args, { ...opts, env: { SYNCORD_NO_DAEMON: '1', ...opts.env } });
  const client = (args: string[], opts: Opts = {}) => way.run(ws, args, opts);
  const status = async (): Promise<Status> => JSON.parse((await direct(['daemon', 'status', '--json'])).stdout) as Status;
  const messages = () =>
    (JSON.parse(fs.readFileSync(path.join(ws, 'coordination', 'communication-log.json'), 'utf8')) as { messages: { message_id: string; from: string; to: string; subject: string }[] }).messages;
  const ok = (r: Run) => assert.equal(r.code, 0, r.stderr);

  beforeEach(async () => {
    ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-daemon-')));
    ok(await direct(['init']));
    for (const id of ['a', 'b']) ok(await direct(['instance', 'add', id, '--role', 'dev']));
    const started = await direct(['daemon', 'start', '--idle-minutes', '5']);
    ok(started);
    assert.match(started.stdout, /^Daemon started \(pid \d+\), listening on .*daemon\.sock\.\n$/);
    if (!fs.existsSync(DIST_CLI)) assert.fail(`${DIST_CLI} is missing: build with \`node esbuild.js\` first`);
    writeAgentFiles(resolveWorkspace(ws), { node: process.execPath, script: DIST_CLI });
  });

  afterEach(async () => {
    const s = await status();
    await direct(['daemon', 'stop']);
    if (s.pid) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        // already ended
      }
    }
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('answers as the CLI does: the same stdout, stderr and exit code, for reads, --json, usage errors and a broken file', async () => {
    ok(await direct(['--as', 'a', 'msg', 'send', 'b', 'first', '-m', 'body']));
    ok(await direct(['--as', 'a', 'task', 'add', 'a task', '--description', 'x']));
    const before = (await status()).calls ?? 0;
    const calls: string[][] = [
      ['inbox', '--as', 'b'],
      ['--json', 'task', 'list'],
      ['msg', 'list', '--json'],
      ['--as', 'b', 'msg', 'show', 'msg_999', '--json'],
      ['msg', 'send'],
      ['task', 'claim', 'task_001'],
    ];
    for (const args of calls) {
      const d = await direct(args);
      const c = await client(args);
      assert.deepEqual(c, d, `syncord ${args.join(' ')}`);
    }
    // Standard input, read by the daemon from the caller.
    const d = await direct(['--as', 'a', 'msg', 'send', 'b', 'from stdin', '-m', '-', '--type', 'info'], { input: 'the body' });
    const c = await client(['--as', 'a', 'msg', 'send', 'b', 'from stdin', '-m', '-', '--type', 'info'], { input: 'the body' });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout.replace(/msg_\d+/, 'ID'), d.stdout.replace(/msg_\d+/, 'ID'));
    assert.deepEqual(messages().filter((m) => m.subject === 'from stdin').length, 2);
    // A file that does not parse: the error names file:line:col, exit code 3.
    const decisions = path.join(ws, 'coordination', 'decisions.json');
    fs.writeFileSync(decisions, '{\n  "decisions": [,]\n}\n');
    const broken = await direct(['decision', 'list']);
    assert.equal(broken.code, 3);
    assert.match(broken.stderr, /decisions\.json:2:\d+/);
    assert.deepEqual(await client(['decision', 'list']), broken);
    assert.deepEqual(await client(['--json', 'decision', 'list']), await direct(['--json', 'decision', 'list']));
    assert.equal((await status()).calls, before + calls.length + 3, 'every call went through the daemon');
  });

  it('gives each caller its own identity, from --as or SYNCORD_INSTANCE, when they call at once', async () => {
    const runs: Promise<Run>[] = [];
    for (let i = 0; i < 6; i++) {
      runs.push(client(['msg', 'send', 'b', `from a ${i}`, '-m', 'x'], { env: { SYNCORD_INSTANCE: 'a' } }));
      runs.push(client(['msg', 'send', 'a', `from b ${i}`, '-m', 'x'], { env: { SYNCORD_INSTANCE: 'b' } }));
      runs.push(client(['--as', 'b', 'inbox']));
    }
    for (const r of await Promise.all(runs)) ok(r);
    const sent = messages();
    assert.equal(sent.length, 12);
    for (const m of sent) assert.equal(m.from, m.subject.split(' ')[1], `${m.message_id}: ${m.subject} sent as ${m.from}`);
    const inbox = await client(['inbox'], { env: { SYNCORD_INSTANCE: 'a' } });
    ok(inbox);
    assert.match(inbox.stdout, /from b: from b 0/);
    assert.doesNotMatch(inbox.stdout, /from a \d/);
    assert.equal((await status()).calls, 19);
  });

  it('runs verbs it does not serve in the caller, and help there too', async () => {
    // `verify` runs the workspace's own commands and `sync request` starts sessions: both stay with the caller.
    const notServed = [['--help'], ['msg', 'list', '--help'], ['daemon', 'status'], ['sync', 'verify'], ['target', 'verify', 'nope'], ['sync', 'request', 'nope'], ['sync', '--help'], ['sync', 'detect', '--help']];
    for (const args of notServed) {
      const c = await client(args);
      const d = await direct(args);
      assert.equal(c.code, d.code);
      assert.equal(c.stdout.replace(/\d+ calls? served/, ''), d.stdout.replace(/\d+ calls? served/, ''), args.join(' '));
    }
    assert.equal((await status()).calls, 0);
  });

  it('falls back to running the call itself when the daemon was killed, and a new daemon replaces the stale socket', async () => {
    const first = await status();
    ok(await client(['--as', 'a', 'msg', 'send', 'b', 'before', '-m', 'x']));
    process.kill(first.pid!, 'SIGKILL');
    for (let i = 0; i < 100 && alive(first.pid!); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(fs.existsSync(first.socket), 'the killed daemon left its socket');
    const after = await client(['--as', 'a', 'msg', 'send', 'b', 'after', '-m', 'x']);
    ok(after);
    assert.match(after.stdout, /^Sent msg_002 to b[.;]/);
    const stopped = await direct(['daemon', 'status']);
    assert.equal(stopped.code, 4);
    assert.equal(stopped.stdout, 'No daemon is running for this workspace.\n');
    const restarted = await direct(['daemon', 'start']);
    ok(restarted);
    assert.match(restarted.stdout, /^Daemon started/);
    const again = await status();
    assert.notEqual(again.pid, first.pid);
    ok(await client(['--as', 'a', 'msg', 'send', 'b', 'again', '-m', 'x']));
    assert.equal((await status()).calls, 1);
    assert.deepEqual(messages().map((m) => m.subject), ['before', 'after', 'again']);
    const second = await direct(['daemon', 'start']);
    assert.equal(second.stdout, `The daemon of this workspace is already running (pid ${again.pid}).\n`);
  });

  it('loses nothing when 16 clients send at once', async () => {
    const each = 5;
    const runs: Promise<Run>[] = [];
    for (let agent = 0; agent < 16; agent++) {
      runs.push(
        (async () => {
          const results: Run[] = [];
          for (let i = 0; i < each; i++) results.push(await client(['--as', 'a', 'msg', 'send', 'b', `m ${agent} ${i}`, '-m', 'x']));
          const failed = results.find((r) => r.code !== 0);
          return failed ?? results[0];
        })(),
      );
    }
    for (const r of await Promise.all(runs)) ok(r);
    const sent = messages();
    assert.equal(sent.length, 16 * each);
    assert.equal(new Set(sent.map((m) => m.message_id)).size, 16 * each);
    assert.equal(new Set(sent.map((m) => m.subject)).size, 16 * each);
    assert.equal((await status()).calls, 16 * each);
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the CLI while a daemon runs', () => {
  it('hands a coordination call to the daemon, unless SYNCORD_NO_DAEMON=1 keeps it in its own process', async () => {
    const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-daemon-')));
    const calls = async () => (JSON.parse((await runSyncord(ws, ['daemon', 'status', '--json'])).stdout) as { calls: number }).calls;
    try {
      assert.equal((await runSyncord(ws, ['init'])).code, 0);
      for (const id of ['a', 'b']) assert.equal((await runSyncord(ws, ['instance', 'add', id, '--role', 'dev'])).code, 0);
      assert.equal((await runSyncord(ws, ['daemon', 'start'])).code, 0);
      const sent = await runSyncord(ws, ['--as', 'a', 'msg', 'send', 'b', 'one', '-m', 'x']);
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /^Sent msg_001 to b/);
      assert.equal(await calls(), 1);
      const inbox = await runSyncord(ws, ['inbox'], { env: { SYNCORD_INSTANCE: 'b', SYNCORD_NO_DAEMON: '1' } });
      assert.match(inbox.stdout, /from a: one/);
      assert.equal(await calls(), 1, 'SYNCORD_NO_DAEMON=1 ran the call in its own process');
    } finally {
      await runSyncord(ws, ['daemon', 'stop']);
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});

describe("the agents' command where Perl is not installed", () => {
  it('hands its calls to the daemon through the Node client', async () => {
    const ws = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-daemon-')));
    const shim = path.join(ws, 'coordination', '.syncord', 'bin', 'syncord');
    try {
      assert.equal((await runSyncord(ws, ['init'])).code, 0);
      for (const id of ['a', 'b']) assert.equal((await runSyncord(ws, ['instance', 'add', id, '--role', 'dev'])).code, 0);
      assert.equal((await runSyncord(ws, ['daemon', 'start'])).code, 0);
      writeAgentFiles(resolveWorkspace(ws), { node: process.execPath, script: DIST_CLI });
      assert.match(fs.readFileSync(shim, 'utf8'), /client\.pl/);
      const sent = await runSyncord(ws, ['--as', 'a', 'msg', 'send', 'b', 'note', '-m', 'x'], { command: shim, env: { PATH: '/nonexistent' } });
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stdout, /^Sent msg_001 to b/);
      const status = JSON.parse((await runSyncord(ws, ['daemon', 'status', '--json'])).stdout) as { calls: number };
      assert.equal(status.calls, 1, 'the call went through the daemon');
    } finally {
      await runSyncord(ws, ['daemon', 'stop']);
      fs.rmSync(ws, { recursive: true, force: true });
    }
  });
});

/** The demo workspace (scripts/demo.js): a main project in git with two targets, one of them behind. */
const demo = require(path.join(ROOT, 'scripts', 'demo.js')) as { createDemoWorkspace(dir: string): { root: string; main: string; targets: Record<string, string> } };
const BEHIND = 'ComfyUI_windows_portable';

for (const way of CLIENTS) describe(`the targets verbs in the daemon, through ${way.name}`, function () {
  this.timeout(180_000);
  let base: string;
  let main: string;
  const direct = (args: string[], opts: Opts = {}) => runSyncord(main, args, { ...opts, env: { SYNCORD_NO_DAEMON: '1', ...opts.env } });
  const client = (args: string[], opts: Opts = {}) => way.run(main, args, opts);
  const calls = async () => (JSON.parse((await direct(['daemon', 'status', '--json'])).stdout) as Status).calls ?? 0;
  const git = (...args: string[]) => execFileSync('git', args, { cwd: main, stdio: 'pipe' });

  before(async () => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-daemon-targets-')));
    main = demo.createDemoWorkspace(path.join(base, 'demo')).main;
    const started = await direct(['daemon', 'start', '--idle-minutes', '5']);
    assert.equal(started.code, 0, started.stderr);
    writeAgentFiles(resolveWorkspace(main), { node: process.execPath, script: DIST_CLI });
  });

  after(async () => {
    const s = JSON.parse((await direct(['daemon', 'status', '--json'])).stdout) as Status;
    await direct(['daemon', 'stop']);
    if (s.pid && alive(s.pid)) process.kill(s.pid, 'SIGKILL');
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('answers detect, check, status, checklist, target list and a dry run as the CLI does', async () => {
    const before = await calls();
    const asked = [['sync', 'detect'], ['sync', 'check'], ['--json', 'sync', 'status'], ['sync', 'checklist', '--target', BEHIND], ['target', 'list'], ['sync', 'run', '--target', BEHIND, '--dry-run'], ['sync', 'run', '--target', 'nope']];
    for (const args of asked) assert.deepEqual(await client(args), await direct(args), `syncord ${args.join(' ')}`);
    assert.equal(await calls(), before + asked.length, 'every call went through the daemon');
    const check = await client(['sync', 'check']);
    assert.equal(check.code, 1);
    assert.match(check.stdout, new RegExp(`needs_sync +${BEHIND}`));
  });

  it("leaves a targets call to the caller when its git variables are not the daemon's", async () => {
    const before = await calls();
    const inHook = { GIT_INDEX_FILE: path.join(main, '.git', 'index'), GIT_AUTHOR_NAME: 'Someone Else' };
    const c = await client(['sync', 'detect'], { env: inHook });
    assert.deepEqual(c, await direct(['sync', 'detect'], { env: inHook }));
    assert.equal(c.code, 0, c.stderr);
    assert.equal(await calls(), before, 'the call ran in the caller');
    // A coordination verb starts no git: the daemon still takes it.
    await client(['inbox', '--as', 'nobody'], { env: inHook });
    assert.equal(await calls(), before + 1);
  });

  it('stops a sync after the files in hand when the caller presses Ctrl-C, and syncs in full when let be', async () => {
    const docs = path.join(main, 'docs', 'many');
    fs.mkdirSync(docs, { recursive: true });
    for (let i = 0; i < 4000; i++) fs.writeFileSync(path.join(docs, `page-${i}.md`), `# Page ${i}\n`);
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'many pages');
    const before = await calls();
    const command = way.name.includes('client.pl') ? path.join(main, 'coordination', '.syncord', 'bin', 'syncord') : process.execPath;
    const args = command === process.execPath ? [CLIENT, 'sync', 'run', '--target', BEHIND] : ['sync', 'run', '--target', BEHIND];
    const child = spawn(command, args, { cwd: main, env: { ...process.env, SYNCORD_NO_DAEMON: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // Once the daemon has taken the call, Ctrl-C.
    const socket = socketPath(resolveWorkspace(main).coordinationDir);
    let taken = false;
    for (let i = 0; i < 3000 && !taken; i++) {
      taken = ((await ping(socket))?.calls ?? 0) > before;
      if (!taken) await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(taken, 'the daemon took the sync');
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, `${stdout}\n${stderr}`);
    assert.match(stderr, /cancelling after the current files/);
    assert.match(stdout, new RegExp(`Sync of ${BEHIND} was cancelled: sync cancelled.*\nDone before stopping: \\d+ written`));
    const copied = path.join(targetOf(main), 'python_embeded', 'Lib', 'site-packages', 'opencode', 'docs', 'many');
    const count = fs.existsSync(copied) ? fs.readdirSync(copied).length : 0;
    assert.ok(count < 4000, `${count} of 4000 pages copied before the sync stopped`);
    assert.match((await direct(['sync', 'check'])).stdout, new RegExp(`^needs_sync +${BEHIND} `, 'm'), 'the target still needs a sync');
    // Let be, the same call syncs the target in full.
    const full = await client(['sync', 'run', '--target', BEHIND]);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(fs.readdirSync(copied).length, 4000);
    const check = await direct(['sync', 'check']);
    assert.match(check.stdout, new RegExp(`^synchronized ${BEHIND} `, 'm'));
  });
});

function targetOf(main: string): string {
  return path.join(path.dirname(main), 'targets', BEHIND);
}

describe('which calls the daemon takes', () => {
  const cwd = '/work/project';
  const takes = (args: string[], env: NodeJS.ProcessEnv = {}) => daemonCall(args, cwd, env);
  it('takes coordination verbs and the targets verbs, but not verify, sync request, help or the rest', () => {
    for (const args of [['inbox'], ['msg', 'send', 'b', 's'], ['sync', 'detect'], ['sync', 'run', '--target', 't'], ['-w', 'x', 'sync', 'check'], ['target', 'backup', 't'], ['target', 'restore', 't'], ['config', 'diff', 't'], ['sync', 'docs', 't']]) {
      assert.ok(takes(args), args.join(' '));
    }
    for (const args of [['sync', 'verify'], ['target', 'verify', 't'], ['sync', 'request', 't'], ['sync'], ['sync', '--help'], ['sync', 'help', 'run'], ['sync', '--json', 'detect'], ['spawn', 'x'], ['trust'], ['init'], ['daemon', 'status'], ['sync', 'run', '--help'], ['--version']]) {
      assert.equal(takes(args), undefined, args.join(' '));
    }
  });
  it('says which calls start git, so that the daemon compares the git variables', () => {
    assert.equal(takes(['sync', 'check'])?.runsGit, true);
    assert.equal(takes(['inbox'])?.runsGit, false);
    assert.deepEqual(takes(['-w', 'sub', '--coordination-dir', 'c', 'target', 'list']), { root: '/work/project/sub', coordinationDir: '/work/project/sub/c', runsGit: true });
  });
  it('compares git variables by name and value', () => {
    assert.deepEqual(gitEnvOf({ GIT_DIR: '/r/.git', HOME: '/h', GIT_AUTHOR_NAME: 'a', GITX: 'n' }), { GIT_AUTHOR_NAME: 'a', GIT_DIR: '/r/.git' });
    assert.ok(sameGitEnv({ GIT_SSL_CAINFO: 'x' }, { GIT_SSL_CAINFO: 'x' }));
    assert.ok(!sameGitEnv({ GIT_SSL_CAINFO: 'x' }, { GIT_SSL_CAINFO: 'y' }));
    assert.ok(!sameGitEnv({ GIT_SSL_CAINFO: 'x', GIT_DIR: '.git' }, { GIT_SSL_CAINFO: 'x' }));
    assert.ok(!sameGitEnv({}, { GIT_DIR: '.git' }));
  });
});
