import * as assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initCoordination } from '../../../src/core/coordination/init';
import { addTask } from '../../../src/core/coordination/tasks';
import {
  defaultSessionsConfig,
  Launcher,
  pumpTerminalQueue,
  SessionContext,
  sessionContext,
  slingTask,
  spawnSession,
} from '../../../src/core/sessions';
import { resolveWorkspace } from '../../../src/core/workspace';
import { CLI, runSyncord } from '../cli/runSyncord';
import { FAKES, until } from './helpers';

/**
 * Terminal sessions without VS Code: the launcher below stands where the extension's terminal launcher does,
 * with pipes for the terminal, so the core's typing path (queue → the owning window types → delivered) runs for
 * real against the fake interactive agent.
 */
describe('sessions: terminal hand-overs (core)', function () {
  this.timeout(60_000);
  let root: string;
  let ctx: SessionContext;
  let child: ChildProcessWithoutNullStreams | undefined;
  let output = '';

  const launcher: Launcher = async (req) => {
    // A group of its own, as a terminal gives it: the cleanup stops it with the `syncord` its hooks start.
    child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    await new Promise((r) => child!.once('spawn', r));
    return { pid: child.pid, terminal: `${req.title}` };
  };
  const typeInto = (prompt: string) => {
    child!.stdin.write(`${prompt}\n`);
  };
  const json = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(ctx.paths.coordinationDir, name), 'utf8')) as T;
  const sessionRecord = (id: string) =>
    json<{ sessions: { session_id: string; agent_state?: string | null; queue?: string[] }[] }>('sessions.json').sessions.find((s) => s.session_id === id);

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-term-'));
    execFileSync('git', ['init', '-q'], { cwd: root });
    const paths = resolveWorkspace(root);
    await initCoordination(paths.coordinationDir);
    output = '';
    ctx = sessionContext(paths, {
      config: defaultSessionsConfig(),
      cli: { node: process.execPath, script: CLI },
      env: { ...process.env, PATH: `${FAKES}${path.delimiter}${process.env.PATH}` },
      actor: undefined,
    });
    delete ctx.env.SYNCORD_INSTANCE;
  });

  afterEach(() => {
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    child = undefined;
    // A hook's `syncord` started by an agent that was just killed may still be writing state files.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });

  it('types a slung task into the terminal of the owning window; the agent takes it and acknowledges it', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    assert.equal(r.session.mode, 'terminal');
    assert.equal(r.session.terminal, 'ui-claude (claude)');
    // The interactive form: the first prompt is an argument, the session id is claude's own.
    assert.deepEqual(r.session.command.slice(1, 3), ['--session-id', r.session.session_id]);
    assert.ok(r.session.command.includes('Bash(syncord:*)'), 'the agent may run syncord without asking');
    await until('the agent to be ready', () => /fake-claude: ready/.test(output));
    await until('the check-in', () => json<{ instances: Record<string, { status: string }> }>('instance-registry.json').instances['ui-claude']?.status === 'active');
    await until('the agent to report itself idle', () => sessionRecord(r.session.session_id)?.agent_state === 'idle');

    await addTask(ctx.store, { title: 'Build the dashboard', priority: 'high' });
    const pumpTerminal = async () => {
      await pumpTerminalQueue(ctx, r.session.session_id, typeInto);
      return true;
    };
    const sling = await slingTask(ctx, { task: 'task_001', instance: 'ui-claude' }, { pumpTerminal });
    assert.equal(sling.delivery.via, 'terminal');
    // Typed; delivered only once the agent reports itself busy with it (its UserPromptSubmit hook).
    assert.equal(sling.delivery.status, 'pending');
    assert.equal(sling.delivery.attempts, 1);
    await until('the task to be completed', () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks.some((t) => t.task_id === 'task_001'));
    assert.match(output, /fake-claude: prompt: Syncord: task task_001 "Build the dashboard"/);
  });

  it('leaves a hand-over queued by another process pending until the owning window types it', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    await until('the agent to be ready', () => /fake-claude: ready/.test(output));
    await addTask(ctx.store, { title: 'Fix the header' });

    // The CLI cannot reach a VS Code terminal: it queues the prompt and says so.
    const cli = await runSyncord(root, ['sling', 'task_001', 'ui-claude'], { env: { PATH: `${FAKES}${path.delimiter}${process.env.PATH}` } });
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /waiting for the agent of session .* to be idle and for the VS Code window of its terminal to type it/);
    const pending = json<{ messages: { deliveries?: { status: string; via: string }[] }[] }>('communication-log.json').messages[0].deliveries![0];
    assert.deepEqual([pending.status, pending.via], ['pending', 'terminal']);
    const queued = json<{ sessions: { queue: string[] }[] }>('sessions.json').sessions[0].queue;
    assert.deepEqual(queued, ['msg_001']);

    await until('the agent to report itself idle (its Stop hook)', () => sessionRecord(r.session.session_id)?.agent_state === 'idle');
    assert.equal(await pumpTerminalQueue(ctx, r.session.session_id, typeInto), 1);
    // A second pump (another window, a repeated watcher event) finds nothing left to type.
    assert.equal(await pumpTerminalQueue(ctx, r.session.session_id, typeInto), 0);
    await until('the task to be completed', () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks.some((t) => t.task_id === 'task_001'));
    // The agent ran `syncord task start task_001` itself: acknowledged.
    await until('the hand-over to be acknowledged', () => json<{ messages: { deliveries?: { status: string }[] }[] }>('communication-log.json').messages[0].deliveries![0].status === 'acknowledged');
  });

  it('a prompt typed but never taken by the agent is failed after a while, and the next one goes', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    const id = r.session.session_id;
    await until('the agent to report itself idle', () => sessionRecord(id)?.agent_state === 'idle');
    await addTask(ctx.store, { title: 'Lost' });
    await addTask(ctx.store, { title: 'Found' });
    // A window types the first one, but it never reaches the agent (nothing is written to the terminal).
    const lost: string[] = [];
    await slingTask(ctx, { task: 'task_001', instance: 'ui-claude' }, { pumpTerminal: async () => (await pumpTerminalQueue(ctx, id, (p) => void lost.push(p))) >= 0 });
    await slingTask(ctx, { task: 'task_002', instance: 'ui-claude' }, { pumpTerminal: async () => (await pumpTerminalQueue(ctx, id, typeInto)) >= 0 });
    assert.equal(lost.length, 1);
    const statuses = () => json<{ messages: { deliveries?: { status: string; error?: string | null }[] }[] }>('communication-log.json').messages.map((m) => m.deliveries![0]);
    assert.deepEqual(statuses().map((d) => d.status), ['pending', 'pending'], 'typed is not delivered; the second waits for the first to be taken');
    // Later (the clock of the sessions file moved on past the limit), the next pump gives the first up and types the second.
    const file = path.join(ctx.paths.coordinationDir, 'sessions.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.sessions[0].typing.at = new Date(Date.now() - 61_000).toISOString().replace(/\.\d+Z$/, 'Z');
    fs.writeFileSync(file, JSON.stringify(data, null, 2));
    assert.equal(await pumpTerminalQueue(ctx, id, typeInto), 1);
    assert.equal(statuses()[0].status, 'failed');
    assert.match(statuses()[0].error ?? '', /typed into its terminal, but the agent did not take it within 60 s/);
    await until('task_002 to be acknowledged', () => statuses()[1].status === 'acknowledged');
  });

  it('presses Enter again when a typed prompt waits in the agent\'s input, and only then', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    const id = r.session.session_id;
    await until('the agent to report itself idle', () => sessionRecord(id)?.agent_state === 'idle');
    await addTask(ctx.store, { title: 'Waits in the input' });
    // The words reach the terminal, the Enter does not (as when a TUI under load takes it as part of pasted text).
    const wordsOnly = (p: string) => void child!.stdin.write(p);
    let enters = 0;
    const enter = () => {
      enters++;
      child!.stdin.write('\n');
    };
    await slingTask(ctx, { task: 'task_001', instance: 'ui-claude' }, { pumpTerminal: async () => (await pumpTerminalQueue(ctx, id, wordsOnly, enter)) >= 0 });
    // Soon after typing, nothing is pressed: the agent may be about to take it.
    await pumpTerminalQueue(ctx, id, wordsOnly, enter);
    assert.equal(enters, 0);
    const file = path.join(ctx.paths.coordinationDir, 'sessions.json');
    const data = JSON.parse(fs.readFileSync(file, 'utf8'));
    data.sessions[0].typing.at = new Date(Date.now() - 16_000).toISOString().replace(/\.\d+Z$/, 'Z');
    fs.writeFileSync(file, JSON.stringify(data, null, 2));
    await pumpTerminalQueue(ctx, id, wordsOnly, enter);
    assert.equal(enters, 1);
    const statuses = () => json<{ messages: { deliveries?: { status: string }[] }[] }>('communication-log.json').messages.map((m) => m.deliveries![0].status);
    await until('the hand-over to be acknowledged', () => statuses()[0] === 'acknowledged');
    await until('task_001 to be completed', () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks[0]?.task_id === 'task_001');
    // Taken: no more Enters.
    await pumpTerminalQueue(ctx, id, wordsOnly, enter);
    assert.equal(enters, 1);
  });

  it('types into an agent only while it reports itself idle, one prompt at a time', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    const id = r.session.session_id;
    await until('the agent to report itself idle', () => sessionRecord(id)?.agent_state === 'idle');
    await addTask(ctx.store, { title: 'One' });
    await addTask(ctx.store, { title: 'Two' });
    // The agent is in a turn (as its UserPromptSubmit hook reports): nothing is typed into it.
    await runSyncord(root, ['session', 'state', 'busy'], { env: { SYNCORD_SESSION: id } });
    assert.equal(sessionRecord(id)?.agent_state, 'busy');
    const typed: string[] = [];
    const pumpTerminal = async () => (await pumpTerminalQueue(ctx, id, (p) => { typed.push(p); typeInto(p); })) >= 0;
    await slingTask(ctx, { task: 'task_001', instance: 'ui-claude' }, { pumpTerminal });
    await slingTask(ctx, { task: 'task_002', instance: 'ui-claude' }, { pumpTerminal });
    assert.equal(typed.length, 0, 'nothing typed into a busy agent');
    assert.deepEqual(sessionRecord(id)?.queue, ['msg_001', 'msg_002']);
    const statuses = () => json<{ messages: { deliveries?: { status: string }[] }[] }>('communication-log.json').messages.map((m) => m.deliveries![0].status);
    assert.deepEqual(statuses(), ['pending', 'pending']);

    // Idle again: exactly one prompt is typed, and the agent counts as busy until it reports again.
    await runSyncord(root, ['session', 'state', 'idle'], { env: { SYNCORD_SESSION: id } });
    assert.equal(await pumpTerminalQueue(ctx, id, (p) => { typed.push(p); typeInto(p); }), 1);
    assert.equal(await pumpTerminalQueue(ctx, id, (p) => { typed.push(p); typeInto(p); }), 0);
    assert.equal(typed.length, 1);
    assert.match(typed[0], /task task_001/);
    // The fake agent's own hooks report busy, then idle when its turn ends: then the second one goes.
    await until('task_001 to be completed', () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks.some((t) => t.task_id === 'task_001'));
    await until('the agent to be idle again', () => sessionRecord(id)?.agent_state === 'idle');
    assert.equal(await pumpTerminalQueue(ctx, id, (p) => { typed.push(p); typeInto(p); }), 1);
    assert.match(typed[1], /task task_002/);
    await until('task_002 to be completed', () => json<{ completed_tasks: { task_id: string }[] }>('task-queue.json').completed_tasks.some((t) => t.task_id === 'task_002'));
    await until('both hand-overs to be acknowledged', () => statuses().every((s) => s === 'acknowledged'));
  });

  it('records the end when the agent in the terminal exits, and checks the instance out', async () => {
    const r = await spawnSession(ctx, { instance: 'ui-claude', role: 'frontend', mode: 'terminal' }, launcher);
    await until('the agent to be ready', () => /fake-claude: ready/.test(output));
    child!.stdin.write('/exit\n');
    const ended = await until('the session to be exited', () => {
      const s = json<{ sessions: { session_id: string; state: string; exit_code: number | null; end_reason: string | null }[] }>('sessions.json').sessions.find(
        (x) => x.session_id === r.session.session_id,
      );
      return s?.state === 'exited' ? s : undefined;
    });
    assert.equal(ended.exit_code, 0);
    assert.equal(ended.end_reason, 'the agent exited with code 0');
    // The supervisor records the end, then checks the instance out.
    await until('the instance to be checked out', () => json<{ instances: Record<string, { status: string }> }>('instance-registry.json').instances['ui-claude'].status === 'offline');
  });
});
