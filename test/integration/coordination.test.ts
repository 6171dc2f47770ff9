// @fixture demo
// The coordination UI in the real extension host: every command changes the files as the protocol says,
// the tree model follows changes made on disk by other processes, and a broken file shows as one error
// node and is never written. Commands are driven with arguments, so no prompt opens.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';

/** What the extension exports from activate() (src/extension/coordination/api.ts), as seen from here. */
interface Node {
  id: string;
  kind: string;
  label: string;
  description?: string;
  contextValue: string;
  location?: { file: string; line: number; column: number };
  file?: string;
  jsonPath?: (string | number)[];
  icon?: { id: string };
}
interface Tree {
  roots: Node[];
  get(id: string): Node | undefined;
  children(id: string): Node[];
}
interface Api {
  ensureLoaded(): Promise<void>;
  reload(): Promise<void>;
  tree(): Tree | undefined;
  diagnostics(file: string): readonly vscode.Diagnostic[];
  statusBarText(): string | undefined;
  messageLogPage(filter: { instance?: string; status?: string; text?: string }, offset?: number, limit?: number): {
    total: number;
    threads: { id: string; root: { id: string; subject: string; body: string; status: string }; replies: { id: string; body: string }[]; waiting: boolean }[];
  };
}

function projectRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'syncord') return d;
  }
  throw new Error(`cannot find the Syncord package above ${__dirname}`);
}

const dir = () => path.join(workspaceRoot(), 'coordination');
const file = (name: string) => path.join(dir(), name);
const readJson = (name: string) => JSON.parse(fs.readFileSync(file(name), 'utf8'));
/** Waits for a value to be there (see waitFor) and returns it. */
async function until<T>(get: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  return (await waitFor(get, what)) as T;
}
const run = <T = unknown>(command: string, args?: unknown) => vscode.commands.executeCommand<T>(command, args);

type Task = { task_id: string; title: string; status: string; assigned_to: string | null; priority: string; due?: string | null; dependencies?: string[]; declined_by?: string[] };
function tasksIn(list: 'active_tasks' | 'pending_tasks' | 'completed_tasks'): Task[] {
  return readJson('task-queue.json')[list];
}
function taskById(id: string): { list: string; task: Task } | undefined {
  for (const list of ['active_tasks', 'pending_tasks', 'completed_tasks'] as const) {
    const task = tasksIn(list).find((t) => t.task_id === id);
    if (task) return { list, task };
  }
  return undefined;
}

