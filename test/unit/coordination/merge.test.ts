// Merging two versions of a coordination file by record (the merge driver's core), on files written by Syncord's
// own operations in two copies of the seed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkIn } from '../../../src/core/coordination/instances';
import { healthOf } from '../../../src/core/coordination/health';
import { mergeCoordinationFile, MergeKind, renumbering } from '../../../src/core/coordination/merge';
import { conflictsIn, resolveMergeConflict } from '../../../src/core/coordination/mergeConflicts';
import { driverCommand, runMergeDriver } from '../../../src/core/coordination/mergeDriver';
import * as os from 'node:os';
import { acknowledgeMessage, closeThread, replyToMessage, sendMessage } from '../../../src/core/coordination/messages';
import { CommunicationLogSchema, DecisionLogSchema, RegistrySchema, TaskQueueSchema } from '../../../src/core/coordination/schemas';
import { decide, giveInput } from '../../../src/core/coordination/decisions';
import { addTask, assignTask, claimTask } from '../../../src/core/coordination/tasks';
import { forgetCachedDocuments, renderUpdate } from '../../../src/core/store';
import { SEED_DIR, TestWorkspace, workspace } from './helpers';

const FILES: Record<string, MergeKind> = {
  'task-queue.json': 'tasks',
  'communication-log.json': 'messages',
  'decisions.json': 'decisions',
  'instance-registry.json': 'registry',
};
const SCHEMAS = { tasks: TaskQueueSchema, messages: CommunicationLogSchema, decisions: DecisionLogSchema, registry: RegistrySchema } as const;

type Obj = Record<string, any>;
const seed = (name: string): Obj => JSON.parse(fs.readFileSync(path.join(SEED_DIR, name), 'utf8'));
const valueOf = (ws: TestWorkspace, name: string): Obj => JSON.parse(ws.read(name));

/** Merges one file of two workspaces that both started from the seed, with renames of the other files applied. */
function merge(name: string, ours: TestWorkspace, theirs: TestWorkspace, renames = new Map<string, string>()) {
  const kind = FILES[name];
  const r = mergeCoordinationFile(kind, seed(name), valueOf(ours, name), valueOf(theirs, name), { now: '2024-01-15T20:00:00Z', renames });
  const check = SCHEMAS[kind as keyof typeof SCHEMAS].safeParse(r.value);
  assert.ok(check.success, `the merged ${name} matches its schema: ${check.success ? '' : check.error.message}`);
  return r;
}

