// @fixture demo-sessions
// Agent sessions in the real extension host, with the fake `claude` and `opencode` of
// test/fixtures/runtimes/bin first on the extension host's PATH (what spawned agents inherit): a session
// in a terminal of this window and a headless one, both checking in under their session id; work handed
// over by typing into the terminal and as a prompt through the runtime's non-interactive form, recorded
// in the message log; a killed session marked exited; a hand-over that could not be delivered shown and
// resent; a runtime that is not installed refused before any terminal opens.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';

/** What the extension exports (src/extension/sessions/api.ts), as seen from here. */
interface Session {
  session_id: string;
  instance: string;
  runtime: string;
  mode: 'terminal' | 'headless';
  state: string;
  pid: number | null;
  agent_pid?: number | null;
  terminal?: string | null;
  cwd: string;
  worktree?: string | null;
  log?: string | null;
  end_reason?: string | null;
}
interface Delivery {
  session: string | null;
  instance: string;
  via: 'terminal' | 'prompt' | null;
  status: 'pending' | 'delivered' | 'acknowledged' | 'failed';
  attempts: number;
  error?: string | null;
  prompt: string;
}
interface TreeNode {
  id: string;
  kind: string;
  label: string;
  description?: string;
  contextValue: string;
  icon?: { id: string; color?: string };
}
interface SessionsApi {
  spawn(req: { instance: string; role?: string; runtime?: string; worktree?: boolean; mode?: 'terminal' | 'headless' }): Promise<{ session: Session; runtimeReason: string; registered: boolean }>;
  list(opts?: { all?: boolean }): Promise<(Session & { current_task: string | null; instance_status: string | null })[]>;
  sling(task: string, instance: string): Promise<{ delivery: Delivery; message: { message_id: string } }>;
  stop(idOrInstance: string): Promise<Session>;
  terminalOf(sessionId: string): vscode.Terminal | undefined;
  reload(): Promise<void>;
  tree(): { roots: TreeNode[]; children(id: string): TreeNode[]; get(id: string): TreeNode | undefined };
}

function projectRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'syncord') return d;
  }
  throw new Error(`cannot find the Syncord package above ${__dirname}`);
}

const coordination = (name: string) => path.join(workspaceRoot(), 'coordination', name);
const readJson = (name: string) => JSON.parse(fs.readFileSync(coordination(name), 'utf8'));
type Instance = { status: string; current_session_id?: string | null; current_task?: string | null };
const instance = (id: string): Instance | undefined => readJson('instance-registry.json').instances[id];
type Task = { task_id: string; status: string; assigned_to: string | null };
const completed = (id: string): Task | undefined => (readJson('task-queue.json').completed_tasks as Task[]).find((t) => t.task_id === id);
type Message = { message_id: string; to: string; type: string; deliveries?: Delivery[] };
const message = (id: string): Message | undefined => (readJson('communication-log.json').messages as Message[]).find((m) => m.message_id === id);
/** Waits for a value to be there (see waitFor) and returns it. */
async function until<T>(get: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  return (await waitFor(get, what)) as T;
}
const sessionRow = (api: SessionsApi, id: string) => api.tree().get(`session:${id}`);

/** The prompts the fake agents handled (FAKE_AGENT_LOG), one JSON line each. */
interface AgentLogEntry {
  flavor: string;
  argv: string[];
  prompt: string;
  mode: string;
  cwd: string;
  env: Record<string, string | undefined>;
  commands: { args: string[]; status: number }[];
}

