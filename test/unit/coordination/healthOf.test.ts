import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { checkHealth, Finding, healthOf, HealthReport } from '../../../src/core/coordination/health';
import { TestWorkspace, workspace } from './helpers';

const codes = (r: HealthReport) => r.findings.map((f) => `${f.severity} ${f.code} ${f.subject ?? ''}`.trim()).sort();
const where = (f: Finding | undefined) => f?.location && `${path.basename(f.location.file)}:${f.location.line}:${f.location.column}`;

describe('coordination/health: healthOf over parsed files', () => {
  let ws: TestWorkspace;
  afterEach(() => ws?.dispose());
  const late = new Date('2024-01-17T00:00:00Z');

  it('gives the same report as checkHealth when all four files are given', async () => {
    ws = await workspace();
    const docs = await ws.store.readDocuments('registry', 'tasks', 'messages', 'decisions');
    assert.deepEqual(healthOf(docs, { now: late }), await checkHealth(ws.store, { now: late }));
  });

  it('checks the files it is given when the others are left out, at their lines', async () => {
    ws = await workspace();
    const { registry, messages } = await ws.store.readDocuments('registry', 'messages');
    const r = healthOf({ registry, messages }, { now: late });
    assert.deepEqual(codes(r), [
      'info never-checked-in instance-3',
      'info never-checked-in instance-4',
      'info never-checked-in instance-5',
      'info never-checked-in instance-6',
      'warning overdue-response msg_001',
      'warning stale-checkin instance-1',
      'warning stale-checkin instance-2',
    ]);
    assert.equal(where(r.findings.find((f) => f.code === 'stale-checkin' && f.subject === 'instance-1')), 'instance-registry.json:7:7');
    assert.equal(where(r.findings.find((f) => f.code === 'overdue-response')), 'communication-log.json:17:7');
    assert.deepEqual(r.summary.tasks, { active_tasks: 0, pending_tasks: 0, completed_tasks: 0 });
    assert.equal(r.summary.messagesAwaitingResponse, 1);
    assert.equal(r.summary.pendingDecisions, 0);
  });

  it('does not report references into a file that is left out, and does once it is given', async () => {
    ws = await workspace();
    const log = JSON.parse(ws.read('communication-log.json'));
    log.messages[0].context.related_task = 'task_404';
    log.messages[0].to = 'instance-404';
    ws.write('communication-log.json', JSON.stringify(log, null, 2));
    const docs = await ws.store.readDocuments('registry', 'tasks', 'messages');

    const alone = healthOf({ messages: docs.messages }, { now: late });
    assert.deepEqual(codes(alone), ['warning overdue-response msg_001']);

    const all = healthOf(docs, { now: late });
    const refs = all.findings.filter((f) => f.subject === 'msg_001' && f.code !== 'overdue-response');
    assert.deepEqual(
      refs.map((f) => `${f.code} ${where(f)} ${f.message}`).sort(),
      [
        'unknown-instance communication-log.json:6:7 msg_001 is addressed to instance-404, which is not registered',
        'unknown-task communication-log.json:14:9 msg_001 refers to task task_404, which does not exist',
      ],
    );
  });

  it('finds nothing and counts nothing when no file is given', () => {
    const r = healthOf({}, { now: late });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.counts, { error: 0, warning: 0, info: 0 });
    assert.deepEqual(r.summary, { instances: {}, tasks: { active_tasks: 0, pending_tasks: 0, completed_tasks: 0 }, messagesAwaitingResponse: 0, pendingDecisions: 0 });
  });

  it('applies the check-in and response thresholds it is given', async () => {
    ws = await workspace();
    const log = JSON.parse(ws.read('communication-log.json'));
    // Without a response queue entry, the response threshold decides when the question is overdue.
    log.response_queue = [];
    ws.write('communication-log.json', JSON.stringify(log, null, 2));
    const { registry, messages } = await ws.store.readDocuments('registry', 'messages');
    // 2024-01-15T16:00Z: instance-1 checked in 5h 30m ago, the question was asked 4h 40m ago.
    const at = new Date('2024-01-15T16:00:00Z');
    const warnings = (o: { staleHours?: number; responseHours?: number }) =>
      healthOf({ registry, messages }, { now: at, ...o }).findings.filter((f) => f.severity === 'warning').map((f) => `${f.code} ${f.subject}`).sort();

    assert.deepEqual(warnings({}), ['overdue-response msg_001']);
    assert.deepEqual(warnings({ responseHours: 5 }), []);
    assert.deepEqual(warnings({ staleHours: 5, responseHours: 5 }), ['stale-checkin instance-1']);
    assert.deepEqual(warnings({ staleHours: 4 }), ['overdue-response msg_001', 'stale-checkin instance-1', 'stale-checkin instance-2']);
    const stale = healthOf({ registry }, { now: at, staleHours: 5 }).findings.find((f) => f.code === 'stale-checkin')!;
    assert.equal(stale.message, 'instance-1 is active but last checked in 5h 30m ago (more than 5h)');
  });
});
