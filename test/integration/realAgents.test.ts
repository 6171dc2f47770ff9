// @fixture demo-agents
// The real Claude Code (scripts/agents.js, the pinned version) in a VS Code terminal of this window, driven offline
// by the scripted model: it checks in from its first prompt; its hooks report busy, idle and waiting for the
// user to its session; work is typed into its terminal only while it is idle — never while it waits on a
// permission prompt — and then it acts on it in the same conversation, which acknowledges the hand-over.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { agentEnv, killMarked, MARK_VARIABLE } from '../agents/harness';
import { followInstructions, ScriptedModel, startScriptedModel } from '../agents/scriptedModel';
import { waitFor, workspaceRoot } from './helpers';

interface Session {
  session_id: string;
  instance: string;
  runtime: string;
  mode: string;
  state: string;
  agent_state?: string | null;
  queue?: string[];
}
interface Delivery {
  instance: string;
  session: string | null;
  via: string | null;
  status: string;
  error?: string | null;
}
interface TreeNode {
  id: string;
  label: string;
  description?: string;
  icon?: { id: string; color?: string };
}
interface SessionsApi {
  spawn(req: { instance: string; role?: string; runtime?: string; mode?: 'terminal' | 'headless' }): Promise<{ session: Session }>;
  sling(task: string, instance: string): Promise<{ delivery: Delivery; message: { message_id: string } }>;
  stop(idOrInstance: string): Promise<Session>;
  terminalOf(sessionId: string): vscode.Terminal | undefined;
  reload(): Promise<void>;
  tree(): { get(id: string): TreeNode | undefined };
}

/** The file the agent creates once the user allows it. */
const APPROVED_FILE = 'approved-by-the-user.txt';
const coordination = (name: string) => path.join(workspaceRoot(), 'coordination', name);
const readJson = (name: string) => JSON.parse(fs.readFileSync(coordination(name), 'utf8'));
const sessionRec = (id: string): Session | undefined => (readJson('sessions.json').sessions as Session[]).find((s) => s.session_id === id);
const instanceStatus = (id: string): string | undefined => readJson('instance-registry.json').instances[id]?.status;
const deliveriesOf = (id: string): Delivery[] => (readJson('communication-log.json').messages as { message_id: string; deliveries?: Delivery[] }[]).find((m) => m.message_id === id)?.deliveries ?? [];
const completed = (task: string) => (readJson('task-queue.json').completed_tasks as { task_id: string; assigned_to: string }[]).find((t) => t.task_id === task);

