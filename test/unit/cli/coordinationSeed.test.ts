import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SEED_DIR } from '../coordination/helpers';
import { runSyncord } from './runSyncord';

const syncord = (cwd: string, args: string[], input = '') => runSyncord(cwd, args, { input });

/** Runs a verb with --json, expecting exit 0, and returns its parsed output. */
async function json(cwd: string, args: string[], input?: string): Promise<any> {
  const r = await syncord(cwd, [...args, '--json'], input);
  assert.equal(r.code, 0, `syncord ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout);
}

describe('syncord verbs on the seed example files', function () {
  this.timeout(180_000);
  let root: string;
  const file = (name: string) => path.join(root, 'coordination', name);
  const read = (name: string) => JSON.parse(fs.readFileSync(file(name), 'utf8'));
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-cli-seed-'));
    fs.mkdirSync(path.join(root, 'coordination'));
    for (const f of fs.readdirSync(SEED_DIR)) fs.copyFileSync(path.join(SEED_DIR, f), file(f));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('runs every verb and leaves the JSON the protocols describe', async () => {
    // init keeps the existing files.
    const before = fs.readFileSync(file('task-queue.json'), 'utf8');
    assert.deepEqual((await json(root, ['init'])).created, []);
    assert.equal(fs.readFileSync(file('task-queue.json'), 'utf8'), before);

    // Protocol 1.
    await json(root, ['--as', 'instance-3', 'checkin', '--task', 'ui-research', '--expertise', 'css,react', '--status', 'active']);
    const i3 = read('instance-registry.json').instances['instance-3'];
    assert.equal(i3.status, 'active');
    assert.equal(i3.current_task, 'ui-research');
    assert.deepEqual(i3.expertise_areas, ['react', 'ui-design', 'user-experience', 'css']);
    assert.equal(i3.available_for_consultation, true);
    assert.match(i3.last_update, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const list = await json(root, ['instance', 'list']);
    assert.deepEqual(list.map((x: any) => x.id), ['instance-1', 'instance-2', 'instance-3', 'instance-4', 'instance-5', 'instance-6']);

    // Protocol 2.
    const added = await json(root, [
      '--as', 'instance-2', 'task', 'add', '--title', 'Build the agent dashboard', '--description', 'Screens for the agent system',
      '--priority', 'high', '--due', '2024-01-20T18:00:00Z', '--depends-on', 'task_001', '--deliverable', '/ui/dashboard/', '--expertise', 'react',
    ]);
    const task4 = read('task-queue.json').pending_tasks[2];
    assert.deepEqual(task4, {
      task_id: 'task_004',
      title: 'Build the agent dashboard',
      description: 'Screens for the agent system',
      assigned_to: null,
      status: 'pending_assignment',
      priority: 'high',
      created: task4.created,
      due: '2024-01-20T18:00:00Z',
      dependencies: ['task_001'],
      deliverables: ['/ui/dashboard/'],
      required_expertise: ['react'],
      suggested_assignee: 'instance-3',
      created_by: 'instance-2',
    });
    assert.equal(added.task_id, 'task_004');
    const unknownDep = await syncord(root, ['--as', 'instance-2', 'task', 'add', '--title', 'x', '--depends-on', 'task_404']);
    assert.equal(unknownDep.code, 4);
    assert.match(unknownDep.stderr, /unknown dependency "task_404"/);

    await json(root, ['task', 'assign', 'task_004', 'instance-3']);
    const accepted = await json(root, ['--as', 'instance-3', 'task', 'accept', 'task_004']);
    assert.equal(accepted.status, 'accepted');
    assert.equal(read('task-queue.json').pending_tasks[2].status, 'accepted');
    const early = await syncord(root, ['--as', 'instance-3', 'task', 'start', 'task_004']);
    assert.equal(early.code, 5);
    assert.match(early.stderr, /task_004 "Build the agent dashboard" waits for task_001 "Design BikeNode AI Agent Architecture" \(in_progress, instance-2\), not completed yet\. instance-3 has accepted it/);

    await json(root, ['task', 'assign', 'task_003', 'instance-3']);
    const declined = await json(root, ['--as', 'instance-3', 'task', 'decline', 'task_003', '--reason', 'waiting on the API']);
    assert.equal(declined.assigned_to, null);
    assert.equal(declined.status, 'pending_assignment');
    assert.deepEqual(declined.declined_by, ['instance-3']);
    assert.equal(declined.decline_notes[0].reason, 'waiting on the API');

    const done = await json(root, ['--as', 'instance-2', 'task', 'complete', 'task_001']);
    assert.equal(done.status, 'completed');
    await json(root, ['--as', 'instance-3', 'task', 'start', 'task_004']);
    let queue = read('task-queue.json');
    assert.deepEqual(queue.active_tasks.map((t: any) => [t.task_id, t.status, t.assigned_to]), [['task_004', 'in_progress', 'instance-3']]);
    assert.deepEqual(queue.completed_tasks.map((t: any) => [t.task_id, t.status]), [['task_001', 'completed']]);
    assert.equal(read('instance-registry.json').instances['instance-3'].current_task, 'task_004');
    const mine = await json(root, ['--as', 'instance-3', 'task', 'list', '--mine', '--status', 'in_progress']);
    assert.deepEqual(mine.map((t: any) => t.task_id), ['task_004']);

    // Protocol 3.
    const sent = await json(root, [
      '--as', 'instance-3', 'msg', 'send', '--to', 'instance-1', '--subject', 'Dashboard API', '--type', 'consultation_request',
      '--priority', 'high', '--requires-response', '--task', 'task_004', '--file', '/ui/dashboard/spec.md', 'Which', 'endpoints', 'exist?',
    ]);
    assert.deepEqual(read('communication-log.json').messages[1], {
      message_id: 'msg_002',
      from: 'instance-3',
      to: 'instance-1',
      type: 'consultation_request',
      timestamp: sent.message.timestamp,
      subject: 'Dashboard API',
      message: 'Which endpoints exist?',
      priority: 'high',
      requires_response: true,
      context: { related_task: 'task_004', related_files: ['/ui/dashboard/spec.md'] },
      status: 'pending_response',
    });
    assert.deepEqual(read('communication-log.json').response_queue[1], {
      responding_to: 'msg_002',
      from: 'instance-1',
      status: 'pending',
      expected_response_time: sent.awaiting.expected_response_time,
    });
    const stranger = await syncord(root, ['--as', 'instance-3', 'msg', 'send', '--to', 'instance-9', '--subject', 'x', 'hello']);
    assert.equal(stranger.code, 4);
    assert.match(stranger.stderr, /instance "instance-9" is not registered/);
    const fromStdin = await json(root, ['--as', 'instance-1', 'msg', 'send', '--to', 'instance-2', '--subject', 'FYI', '--type', 'info', '--no-requires-response'], 'Read the spec.\n');
    assert.equal(fromStdin.message.message, 'Read the spec.');
    assert.equal(fromStdin.message.status, 'sent');

    const pendingForMe = await json(root, ['--as', 'instance-1', 'msg', 'list', '--to-me', '--pending']);
    assert.deepEqual(pendingForMe.map((m: any) => m.message_id), ['msg_001', 'msg_002']);
    const reply = await json(root, ['--as', 'instance-1', 'msg', 'reply', 'msg_001', 'REST', 'first.']);
    assert.equal(reply.message.in_reply_to, 'msg_001');
    let log = read('communication-log.json');
    assert.equal(log.messages[0].status, 'responded');
    assert.equal(log.response_queue[0].status, 'completed');
    assert.equal(log.response_queue[0].response_id, reply.message.message_id);
    const acked = await json(root, ['--as', 'instance-2', 'msg', 'ack', fromStdin.message.message_id]);
    assert.equal(acked.message.status, 'acknowledged');
    await json(root, ['--as', 'instance-2', 'msg', 'close', 'msg_001']);
    log = read('communication-log.json');
    assert.equal(log.messages[0].status, 'closed');
    assert.equal(log.messages.find((m: any) => m.message_id === reply.message.message_id).status, 'acknowledged');

    // Protocol 4.
    const proposed = await json(root, [
      '--as', 'instance-2', 'decision', 'propose', '--title', 'Dashboard framework', '--description', 'Pick one',
      '--option', 'React', '--option', 'Svelte', '--input-from', 'instance-3', '--deadline', '2024-01-18T12:00:00Z',
    ]);
    assert.equal(proposed.decision_id, 'dec_003');
    assert.deepEqual(read('decisions.json').pending_decisions[1].options, [
      { option: 'React', pros: [], cons: [] },
      { option: 'Svelte', pros: [], cons: [] },
    ]);
    await json(root, ['--as', 'instance-1', 'decision', 'input', 'dec_002', '--option', 'REST API', '--text', 'Simpler to debug.']);
    await json(root, ['--as', 'instance-3', 'decision', 'input', 'dec_002', '--text', 'Either works for the UI.']);
    const decided = await json(root, ['--as', 'instance-2', 'decision', 'decide', 'dec_002', '--option', 'REST API', '--rationale', 'Both inputs lean to REST.']);
    const decisions = read('decisions.json');
    assert.deepEqual(decisions.pending_decisions.map((d: any) => d.decision_id), ['dec_003']);
    const d2 = decisions.decisions[1];
    assert.equal(d2.decision_id, 'dec_002');
    assert.equal(d2.decision, 'REST API');
    assert.equal(d2.rationale, 'Both inputs lean to REST.');
    assert.deepEqual(d2.decided_by, ['instance-2']);
    assert.equal(d2.date, decided.decision.date);
    assert.deepEqual(d2.affects_instances, ['instance-1', 'instance-3', 'instance-2']);
    assert.deepEqual(d2.inputs.map((i: any) => [i.from, i.option]), [['instance-1', 'REST API'], ['instance-3', null]]);
    const dl = await json(root, ['decision', 'list']);
    assert.deepEqual(dl.decisions.map((d: any) => d.decision_id), ['dec_001', 'dec_002']);

    // The startup checklist and the health checks.
    const inbox = await json(root, ['--as', 'instance-3', 'inbox']);
    assert.deepEqual(inbox.activeTasks.map((t: any) => t.task_id), ['task_004']);
    assert.deepEqual(inbox.decisionsAwaitingInput.map((d: any) => d.decision_id), ['dec_003']);
    assert.deepEqual(inbox.recentDecisions.map((d: any) => d.decision_id), ['dec_001', 'dec_002']);
    const health = await syncord(root, ['health', '--json', '--now', '2024-01-19T00:00:00Z', '--stale-hours', '200', '--response-hours', '100']);
    assert.equal(health.code, 1);
    const codes = JSON.parse(health.stdout).findings.map((f: any) => f.code);
    assert.ok(codes.includes('overdue-task'), codes.join(','));
    assert.ok(!codes.includes('stale-checkin'), 'the check-in threshold is configurable');

    await json(root, ['--as', 'instance-3', 'checkout']);
    queue = read('task-queue.json');
    assert.equal(read('instance-registry.json').instances['instance-3'].status, 'offline');
  });

  it('gives a task to exactly one of two simultaneous claimers', async () => {
    const [a, b] = await Promise.all([
      syncord(root, ['--as', 'instance-1', 'task', 'claim', 'task_002', '--force']),
      syncord(root, ['--as', 'instance-4', 'task', 'claim', 'task_002', '--force']),
    ]);
    assert.deepEqual([a.code, b.code].sort(), [0, 5], a.stderr + b.stderr);
    const winner = a.code === 0 ? 'instance-1' : 'instance-4';
    assert.match((a.code === 0 ? b : a).stderr, new RegExp(`task task_002 is already claimed by ${winner}`));
    const queue = read('task-queue.json');
    assert.deepEqual(queue.active_tasks.map((t: any) => [t.task_id, t.assigned_to]), [['task_001', 'instance-2'], ['task_002', winner]]);
  });

  it('refuses a hand-broken file with file:line:col and leaves its bytes unchanged', async () => {
    const broken = fs.readFileSync(file('communication-log.json'), 'utf8').replace('"from": "instance-2",', '"from": "instance-2"');
    fs.writeFileSync(file('communication-log.json'), broken);
    const r = await syncord(root, ['--as', 'instance-1', 'msg', 'send', '--to', 'instance-2', '--subject', 'hi', 'hello']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `syncord: error: ${file('communication-log.json')}:6:7: invalid JSON: expected a comma\n`);
    assert.equal(fs.readFileSync(file('communication-log.json'), 'utf8'), broken);
  });
});