describe('Coordination UI in the extension host', function () {
  let api: Api;

  before(async () => {
    // Start from the seed's example files (other suites in this workspace may have changed them).
    const seed = path.join(projectRoot(), 'test', 'fixtures', 'seed004');
    for (const f of ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json']) {
      fs.copyFileSync(path.join(seed, f), file(f));
    }
    const ext = vscode.extensions.getExtension<{ coordination: Api }>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not installed`);
    const exports = await ext.activate();
    api = exports.coordination;
    await api.ensureLoaded();
    await api.reload();
  });

  it('builds the tree from the seed: instances, tasks by state with blockers, decisions with options', async () => {
    await waitFor(() => api.tree()?.get('task:task_003'), 'the seed tasks in the tree');
    const tree = api.tree()!;
    assert.deepEqual(tree.roots.map((r) => r.label), ['Instances', 'Tasks', 'Decisions']);
    // The seed's active instances checked in back in 2024: far past the 24-hour rule, so they are stale.
    assert.deepEqual(
      tree.children('group:instances').map((n) => n.label),
      ['instance-1 (stale)', 'instance-2 (stale)', 'instance-3', 'instance-4', 'instance-5', 'instance-6'],
    );
    assert.match(tree.get('instance:instance-1')!.description!, /^architecture-backend · designing-microservices-architecture · checked in .* ago · available$/);
    assert.deepEqual(tree.children('group:tasks/active').map((n) => n.label), ['task_001 Design BikeNode AI Agent Architecture']);
    assert.deepEqual(tree.children('task:task_003').map((n) => n.id), ['dep:task_003/task_001', 'dep:task_003/task_002']);
    assert.deepEqual(tree.children('decision:dec_002').slice(0, 2).map((n) => n.label), ['REST API', 'GraphQL Federation']);
    assert.match(tree.children('decided:dec_001').map((n) => `${n.label} ${n.description}`).join('\n'), /Rationale: Enables asynchronous coordination/);
  });

  it('"Check In" marks the instance active with a fresh time stamp', async () => {
    const before = Date.now() - 5_000;
    await run('syncord.checkIn', { as: 'instance-3' });
    const rec = readJson('instance-registry.json').instances['instance-3'];
    assert.equal(rec.status, 'active');
    assert.equal(rec.available_for_consultation, true);
    assert.ok(Date.parse(rec.last_update) >= Math.floor(before / 1000) * 1000, `last_update ${rec.last_update} is not fresh`);
    // The tree model followed at once (the command re-reads after writing).
    assert.match(api.tree()!.get('instance:instance-3')!.description!, /checked in (just now|\d+s ago)/);
    assert.equal(api.tree()!.get('instance:instance-3')!.label, 'instance-3');
    assert.equal(api.tree()!.get('instance:instance-3')!.icon?.id, 'circle-filled');
  });

  it('"Create Task" adds a pending task with its priority, due date and dependencies', async () => {
    await run('syncord.createTask', { as: 'instance-2', title: 'Write the agent handbook', description: 'How agents use the coordination files', priority: 'low', due: '2024-02-01T12:00:00Z', dependencies: ['task_001'] });
    const t = tasksIn('pending_tasks').find((x) => x.title === 'Write the agent handbook');
    assert.ok(t, 'the new task is not in pending_tasks');
    assert.equal(t.task_id, 'task_004');
    assert.equal(t.status, 'pending_assignment');
    assert.equal(t.priority, 'low');
    assert.equal(t.due, '2024-02-01T12:00:00Z');
    assert.deepEqual(t.dependencies, ['task_001']);
    assert.equal(api.tree()!.get('task:task_004')!.label, 'task_004 Write the agent handbook');
  });

  it('"Assign", "Accept", "Start" and "Complete" move a task through the queue', async () => {
    await run('syncord.createTask', { title: 'Review the schemas', priority: 'medium' });
    const id = tasksIn('pending_tasks').find((x) => x.title === 'Review the schemas')!.task_id;
    await run('syncord.assignTask', { taskId: id, to: 'instance-3' });
    assert.deepEqual([taskById(id)?.list, taskById(id)?.task.status, taskById(id)?.task.assigned_to], ['pending_tasks', 'assigned', 'instance-3']);
    await run('syncord.acceptTask', { taskId: id, as: 'instance-3' });
    assert.deepEqual([taskById(id)?.list, taskById(id)?.task.status, taskById(id)?.task.assigned_to], ['pending_tasks', 'accepted', 'instance-3']);
    assert.equal(api.tree()!.get(`task:${id}`)!.icon?.id, 'thumbsup');
    await run('syncord.startTask', { taskId: id, as: 'instance-3' });
    assert.deepEqual([taskById(id)?.list, taskById(id)?.task.status], ['active_tasks', 'in_progress']);
    assert.equal(readJson('instance-registry.json').instances['instance-3'].current_task, id);
    await run('syncord.completeTask', { taskId: id, as: 'instance-3' });
    assert.deepEqual([taskById(id)?.list, taskById(id)?.task.status], ['completed_tasks', 'completed']);
    assert.equal(api.tree()!.get(`task:${id}`)!.contextValue, 'syncord.task.completed');
  });

  it('"Decline" returns an offered task to the queue, unassigned', async () => {
    await run('syncord.assignTask', { taskId: 'task_004', to: 'instance-1' });
    await run('syncord.declineTask', { taskId: 'task_004', as: 'instance-1', reason: 'busy with the API' });
    const t = taskById('task_004')!.task;
    assert.equal(t.status, 'pending_assignment');
    assert.equal(t.assigned_to, null);
    assert.deepEqual(t.declined_by, ['instance-1']);
  });

  it('a refused claim (open dependency) changes nothing on disk', async () => {
    const bytes = fs.readFileSync(file('task-queue.json'));
    const r = await run('syncord.claimTask', { taskId: 'task_002', as: 'instance-1' });
    assert.equal(r, undefined);
    assert.deepEqual(fs.readFileSync(file('task-queue.json')), bytes);
  });

  it('"Claim", "Mark Blocked" and "Start" once the dependency is done', async () => {
    await run('syncord.completeTask', { taskId: 'task_001', as: 'instance-2' });
    await run('syncord.claimTask', { taskId: 'task_002', as: 'instance-1' });
    assert.deepEqual([taskById('task_002')?.list, taskById('task_002')?.task.status, taskById('task_002')?.task.assigned_to], ['active_tasks', 'in_progress', 'instance-1']);
    await run('syncord.blockTask', { taskId: 'task_002', as: 'instance-1', reason: 'waiting for credentials' });
    assert.equal(taskById('task_002')?.task.status, 'blocked');
    await run('syncord.startTask', { taskId: 'task_002', as: 'instance-1' });
    assert.equal(taskById('task_002')?.task.status, 'in_progress');
    // task_003 now waits only for task_002.
    assert.deepEqual(api.tree()!.children('task:task_003').map((n) => n.id), ['dep:task_003/task_002']);
  });

  it('"Propose Decision", "Give Input" and "Decide" follow protocol 4', async () => {
    await run('syncord.proposeDecision', { as: 'instance-2', title: 'Message retention', options: ['Keep all', 'Archive monthly'], inputFrom: ['instance-1', 'instance-5'], deadline: '2024-03-01' });
    const log = readJson('decisions.json');
    const d = log.pending_decisions.find((x: { title: string }) => x.title === 'Message retention');
    assert.equal(d.decision_id, 'dec_003');
    assert.deepEqual(d.options.map((o: { option: string }) => o.option), ['Keep all', 'Archive monthly']);
    assert.deepEqual(d.input_needed_from, ['instance-1', 'instance-5']);
    await run('syncord.giveDecisionInput', { decisionId: 'dec_003', as: 'instance-1', option: 'Archive monthly', comment: 'The log grows fast' });
    const withInput = readJson('decisions.json').pending_decisions.find((x: { decision_id: string }) => x.decision_id === 'dec_003');
    assert.deepEqual(withInput.inputs.map((i: { from: string; option: string; comment: string }) => [i.from, i.option, i.comment]), [['instance-1', 'Archive monthly', 'The log grows fast']]);
    assert.match(api.tree()!.get('decision:dec_003')!.description!, /^2 options · input needed from instance-5 · deadline passed /);
    await run('syncord.decide', { decisionId: 'dec_003', as: 'instance-2', option: 'Archive monthly', rationale: 'Keeps the log small' });
    const after = readJson('decisions.json');
    assert.equal(after.pending_decisions.some((x: { decision_id: string }) => x.decision_id === 'dec_003'), false);
    const decided = after.decisions.find((x: { decision_id: string }) => x.decision_id === 'dec_003');
    assert.deepEqual([decided.decision, decided.rationale, decided.decided_by], ['Archive monthly', 'Keeps the log small', ['instance-2']]);
    assert.ok(api.tree()!.get('decided:dec_003'));
  });

  it('messages: send, reply, acknowledge and close, and the Message Log shows the thread', async () => {
    await run('syncord.sendMessage', { as: 'instance-3', to: 'instance-1', subject: 'Schema question', body: 'Is context.related_task required?', type: 'question' });
    const sent = readJson('communication-log.json').messages.find((m: { subject: string }) => m.subject === 'Schema question');
    assert.equal(sent.status, 'pending_response');
    await run('syncord.replyMessage', { messageId: sent.message_id, as: 'instance-1', body: 'No, it is optional.' });
    const log = readJson('communication-log.json');
    const reply = log.messages.find((m: { in_reply_to?: string }) => m.in_reply_to === sent.message_id);
    assert.equal(reply.message, 'No, it is optional.');
    assert.equal(log.messages.find((m: { message_id: string }) => m.message_id === sent.message_id).status, 'responded');

    const page = api.messageLogPage({ text: 'Schema question' });
    assert.equal(page.total, 1);
    assert.deepEqual(page.threads[0].replies.map((r) => r.body), ['No, it is optional.']);
    assert.equal(page.threads[0].waiting, false);

    await run('syncord.sendMessage', { as: 'instance-2', to: 'instance-1', subject: 'FYI', body: 'Docs are up', type: 'info' });
    const info = readJson('communication-log.json').messages.find((m: { subject: string }) => m.subject === 'FYI');
    assert.equal(info.status, 'sent');
    await run('syncord.acknowledgeMessage', { messageId: info.message_id, as: 'instance-1' });
    assert.equal(readJson('communication-log.json').messages.find((m: { message_id: string }) => m.message_id === info.message_id).status, 'acknowledged');

    await run('syncord.closeThread', { messageId: sent.message_id, as: 'instance-3' });
    assert.equal(readJson('communication-log.json').messages.find((m: { message_id: string }) => m.message_id === sent.message_id).status, 'closed');
    assert.equal(api.messageLogPage({ status: 'closed', text: 'Schema question' }).total, 1);
  });

  it('"Reveal in File" opens the file with the cursor on the record', async () => {
    const node = api.tree()!.get('task:task_003')!;
    await run('syncord.revealInFile', node);
    const editor = await until(() => (vscode.window.activeTextEditor?.document.uri.fsPath === file('task-queue.json') ? vscode.window.activeTextEditor : undefined), 'task-queue.json to open');
    const line = editor.document.lineAt(editor.selection.active.line).text;
    const next = editor.document.lineAt(editor.selection.active.line + 1).text;
    assert.match(line + next, /"task_id": "task_003"/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('an edit on disk by another process shows in the tree model (through the watcher)', async () => {
    const q = readJson('task-queue.json');
    q.pending_tasks.push({ task_id: 'task_900', title: 'Written by an agent', assigned_to: null, status: 'pending_assignment', priority: 'high', created: '2024-01-15T12:00:00Z', due: null, dependencies: [] });
    // An agent writes the file its own way (atomic rename), without telling the editor.
    fs.writeFileSync(file('task-queue.json.agent-tmp'), JSON.stringify(q, null, 2) + '\n');
    fs.renameSync(file('task-queue.json.agent-tmp'), file('task-queue.json'));
    const node = await until(() => api.tree()?.get('task:task_900'), 'the tree to show task_900');
    assert.equal(node.label, 'task_900 Written by an agent');

    const log = readJson('communication-log.json');
    log.messages.push({ message_id: 'msg_900', from: 'instance-5', to: 'instance-2', type: 'info', timestamp: '2024-01-15T12:00:00Z', subject: 'Agent note', message: 'Written by an agent', status: 'sent' });
    fs.writeFileSync(file('communication-log.json'), JSON.stringify(log, null, 2) + '\n');
    await waitFor(() => api.messageLogPage({ text: 'Agent note' }).total === 1, 'the Message Log to show msg_900');
  });

  it('health findings appear in the Problems panel at the right lines', async () => {
    // The seed's task_002 is due 2024-01-16: long overdue now.
    const diags = await until(() => {
      const d = api.diagnostics(file('task-queue.json')).filter((x) => x.code === 'overdue-task');
      return d.length ? d : undefined;
    }, 'an overdue-task finding on task-queue.json');
    const doc = await vscode.workspace.openTextDocument(file('task-queue.json'));
    for (const d of diags) assert.match(doc.lineAt(d.range.start.line).text, /"due":/);
    // Under Syncord's own name, in words: not to be read as VS Code's own error and warning counts.
    assert.match(api.statusBarText() ?? '', /^\$\(comment-discussion\) Syncord: (\d+ unread · )?[\d,]+ issues?$/);
  });

  it('follows syncord.instanceId: "(you)", my tasks and the messages waiting for me', async () => {
    const config = vscode.workspace.getConfiguration('syncord');
    await config.update('instanceId', 'instance-1', vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor(() => api.tree()?.get('task:task_002')?.contextValue === 'syncord.task.in_progress.mine', 'task_002 to be marked as mine');
      await run('syncord.checkIn');
      assert.equal(readJson('instance-registry.json').instances['instance-1'].status, 'active');
      await waitFor(() => api.tree()?.get('instance:instance-1')?.label === 'instance-1 (you)', 'instance-1 to be marked as me');
      await run('syncord.sendMessage', { as: 'instance-5', to: 'instance-1', subject: 'Ping', body: 'Are you there?', type: 'question' });
      const waiting = readJson('communication-log.json').messages.filter(
        (m: { to: string; status: string }) => m.to === 'instance-1' && (m.status === 'pending_response' || m.status === 'sent'),
      ).length;
      assert.ok(waiting >= 2, 'the seed question and "Ping" both wait for instance-1');
      await waitFor(() => api.statusBarText()?.startsWith(`$(comment-discussion) Syncord: ${waiting} unread`), `the status bar to count ${waiting} messages for instance-1`);
      const page = api.messageLogPage({ instance: 'instance-1', status: 'waiting' });
      assert.ok(page.threads.some((t) => t.root.subject === 'Ping'));
    } finally {
      await config.update('instanceId', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('a file that fails to parse shows one error node with line:col and is never written', async () => {
    const broken = '{\n  "decisions": [],\n  "pending_decisions": [\n    { "decision_id": "dec_010", }\n    oops\n  ]\n}\n';
    fs.writeFileSync(file('decisions.json'), broken);
    const errorNode = await until(() => api.tree()?.children('group:decisions').find((n) => n.kind === 'error'), 'the error node for decisions.json');
    assert.equal(api.tree()!.children('group:decisions').length, 1);
    assert.match(errorNode.label, /^decisions\.json:5:5$/);
    assert.match(errorNode.description ?? '', /invalid JSON/);
    assert.deepEqual(errorNode.location, { file: file('decisions.json'), line: 5, column: 5 });
    // The other groups still show.
    assert.ok(api.tree()!.get('task:task_003'));
    // The error is in the Problems panel too.
    await waitFor(() => api.diagnostics(file('decisions.json')).some((d) => d.code === 'invalid-file' && d.range.start.line === 4), 'the parse error in Problems');

    // A command that would write the file refuses and leaves it byte-identical.
    await run('syncord.proposeDecision', { as: 'instance-2', title: 'Will not be written', options: ['A', 'B'] });
    await run('syncord.giveDecisionInput', { decisionId: 'dec_002', as: 'instance-1', comment: 'x' });
    assert.equal(fs.readFileSync(file('decisions.json'), 'utf8'), broken);

    // "Open File at Problem" puts the cursor there.
    await run('syncord.openCoordinationFileAt', errorNode);
    const editor = await until(() => (vscode.window.activeTextEditor?.document.uri.fsPath === file('decisions.json') ? vscode.window.activeTextEditor : undefined), 'decisions.json to open');
    assert.deepEqual([editor.selection.active.line, editor.selection.active.character], [4, 4]);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    assert.equal(fs.readFileSync(file('decisions.json'), 'utf8'), broken);

    // Once fixed on disk, the tree is back.
    fs.copyFileSync(path.join(projectRoot(), 'test', 'fixtures', 'seed004', 'decisions.json'), file('decisions.json'));
    await waitFor(() => api.tree()?.get('decision:dec_002'), 'the decisions to come back');
  });
});
