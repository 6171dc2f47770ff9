import * as assert from 'node:assert/strict';
import { CommunicationLog, Message } from '../../../src/core/coordination/schemas';
import { unreadFor } from '../../../src/core/coordination/messages';
import { buildThreads, filterThreads } from '../../../src/core/coordination/threads';
import { buildTreeModel, CoordinationNode as ViewNode, CoordinationTree as TreeModel, coordinationTreeMessage, GROUP_IDS } from '../../../src/views/coordination';
import { coordinationStatusBarView } from '../../../src/views/statusBar';
import { ClickCommand, ContextValue as AllContextValues } from '../../../src/views/ids';
import { threadPage } from '../../../src/views/messageLog';
import { readSeed, seed } from './samples';

const ContextValue = AllContextValues.coordination;

const NOW = Date.parse('2024-01-15T12:00:00Z');
const read = readSeed;

function labels(model: TreeModel, id: string): string[] {
  return model.children(id).map((n) => n.label);
}

function find(model: TreeModel, id: string): ViewNode {
  const n = model.get(id);
  assert.ok(n, `no node ${id}`);
  return n;
}

describe('coordination tree model', () => {
  it('shows the seed instances with role, current task, last check-in and availability', () => {
    const m = buildTreeModel(seed(), { now: NOW });
    assert.deepEqual(m.roots.map((r) => r.label), ['Instances', 'Tasks', 'Decisions']);
    assert.deepEqual(labels(m, GROUP_IDS.instances), ['instance-1', 'instance-2', 'instance-3', 'instance-4', 'instance-5', 'instance-6']);
    const i2 = find(m, 'instance:instance-2');
    assert.equal(i2.description, 'documentation-strategy · coordination-system-design · checked in 45m ago · available');
    assert.equal(i2.icon?.id, 'circle-filled');
    const i3 = find(m, 'instance:instance-3');
    assert.equal(i3.description, 'frontend-ux · never checked in');
    assert.equal(i3.icon?.id, 'clock');
  });

  it('marks an active instance stale once its last check-in is older than the threshold', () => {
    const later = Date.parse('2024-01-16T11:00:00Z');
    const m = buildTreeModel(seed(), { now: later });
    // instance-1 checked in 10:30 the day before (24.5 h), instance-2 at 11:15 (23.75 h).
    assert.equal(find(m, 'instance:instance-1').label, 'instance-1 (stale)');
    assert.equal(find(m, 'instance:instance-1').icon?.id, 'warning');
    assert.equal(find(m, 'instance:instance-2').label, 'instance-2');
    assert.equal(find(m, GROUP_IDS.instances).description, '6 · 1 stale');
    assert.match(find(m, 'instance:instance-1').tooltip?.() ?? '', /^Status: active — no check-in for over 24h$/m);
    const strict = buildTreeModel(seed(), { now: later, staleAfterMs: 3_600_000 });
    assert.equal(find(strict, 'instance:instance-2').label, 'instance-2 (stale)');
  });

  it('groups tasks into Active, Pending and Completed with assignee, priority, due and blockers as children', () => {
    const m = buildTreeModel(seed(), { now: NOW });
    assert.deepEqual(labels(m, GROUP_IDS.tasks), ['Active', 'Pending', 'Completed']);
    assert.deepEqual(labels(m, GROUP_IDS.active), ['task_001 Design BikeNode AI Agent Architecture']);
    assert.deepEqual(labels(m, GROUP_IDS.pending), ['task_002 Implement Backend API for Agent Coordination', 'task_003 Design Agent UI/UX Interface']);
    assert.deepEqual(labels(m, GROUP_IDS.completed), []);
    const t1 = find(m, 'task:task_001');
    assert.equal(t1.description, 'instance-2 · high · due in 6h');
    assert.equal(t1.collapsible, 'none');
    const t3 = find(m, 'task:task_003');
    assert.equal(t3.description, 'unassigned (suggested instance-3) · medium · due in 2d 6h · blocked by task_001, task_002');
    assert.equal(t3.collapsible, 'collapsed');
    assert.deepEqual(labels(m, t3.id), ['task_001 Design BikeNode AI Agent Architecture', 'task_002 Implement Backend API for Agent Coordination']);
    assert.equal(m.children(t3.id)[0].description, 'blocks · in_progress · instance-2');
    assert.deepEqual(t3.jsonPath, ['pending_tasks', 1]);
    assert.equal(t3.contextValue, `${ContextValue.task}.pending_assignment.unassigned.blocked`);
  });

  it('marks overdue tasks and the tasks of the user', () => {
    const m = buildTreeModel(seed(), { now: Date.parse('2024-01-15T20:00:00Z'), me: 'instance-2' });
    const t1 = find(m, 'task:task_001');
    assert.match(t1.description ?? '', /overdue 2h/);
    assert.equal(t1.icon?.color, 'list.warningForeground');
    assert.equal(t1.contextValue, `${ContextValue.task}.in_progress.mine`);
    assert.equal(find(m, 'instance:instance-2').label, 'instance-2 (you)');
    assert.equal(find(m, 'instance:instance-2').contextValue, ContextValue.instanceMe);
  });

  it('shows pending decisions with options, pros, cons and missing input, and decided ones with rationale', () => {
    const m = buildTreeModel(seed(), { now: NOW, me: 'instance-1' });
    const d2 = find(m, 'decision:dec_002');
    assert.equal(d2.label, 'dec_002 Agent Communication Protocol');
    assert.equal(d2.description, '2 options · input needed from instance-1, instance-3 · deadline in 4h');
    assert.equal(d2.contextValue, `${ContextValue.pendingDecision}.needsMyInput`);
    assert.deepEqual(labels(m, d2.id), ['REST API', 'GraphQL Federation', 'Input still needed from']);
    const rest = m.children(d2.id)[0];
    assert.deepEqual(
      m.children(rest.id).map((n) => `${n.description}: ${n.label}`),
      ['pro: Simple', 'pro: Well understood', 'pro: Easy to debug', 'con: Multiple endpoints', 'con: Overfetching potential'],
    );
    assert.equal(m.children(d2.id)[2].description, 'instance-1, instance-3');
    const d1 = find(m, 'decided:dec_001');
    assert.deepEqual(
      m.children(d1.id).map((n) => `${n.label} ${n.description}`),
      [
        'Decision: Use shared JSON files in /coordination/ directory for instance coordination',
        'Rationale: Enables asynchronous coordination within Claude Code constraints',
        'Affects: all',
      ],
    );
  });

  it('lists given input and drops the instance from "still needed"', () => {
    const snap = seed();
    if (snap.decisions.state !== 'ok') throw new Error('fixture');
    const d = snap.decisions.value.pending_decisions[0];
    d.inputs = [{ from: 'instance-1', option: 'REST API', comment: 'Simpler to operate', date: '2024-01-15T11:40:00Z' }];
    const m = buildTreeModel(snap, { now: NOW });
    assert.equal(find(m, 'decision:dec_002').description, '2 options · input needed from instance-3 · deadline in 4h');
    const kids = m.children('decision:dec_002');
    assert.deepEqual(kids.slice(2).map((n) => `${n.label}|${n.description}`), ['Input still needed from|instance-3', 'instance-1 prefers REST API|Simpler to operate']);
  });

  it('gives every node a stable id and a parent for reveal', () => {
    const a = buildTreeModel(seed(), { now: NOW });
    const b = buildTreeModel(seed(), { now: NOW + 60_000 });
    const ids = (m: TreeModel) => {
      const out: string[] = [];
      const walk = (n: ViewNode) => {
        out.push(n.id);
        m.children(n.id).forEach(walk);
      };
      m.roots.forEach(walk);
      return out;
    };
    assert.deepEqual(ids(a), ids(b));
    assert.equal(new Set(ids(a)).size, ids(a).length);
    const dep = find(a, 'dep:task_003/task_001');
    assert.deepEqual(
      [a.parent(dep.id)?.id, a.parent('task:task_003')?.id, a.parent(GROUP_IDS.pending)?.id, a.parent(GROUP_IDS.tasks)],
      ['task:task_003', GROUP_IDS.pending, GROUP_IDS.tasks, undefined],
    );
  });

  it('keeps ids unique when a hand-edited file repeats a task id', () => {
    const snap = seed();
    if (snap.tasks.state !== 'ok') throw new Error('fixture');
    snap.tasks.value.completed_tasks.push({ ...snap.tasks.value.active_tasks[0], status: 'completed' });
    const m = buildTreeModel(snap, { now: NOW });
    assert.deepEqual(m.children(GROUP_IDS.completed).map((n) => n.id), ['task:task_001#2']);
  });

  it('shows one error node with line:col for a file that does not parse, and the rest of the tree', () => {
    const snap = seed();
    snap.tasks = { state: 'invalid', file: '/ws/coordination/task-queue.json', message: "invalid JSON: expected a comma", line: 7, column: 5 };
    const m = buildTreeModel(snap, { now: NOW });
    const kids = m.children(GROUP_IDS.tasks);
    assert.equal(kids.length, 1);
    assert.equal(kids[0].kind, 'error');
    assert.equal(kids[0].label, 'task-queue.json:7:5');
    assert.equal(kids[0].description, 'invalid JSON: expected a comma');
    assert.deepEqual(kids[0].location, { file: '/ws/coordination/task-queue.json', line: 7, column: 5 });
    assert.deepEqual(kids[0].click, { command: ClickCommand.openCoordinationFileAt, title: 'Open at Problem', with: 'node' });
    assert.deepEqual(kids[0].icon, { id: 'error', color: 'list.errorForeground' });
    assert.equal(m.children(GROUP_IDS.instances).length, 6);
  });

  it('shows a broken message log as an error node too', () => {
    const snap = seed();
    snap.messages = { state: 'invalid', file: '/ws/coordination/communication-log.json', message: 'messages[0]: missing required property "from"', line: 3, column: 5 };
    const m = buildTreeModel(snap, { now: NOW });
    assert.deepEqual(m.roots.map((r) => r.label), ['Instances', 'Tasks', 'Decisions', 'Message Log']);
    assert.deepEqual(labels(m, 'group:messages'), ['communication-log.json:3:5']);
  });

  it('offers to create a missing file with a click, and says above the tree how many files cannot be read', () => {
    const snap = seed();
    snap.decisions = { state: 'missing', file: '/ws/coordination/decisions.json' };
    const [missing] = buildTreeModel(snap, { now: NOW }).children(GROUP_IDS.decisions);
    assert.deepEqual([missing.label, missing.description, missing.contextValue], ['decisions.json is missing', 'Initialize Coordination creates it', ContextValue.fileMissing]);
    assert.deepEqual(missing.click, { command: ClickCommand.initCoordination, title: 'Initialize Coordination', with: 'nothing' });
    assert.equal(coordinationTreeMessage(snap), undefined);
    snap.tasks = { state: 'invalid', file: '/ws/coordination/task-queue.json', message: 'bad', line: 1, column: 1 };
    assert.equal(coordinationTreeMessage(snap), '1 coordination file cannot be read; see below.');
    snap.registry = { state: 'invalid', file: '/ws/coordination/instance-registry.json', message: 'bad', line: 1, column: 1 };
    assert.equal(coordinationTreeMessage(snap), '2 coordination files cannot be read; see below.');
  });

  it('shows the messages waiting for the user and the problems in the status bar, hidden without a folder', () => {
    const snap = seed();
    const v = coordinationStatusBarView(snap, { me: 'instance-1', problems: 0, brokenFiles: 0, busy: false });
    // Syncord's name first, so it is not read as VS Code's own error and warning counts; zeros are left out.
    assert.equal(v.text, '$(comment-discussion) Syncord: 1 unread');
    assert.equal(v.tooltip, '1 message waiting for instance-1\nNo coordination problems\n\nClick to open the Message Log');
    assert.equal(v.accessibilityLabel, 'Syncord coordination. 1 message waiting for instance-1. No coordination problems. Activate to open the Message Log.');
    assert.equal(v.backgroundColor, undefined);
    const busy = coordinationStatusBarView(snap, { me: undefined, problems: 2, brokenFiles: 1, busy: true });
    assert.equal(busy.text, '$(sync~spin) Syncord: 2 issues');
    assert.match(busy.tooltip, /^Writing coordination files…\nSet syncord.instanceId to see the messages waiting for you\n2 coordination problems/);
    assert.equal(busy.backgroundColor, 'statusBarItem.errorBackground');
    assert.equal(coordinationStatusBarView({ ...snap, exists: false }, { problems: 0, brokenFiles: 0, busy: false }).visible, false);
  });

  it('has no nodes without a coordination folder (the welcome view shows)', () => {
    const snap = seed();
    snap.exists = false;
    assert.equal(buildTreeModel(snap, { now: NOW }).roots.length, 0);
  });
});

