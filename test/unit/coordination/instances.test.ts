import * as assert from 'node:assert/strict';
import { addInstance, checkIn, checkOut, removeInstance, updateInstance } from '../../../src/core/coordination/instances';
import { findTask } from '../../../src/core/coordination/tasks';
import { refusal, snapshot, TestWorkspace, workspace } from './helpers';

describe('coordination/instances (protocol 1)', () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await workspace({ now: '2024-01-15T13:00:00Z' });
  });
  afterEach(() => ws?.dispose());

  it('check-in marks a pending instance active and starts a session', async () => {
    const r = await checkIn(ws.store, { instance: 'instance-3', task: 'task_003', expertise: ['css'] });
    assert.equal(r.created, false);
    assert.equal(r.previousUpdate, null);
    const { registry } = await ws.store.read('registry');
    assert.deepEqual(registry.instances['instance-3'], {
      role: 'frontend-ux',
      status: 'active',
      current_task: 'task_003',
      last_update: '2024-01-15T13:00:00Z',
      expertise_areas: ['react', 'ui-design', 'user-experience', 'css'],
      available_for_consultation: true,
      current_session_id: 'session_20240115T130000Z',
    });
    assert.equal(registry.last_registry_update, '2024-01-15T13:00:00Z');
  });

  it('check-in keeps the current task and reports the previous update', async () => {
    const r = await checkIn(ws.store, { instance: 'instance-1', session: 'arch_session_002' });
    assert.equal(r.previousUpdate, '2024-01-15T10:30:00Z');
    assert.equal(r.instance.current_task, 'designing-microservices-architecture');
    assert.equal(r.instance.current_session_id, 'arch_session_002');
  });

  it('registers a new instance on check-in only when its role is given', async () => {
    const before = snapshot(ws);
    const e = await refusal(checkIn(ws.store, { instance: 'instance-7' }));
    assert.equal(e.code, 'usage');
    assert.match(e.message, /not in the registry yet; give its role/);
    assert.deepEqual(snapshot(ws), before);
    const r = await checkIn(ws.store, { instance: 'instance-7', role: 'qa' });
    assert.equal(r.created, true);
    assert.equal(r.instance.status, 'active');
    assert.equal(r.instance.role, 'qa');
  });

  it('refuses ids that are not plain names', async () => {
    for (const id of ['', 'all', 'a b', '../x']) {
      const e = await refusal(checkIn(ws.store, { instance: id, role: 'x' }));
      assert.equal(e.code, 'usage', id);
    }
  });

  it('check-out ends the session and availability', async () => {
    await checkOut(ws.store, { instance: 'instance-2' });
    const { registry } = await ws.store.read('registry');
    const i = registry.instances['instance-2'];
    assert.equal(i.status, 'offline');
    assert.equal(i.available_for_consultation, false);
    assert.equal(i.current_session_id, null);
    assert.equal(i.current_task, 'coordination-system-design');
  });

  it('adds, updates and removes instances', async () => {
    await addInstance(ws.store, { id: 'instance-7', role: 'qa', expertise: ['testing', 'testing'] });
    const dup = await refusal(addInstance(ws.store, { id: 'instance-7', role: 'qa' }));
    assert.equal(dup.code, 'conflict');
    await updateInstance(ws.store, { id: 'instance-7', expertise: ['e2e'], available: true, status: 'idle' });
    let { registry } = await ws.store.read('registry');
    assert.deepEqual(registry.instances['instance-7'].expertise_areas, ['testing', 'e2e']);
    assert.equal(registry.instances['instance-7'].status, 'idle');
    await removeInstance(ws.store, { id: 'instance-7' });
    ({ registry } = await ws.store.read('registry'));
    assert.equal(registry.instances['instance-7'], undefined);
    const missing = await refusal(removeInstance(ws.store, { id: 'instance-7' }));
    assert.equal(missing.code, 'not-found');
    assert.match(missing.message, /instance "instance-7" is not registered \(known: instance-1/);
  });

  it('will not remove an instance holding tasks unless forced, which returns them to the queue', async () => {
    const e = await refusal(removeInstance(ws.store, { id: 'instance-2' }));
    assert.equal(e.code, 'conflict');
    assert.match(e.message, /still has tasks assigned \(task_001\)/);
    const r = await removeInstance(ws.store, { id: 'instance-2', force: true });
    assert.deepEqual(r.unassigned, ['task_001']);
    const at = findTask((await ws.store.read('tasks')).tasks, 'task_001')!;
    assert.equal(at.list, 'pending_tasks');
    assert.equal(at.task.assigned_to, null);
  });
});
