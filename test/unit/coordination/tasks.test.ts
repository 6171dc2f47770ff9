import * as assert from 'node:assert/strict';
import { checkIn } from '../../../src/core/coordination/instances';
import {
  addTask,
  assignTask,
  claimTask,
  completeTask,
  declineTask,
  findTask,
  releaseTask,
  setTaskBlocked,
  suggestTasks,
} from '../../../src/core/coordination/tasks';
import { refusal, snapshot, TestWorkspace, workspace } from './helpers';

describe('coordination/tasks (protocol 2)', () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await workspace();
  });
  afterEach(() => ws?.dispose());

  it('adds a task to pending_tasks with the seed shape and the next id', async () => {
    const t = await addTask(ws.store, {
      title: 'Write the deploy runbook',
      description: 'Steps for rolling out the agents',
      priority: 'low',
      due: '2024-01-18T18:00:00Z',
      dependencies: ['task_001'],
      requiredExpertise: ['deployment'],
      suggestedAssignee: 'instance-5',
      by: 'instance-2',
    });
    assert.equal(t.task_id, 'task_004');
    const { tasks } = await ws.store.read('tasks');
    assert.deepEqual(tasks.pending_tasks[2], {
      task_id: 'task_004',
      title: 'Write the deploy runbook',
      description: 'Steps for rolling out the agents',
      assigned_to: null,
      status: 'pending_assignment',
      priority: 'low',
      created: '2024-01-15T12:00:00Z',
      due: '2024-01-18T18:00:00Z',
      dependencies: ['task_001'],
      required_expertise: ['deployment'],
      suggested_assignee: 'instance-5',
      created_by: 'instance-2',
    });
    // The rest of the file is untouched: the seed's trailing space after "task_002", survives.
    assert.match(ws.read('task-queue.json'), /"task_id": "task_002", \n/);
  });

  it('refuses a dependency that does not exist and writes nothing', async () => {
    const before = snapshot(ws);
    const e = await refusal(addTask(ws.store, { title: 'x', dependencies: ['task_099'] }));
    assert.equal(e.code, 'not-found');
    assert.match(e.message, /unknown dependency "task_099": no such task/);
    assert.deepEqual(snapshot(ws), before);
  });

  it('will not start a task before its dependencies are completed', async () => {
    const e = await refusal(claimTask(ws.store, { id: 'task_002', by: 'instance-1' }));
    assert.equal(e.code, 'conflict');
    assert.match(e.message, /task task_002 waits for task_001 "Design BikeNode AI Agent Architecture" \(in_progress, instance-2\): not completed yet/);
    await completeTask(ws.store, { id: 'task_001', by: 'instance-2', deliverables: ['/docs/arch.md'] });
    const r = await claimTask(ws.store, { id: 'task_002', by: 'instance-1' });
    assert.equal(r.alreadyClaimed, false);
    const { tasks, registry } = await ws.store.read('tasks', 'registry');
    assert.deepEqual(tasks.active_tasks.map((t) => [t.task_id, t.status, t.assigned_to]), [['task_002', 'in_progress', 'instance-1']]);
    assert.deepEqual(tasks.completed_tasks.map((t) => [t.task_id, t.status]), [['task_001', 'completed']]);
    assert.deepEqual(tasks.completed_tasks[0].deliverables, [
      '/documentation/ai-agent-workforce-ideas/',
      '/coordination/agent-collaboration-spec.md',
      '/docs/arch.md',
    ]);
    assert.equal(registry.instances['instance-1'].current_task, 'task_002');
    assert.equal(registry.instances['instance-1'].last_update, '2024-01-15T12:00:00Z');
  });

  it('offers a task to an instance, which may decline it', async () => {
    await assignTask(ws.store, { id: 'task_003', to: 'instance-3' });
    let at = findTask((await ws.store.read('tasks')).tasks, 'task_003')!;
    assert.equal(at.task.assigned_to, 'instance-3');
    assert.equal(at.task.status, 'assigned');
    const other = await refusal(claimTask(ws.store, { id: 'task_003', by: 'instance-4', force: false }));
    assert.match(other.message, /assigned to instance-3; only that instance can claim it/);
    await declineTask(ws.store, { id: 'task_003', by: 'instance-3', reason: 'busy with the design system' });
    at = findTask((await ws.store.read('tasks')).tasks, 'task_003')!;
    assert.equal(at.list, 'pending_tasks');
    assert.equal(at.task.assigned_to, null);
    assert.equal(at.task.status, 'pending_assignment');
    assert.deepEqual(at.task.declined_by, ['instance-3']);
  });

  it('lets exactly one of two simultaneous claims win', async () => {
    await completeTask(ws.store, { id: 'task_001', by: 'instance-2' });
    const results = await Promise.allSettled([
      claimTask(ws.store, { id: 'task_002', by: 'instance-1' }),
      claimTask(ws.store, { id: 'task_002', by: 'instance-2' }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.match(String(lost.reason.message), /already claimed by instance-[12]/);
    const { tasks } = await ws.store.read('tasks');
    assert.equal(tasks.active_tasks.filter((t) => t.task_id === 'task_002').length, 1);
  });

  it('only the holder completes or releases a task, unless forced', async () => {
    const e = await refusal(completeTask(ws.store, { id: 'task_001', by: 'instance-1' }));
    assert.equal(e.code, 'conflict');
    assert.match(e.message, /held by instance-2, not instance-1/);
    await releaseTask(ws.store, { id: 'task_001', by: 'instance-1', force: true });
    const { tasks } = await ws.store.read('tasks');
    assert.deepEqual(tasks.active_tasks, []);
    assert.equal(tasks.pending_tasks[2].task_id, 'task_001');
    assert.equal(tasks.pending_tasks[2].status, 'pending_assignment');
  });

  it('blocks, unblocks and cancels', async () => {
    await setTaskBlocked(ws.store, { id: 'task_001', by: 'instance-2', blocked: true, reason: 'waiting for review' });
    let t = findTask((await ws.store.read('tasks')).tasks, 'task_001')!.task;
    assert.equal(t.status, 'blocked');
    assert.equal(t.blocked_reason, 'waiting for review');
    await setTaskBlocked(ws.store, { id: 'task_001', by: 'instance-2', blocked: false });
    t = findTask((await ws.store.read('tasks')).tasks, 'task_001')!.task;
    assert.equal(t.status, 'in_progress');
    assert.equal(t.blocked_reason, undefined);
    await completeTask(ws.store, { id: 'task_003', by: 'instance-2', cancel: true, note: 'merged into task_002' });
    const at = findTask((await ws.store.read('tasks')).tasks, 'task_003')!;
    assert.equal(at.list, 'completed_tasks');
    assert.equal(at.task.status, 'cancelled');
  });

  it('keeps fields it does not know when moving a task between lists', async () => {
    ws.write('task-queue.json', ws.read('task-queue.json').replace('"task_id": "task_001",', '"task_id": "task_001", "x_review": {"by": "qa"},'));
    await completeTask(ws.store, { id: 'task_001', by: 'instance-2' });
    const t = findTask((await ws.store.read('tasks')).tasks, 'task_001')!.task;
    assert.deepEqual(t.x_review, { by: 'qa' });
  });

  it('suggests what to take next: offered, suggested, expertise, priority', async () => {
    await completeTask(ws.store, { id: 'task_001', by: 'instance-2' });
    await addTask(ws.store, { title: 'Urgent API fix', priority: 'critical', requiredExpertise: ['api-design'] });
    await checkIn(ws.store, { instance: 'instance-1' });
    const { tasks, registry } = await ws.store.read('tasks', 'registry');
    const s = suggestTasks(tasks, registry, 'instance-1');
    // task_003 waits on task_002, so it is not ready; task_002 is suggested for instance-1.
    // task_004 got instance-1 as suggested assignee from its expertise (api-design), and is more urgent.
    assert.equal(tasks.pending_tasks.find((t) => t.task_id === 'task_004')?.suggested_assignee, 'instance-1');
    assert.deepEqual(s.map((x) => x.task.task_id), ['task_004', 'task_002']);
    assert.deepEqual(s[0].reasons, ['suggested for you', 'matches your expertise: api-design', 'critical priority']);
    assert.deepEqual(s[1].reasons, ['suggested for you', 'matches your expertise: api-design', 'high priority']);
  });
});
