// A sync carried out by agents (seed 002, "Agent Coordination for Synchronization") with a REAL Claude Code as
// the Coding agent, driven offline by the scripted model: `syncord sync request` hands the apply step to the live
// session of the instance whose role fits; the agent starts it, syncs the target and completes it through the
// `syncord` command Syncord gives it; completing it hands the verification to the Testing instance, whose
// `syncord sync verify` (run here as a person would) completes that step and hands over the docs.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLAUDE_VERSION, Scratch, agentsBin, createScratch, runCli, waitFor } from './harness';
import { followInstructions, Script, ScriptedModel, startScriptedModel } from './scriptedModel';

/** The apply step as the Coding agent does it: start, sync the target, complete. The rest as the default script. */
const codingAgent: Script = (turn) => {
  const step = /step apply \(task (task_\d+)\) is yours/.exec(turn.prompt);
  if (step) return { commands: [`syncord task start ${step[1]}`, 'syncord sync run --target app', `syncord task complete ${step[1]}`], answer: `Applied; ${step[1]} is done.` };
  return followInstructions(turn);
};

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe(`A sync by agents with the real claude ${CLAUDE_VERSION} as the Coding agent`, function () {
  this.timeout(300_000);
  let model: ScriptedModel;
  let scratch: Scratch;

  before(() => {
    agentsBin();
  });

  beforeEach(async () => {
    model = await startScriptedModel(codingAgent);
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
  type T = { task_id: string; assigned_to: string | null; status: string; sync_workflow?: { step: string; verify?: { passed: boolean } | null } };
  const task = (id: string) => {
    const q = read<{ active_tasks: T[]; pending_tasks: T[]; completed_tasks: T[] }>('task-queue.json');
    return [...q.pending_tasks, ...q.active_tasks, ...q.completed_tasks].find((t) => t.task_id === id);
  };
  type M = { message_id: string; from: string; to: string; type: string; subject: string; deliveries?: { instance: string; status: string }[] };
  const messages = () => read<{ messages: M[] }>('communication-log.json').messages;

  it('claude completes the apply step through the syncord CLI; its completion hands the verification to the Testing instance', async () => {
    // The main project has documentation to bring over; the target is a folder beside it.
    fs.mkdirSync(path.join(scratch.workspace, 'docs'), { recursive: true });
    fs.writeFileSync(path.join(scratch.workspace, 'docs', 'GUIDE.md'), '# Guide\n\nHow to use it.\n');
    const git = (...args: string[]) => assert.equal(spawnSync('git', args, { cwd: scratch.workspace, env: scratch.env }).status, 0, `git ${args.join(' ')}`);
    git('add', '-A');
    git('commit', '-q', '-m', 'Add the guide');
    const app = path.join(scratch.root, 'app');
    fs.mkdirSync(app);
    await syncord('target', 'add', 'app', '--path', app, '--type', 'source');
    for (const [id, role] of [['lead', 'lead'], ['tester', 'testing'], ['writer', 'docs']]) await syncord('instance', 'add', id, '--role', role);

    await syncord('spawn', 'coder-claude', '--role', 'coding');
    await waitFor(() => read<{ sessions: { instance: string; state: string }[] }>('sessions.json').sessions.find((s) => s.instance === 'coder-claude')?.state === 'idle', {
      what: 'coder-claude to check in and rest idle',
      timeoutMs: 120_000,
    });

    const requested = await syncord('--as', 'lead', 'sync', 'request', 'app');
    assert.match(requested, /^ {2}task_001 apply {2}offered to coder-claude$/m);
    assert.match(requested, /^ {2}msg_001 → coder-claude: "Sync wf_001 of app: apply — task task_001" \(queued for session [0-9a-f]{8}; its agent gets it as its next prompt\)$/m);

    await waitFor(() => task('task_001')?.status === 'completed', { what: 'coder-claude to complete task_001', timeoutMs: 180_000 });
    assert.equal(task('task_001')!.assigned_to, 'coder-claude');
    // The agent did it in its own conversation, with the commands the hand-over named.
    const commands = model.turns.filter((t) => t.firstPrompt.includes('You are coder-claude ')).map((t) => t.command).filter(Boolean);
    assert.deepEqual(commands, ['syncord inbox', 'syncord checkin', 'syncord task start task_001', 'syncord sync run --target app', 'syncord task complete task_001']);
    await waitFor(() => messages()[0].deliveries?.[0]?.status === 'acknowledged', { what: 'the hand-over of the apply step to be acknowledged by the agent' });
    // The sync it ran brought the guide over, byte for byte.
    const copied = path.join(app, 'docs', 'workspace', 'docs', 'GUIDE.md');
    assert.equal(sha256(copied), sha256(path.join(scratch.workspace, 'docs', 'GUIDE.md')));
    // Its completion handed the verification to the Testing instance, from the Coding agent.
    // (written by the same `syncord task complete`, right after the completion itself)
    const verifyHandOver = await waitFor(() => messages().find((m) => m.subject === 'Sync wf_001 of app: verify — task task_002'), {
      what: 'the hand-over of the verification, written by the agent\'s `syncord task complete`',
    });
    assert.deepEqual([verifyHandOver.from, verifyHandOver.to, verifyHandOver.type], ['coder-claude', 'tester', 'handoff']);

    // The Testing instance verifies (here by the CLI): the step completes and the docs step is handed over.
    await syncord('--as', 'tester', 'task', 'start', 'task_002');
    const verified = await syncord('--as', 'tester', 'sync', 'verify', '--target', 'app');
    assert.match(verified, /Sync by agents wf_001: verification passed; task_002 completed, task_003 \(docs\) can start\./);
    assert.equal(task('task_002')!.sync_workflow?.verify?.passed, true);
    assert.match(await syncord('sync', 'status'), /agents wf_001: docs waiting for writer \(2\/3\)/);
  });
});