describe('The real claude in a VS Code terminal', function () {
  this.timeout(180_000);
  let api: SessionsApi;
  let model: ScriptedModel;
  let home: string;
  let mark: string;
  let sessionId: string;
  const saved: Record<string, string | undefined> = {};

  before(async function () {
    // The model: the startup checklist; for a message, look it up and then create a file — not one of the
    // commands the agent may run without asking, so Claude Code stops on a permission prompt; a task is started
    // and completed.
    model = await startScriptedModel((turn) => {
      const msg = /new message (msg_[A-Za-z0-9_-]+)/.exec(turn.prompt);
      if (msg) return { commands: [`syncord msg show ${msg[1]}`, `touch ${APPROVED_FILE}`], answer: 'Read it and took a note.' };
      return followInstructions(turn);
    });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-real-claude-'));
    // Sessions inherit the extension host's environment as it is when they start: the agents' bin folder on
    // PATH, a scratch HOME (onboarding done, this workspace trusted), the scripted model's address.
    const env = agentEnv(model, home, { trustedFolders: [workspaceRoot()] });
    mark = env[MARK_VARIABLE]!;
    for (const [k, v] of Object.entries(env)) {
      if (k === 'PATH' || k === 'HOME' || k === MARK_VARIABLE || /^(XDG_|ANTHROPIC_|CLAUDE_CODE_|DISABLE_AUTOUPDATER)/.test(k)) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
    }
    const ext = vscode.extensions.getExtension<{ sessions: SessionsApi }>('syncord.syncord');
    assert.ok(ext, 'the extension is not installed');
    api = (await ext.activate()).sessions;
  });

  after(async function () {
    this.timeout(60_000);
    if (sessionId) await api.stop(sessionId).catch(() => undefined);
    for (const t of vscode.window.terminals) if (/\(claude\)$/.test(t.name)) t.dispose();
    await killMarked(mark).catch(() => undefined);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await model.close();
    fs.rmSync(home, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });

  const row = async () => {
    await api.reload();
    return api.tree().get(`session:${sessionId}`);
  };

  it('starts in a terminal, runs the startup checklist itself and reports itself idle', async () => {
    const r = await api.spawn({ instance: 'ui-claude', role: 'frontend', runtime: 'claude', mode: 'terminal' });
    sessionId = r.session.session_id;
    assert.equal(r.session.mode, 'terminal');
    assert.ok(api.terminalOf(sessionId), 'no terminal for the session');
    await waitFor(() => instanceStatus('ui-claude') === 'active', 'ui-claude to run syncord checkin', 90_000);
    await waitFor(() => sessionRec(sessionId)?.agent_state === 'idle', "claude's Stop hook to report it idle", 60_000);
    const turns = model.turns.filter((t) => t.firstPrompt.includes('You are ui-claude '));
    assert.deepEqual(turns.map((t) => t.command).filter(Boolean), ['syncord inbox', 'syncord checkin']);
    await waitFor(async () => (await row())?.description === 'claude · running · idle', 'the Sessions view to show the agent idle');
  });

  it('a permission prompt shows as waiting for your input; work waits meanwhile and is typed once the agent is idle again', async () => {
    const sent = await vscode.commands.executeCommand<{ message: { message_id: string } }>('syncord.sendMessage', {
      as: 'instance-1',
      to: 'ui-claude',
      subject: 'Layout',
      body: 'Which grid do we use?',
      type: 'question',
    });
    const nudge = sent?.message.message_id;
    assert.ok(nudge, 'the message was not sent');
    // The nudge is typed (the agent was idle); the agent looks the message up, then asks to run `touch`.
    await waitFor(() => sessionRec(sessionId)?.agent_state === 'waiting', "claude's Notification hook to report it waiting for the user", 90_000).catch((e: Error) => {
      throw new Error(`${e.message}\nsession: ${JSON.stringify(sessionRec(sessionId))}\nnudge: ${JSON.stringify(deliveriesOf(nudge))}\nturns: ${JSON.stringify(model.turns.map((t) => [t.prompts, t.prompt.slice(0, 50), t.command, t.lastResult?.slice(0, 80)]))}`);
    });
    await waitFor(async () => {
      const r = await row();
      return r?.description === 'claude · running · waiting for your input' && r.icon?.id === 'bell';
    }, 'the Sessions view to show the agent waiting for your input');
    assert.equal(deliveriesOf(nudge)[0]?.status, 'acknowledged', 'the agent ran syncord msg show itself');

    // A task slung now is not typed into the agent waiting on its prompt.
    const task = await vscode.commands.executeCommand<{ task_id: string }>('syncord.createTask', { title: 'Build the grid', priority: 'high', as: 'instance-1' });
    assert.ok(task?.task_id);
    const slung = await api.sling(task.task_id, 'ui-claude');
    assert.equal(slung.delivery.via, 'terminal');
    assert.equal(slung.delivery.status, 'pending');
    assert.deepEqual(sessionRec(sessionId)?.queue, [slung.message.message_id]);
    assert.equal(model.turns.some((t) => t.prompt.includes(task.task_id)), false);
    assert.equal(fs.existsSync(path.join(workspaceRoot(), APPROVED_FILE)), false, 'nothing ran before the user allowed it');

    // The user answers the prompt (Enter: "Yes"); the command runs, the turn ends, the agent is idle: the task
    // is typed, into the same conversation, and the agent starts and completes it.
    api.terminalOf(sessionId)!.sendText('', true);
    await waitFor(() => completed(task.task_id)?.assigned_to === 'ui-claude', `${task.task_id} to be completed by ui-claude`, 120_000);
    await waitFor(() => deliveriesOf(slung.message.message_id)[0]?.status === 'acknowledged', 'the hand-over to be acknowledged');
    const taskTurns = model.turns.filter((t) => t.prompt.includes(`task ${task.task_id}`));
    assert.ok(taskTurns.length > 0, 'the model never saw the task');
    for (const t of taskTurns) {
      assert.ok(t.firstPrompt.includes('You are ui-claude '), 'typed into the conversation of ui-claude');
      assert.equal(t.prompts, 3, 'the third prompt of that conversation: startup, message, task');
    }
    assert.ok(fs.existsSync(path.join(workspaceRoot(), APPROVED_FILE)), 'the command ran once the user allowed it');
  });
});
