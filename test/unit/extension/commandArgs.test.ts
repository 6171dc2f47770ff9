// A command gets nothing (command palette), a tree row's node (context menu, inline action), a plain id string
// (another command, a `command:` link) or named arguments (tests, other extensions). These functions turn each
// into the typed value the handler uses, or undefined so that the handler asks.
import * as assert from 'node:assert/strict';
import {
  backupIdArg,
  coordinationArgs,
  instanceIdArg,
  locationArg,
  messageIdArg,
  sessionArgs,
  sessionIdArg,
  targetArgs,
  targetNameArg,
  taskIdArg,
  treeNodeArg,
} from '../../../src/extension/commandArgs';

// Rows as the three trees hand them to menus: every node has an id, a kind, a label and its contextValue.
const instanceRow = { id: 'instance:instance-3', kind: 'instance', label: 'instance-3', contextValue: 'syncord.instance', collapsible: 'collapsed', instanceId: 'instance-3', file: 'registry', jsonPath: ['instances', 'instance-3'] };
const taskRow = { id: 'task:task_004', kind: 'task', label: 'task_004', contextValue: 'syncord.task.assigned.mine', collapsible: 'collapsed', taskId: 'task_004', instanceId: 'instance-1', file: 'tasks' };
const optionRow = { id: 'decision:dec_003/option:1', kind: 'option', label: 'Archive monthly', contextValue: 'syncord.decision.option', collapsible: 'none', decisionId: 'dec_003', option: 'Archive monthly' };
const errorRow = { id: 'error:tasks', kind: 'error', label: 'task-queue.json', contextValue: 'syncord.fileError', collapsible: 'none', location: { file: '/ws/coordination/task-queue.json', line: 7, column: 12 } };
const session = { session_id: '5f0c1a2b-0000-4000-8000-000000000001', instance: 'backend-claude', runtime: 'claude', mode: 'terminal', state: 'running' };
const sessionRow = { id: `session:${session.session_id}`, kind: 'session', label: 'backend-claude', contextValue: 'syncord.session.running.terminal.here', collapsible: 'collapsed', session };
const deliveryRow = { id: 'delivery:msg_007:backend-claude', kind: 'delivery', label: 'Task task_009', contextValue: 'syncord.delivery.failed', collapsible: 'none', delivery: { messageId: 'msg_007', subject: 'Task task_009', record: { instance: 'backend-claude', status: 'failed' } } };
const targetRow = { id: 'target:ComfyUI', kind: 'target', label: 'ComfyUI', contextValue: 'syncord.target:needs_sync', collapsible: 'collapsed', target: 'ComfyUI' };
const componentRow = { id: 'target:ComfyUI/components/docs', kind: 'component', label: 'docs', contextValue: 'syncord.target.component', collapsible: 'none', target: 'ComfyUI', component: 'docs' };
const backupRow = { id: 'target:ComfyUI/backups/20240115-120000-ab12', kind: 'backup', label: '2h ago', contextValue: 'syncord.target.backup', collapsible: 'none', target: 'ComfyUI', backupId: '20240115-120000-ab12' };
const problemRow = { id: 'target:ComfyUI/problem:0', kind: 'problem', label: 'broken link', contextValue: 'syncord.target.problem', collapsible: 'none', target: 'ComfyUI', location: { file: '/t/ComfyUI/docs/a.md' } };
/** What an explorer or editor menu would pass: a URI, which names nothing here. */
const uri = { scheme: 'file', authority: '', path: '/ws/docs', query: '', fragment: '', fsPath: '/ws/docs' };