describe('Agent sessions in the extension host', function () {
  let api: SessionsApi;
  let agentLog: string;
  const savedEnv = { PATH: process.env.PATH, FAKE_AGENT_LOG: process.env.FAKE_AGENT_LOG };
  const ids: Record<string, string> = {};
  const agentLogEntries = (): AgentLogEntry[] =>
    fs.existsSync(agentLog) ? fs.readFileSync(agentLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AgentLogEntry) : [];
  const createTask = async (title: string): Promise<string> => {
    const t = await vscode.commands.executeCommand<{ task_id: string }>('syncord.createTask', { title, priority: 'high', as: 'instance-1' });
    assert.ok(t?.task_id, `creating the task "${title}" returned nothing`);
    return t.task_id;
  };

  before(async function () {
    this.timeout(120_000);
    const fakes = path.join(projectRoot(), 'test', 'fixtures', 'runtimes', 'bin');
    assert.ok(fs.existsSync(path.join(fakes, 'claude')), `the fake runtimes are missing in ${fakes}`);
    agentLog = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-agents-')), 'agents.jsonl');
    // Sessions inherit the extension host's environment as it is when they start.
    process.env.PATH = [fakes, savedEnv.PATH].join(path.delimiter);
    process.env.FAKE_AGENT_LOG = agentLog;
    const ext = vscode.extensions.getExtension<{ sessions: SessionsApi }>(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
    api = (await ext.activate()).sessions;
    assert.ok(api, 'activate() returned no sessions API');
  });

  after(async function () {
    this.timeout(60_000);
    for (const s of await api.list().catch(() => [])) await api.stop(s.session_id).catch(() => undefined);
    for (const t of vscode.window.terminals) if (/\((claude|opencode)\)$/.test(t.name)) t.dispose();
    await vscode.workspace.getConfiguration().update('syncord.sessions.runtimes', undefined, vscode.ConfigurationTarget.Workspace);
    process.env.PATH = savedEnv.PATH;
    if (savedEnv.FAKE_AGENT_LOG === undefined) delete process.env.FAKE_AGENT_LOG;
    else process.env.FAKE_AGENT_LOG = savedEnv.FAKE_AGENT_LOG;
  });

  it('spawns claude in a terminal and opencode headless; each checks in under its session id and shows in the Sessions view', async function () {
    this.timeout(120_000);
    const before = vscode.window.terminals.length;
    const claude = await api.spawn({ instance: 'backend-claude', role: 'backend' });
    ids.claude = claude.session.session_id;
    // The runtime comes from the instance's name through the default mapping.
    assert.equal(claude.session.runtime, 'claude');
    assert.equal(claude.runtimeReason, 'map *claude*');
    assert.equal(claude.registered, true);
    assert.equal(claude.session.mode, 'terminal');

    const terminal = api.terminalOf(ids.claude);
    assert.ok(terminal, 'no terminal for the claude session');
    assert.equal(vscode.window.terminals.length, before + 1);
    assert.equal(terminal.name, 'backend-claude (claude)');
    assert.equal(claude.session.terminal, 'backend-claude (claude)');
    // The terminal's process is the session's supervisor, recorded in sessions.json.
    assert.equal(await terminal.processId, claude.session.pid);

    const opencode = await api.spawn({ instance: 'docs-opencode', role: 'docs', mode: 'headless' });
    ids.opencode = opencode.session.session_id;
    assert.equal(opencode.session.runtime, 'opencode');
    assert.equal(opencode.runtimeReason, 'map *opencode*');
    assert.ok(opencode.session.log, 'a headless session has a log');
    assert.equal(api.terminalOf(ids.opencode), undefined);

    // Each agent ran `syncord inbox` and `syncord checkin` from its first prompt, as its own instance.
    await waitFor(() => instance('backend-claude')?.status === 'active' && instance('backend-claude')?.current_session_id === ids.claude, 'backend-claude to check in with its session id');
    await waitFor(() => instance('docs-opencode')?.status === 'active' && instance('docs-opencode')?.current_session_id === ids.opencode, 'docs-opencode to check in with its session id');
    // (The agent notes a prompt once every command it ran has ended.)
    const claudeStart = await until(() => agentLogEntries().find((e) => e.flavor === 'claude'), 'the fake claude to note its first prompt');
    assert.match(claudeStart.prompt, /run `syncord inbox`/);
    assert.deepEqual(claudeStart.argv.slice(0, 2), ['--session-id', ids.claude]);
    assert.equal(claudeStart.env.SYNCORD_INSTANCE, 'backend-claude');
    assert.equal(claudeStart.env.SYNCORD_WORKSPACE, workspaceRoot());
    assert.deepEqual(claudeStart.commands.map((c) => [c.args[0], c.status]), [['inbox', 0], ['checkin', 0]]);

    // The view: the terminal session runs; the headless one finished its first prompt and waits for work.
    await waitFor(async () => {
      await api.reload();
      // The fake claude's Stop hook reports its agent idle; the fake opencode reports nothing of itself.
      return sessionRow(api, ids.claude)?.description === 'claude · running · idle' && sessionRow(api, ids.opencode)?.description === 'opencode · idle';
    }, 'the Sessions view to show backend-claude running (its agent idle) and docs-opencode idle');
    const row = sessionRow(api, ids.claude)!;
    assert.equal(row.label, 'backend-claude');
    assert.equal(row.contextValue, 'syncord.session.running.terminal.here');
    assert.equal(row.icon?.id, 'vm-running');
    assert.equal(sessionRow(api, ids.opencode)!.contextValue, 'syncord.session.idle.headless');
  });

  it('sling to the terminal session types the task into its terminal once the agent is idle; the agent acknowledges it', async function () {
    this.timeout(120_000);
    const task = await createTask('Add the health endpoint');
    const r = await api.sling(task, 'backend-claude');
    // This window owns the terminal: the prompt is typed as soon as the agent reports itself idle.
    assert.notEqual(r.delivery.status, 'failed', r.delivery.error ?? '');
    assert.equal(r.delivery.via, 'terminal');
    assert.equal(r.delivery.session, ids.claude);

    await waitFor(() => completed(task)?.assigned_to === 'backend-claude', `${task} to be completed by backend-claude`);
    // The agent ran `syncord task start` about it itself: acknowledged.
    await waitFor(() => message(r.message.message_id)?.deliveries?.[0]?.status === 'acknowledged', 'the hand-over to be acknowledged');
    const m = message(r.message.message_id);
    assert.equal(m?.type, 'handoff');
    assert.equal(m?.to, 'backend-claude');
    assert.deepEqual(
      m?.deliveries?.map((d) => [d.instance, d.session, d.via, d.status, d.attempts]),
      [['backend-claude', ids.claude, 'terminal', 'acknowledged', 1]],
    );
    const handled = await until(() => agentLogEntries().find((e) => e.flavor === 'claude' && e.prompt.includes(task)), 'the fake claude to note the task it read from its terminal');
    assert.deepEqual(handled.commands.map((c) => [c.args.slice(0, 3).join(' '), c.status]), [[`task start ${task}`, 0], [`task complete ${task}`, 0]]);
  });

  it("sling to the idle headless session hands the task over as a prompt to the session's own opencode conversation (`opencode run --session`)", async function () {
    this.timeout(120_000);
    const task = await createTask('Write the health endpoint docs');
    const r = await api.sling(task, 'docs-opencode');
    assert.equal(r.delivery.via, 'prompt');
    assert.notEqual(r.delivery.status, 'failed', r.delivery.error ?? '');
    await waitFor(() => completed(task)?.assigned_to === 'docs-opencode', `${task} to be completed by docs-opencode`);
    await waitFor(() => message(r.message.message_id)?.deliveries?.[0]?.status === 'acknowledged', 'the hand-over to be acknowledged by the agent');
    const handled = await until(() => agentLogEntries().find((e) => e.flavor === 'opencode' && e.prompt.includes(task)), 'the fake opencode to note the task it was given');
    const own = (await api.list()).find((s) => s.session_id === ids.opencode) as { agent_session?: string } | undefined;
    assert.match(own?.agent_session ?? '', /^ses_/, 'the conversation id its first run reported');
    assert.deepEqual(handled.argv.slice(0, 2), ['run', '--format']);
    assert.equal(handled.argv[handled.argv.indexOf('--session') + 1], own?.agent_session);
    assert.equal(handled.env.SYNCORD_SESSION, ids.opencode);
    // Done with the prompt, the session waits for more work.
    await waitFor(async () => (await api.list()).find((s) => s.session_id === ids.opencode)?.state === 'idle', 'the headless session to be idle again');
  });

  it('a message to an instance with a live session nudges it', async function () {
    this.timeout(60_000);
    const sent = await vscode.commands.executeCommand<{ message: { message_id: string } }>('syncord.sendMessage', {
      as: 'instance-1',
      to: 'backend-claude',
      subject: 'Rate limits',
      body: 'Which limits does the health endpoint need?',
      type: 'question',
    });
    const id = sent?.message.message_id;
    assert.ok(id, 'the message was not sent');
    await waitFor(() => message(id)?.deliveries?.[0]?.status === 'acknowledged', 'the nudge to be acknowledged (the agent looked the message up)');
    assert.deepEqual(message(id)?.deliveries?.map((d) => [d.instance, d.via]), [['backend-claude', 'terminal']]);
    // The agent read the notice in its terminal and looked the message up.
    await waitFor(() => agentLogEntries().some((e) => e.flavor === 'claude' && e.commands.some((c) => c.args.join(' ') === `msg show ${id}` && c.status === 0)), `backend-claude to run syncord msg show ${id}`);
  });

  it('a session whose process is killed is marked exited, and its instance checked out', async function () {
    this.timeout(60_000);
    const live = (await api.list()).find((s) => s.session_id === ids.claude);
    assert.ok(live?.pid, 'the claude session has no process');
    process.kill(live.pid, 'SIGKILL');
    await waitFor(async () => (await api.list({ all: true })).find((s) => s.session_id === ids.claude)?.state === 'exited', 'the killed session to be marked exited');
    const ended = (await api.list({ all: true })).find((s) => s.session_id === ids.claude)!;
    assert.match(ended.end_reason ?? '', /killed or crashed|exited/);
    await waitFor(() => instance('backend-claude')?.status === 'offline' && instance('backend-claude')?.current_session_id === null, 'backend-claude to be checked out');
    await waitFor(async () => {
      await api.reload();
      return sessionRow(api, ids.claude)?.contextValue.startsWith('syncord.session.exited.') ?? false;
    }, 'the Sessions view to show the session exited');
    assert.match(sessionRow(api, ids.claude)!.description ?? '', /^claude · exited/);
    assert.equal(sessionRow(api, ids.claude)!.icon?.id, 'circle-slash');
  });

  it('work for an instance without a live session is shown as not delivered, and is delivered when resent to a new session', async function () {
    this.timeout(120_000);
    const task = await createTask('Cache the health check');
    const r = await api.sling(task, 'backend-claude');
    assert.equal(r.delivery.status, 'failed');
    assert.equal(r.delivery.session, null);
    assert.match(r.delivery.error ?? '', /has no live session/);
    // The dropped hand-over stays visible under the instance's session, with its resend action.
    await waitFor(async () => {
      await api.reload();
      return api.tree().children(`session:${ids.claude}`).some((n) => n.contextValue === 'syncord.delivery.failed' && n.label.includes(task));
    }, 'the failed hand-over under backend-claude in the Sessions view');

    const again = await api.spawn({ instance: 'backend-claude', runtime: 'claude' });
    ids.claude2 = again.session.session_id;
    assert.equal(again.registered, false);
    const resent = await vscode.commands.executeCommand<Delivery[]>('syncord.resendDelivery', { messageId: r.message.message_id });
    // Pointed at the new session; typed once its agent reports itself idle.
    assert.deepEqual(resent?.map((d) => [d.instance, d.session, d.status === 'failed']), [['backend-claude', ids.claude2, false]]);
    await waitFor(() => completed(task)?.assigned_to === 'backend-claude', `${task} to be completed by the new backend-claude session`);
    await waitFor(() => message(r.message.message_id)?.deliveries?.slice(-1)[0]?.status === 'acknowledged', 'the resent hand-over to be acknowledged');
    await waitFor(async () => {
      await api.reload();
      return !api.tree().children(`session:${ids.claude}`).length && !api.tree().children(`session:${ids.claude2}`).length;
    }, 'the Sessions view to show no undelivered hand-over any more');
  });

  it('Stop Session ends a session and checks its instance out', async function () {
    this.timeout(60_000);
    const stopped = await vscode.commands.executeCommand<Session>('syncord.stopSession', { session: 'docs-opencode', confirmed: true });
    assert.equal(stopped?.session_id, ids.opencode);
    assert.equal(stopped?.state, 'exited');
    await waitFor(() => instance('docs-opencode')?.status === 'offline', 'docs-opencode to be checked out');
    assert.equal((await api.list()).some((s) => s.session_id === ids.opencode), false);
  });

  it('a session in its own worktree works in a git worktree of the project on branch syncord/<instance>', async function () {
    this.timeout(120_000);
    const r = await api.spawn({ instance: 'qa-claude', role: 'qa', worktree: true });
    ids.worktree = r.session.session_id;
    const wt = r.session.worktree;
    assert.ok(wt, 'no worktree recorded');
    assert.equal(r.session.cwd, wt);
    assert.ok(fs.existsSync(path.join(wt, '.git')), `${wt} is not a git worktree`);
    assert.match(fs.readFileSync(path.join(wt, '.git'), 'utf8'), /^gitdir: /);
    await waitFor(() => instance('qa-claude')?.status === 'active', 'qa-claude to check in');
    const start = await until(() => agentLogEntries().find((e) => e.env.SYNCORD_INSTANCE === 'qa-claude'), 'the first prompt of qa-claude in the agents log');
    assert.equal(start.cwd, fs.realpathSync(wt));
    assert.equal(start.env.SYNCORD_WORKSPACE, workspaceRoot());
    const stopped = await api.stop('qa-claude');
    assert.equal(stopped.state, 'exited');
  });

  it('spawns on an opencode server remote from the command: the server gets its session and the prompt, the row says where, stop ends it there', async function () {
    this.timeout(120_000);
    // A stand-in for `opencode serve` on loopback (the real one is driven in the agents tier): what Syncord asks of it.
    const seen: { method: string; url: string; body: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', body });
        if (req.url === '/event') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`);
          return; // kept open, as the server's stream is
        }
        if (req.method === 'POST' && req.url === '/session') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'ses_standin1' }));
        if (req.url?.endsWith('/prompt_async')) return void res.writeHead(204).end();
        if (req.url === '/session/status') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        res.writeHead(200, { 'content-type': 'application/json' }).end('true');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await vscode.workspace.getConfiguration().update('syncord.sessions.remotes', { serve: { kind: 'opencode-serve', endpoint, heartbeatInterval: 5 } }, vscode.ConfigurationTarget.Workspace);
      const r = await vscode.commands.executeCommand<{ session: Session & { remote?: string; endpoint?: string } }>('syncord.spawnSession', { instance: 'serve-docs', role: 'docs', remote: 'serve' });
      assert.ok(r, 'the spawn command returned nothing (see the notification)');
      assert.equal(r.session.mode, 'remote');
      assert.equal(r.session.remote, 'serve');
      assert.equal(r.session.endpoint, `${endpoint}/session/ses_standin1`);
      assert.equal(vscode.window.terminals.some((t) => t.name.startsWith('serve-docs')), false, 'a remote session opens no terminal');
      const created = seen.find((x) => x.method === 'POST' && x.url === '/session');
      assert.ok(created, 'no session was created on the server');
      assert.match(JSON.parse(created.body).title, new RegExp(`^serve-docs ${r.session.session_id}`));
      // The startup prompt goes into that session, naming the instance in each syncord command.
      const prompt = await until(() => seen.find((x) => x.url === '/session/ses_standin1/prompt_async'), 'the startup prompt to reach the server').catch((e: Error) => {
        const rec = readJson('sessions.json').sessions.find((x: Session) => x.session_id === r.session.session_id) as Session | undefined;
        const log = rec?.log && fs.existsSync(rec.log) ? fs.readFileSync(rec.log, 'utf8') : '(no log)';
        throw new Error(`${e.message}\nsession: ${JSON.stringify(rec)}\nsupervisor: ${log}\nserver saw: ${JSON.stringify(seen.map((x) => `${x.method} ${x.url}`))}`);
      });
      assert.match(JSON.parse(prompt.body).parts[0].text, /syncord --as serve-docs --session \S+ inbox/);
      await api.reload();
      await waitFor(() => sessionRow(api, r.session.session_id)?.description?.startsWith('opencode on serve'), 'the Sessions view to say the session runs on serve');
      await vscode.commands.executeCommand('syncord.stopSession', { session: r.session.session_id, confirmed: true });
      await waitFor(() => seen.some((x) => x.method === 'DELETE' && x.url === '/session/ses_standin1'), 'the server session to be deleted');
      const ended = (await api.list({ all: true })).find((x) => x.session_id === r.session.session_id);
      assert.equal(ended?.state, 'exited');
      assert.equal(ended?.end_reason, 'stopped');
    } finally {
      await vscode.workspace.getConfiguration().update('syncord.sessions.remotes', undefined, vscode.ConfigurationTarget.Workspace);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('a runtime whose command is not installed is refused with its name and how to install it, before any terminal opens', async function () {
    this.timeout(60_000);
    await vscode.workspace
      .getConfiguration()
      .update('syncord.sessions.runtimes', { ghost: { command: ['ghost-agent-not-installed', '{prompt}'], install: 'npm install -g ghost-agent' } }, vscode.ConfigurationTarget.Workspace);
    const opened: string[] = [];
    const watching = vscode.window.onDidOpenTerminal((t) => opened.push(t.name));
    await assert.rejects(api.spawn({ instance: 'ghost-1', role: 'phantom', runtime: 'ghost' }), (e: Error) => {
      assert.match(e.message, /runtime ghost: the command "ghost-agent-not-installed" is not installed \(not found on PATH\); npm install -g ghost-agent/);
      return true;
    });
    // The command reports it (as a notification) and returns nothing.
    const viaCommand = await vscode.commands.executeCommand('syncord.spawnSession', { instance: 'ghost-1', role: 'phantom', runtime: 'ghost', worktree: false });
    assert.equal(viaCommand, undefined);
    watching.dispose();
    assert.deepEqual(opened.filter((n) => n.startsWith('ghost-1')), [], 'a terminal was opened for a runtime that is not installed');
    assert.equal(vscode.window.terminals.some((t) => t.name.startsWith('ghost-1')), false);
    assert.equal((await api.list({ all: true })).some((s) => s.instance === 'ghost-1'), false);
    assert.equal(instance('ghost-1'), undefined, 'the instance was registered although nothing started');
  });
});
