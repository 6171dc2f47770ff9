// Syncord sessions on a REAL `opencode serve` (opencode from scripts/agents.js, pinned), driven offline by the
// scripted model: `syncord spawn --remote` creates the instance's own session on the server over HTTP, a local
// supervisor pushes the startup prompt and the slung work to it, the agent's `syncord --as … --session …`
// commands (through the `syncord` shim on the server's PATH) check it in, complete the task and acknowledge the
// hand-over, and `syncord session stop` ends it over HTTP. The server runs with the scratch's env, so the
// harness's mark ends it with the test.
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { OPENCODE_VERSION, Scratch, agentsBin, createScratch, markedProcesses, runCli, waitFor } from './harness';
import { Script, ScriptedModel, startScriptedModel } from './scriptedModel';

interface Delivery {
  session: string | null;
  instance: string;
  status: string;
  error?: string | null;
  prompt?: string;
}
interface SessionRec {
  session_id: string;
  instance: string;
  runtime: string;
  mode: string;
  state: string;
  host: string;
  pid: number | null;
  remote?: string | null;
  endpoint?: string | null;
  agent_state?: string | null;
  agent_session?: string | null;
  end_reason?: string | null;
  log?: string | null;
}

/**
 * What a model following a served session's prompts does: it runs the `syncord` commands the prompt spells out
 * (each naming the instance and session with --as and --session), the startup checklist's inbox and checkin, or
 * a handed-over task's start and complete.
 */