describe('command arguments, one function per kind of id', () => {
  it('gives undefined from the command palette, so the handler asks', () => {
    for (const f of [instanceIdArg, taskIdArg, messageIdArg, targetNameArg, sessionIdArg, backupIdArg]) {
      assert.equal(f(undefined), undefined, f.name);
      assert.equal(f(null), undefined, f.name);
    }
  });

  it('takes a plain id string as the id, trimmed; an empty string says nothing', () => {
    assert.equal(taskIdArg('task_004'), 'task_004');
    assert.equal(instanceIdArg(' instance-3 '), 'instance-3');
    assert.equal(messageIdArg('msg_007'), 'msg_007');
    assert.equal(targetNameArg('ComfyUI'), 'ComfyUI');
    assert.equal(sessionIdArg('5f0c1a2b'), '5f0c1a2b');
    assert.equal(backupIdArg('20240115-120000-ab12'), '20240115-120000-ab12');
    assert.equal(taskIdArg('   '), undefined);
  });

  it('reads the id a tree row stands for', () => {
    assert.equal(instanceIdArg(instanceRow), 'instance-3');
    assert.equal(instanceIdArg(sessionRow), 'backend-claude');
    assert.equal(taskIdArg(taskRow), 'task_004');
    assert.equal(sessionIdArg(sessionRow), session.session_id);
    assert.equal(messageIdArg(deliveryRow), 'msg_007');
    assert.equal(targetNameArg(componentRow), 'ComfyUI');
    assert.equal(backupIdArg(backupRow), '20240115-120000-ab12');
  });

  it('does not take an id a row only mentions: a task row names its assignee, not the instance it stands for', () => {
    assert.equal(instanceIdArg(taskRow), undefined);
    assert.equal(taskIdArg(instanceRow), undefined);
    assert.equal(messageIdArg(sessionRow), undefined);
    assert.equal(sessionIdArg(deliveryRow), undefined);
    assert.equal(backupIdArg(targetRow), undefined);
  });

  it('reads named arguments by their names, and ignores values that are not strings', () => {
    assert.equal(instanceIdArg({ instance: 'ghost-1' }), 'ghost-1');
    assert.equal(taskIdArg({ taskId: 'task_001', as: 'instance-2' }), 'task_001');
    assert.equal(messageIdArg({ messageId: 'msg_002' }), 'msg_002');
    assert.equal(targetNameArg({ target: 'simple_app', confirm: false }), 'simple_app');
    assert.equal(sessionIdArg({ session: 'docs-opencode', confirmed: true }), 'docs-opencode');
    assert.equal(backupIdArg({ backupId: 'b1' }), 'b1');
    assert.equal(taskIdArg({ taskId: 42 }), undefined);
    assert.equal(targetNameArg(['ComfyUI']), undefined);
    assert.equal(targetNameArg(uri), undefined);
  });

  it('reads a file position from a row or from named arguments', () => {
    assert.deepEqual(locationArg(errorRow), { file: '/ws/coordination/task-queue.json', line: 7, column: 12 });
    assert.deepEqual(locationArg(problemRow), { file: '/t/ComfyUI/docs/a.md', line: undefined, column: undefined });
    assert.deepEqual(locationArg({ location: { file: '/a.json', line: 2 } }), { file: '/a.json', line: 2, column: undefined });
    assert.equal(locationArg({ location: { line: 2 } }), undefined);
    assert.equal(locationArg('/a.json'), undefined);
  });

  it('hands a row through as itself, and nothing else', () => {
    assert.equal(treeNodeArg(instanceRow), instanceRow);
    assert.equal(treeNodeArg({ file: 'tasks' }), undefined);
    assert.equal(treeNodeArg('instance:instance-3'), undefined);
  });
});

