// Syncord's sessions with the REAL Claude Code and opencode (scripts/agents.js, pinned versions), driven offline by
// the scripted model, through the `syncord` CLI as a user runs it: spawn, sling, the agent's own work in its own
// conversation, and what Syncord then says about each hand-over (acknowledged, delivered, failed — in the
// runtime's words). The stand-in runtimes of test/fixtures/runtimes are for the fast unit tests; these are the proof.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLAUDE_VERSION, OPENCODE_VERSION, Scratch, agentsBin, createScratch, runCli, waitFor } from './harness';
import { followInstructions, Script, ScriptedModel, startScriptedModel } from './scriptedModel';

interface Delivery {
  session: string | null;
  instance: string;
  status: string;
  error?: string | null;
}
interface SessionRec {
  session_id: string;
  instance: string;
  runtime: string;
  state: string;
  cwd: string;
  agent_state?: string | null;
  agent_session?: string | null;
}

describe(`Syncord sessions with the real claude ${CLAUDE_VERSION} and opencode ${OPENCODE_VERSION}`, function () {
  this.timeout(240_000);
  let model: ScriptedModel;
  let scratch: Scratch;

  before(() => {
    agentsBin();
  });

  beforeEach(async () => {
    model = await startScriptedModel(followInstructions);
    scratch = await createScratch(model);
  });

  afterEach(async function () {
    const keep = this.currentTest?.state === 'failed';
    await scratch?.cleanup({ keep });
    if (keep) console.log(`    kept ${scratch.root} of the failed test`);
    await model?.close();
  });

  const syncord = async (...args: string[]) => {
    const r = await runCli(args, { cwd: scratch.workspace, env: scratch.env });
    assert.equal(r.code, 0, `syncord ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const read = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(scratch.workspace, 'coordination', name), 'utf8')) as T;
  const instance = (id: string) => read<{ instances: Record<string, { status: string; current_session_id?: string | null }> }>('instance-registry.json').instances[id];
  const sessionOf = (id: string) => read<{ sessions: SessionRec[] }>('sessions.json').sessions.filter((s) => s.instance === id).pop();
  const completed = (task: string) => read<{ completed_tasks: { task_id: string; assigned_to: string; status: string }[] }>('task-queue.json').completed_tasks.find((t) => t.task_id === task);
  /** The delivery statuses of a message as `syncord --json msg show` shows them. */
  const deliveries = async (message: string): Promise<Delivery[]> => {
    const shown = JSON.parse(await syncord('--json', 'msg', 'show', message)) as { thread: { message_id: string; deliveries?: Delivery[] }[] };
    return shown.thread.find((m) => m.message_id === message)?.deliveries ?? [];
  };
  const slingId = async (task: string, to: string) => (JSON.parse(await syncord('--json', 'sling', task, to)) as { message: { message_id: string } }).message.message_id;
  const checkedIn = (id: string) =>
    waitFor(() => instance(id)?.status === 'active' && instance(id)?.current_session_id === sessionOf(id)?.session_id && sessionOf(id)?.state === 'idle', {
      what: `${id} to run syncord inbox and syncord checkin, then rest idle`,
      timeoutMs: 120_000,
    });
  /** The model's turns of the conversation whose first prompt names this instance. */
  const conversationOf = (id: string) => model.turns.filter((t) => t.firstPrompt.includes(`You are ${id} `));

  it('claude: spawn checks in; a slung task is started and completed in its own conversation and acknowledged; words only stay delivered; an API error fails', async () => {
    const spawned = await syncord('spawn', 'backend-claude', '--role', 'backend');
    assert.match(spawned, /Started backend-claude \(newly registered\) with claude/);
    await checkedIn('backend-claude');
    assert.deepEqual(
      conversationOf('backend-claude').map((t) => t.command).filter(Boolean),
      ['syncord inbox', 'syncord checkin'],
      'the agent ran the startup checklist itself',
    );
    const s = sessionOf('backend-claude')!;
    assert.equal(s.agent_state, 'idle', "Claude Code's Stop hook reported the end of its turn");

    await syncord('task', 'add', 'Add the health endpoint');
    const m1 = await slingId('task_001', 'backend-claude');
    await waitFor(() => completed('task_001')?.assigned_to === 'backend-claude', { what: 'task_001 to be completed by backend-claude', timeoutMs: 120_000 });
    await waitFor(async () => (await deliveries(m1))[0]?.status === 'acknowledged', { what: 'the hand-over to be acknowledged' });
    const taskTurns = model.turns.filter((t) => t.prompt.includes('task task_001'));
    assert.ok(taskTurns.length > 0 && taskTurns.every((t) => t.firstPrompt.includes('You are backend-claude ') && t.prompts === 2), 'task_001 went to the conversation that did the checklist');

    // An agent that only answers in words: delivered (the runtime took it), never acknowledged — and shown so.
    model.setScript((turn) => (turn.prompt.includes('task_002') ? { commands: [], answer: 'I will look at it later.' } : followInstructions(turn)));
    await syncord('task', 'add', 'Document the endpoint');
    const m2 = await slingId('task_002', 'backend-claude');
    await waitFor(async () => (await deliveries(m2))[0]?.status === 'delivered', { what: 'the words-only hand-over to be delivered' });
    await waitFor(() => sessionOf('backend-claude')?.state === 'idle', { what: 'the session to rest idle' });
    assert.equal((await deliveries(m2))[0].status, 'delivered');
    const agents = await syncord('agents');
    assert.match(agents, new RegExp(`${m2}.*backend-claude.*delivered.*not acknowledged`));

    // The model fails the request: claude reports the error (and exits 1); Syncord records it in claude's words.
    model.setScript(() => ({ status: 400, error: 'scripted refusal of this request' }));
    await syncord('task', 'add', 'Break');
    const m3 = await slingId('task_003', 'backend-claude');
    const failed = await waitFor(async () => ((await deliveries(m3))[0]?.status === 'failed' ? (await deliveries(m3))[0] : undefined), { what: 'the hand-over to be failed' });
    assert.match(failed.error ?? '', /API Error: 400.*scripted refusal of this request/);
    assert.match(await syncord('agents'), new RegExp(`${m3}.*FAILED`));
  });

  it('claude may run syncord without asking, nothing else: a denied command fails the hand-over with the denial', async () => {
    await syncord('spawn', 'ops-claude', '--role', 'ops');
    await checkedIn('ops-claude');
    model.setScript((turn) => (turn.prompt.includes('task_001') ? { commands: ['syncord task start task_001', 'rm -rf build'], answer: 'Tried.' } : followInstructions(turn)));
    await syncord('task', 'add', 'Clean the build');
    const m = await slingId('task_001', 'ops-claude');
    // Settled when the run is over: the session rests idle again.
    await waitFor(async () => (await deliveries(m))[0]?.error, { what: 'the outcome of the run to be recorded on the hand-over', timeoutMs: 120_000 });
    const d = (await deliveries(m))[0];
    // The agent did start the task (syncord was allowed) — acknowledged — and the denial is recorded beside it.
    assert.equal(d.status, 'acknowledged');
    assert.match(d.error ?? '', /permission denied: Bash \(rm -rf build\)/);
    assert.ok(model.results.some((r) => /needs approval|requires approval/i.test(r)), `claude refused rm -rf build: ${JSON.stringify(model.results)}`);
  });

  it("claude through Syncord's MCP tools: mcp__syncord__checkin checks it in, mcp__syncord__task_start/complete finish a slung task, acknowledged", async () => {
    /** The same work as followInstructions, through the MCP tools instead of the shell. */
    const viaMcp: Script = (turn) => {
      const task = /task (task_[A-Za-z0-9_-]+)\b.*is assigned to you/.exec(turn.prompt);
      if (task)
        return {
          commands: [
            { tool: 'mcp__syncord__task_start', input: { id: task[1] } },
            { tool: 'mcp__syncord__task_complete', input: { id: task[1], note: 'done through MCP' } },
          ],
          answer: `Task ${task[1]} is done.`,
        };
      // Claude Code defers MCP tools: a model loads their schemas with its ToolSearch tool before calling them.
      const load = { tool: 'ToolSearch', input: { query: 'select:mcp__syncord__inbox,mcp__syncord__checkin,mcp__syncord__task_start,mcp__syncord__task_complete' } };
      if (/syncord inbox/.test(turn.prompt))
        return { commands: [load, { tool: 'mcp__syncord__inbox', input: {} }, { tool: 'mcp__syncord__checkin', input: { expertise: ['mcp'] } }], answer: 'Checked in.' };
      return { commands: [], answer: 'Understood.' };
    };
    model.setScript(viaMcp);
    await syncord('spawn', 'mcp-claude', '--role', 'backend');
    await checkedIn('mcp-claude');
    const startup = conversationOf('mcp-claude');
    assert.ok(
      startup.some((t) => t.tools.includes('mcp__syncord__checkin') && t.tools.includes('mcp__syncord__task_complete')),
      `claude offered Syncord's MCP tools: ${JSON.stringify(startup[0]?.tools)}`,
    );
    assert.deepEqual(
      startup.map((t) => t.call?.tool).filter(Boolean),
      ['ToolSearch', 'mcp__syncord__inbox', 'mcp__syncord__checkin'],
    );
    assert.equal(startup.filter((t) => t.command).length, 0, 'no shell command was needed');
    // What the checkin tool answered reached the model: the instance, now active in this session.
    const answer = startup.find((t) => t.call === undefined && t.lastResult)?.lastResult ?? '';
    assert.match(answer, /"id":"mcp-claude".*"status":"active"/, `the checkin tool's answer: ${answer}`);
    assert.ok(read<{ instances: Record<string, { expertise_areas?: string[] }> }>('instance-registry.json').instances['mcp-claude'].expertise_areas?.includes('mcp'), 'the checkin input reached the registry');

    await syncord('task', 'add', 'Add the health endpoint');
    const m = await slingId('task_001', 'mcp-claude');
    const done = await waitFor(() => completed('task_001'), { what: 'task_001 to be completed through mcp__syncord__task_complete', timeoutMs: 120_000 });
    assert.equal(done.assigned_to, 'mcp-claude');
    assert.equal((done as { completion_note?: string }).completion_note, 'done through MCP');
    await waitFor(async () => (await deliveries(m))[0]?.status === 'acknowledged', { what: 'the hand-over to be acknowledged by the MCP tool call' });
    const calls = model.turns.filter((t) => t.prompt.includes('task task_001')).map((t) => t.call?.tool).filter(Boolean);
    assert.deepEqual(calls, ['mcp__syncord__task_start', 'mcp__syncord__task_complete']);
  });

  it('opencode: two instances in one folder each work in their own conversation; nothing crosses', async () => {
    // opencode creates its database at its first start, and two first starts at once can fail in its own migration
    // ("Failed query: CREATE TABLE ..."). Here opencode has been used before, as on a user's machine.
    const first = spawnSync(path.join(agentsBin(), 'opencode'), ['session', 'list'], { cwd: scratch.workspace, env: scratch.env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(first.status, 0, `opencode session list: ${first.stderr}`);
    await syncord('spawn', 'api-opencode', '--role', 'api');
    await syncord('spawn', 'docs-opencode', '--role', 'docs');
    await checkedIn('api-opencode');
    await checkedIn('docs-opencode');
    const api = sessionOf('api-opencode')!;
    const docs = sessionOf('docs-opencode')!;
    assert.match(api.agent_session ?? '', /^ses_/);
    assert.match(docs.agent_session ?? '', /^ses_/);
    assert.notEqual(api.agent_session, docs.agent_session);

    await syncord('task', 'add', 'Build the API');
    await syncord('task', 'add', 'Write the docs');
    const [ma, md] = [await slingId('task_001', 'api-opencode'), await slingId('task_002', 'docs-opencode')];
    await waitFor(() => completed('task_001')?.assigned_to === 'api-opencode' && completed('task_002')?.assigned_to === 'docs-opencode', {
      what: 'each task to be completed by its own instance',
      timeoutMs: 180_000,
    });
    for (const m of [ma, md]) await waitFor(async () => (await deliveries(m))[0]?.status === 'acknowledged', { what: `${m} to be acknowledged` });
    // Each task was worked on in the conversation of the instance it was given to, never the other one's.
    for (const [task, owner] of [['task_001', 'api-opencode'], ['task_002', 'docs-opencode']]) {
      const turns = model.turns.filter((t) => t.prompt.includes(`task ${task}`));
      assert.ok(turns.length > 0, `no turn saw ${task}`);
      for (const t of turns) assert.ok(t.firstPrompt.includes(`You are ${owner} `), `${task} reached a conversation that began: ${t.firstPrompt.slice(0, 40)}`);
    }
  });

  it('opencode --worktree: the agent works in the worktree', async () => {
    model.setScript((turn) => (/syncord inbox/.test(turn.prompt) ? { commands: ['pwd', 'syncord inbox', 'syncord checkin'], answer: 'Ready.' } : followInstructions(turn)));
    await syncord('spawn', 'wt-opencode', '--role', 'wt', '--worktree');
    await checkedIn('wt-opencode');
    const s = sessionOf('wt-opencode')!;
    assert.notEqual(fs.realpathSync(s.cwd), fs.realpathSync(scratch.workspace));
    const pwd = conversationOf('wt-opencode').find((t) => t.command === 'syncord inbox')?.lastResult?.trim();
    assert.equal(pwd, fs.realpathSync(s.cwd), 'the agent ran pwd in its worktree');
  });
});

// The script type is used by the setScript calls above.
export type { Script };
