import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkHealth } from '../../../src/core/coordination/health';
import { TestWorkspace, workspace } from './helpers';

const codes = (r: Awaited<ReturnType<typeof checkHealth>>) => r.findings.map((f) => `${f.severity} ${f.code} ${f.subject ?? ''}`.trim());

describe('coordination/health', () => {
  let ws: TestWorkspace;
  afterEach(() => ws?.dispose());

  it('finds the seed healthy except the unanswered request once it is overdue', async () => {
    ws = await workspace();
    const early = await checkHealth(ws.store, { now: new Date('2024-01-15T11:30:00Z') });
    assert.equal(early.counts.error + early.counts.warning, 0);
    const late = await checkHealth(ws.store, { now: new Date('2024-01-15T12:30:00Z') });
    assert.deepEqual(codes(late), [
      'warning overdue-response msg_001',
      'info never-checked-in instance-3',
      'info never-checked-in instance-4',
      'info never-checked-in instance-5',
      'info never-checked-in instance-6',
      'info awaiting-input dec_002',
    ]);
    const f = late.findings[0];
    assert.equal(f.message, 'instance-1 has not answered msg_001 "API Design for Agent Coordination" from instance-2 (due 30m ago)');
    assert.deepEqual(f.location, { file: path.join(ws.dir, 'communication-log.json'), line: 17, column: 7 });
  });

  it('applies the 24-hour check-in rule, deadlines and decision deadlines', async () => {
    ws = await workspace();
    const r = await checkHealth(ws.store, { now: new Date('2024-01-17T00:00:00Z') });
    const warnings = codes(r).filter((c) => c.startsWith('warning'));
    assert.deepEqual(warnings.sort(), [
      'warning decision-overdue dec_002',
      'warning overdue-response msg_001',
      'warning overdue-task task_001',
      'warning overdue-task task_002',
      'warning stale-checkin instance-1',
      'warning stale-checkin instance-2',
    ]);
    const stale = r.findings.find((f) => f.subject === 'instance-1')!;
    assert.equal(stale.message, 'instance-1 is active but last checked in 37h 30m ago (more than 24h)');
    assert.equal(stale.location?.line, 7);
  });

  it('reports broken references, duplicate ids, cycles and misplaced tasks with their lines', async () => {
    ws = await workspace({ seed: false });
    ws.write(
      'task-queue.json',
      JSON.stringify(
        {
          active_tasks: [{ task_id: 't_a', title: 'A', assigned_to: 'ghost', status: 'completed', priority: 'high', due: '2030-01-01', dependencies: ['t_b'] }],
          pending_tasks: [
            { task_id: 't_b', title: 'B', assigned_to: null, status: 'pending_assignment', priority: 'low', due: '2030-01-01', dependencies: ['t_a'] },
            { task_id: 't_b', title: 'B again', assigned_to: null, status: 'pending_assignment', priority: 'low', due: '2030-01-01', dependencies: ['t_zz'] },
          ],
          completed_tasks: [],
        },
        null,
        2,
      ),
    );
    const r = await checkHealth(ws.store, { now: new Date('2024-01-15T12:00:00Z') });
    assert.deepEqual(codes(r).sort(), [
      'error dependency-cycle t_a',
      'error duplicate-id t_b',
      'error duplicate-id t_b',
      'error unknown-dependency t_b',
      'warning misplaced-task t_a',
      'warning started-before-dependencies t_a',
      'warning unknown-instance t_a',
    ]);
    const cycle = r.findings.find((f) => f.code === 'dependency-cycle')!;
    assert.match(cycle.message, /t_a → t_b → t_a/);
    const unknown = r.findings.find((f) => f.code === 'unknown-dependency')!;
    assert.deepEqual(unknown.location, { file: path.join(ws.dir, 'task-queue.json'), line: 35, column: 9 });
  });

  it('finds nothing to report in a fresh coordination folder', async () => {
    ws = await workspace({ seed: false });
    const r = await checkHealth(ws.store);
    assert.deepEqual(r.findings, []);
  });
});