describe('command arguments of each area', () => {
  it('coordination: a task command takes the task from its row, a string or { taskId }, and knows how it was called', () => {
    const task = coordinationArgs('task');
    const fromRow = task(taskRow);
    assert.equal(fromRow.taskId, 'task_004');
    assert.equal(fromRow.fromRow, true);
    assert.equal(fromRow.scripted, false);
    assert.equal(fromRow.to, undefined, 'a task row is not an addressee');
    assert.equal(fromRow.as, undefined, 'a row never says who acts');
    assert.deepEqual([task('task_002').taskId, task('task_002').scripted], ['task_002', false]);
    const named = task({ taskId: 'task_004', as: 'instance-1', reason: 'busy', to: 'instance-3' });
    assert.deepEqual([named.taskId, named.as, named.reason, named.to, named.scripted, named.fromRow], ['task_004', 'instance-1', 'busy', 'instance-3', true, false]);
    const palette = task(undefined);
    assert.deepEqual([palette.taskId, palette.scripted, palette.fromRow], [undefined, false, false]);
  });

  it('coordination: a string means only the kind of id the command takes', () => {
    assert.equal(coordinationArgs('message')('msg_002').messageId, 'msg_002');
    assert.equal(coordinationArgs('message')('msg_002').taskId, undefined);
    assert.equal(coordinationArgs('decision')('dec_003').decisionId, 'dec_003');
    assert.equal(coordinationArgs('instance')('instance-3').to, 'instance-3');
    assert.equal(coordinationArgs('none')('instance-3').to, undefined);
  });

  it('coordination: an instance row addresses a message to its instance; an option row gives its decision and option', () => {
    assert.equal(coordinationArgs('instance')(instanceRow).to, 'instance-3');
    const input = coordinationArgs('decision')(optionRow);
    assert.deepEqual([input.decisionId, input.option, input.fromRow], ['dec_003', 'Archive monthly', true]);
  });

  it('targets: (row | name | named arguments, named arguments?) with the second one winning', () => {
    assert.deepEqual(targetArgs(componentRow), { target: 'ComfyUI', component: 'docs' });
    assert.deepEqual(targetArgs(backupRow), { target: 'ComfyUI', backupId: '20240115-120000-ab12' });
    assert.deepEqual(targetArgs('ComfyUI', { confirm: false }), { target: 'ComfyUI', confirm: false });
    assert.deepEqual(targetArgs({ target: 'ComfyUI', backupId: 'b1', confirm: false }), { target: 'ComfyUI', backupId: 'b1', confirm: false });
    assert.deepEqual(targetArgs('third_app', { confirm: false, target: 'other' }), { target: 'other', confirm: false });
    assert.deepEqual(targetArgs({ path: '/x', name: 'third_app', type: 'source' }), { path: '/x', name: 'third_app', type: 'source' });
    assert.deepEqual(targetArgs(undefined), {});
    // A conflict row of the Targets view names its target and the file in it (Resolve Sync Conflicts).
    const conflictRow = { id: 'target:ComfyUI/changes/docs/docs/guide.md', kind: 'changedFile', contextValue: 'syncord.target.conflictFile', target: 'ComfyUI', targetPath: 'x/docs/guide.md' };
    assert.deepEqual(targetArgs(conflictRow, { choice: 'merge' }), { target: 'ComfyUI', file: 'x/docs/guide.md', choice: 'merge' });
    assert.deepEqual(targetArgs({ target: 'ComfyUI', file: 'x/docs/guide.md' }), { target: 'ComfyUI', file: 'x/docs/guide.md' });
    assert.deepEqual(targetArgs(uri), {}, 'a URI is not a set of named arguments (its `path` is not a target folder)');
  });

  it('sessions: a session row gives its session and instance; a task row of the Coordination view gives its task only', () => {
    const fromSession = sessionArgs('session')(sessionRow);
    assert.deepEqual([fromSession.session, fromSession.instance, fromSession.taskId], [session.session_id, 'backend-claude', undefined]);
    const fromTask = sessionArgs('task')(taskRow);
    assert.deepEqual([fromTask.taskId, fromTask.instance, fromTask.session], ['task_004', undefined, undefined]);
    assert.equal(sessionArgs('message')(deliveryRow).messageId, 'msg_007');
  });

  it('sessions: a string is what the command takes, and named arguments pass through', () => {
    assert.deepEqual([sessionArgs('session')('docs-opencode').session, sessionArgs('session')('docs-opencode').taskId], ['docs-opencode', undefined]);
    assert.equal(sessionArgs('task')('task_009').taskId, 'task_009');
    assert.equal(sessionArgs('instance')('ghost-1').instance, 'ghost-1');
    const spawn = sessionArgs('instance')({ instance: 'ghost-1', role: 'phantom', runtime: 'ghost', worktree: false });
    assert.deepEqual([spawn.instance, spawn.role, spawn.runtime, spawn.worktree], ['ghost-1', 'phantom', 'ghost', false]);
    const stop = sessionArgs('session')({ session: 'docs-opencode', confirmed: true });
    assert.deepEqual([stop.session, stop.confirmed], ['docs-opencode', true]);
  });
});