function msg(id: string, extra: Partial<Message> = {}): Message {
  return {
    message_id: id,
    from: 'instance-2',
    to: 'instance-1',
    type: 'info',
    timestamp: '2024-01-15T11:00:00Z',
    subject: `Subject ${id}`,
    message: `Body ${id}`,
    status: 'sent',
    ...extra,
  };
}

describe('message log threads', () => {
  it('groups replies (and replies to replies) under their first message, oldest first', () => {
    const log = read<CommunicationLog>('communication-log.json').value;
    log.messages.push(
      msg('msg_002', { from: 'instance-1', to: 'instance-2', in_reply_to: 'msg_001', timestamp: '2024-01-15T11:50:00Z', subject: 'Re: API Design' }),
      msg('msg_003', { timestamp: '2024-01-15T11:30:00Z' }),
      msg('msg_004', { from: 'instance-2', to: 'instance-1', in_reply_to: 'msg_002', timestamp: '2024-01-15T11:55:00Z' }),
    );
    const threads = filterThreads(buildThreads(log), {});
    assert.deepEqual(threads.map((t) => [t.root.message_id, t.replies.map((r) => r.message_id)]), [
      ['msg_001', ['msg_002', 'msg_004']],
      ['msg_003', []],
    ]);
  });

  it('survives reply cycles and unknown parents', () => {
    const log: CommunicationLog = {
      messages: [msg('msg_001', { in_reply_to: 'msg_002' }), msg('msg_002', { in_reply_to: 'msg_001' }), msg('msg_003', { in_reply_to: 'msg_999' })],
      response_queue: [],
    };
    const threads = buildThreads(log);
    const all = threads.flatMap((t) => [t.root, ...t.replies].map((m) => m.message_id)).sort();
    assert.deepEqual(all, ['msg_001', 'msg_002', 'msg_003']);
    assert.ok(threads.some((t) => t.root.message_id === 'msg_003'));
  });

  it('filters by instance, status and text', () => {
    const log: CommunicationLog = {
      messages: [
        msg('msg_001', { status: 'pending_response', requires_response: true }),
        msg('msg_002', { from: 'instance-3', to: 'instance-4', status: 'closed', subject: 'Deploy window' }),
        msg('msg_003', { from: 'instance-5', to: 'all', subject: 'Freeze' }),
      ],
      response_queue: [],
    };
    const ids = (f: Parameters<typeof filterThreads>[1]) => filterThreads(buildThreads(log), f).map((t) => t.root.message_id).sort();
    assert.deepEqual(ids({ instance: 'instance-1' }), ['msg_001', 'msg_003']);
    assert.deepEqual(ids({ instance: 'instance-4' }), ['msg_002', 'msg_003']);
    assert.deepEqual(ids({ status: 'waiting' }), ['msg_001']);
    assert.deepEqual(ids({ status: 'closed' }), ['msg_002']);
    assert.deepEqual(ids({ status: 'open' }), ['msg_001', 'msg_003']);
    assert.deepEqual(ids({ text: 'deploy' }), ['msg_002']);
    assert.deepEqual(ids({ text: 'INSTANCE-5' }), ['msg_003']);
  });

  it('counts the messages waiting for me like `syncord inbox` does', () => {
    const log: CommunicationLog = {
      messages: [
        msg('msg_001', { status: 'pending_response' }),
        msg('msg_002', { status: 'sent' }),
        msg('msg_003', { status: 'acknowledged' }),
        msg('msg_004', { to: 'all', from: 'instance-3' }),
        msg('msg_005', { to: 'all', from: 'instance-3', acknowledged_by: ['instance-1'] }),
        msg('msg_006', { to: 'all', from: 'instance-1' }),
        msg('msg_007', { to: 'instance-4' }),
      ],
      response_queue: [],
    };
    assert.deepEqual(unreadFor(log, 'instance-1').map((m) => m.message_id), ['msg_001', 'msg_002', 'msg_004']);
    assert.deepEqual(unreadFor(log, undefined), []);
  });

  it('pages threads newest first and says what the user may do with each', () => {
    const messages: Message[] = [];
    for (let i = 1; i <= 120; i++) {
      const ts = new Date(Date.parse('2024-01-15T00:00:00Z') + i * 60_000).toISOString();
      messages.push(msg(`msg_${String(i).padStart(3, '0')}`, { timestamp: ts, status: i === 120 ? 'pending_response' : 'sent', requires_response: i === 120 }));
    }
    const threads = buildThreads({ messages, response_queue: [] });
    const first = threadPage(threads, {}, 0, 50, { now: Date.parse('2024-01-15T04:00:00Z'), me: 'instance-1', totalMessages: 120, replace: true });
    assert.equal(first.total, 120);
    assert.equal(first.threads.length, 50);
    assert.equal(first.threads[0].id, 'msg_120');
    assert.equal(first.threads[0].waiting, true);
    assert.equal(first.threads[0].waitingAge, '2h');
    assert.equal(first.threads[0].root.age, '2h ago');
    assert.equal(first.threads[0].root.canReply, true);
    assert.equal(first.threads[0].root.canAck, false);
    assert.equal(first.threads[1].root.canAck, true);
    assert.equal(first.threads[0].canClose, false);
    const last = threadPage(threads, {}, 100, 50, { now: NOW, me: 'instance-2', totalMessages: 120, replace: false });
    assert.deepEqual([last.offset, last.threads.length, last.threads[19].id], [100, 20, 'msg_001']);
    assert.equal(last.threads[0].canClose, true);
    assert.equal(last.threads[0].root.canReply, false);
  });
});
