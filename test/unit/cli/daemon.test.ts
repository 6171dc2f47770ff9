// The workspace's daemon: calls through either client (the Node client, and the agents' command, which goes through
// Perl while a daemon runs) are answered as the CLI answers them, each with its own identity; verbs it does not run,
// and calls when it is gone, run in the caller's process.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeAgentFiles } from '../../../src/core/sessions/launch';
import { resolveWorkspace } from '../../../src/core/workspace';
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
    for (const args of [['target', 'list'], ['--help'], ['msg', 'list', '--help'], ['daemon', 'status']]) {
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