const followServedPrompt: Script = (turn) => {
  const commands = [...turn.prompt.matchAll(/`(syncord [^`]*)`/g)].map((m) => m[1]).filter((c) => !/[<…]/.test(c));
  const task = commands.filter((c) => / task (start|complete) task_\w+$/.test(c));
  if (task.length) return { commands: task.map((c) => (/ task complete /.test(c) ? `${c} --note "done on the server"` : c)), answer: 'Done.' };
  const startup = commands.filter((c) => / (inbox|checkin)$/.test(c));
  if (startup.length) return { commands: startup, answer: 'Checked in.' };
  return { commands: [], answer: 'Understood.' };
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

describe(`Syncord sessions on a real opencode ${OPENCODE_VERSION} server (opencode serve)`, function () {
  this.timeout(300_000);
  let model: ScriptedModel;
  let scratch: Scratch;
  let server: { url: string; child: ChildProcess; output: () => string } | undefined;

  before(() => {
    agentsBin();
  });

  beforeEach(async () => {
    model = await startScriptedModel(followServedPrompt);
    scratch = await createScratch(model);
    server = undefined;
  });

  afterEach(async function () {
    const keep = this.currentTest?.state === 'failed';
    if (keep && server) console.log(`    opencode serve said:\n${server.output().slice(-3000)}`);
    await scratch?.cleanup({ keep });
    if (keep) console.log(`    kept ${scratch.root} of the failed test`);
    await model?.close();
  });

  /** Starts `opencode serve` in the workspace with the scratch's env (so its agents find `syncord` and the model). */
  async function startServer(extraEnv: NodeJS.ProcessEnv = {}): Promise<string> {
    const port = await freePort();
    const env = { ...scratch.env, ...extraEnv, PWD: scratch.workspace };
    const child = spawn('opencode', ['serve', '--port', String(port), '--hostname', '127.0.0.1'], { cwd: scratch.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    server = { url, child, output: () => output };
    await waitFor(() => output.includes(`listening on ${url}`) || child.exitCode !== null, { what: 'opencode serve to listen', timeoutMs: 90_000, detail: () => output });
    assert.equal(child.exitCode, null, `opencode serve ended:\n${output}`);
    return url;
  }

  /** Writes the workspace's remotes and trusts them (as the user reviews them with `syncord trust`). */
  async function setRemotes(remotes: Record<string, unknown>): Promise<void> {
    fs.mkdirSync(path.join(scratch.workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(scratch.workspace, '.vscode', 'settings.json'), JSON.stringify({ 'syncord.sessions.remotes': remotes }, null, 2));
    const trusted = await syncord('trust');
    assert.match(trusted, /remote "serve"/);
  }

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { cwd: scratch.workspace, env: { ...scratch.env, ...env } });
  const syncord = async (...args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `syncord ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const read = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(scratch.workspace, 'coordination', name), 'utf8')) as T;
  const instance = (id: string) => read<{ instances: Record<string, { status: string; current_session_id?: string | null }> }>('instance-registry.json').instances[id];
  const sessionOf = (id: string) => read<{ sessions: SessionRec[] }>('sessions.json').sessions.filter((s) => s.instance === id).pop();
  const completed = (task: string) => read<{ completed_tasks: { task_id: string; assigned_to: string; status: string }[] }>('task-queue.json').completed_tasks.find((t) => t.task_id === task);
  const deliveries = async (message: string): Promise<Delivery[]> => {
    const shown = JSON.parse(await syncord('--json', 'msg', 'show', message)) as { thread: { message_id: string; deliveries?: Delivery[] }[] };
    return shown.thread.find((m) => m.message_id === message)?.deliveries ?? [];
  };
  const slingId = async (task: string, to: string) => (JSON.parse(await syncord('--json', 'sling', task, to)) as { message: { message_id: string } }).message.message_id;
  const checkedIn = (id: string) =>
    waitFor(() => instance(id)?.status === 'active' && instance(id)?.current_session_id === sessionOf(id)?.session_id && sessionOf(id)?.agent_state === 'idle', {
      what: `${id} to run its syncord inbox and checkin on the server, then rest idle`,
      timeoutMs: 120_000,
      detail: () => JSON.stringify({ instance: instance(id), session: sessionOf(id), turns: model.turns.map((t) => t.command).filter(Boolean) }),
    });
  /** The server's own sessions, by id, as `GET /session` lists them. */
  const serverSessions = async (url: string, auth?: string): Promise<Record<string, { title: string }>> => {
    const res = await fetch(`${url}/session`, { headers: auth ? { authorization: auth } : {} });
    assert.equal(res.status, 200);
    return Object.fromEntries(((await res.json()) as { id: string; title: string }[]).map((s) => [s.id, s]));
  };
  /** The supervisors (`syncord session run <id>`) still running for a session. */
  const supervisorsOf = (sessionId: string) =>
    markedProcesses(scratch.mark).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`session run ${sessionId}`);
      } catch {
        return false;
      }
    });

  it('spawn creates its own server session, the agent checks in, a slung task is completed there and acknowledged; stop ends it over HTTP', async () => {
    const url = await startServer();
    await setRemotes({ serve: { kind: 'opencode-serve', endpoint: url } });

    const out = await syncord('spawn', 'api-serve', '--role', 'api', '--remote', 'serve');
    assert.match(out, /Started api-serve \(newly registered\) with opencode: session \w{8}, on remote serve as http:\/\/127\.0\.0\.1:\d+\/session\/ses_/);
    const s = sessionOf('api-serve')!;
    assert.equal(s.mode, 'remote');
    assert.equal(s.remote, 'serve');
    assert.equal(s.host, '127.0.0.1');
    assert.equal(s.pid, null);
    assert.match(s.agent_session ?? '', /^ses_/);
    assert.equal(s.endpoint, `${url}/session/${s.agent_session}`);
    assert.equal((await serverSessions(url))[s.agent_session!]?.title, `api-serve ${s.session_id}`, 'the server holds the session under its title');

    await checkedIn('api-serve');
    const startup = model.turns.filter((t) => t.firstPrompt.includes('You are api-serve ')).map((t) => t.command).filter(Boolean);
    assert.deepEqual(startup, [`syncord --as api-serve --session ${s.session_id} inbox`, `syncord --as api-serve --session ${s.session_id} checkin`]);

    await syncord('task', 'add', 'Serve the API');
    const m = await slingId('task_001', 'api-serve');
    const [pending] = await deliveries(m);
    assert.equal(pending.session, s.session_id);
    assert.match(pending.prompt ?? '', new RegExp(`\`syncord --as api-serve --session ${s.session_id} task start task_001\``));
    await waitFor(() => completed('task_001')?.assigned_to === 'api-serve', { what: 'task_001 to be completed by api-serve', timeoutMs: 120_000 });
    await waitFor(async () => (await deliveries(m))[0]?.status === 'acknowledged', { what: 'the hand-over to be acknowledged' });
    const taskTurns = model.turns.filter((t) => t.prompt.includes('task task_001'));
    assert.ok(taskTurns.length > 0 && taskTurns.every((t) => t.firstPrompt.includes('You are api-serve ') && t.prompts === 2), 'task_001 went to the conversation of the checklist');

    await waitFor(() => sessionOf('api-serve')?.agent_state === 'idle', { what: "the server's events to say the turn ended" });
    const agents = await syncord('agents');
    assert.match(agents, new RegExp(`api-serve\\s+opencode\\s+running\\s+idle.*remote serve ${url.replace(/\./g, '\\.')}/session/ses_`));

    const stopped = await syncord('session', 'stop', 'api-serve');
    assert.match(stopped, /Session \w{8} of api-serve is exited \(stopped\)\./);
    const after = sessionOf('api-serve')!;
    assert.equal(after.state, 'exited');
    assert.equal(after.end_reason, 'stopped');
    assert.equal((await fetch(after.endpoint!)).status, 404, 'the session is deleted on the server');
    await waitFor(() => supervisorsOf(s.session_id).length === 0, { what: 'the supervisor to end with the session' });
  });

  it('two instances on one server each work in their own server session; nothing crosses', async () => {
    const url = await startServer();
    await setRemotes({ serve: { kind: 'opencode-serve', endpoint: url } });
    await syncord('spawn', 'api-serve', '--role', 'api', '--remote', 'serve');
    await syncord('spawn', 'docs-serve', '--role', 'docs', '--remote', 'serve');
    await checkedIn('api-serve');
    await checkedIn('docs-serve');
    const api = sessionOf('api-serve')!;
    const docs = sessionOf('docs-serve')!;
    assert.notEqual(api.agent_session, docs.agent_session);
    const onServer = await serverSessions(url);
    assert.equal(onServer[api.agent_session!]?.title, `api-serve ${api.session_id}`);
    assert.equal(onServer[docs.agent_session!]?.title, `docs-serve ${docs.session_id}`);

    await syncord('task', 'add', 'Build the API');
    await syncord('task', 'add', 'Write the docs');
    const [ma, md] = [await slingId('task_001', 'api-serve'), await slingId('task_002', 'docs-serve')];
    await waitFor(() => completed('task_001')?.assigned_to === 'api-serve' && completed('task_002')?.assigned_to === 'docs-serve', {
      what: 'each task to be completed by its own instance',
      timeoutMs: 180_000,
    });
    for (const m of [ma, md]) await waitFor(async () => (await deliveries(m))[0]?.status === 'acknowledged', { what: `${m} to be acknowledged` });
    for (const [task, owner] of [['task_001', 'api-serve'], ['task_002', 'docs-serve']]) {
      const turns = model.turns.filter((t) => t.prompt.includes(`task ${task}`));
      assert.ok(turns.length > 0, `no turn saw ${task}`);
      for (const t of turns) assert.ok(t.firstPrompt.includes(`You are ${owner} `), `${task} reached a conversation that began: ${t.firstPrompt.slice(0, 40)}`);
    }
    for (const id of ['api-serve', 'docs-serve']) await syncord('session', 'stop', id);
    const left = await serverSessions(url);
    assert.ok(!left[api.agent_session!] && !left[docs.agent_session!], 'both sessions are deleted on the server');
  });

  it("a server with a password: the password comes from the variable passwordEnv names, is sent as basic auth, and is never written down", async () => {
    const password = 'pw-of-the-served-agents';
    const url = await startServer({ OPENCODE_SERVER_PASSWORD: password });
    await setRemotes({ serve: { kind: 'opencode-serve', endpoint: url, passwordEnv: 'SERVE_PASSWORD' } });

    const unset = await run(['spawn', 'api-serve', '--role', 'api', '--remote', 'serve']);
    assert.equal(unset.code, 2, unset.stderr);
    assert.match(unset.stderr, /remote serve: the environment variable SERVE_PASSWORD \(its passwordEnv\) is not set/);

    const wrong = await run(['spawn', 'api-serve', '--role', 'api', '--remote', 'serve'], { SERVE_PASSWORD: 'not-it' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /answered POST \/session with 401: it refused the password in SERVE_PASSWORD/);
    assert.equal(sessionOf('api-serve')?.state, 'exited');
    assert.match(sessionOf('api-serve')?.end_reason ?? '', /^spawn-failed: .*401/);

    // The supervisor is started by the spawning command and inherits its environment: the password reaches it there.
    const ok = await run(['spawn', 'api-serve', '--role', 'api', '--remote', 'serve'], { SERVE_PASSWORD: password });
    assert.equal(ok.code, 0, ok.stderr);
    await checkedIn('api-serve');
    const auth = `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`;
    assert.equal((await fetch(`${url}/session`)).status, 401, 'the server asks for the password');
    assert.ok((await serverSessions(url, auth))[sessionOf('api-serve')!.agent_session!], 'the session was created with the password');

    await syncord('task', 'add', 'Guarded work');
    const m = await slingId('task_001', 'api-serve');
    await waitFor(() => completed('task_001')?.assigned_to === 'api-serve', { what: 'task_001 to be completed by api-serve', timeoutMs: 120_000 });
    assert.equal((await deliveries(m))[0]?.status, 'acknowledged');

    const stop = await run(['session', 'stop', 'api-serve'], { SERVE_PASSWORD: password });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(sessionOf('api-serve')?.end_reason, 'stopped');
    assert.equal((await fetch(`${url}/session/${sessionOf('api-serve')!.agent_session}`, { headers: { authorization: auth } })).status, 404);
    for (const f of ['sessions.json', 'communication-log.json', 'instance-registry.json']) {
      assert.ok(!fs.readFileSync(path.join(scratch.workspace, 'coordination', f), 'utf8').includes(password), `${f} holds no password`);
    }
  });
});