describe('merging coordination files by record', function () {
  this.timeout(60_000);
  let a: TestWorkspace;
  let b: TestWorkspace;
  beforeEach(async () => {
    forgetCachedDocuments();
    a = await workspace({ now: '2024-01-15T12:00:00Z' });
    b = await workspace({ now: '2024-01-15T12:00:00Z' });
  });
  afterEach(() => {
    a?.dispose();
    b?.dispose();
  });

  it('keeps both sides\' messages, renumbers theirs\' colliding ids and rewrites the replies, the response queue and the order', async () => {
    a.setNow('2024-01-15T12:10:00Z');
    await replyToMessage(a.store, { id: 'msg_001', from: 'instance-1', body: 'REST first' }); // msg_002 on ours
    b.setNow('2024-01-15T12:05:00Z');
    await sendMessage(b.store, { from: 'instance-3', to: 'instance-1', subject: 'Colours', body: 'Which palette? See msg_002 next.', type: 'question' }); // msg_002 on theirs
    b.setNow('2024-01-15T12:20:00Z');
    await replyToMessage(b.store, { id: 'msg_002', from: 'instance-1', body: 'Blue' }); // msg_003 on theirs, replying to theirs' msg_002

    const r = merge('communication-log.json', a, b);
    assert.deepEqual(Object.fromEntries(r.renames), { msg_002: 'msg_003', msg_003: 'msg_004' });
    assert.deepEqual(r.conflicts, []);
    const msgs = r.value.messages as Obj[];
    // Time order: theirs' question (12:05) before ours' reply (12:10), theirs' answer (12:20) last.
    assert.deepEqual(msgs.map((m) => `${m.message_id} ${m.timestamp.slice(11, 16)} ${m.subject}`), [
      'msg_001 11:20 API Design for Agent Coordination',
      'msg_003 12:05 Colours',
      'msg_002 12:10 Re: API Design for Agent Coordination',
      'msg_004 12:20 Re: Colours',
    ]);
    assert.equal(msgs[3].in_reply_to, 'msg_003', 'the reply follows its renumbered question');
    assert.equal(msgs[1].message, 'Which palette? See msg_003 next.', 'ids named in the text of theirs\' new messages follow too');
    assert.equal(msgs[1].status, 'responded');
    assert.equal(msgs[0].status, 'responded', 'ours answered msg_001');
    const queue = (r.value.response_queue as Obj[]).map((q) => `${q.responding_to} ${q.from} ${q.status} ${q.response_id ?? '-'}`);
    assert.deepEqual(queue, ['msg_001 instance-1 completed msg_002', 'msg_003 instance-1 completed msg_004']);
  });

  it('unions the acknowledgements of a message both sides read, and lets a thread closed on one side stay closed', async () => {
    for (const ws of [a, b]) await sendMessage(ws.store, { from: 'instance-2', to: 'all', subject: 'Standup', body: 'At 10', type: 'info' });
    // Same message, same time and text on both sides: one record, not a collision.
    await acknowledgeMessage(a.store, { id: 'msg_002', by: 'instance-1' });
    await acknowledgeMessage(b.store, { id: 'msg_002', by: 'instance-3' });
    await replyToMessage(a.store, { id: 'msg_001', from: 'instance-1', body: 'REST' });
    await closeThread(b.store, { id: 'msg_001', by: 'instance-2' });
    const r = merge('communication-log.json', a, b);
    assert.deepEqual(Object.fromEntries(r.renames), {});
    const byId = new Map((r.value.messages as Obj[]).map((m) => [m.message_id, m]));
    assert.deepEqual(byId.get('msg_002')!.acknowledged_by, ['instance-1', 'instance-3']);
    assert.equal(byId.get('msg_001')!.status, 'closed', 'closed outranks responded');
    assert.deepEqual(r.conflicts, []);
  });

  it('renumbers theirs\' new tasks with their dependencies, places tasks by status and carries renames into other files', async () => {
    await addTask(a.store, { title: 'Ours A', dependencies: ['task_001'] }); // task_004
    await claimTask(a.store, { id: 'task_002', by: 'instance-1', force: true }); // moves to active_tasks
    await addTask(b.store, { title: 'Theirs A', dependencies: ['task_002'] }); // task_004
    await addTask(b.store, { title: 'Theirs B', dependencies: ['task_004'] }); // task_005 → depends on theirs' task_004
    await sendMessage(b.store, { from: 'instance-3', to: 'instance-1', subject: 'About task_005', body: 'Blocked on task_004', relatedTask: 'task_005', type: 'info' });

    const tasks = merge('task-queue.json', a, b);
    assert.deepEqual(Object.fromEntries(tasks.renames), { task_004: 'task_005', task_005: 'task_006' });
    const v = tasks.value;
    assert.deepEqual((v.active_tasks as Obj[]).map((t) => t.task_id), ['task_001', 'task_002']);
    assert.deepEqual((v.pending_tasks as Obj[]).map((t) => `${t.task_id} ${t.title} [${t.dependencies}]`), [
      'task_003 Design Agent UI/UX Interface [task_001,task_002]',
      'task_004 Ours A [task_001]',
      'task_005 Theirs A [task_002]',
      'task_006 Theirs B [task_005]',
    ]);

    // The message file's merge gets the task renames (as the driver passes them) and rewrites its references.
    const log = merge('communication-log.json', a, b, tasks.renames);
    const m = (log.value.messages as Obj[]).find((x) => x.subject.startsWith('About'))!;
    assert.equal(m.context.related_task, 'task_006');
    assert.equal(m.subject, 'About task_006');
    assert.equal(m.message, 'Blocked on task_005');
  });

  it('records two different assignees of one task as a conflict, keeping ours, and resolves it to theirs', async () => {
    await assignTask(a.store, { id: 'task_003', to: 'instance-3' });
    await assignTask(b.store, { id: 'task_003', to: 'instance-1' });
    const r = merge('task-queue.json', a, b);
    assert.equal(r.conflicts.length, 1);
    assert.deepEqual(
      r.conflicts.map((c) => [c.id, c.collection, c.fields!.map((f) => [f.path.join('.'), f.base, f.ours, f.theirs])]),
      [['task_003', 'tasks', [['assigned_to', null, 'instance-3', 'instance-1']]]],
    );
    const t3 = (r.value.pending_tasks as Obj[]).find((t) => t.task_id === 'task_003')!;
    assert.equal(t3.assigned_to, 'instance-3');
    assert.equal((r.value.merge_conflicts as Obj[]).length, 1);

    // Written as the driver writes it (ours' text, only the changes edited in), health names it and resolve settles it.
    const text = renderUpdate(a.read('task-queue.json'), valueOf(a, 'task-queue.json'), r.value);
    a.write('task-queue.json', text);
    forgetCachedDocuments();
    const docs = await a.store.readDocuments('registry', 'tasks', 'messages', 'decisions');
    const found = healthOf(docs).findings.filter((f) => f.code === 'merge-conflict');
    assert.equal(found.length, 1);
    assert.equal(found[0].subject, 'task_003');
    assert.match(found[0].message, /assigned_to is "instance-3" here, "instance-1" on the other side/);
    assert.equal(found[0].location?.line, text.split('\n').findIndex((l) => l.includes('"assigned_to": "instance-3"')) + 1, 'at the conflicting field');

    const res = await resolveMergeConflict(a.store, { id: 'task_003', side: 'theirs' });
    assert.equal(res.remaining, 0);
    const after = await a.store.read('tasks');
    assert.equal(after.tasks.pending_tasks.find((t) => t.task_id === 'task_003')!.assigned_to, 'instance-1');
    assert.equal(after.tasks.merge_conflicts, undefined);
    assert.deepEqual(conflictsIn(after), []);
  });

  it('merges decision input from both sides, and a decision taken on one side keeps the other side\'s input', async () => {
    a.setNow('2024-01-15T12:30:00Z');
    await giveInput(a.store, { id: 'dec_002', by: 'instance-1', option: 'REST API', comment: 'Simple' });
    b.setNow('2024-01-15T12:40:00Z');
    await giveInput(b.store, { id: 'dec_002', by: 'instance-3', option: 'GraphQL Federation', comment: 'Flexible' });
    let r = merge('decisions.json', a, b);
    assert.deepEqual(((r.value.pending_decisions as Obj[])[0].inputs as Obj[]).map((i) => i.from), ['instance-1', 'instance-3']);
    assert.deepEqual(r.conflicts, []);

    await decide(a.store, { id: 'dec_002', by: 'instance-2', option: 'REST API', rationale: 'Input favours it' });
    r = merge('decisions.json', a, b);
    assert.deepEqual((r.value.pending_decisions as Obj[]).map((d) => d.decision_id), []);
    const d = (r.value.decisions as Obj[]).find((x) => x.decision_id === 'dec_002')!;
    assert.equal(d.decision, 'REST API');
    assert.deepEqual((d.inputs as Obj[]).map((i) => i.from), ['instance-1', 'instance-3']);
    assert.deepEqual(r.conflicts, []);

    // Two different decisions are a conflict on the decision itself.
    await decide(b.store, { id: 'dec_002', by: 'instance-1', option: 'GraphQL Federation', rationale: 'Flexibility' });
    r = merge('decisions.json', a, b);
    assert.deepEqual(r.conflicts.map((c) => c.id), ['dec_002']);
    assert.deepEqual(r.conflicts[0].fields!.map((f) => f.path.join('.')).sort(), ['affects_instances', 'chosen_option', 'date', 'decided_by', 'decision', 'rationale']);
  });

  it('takes each instance\'s latest check-in, and keeps instances either side registered', async () => {
    a.setNow('2024-01-15T13:00:00Z');
    await checkIn(a.store, { instance: 'instance-3', task: 'ui-research' });
    await checkIn(a.store, { instance: 'instance-4', task: 'models' });
    b.setNow('2024-01-15T14:00:00Z');
    await checkIn(b.store, { instance: 'instance-3', task: 'ui-build', expertise: ['react'] });
    await checkIn(b.store, { instance: 'instance-7', role: 'qa', task: 'tests' });
    const r = merge('instance-registry.json', a, b);
    assert.deepEqual(r.conflicts, []);
    const inst = r.value.instances as Obj;
    assert.equal(inst['instance-3'].current_task, 'ui-build');
    assert.equal(inst['instance-3'].last_update, '2024-01-15T14:00:00Z');
    assert.equal(inst['instance-4'].current_task, 'models');
    assert.equal(inst['instance-7'].role, 'qa');
    assert.equal(r.value.last_registry_update, '2024-01-15T14:00:00Z');
  });

  it('follows records ours already renumbered (a rebase replaying several commits)', () => {
    const t = (id: string, title: string, created: string, deps: string[] = []) => ({ task_id: id, title, assigned_to: null, status: 'pending_assignment', priority: 'medium', created, dependencies: deps });
    const q = (...pending: Obj[]) => ({ active_tasks: [], pending_tasks: pending, completed_tasks: [] });
    // Base: theirs' first commit (B1 as task_004). Ours: upstream's task_004 plus B1 replayed as task_005.
    const base = q(t('task_004', 'B1', '2024-01-15T12:01:00Z'));
    const ours = q(t('task_004', 'Upstream', '2024-01-15T12:00:00Z'), t('task_005', 'B1', '2024-01-15T12:01:00Z'));
    const theirs = q(t('task_004', 'B1', '2024-01-15T12:01:00Z'), t('task_005', 'B2', '2024-01-15T12:02:00Z', ['task_004']));
    const r = renumbering('tasks', base, ours, theirs);
    assert.deepEqual(Object.fromEntries(r.base), { task_004: 'task_005' });
    assert.deepEqual(Object.fromEntries(r.theirs), { task_004: 'task_005', task_005: 'task_006' });
    const m = mergeCoordinationFile('tasks', base, ours, theirs, { now: '2024-01-15T20:00:00Z' });
    assert.deepEqual((m.value.pending_tasks as Obj[]).map((x) => `${x.task_id} ${x.title} [${x.dependencies}]`), ['task_004 Upstream []', 'task_005 B1 []', 'task_006 B2 [task_005]']);
    assert.deepEqual(m.conflicts, []);
  });

  it('runs as git runs it: merges into ours, says when it cannot find the commits, and refuses a broken side by file, side, line and column', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-driver-'));
    try {
      await addTask(a.store, { title: 'Ours' });
      await addTask(b.store, { title: 'Theirs' });
      fs.copyFileSync(path.join(SEED_DIR, 'task-queue.json'), path.join(dir, 'O'));
      fs.writeFileSync(path.join(dir, 'A'), a.read('task-queue.json'));
      fs.writeFileSync(path.join(dir, 'B'), b.read('task-queue.json'));
      const r = await runMergeDriver({ base: 'O', ours: 'A', theirs: 'B', path: 'coordination/task-queue.json', cwd: dir });
      assert.equal(r.code, 0);
      assert.deepEqual(r.renames, { task_004: 'task_005' });
      assert.match(r.notes.join('\n'), /could not tell which commits are being merged/);
      const merged = JSON.parse(fs.readFileSync(path.join(dir, 'A'), 'utf8'));
      assert.deepEqual(merged.pending_tasks.map((t: Obj) => `${t.task_id} ${t.title}`).slice(-2), ['task_004 Ours', 'task_005 Theirs']);
      assert.ok(fs.readFileSync(path.join(dir, 'A'), 'utf8').startsWith(a.read('task-queue.json').split('"task_004"')[0]), "ours' text is kept up to the change");

      fs.writeFileSync(path.join(dir, 'B'), '{\n  "active_tasks": [\n    {"task_id": }\n  ]\n}\n');
      const before = fs.readFileSync(path.join(dir, 'A'), 'utf8');
      await assert.rejects(runMergeDriver({ base: 'O', ours: 'A', theirs: 'B', path: 'coordination/task-queue.json', cwd: dir }), (e: Error) => {
        assert.equal(e.message, 'coordination/task-queue.json (theirs):3:17: invalid JSON: expected a value');
        return true;
      });
      assert.equal(fs.readFileSync(path.join(dir, 'A'), 'utf8'), before, 'ours is untouched');

      // A file Syncord does not merge by record gets git's line merge, markers and all.
      fs.writeFileSync(path.join(dir, 'O'), 'a\n');
      fs.writeFileSync(path.join(dir, 'A'), 'b\n');
      fs.writeFileSync(path.join(dir, 'B'), 'c\n');
      const other = await runMergeDriver({ base: 'O', ours: 'A', theirs: 'B', path: 'coordination/targets.json', cwd: dir });
      assert.deepEqual([other.byRecord, other.code], [false, 1]);
      assert.match(fs.readFileSync(path.join(dir, 'A'), 'utf8'), /^<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n$/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a record a hand edit gave an id already used, as it is', () => {
    const t = (id: string, title: string) => ({ task_id: id, title, assigned_to: null, status: 'pending_assignment', priority: 'medium', created: '2024-01-15T12:00:00Z' });
    const base = { active_tasks: [], pending_tasks: [t('task_001', 'One')], completed_tasks: [] };
    const ours = { active_tasks: [], pending_tasks: [t('task_001', 'One'), t('task_001', 'Copy by hand')], completed_tasks: [] };
    const theirs = { active_tasks: [], pending_tasks: [t('task_001', 'One'), t('task_002', 'Two')], completed_tasks: [] };
    const m = mergeCoordinationFile('tasks', base, ours, theirs, { now: '2024-01-15T20:00:00Z' });
    assert.deepEqual((m.value.pending_tasks as Obj[]).map((x) => `${x.task_id} ${x.title}`), ['task_001 One', 'task_001 Copy by hand', 'task_002 Two']);
  });

  it('quotes the driver command for the shell git runs it with', () => {
    assert.equal(driverCommand('/usr/bin/node', '/opt/syncord/dist/cli.js'), '/usr/bin/node /opt/syncord/dist/cli.js merge-driver run %O %A %B %P');
    assert.equal(driverCommand('/usr/bin/node', "/home/o'neil/my tools/cli.js"), "/usr/bin/node '/home/o'\\''neil/my tools/cli.js' merge-driver run %O %A %B %P");
  });
});
