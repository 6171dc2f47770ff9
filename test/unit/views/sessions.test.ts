// The Sessions tree: a row per session with what its agent reports, the hand-overs its agent has not
// acknowledged under their session, the rest in a top-level group; what a click on each row runs; which
// reports of an agent waiting for the user are new.
import * as assert from 'node:assert/strict';
import { ClickCommand, ContextValue } from '../../../src/views/ids';
import { buildSessionsTree, newlyWaiting, sessionsViewDescription } from '../../../src/views/sessions';
import { handOver, session, sessionsSample } from './samples';

const NOW = Date.parse('2026-02-27T10:10:00Z');

describe('views: the sessions tree', () => {
  it('shows each session with runtime, state and task, and its menus by state, mode and window', () => {
    const s = sessionsSample();
    const tree = buildSessionsTree(s.sessions, s.undelivered, s.here);
    assert.deepEqual(
      tree.roots.map((n) => [n.label, n.description, n.contextValue]),
      [
        ['instance-1', 'claude · running · task_001', `${ContextValue.sessions.session}.running.terminal.here`],
        ['instance-2', 'claude · idle', `${ContextValue.sessions.session}.idle.headless`],
        ['instance-3', 'claude · exited (0)', `${ContextValue.sessions.session}.exited.terminal`],
        ['Not delivered', '1 hand-over to instances without a session', ContextValue.sessions.undeliveredGroup],
      ],
    );
    assert.deepEqual(tree.roots.map((n) => n.icon?.id), ['vm-running', 'debug-pause', 'circle-slash', 'warning']);
    assert.match(tree.roots[0].tooltip!(), /^mode: terminal "Syncord: instance-1" in this window$/m);
  });

  it('runs on click: the terminal of a session here, the log of a headless one, nothing for an exited one', () => {
    const s = sessionsSample();
    const [here, headless, exited] = buildSessionsTree(s.sessions, s.undelivered, s.here).roots;
    assert.deepEqual(here.click, { command: ClickCommand.focusSessionTerminal, title: 'Focus Terminal', with: 'node' });
    assert.deepEqual(headless.click, { command: ClickCommand.showSessionLog, title: 'Show Session Log', with: 'node' });
    assert.equal(exited.click, undefined);
    const elsewhere = buildSessionsTree(s.sessions, [], () => false).roots[0];
    assert.equal(elsewhere.contextValue, `${ContextValue.sessions.session}.running.terminal`);
    assert.equal(elsewhere.click, undefined);
  });

  it('shows a served session where it runs: its remote, its endpoint and heartbeat; a click opens its supervisor\'s log', () => {
    const served = session('dddddddd-4', {
      instance: 'api',
      runtime: 'opencode',
      mode: 'remote',
      remote: 'serve',
      host: '127.0.0.1',
      pid: null,
      endpoint: 'http://127.0.0.1:4096/session/ses_abc',
      agent_state: 'idle',
      current_task: null,
      log: '/ws/main/coordination/.syncord/sessions/dddddddd-4.log',
      updated: '2026-02-27T10:09:00Z',
    });
    const [row] = buildSessionsTree([served], [], () => false, undefined, () => NOW).roots;
    assert.equal(row.description, 'opencode on serve · running · idle');
    assert.equal(row.contextValue, `${ContextValue.sessions.session}.running.remote`);
    assert.deepEqual(row.click, { command: ClickCommand.showSessionLog, title: 'Show Session Log', with: 'node' });
    const tip = row.tooltip!();
    assert.match(tip, /^mode: remote serve$/m);
    assert.match(tip, /^endpoint: http:\/\/127\.0\.0\.1:4096\/session\/ses_abc \(on 127\.0\.0\.1\)$/m);
    assert.match(tip, /^heartbeat: 1m ago \(2026-02-27T10:09:00Z\)$/m);
    assert.doesNotMatch(tip, /working folder|process:/);
  });

  it('puts each undelivered hand-over under its session, else the instance\'s newest, else in "Not delivered"', () => {
    const s = sessionsSample();
    const tree = buildSessionsTree(s.sessions, s.undelivered, s.here);
    assert.deepEqual(
      tree.children('session:aaaaaaaa-1').map((n) => [n.label, n.description, n.contextValue]),
      [['Work msg_010', 'pending to type into its terminal · msg_010', `${ContextValue.sessions.delivery}.pending`]],
    );
    assert.deepEqual(
      tree.children('session:bbbbbbbb-2').map((n) => [n.label, n.description, n.icon?.id, n.contextValue]),
      [
        ['Work msg_011', 'not delivered · msg_011', 'warning', `${ContextValue.sessions.delivery}.failed`],
        ['Work msg_013', 'delivered, not acknowledged · msg_013', 'mail-read', `${ContextValue.sessions.delivery}.delivered`],
      ],
    );
    assert.deepEqual(tree.children('sessions:undelivered').map((n) => n.id), ['delivery:msg_012:instance-9']);
    assert.equal(tree.parent('delivery:msg_012:instance-9')?.id, 'sessions:undelivered');
    assert.equal(tree.get('session:aaaaaaaa-1')?.collapsible, 'expanded');
    assert.equal(tree.get('session:cccccccc-3')?.collapsible, 'none');
  });

  it('shows a sessions.json that cannot be read as a row that opens the file', () => {
    const tree = buildSessionsTree([], [], () => false, { message: 'sessions.json cannot be read: bad JSON', file: '/ws/coordination/sessions.json' });
    assert.deepEqual(tree.roots.map((n) => [n.label, n.contextValue]), [['sessions.json cannot be read: bad JSON', ContextValue.sessions.error]]);
    assert.deepEqual(tree.roots[0].click, { command: ClickCommand.openFile, title: 'Open File', with: { file: '/ws/coordination/sessions.json' } });
  });

  it('says in the view description how many sessions are live', () => {
    assert.equal(sessionsViewDescription(undefined), undefined);
    assert.equal(sessionsViewDescription([]), undefined);
    assert.equal(sessionsViewDescription([session('a'), session('b', { state: 'exited' })]), '1 live');
  });

  it('says what each live agent reports of itself, with a bell for one waiting for the user', () => {
    const sessions = [
      session('a-busy', { instance: 'i-busy', agent_state: 'busy', agent_state_at: '2026-02-27T10:08:00Z', current_task: 'task_004' }),
      session('b-idle', { instance: 'i-idle', agent_state: 'idle', agent_state_at: '2026-02-27T10:09:30Z', current_task: null }),
      session('c-wait', { instance: 'i-wait', agent_state: 'waiting', agent_state_at: '2026-02-27T10:07:00Z', current_task: null, agent_session: 'ses_42' }),
      session('d-silent', { instance: 'i-silent', current_task: null }),
      session('e-headless', { instance: 'i-headless', mode: 'headless', state: 'idle', agent_state: 'idle', current_task: null }),
      session('f-odd', { instance: 'i-odd', agent_state: 'thinking', current_task: null }),
      session('g-exited', { instance: 'i-exited', state: 'exited', exit_code: 0, agent_state: 'waiting', agent_state_at: '2026-02-27T10:00:00Z' }),
    ];
    const tree = buildSessionsTree(sessions, [], () => false, undefined, () => NOW);
    assert.deepEqual(
      tree.roots.map((n) => [n.label, n.description, n.icon?.id, n.icon?.color]),
      [
        ['i-busy', 'claude · running · busy · task_004', 'vm-running', 'charts.green'],
        ['i-idle', 'claude · running · idle', 'vm-running', 'charts.green'],
        ['i-wait', 'claude · running · waiting for your input', 'bell', 'charts.yellow'],
        ['i-silent', 'claude · running', 'vm-running', 'charts.green'],
        ['i-headless', 'claude · idle', 'debug-pause', 'charts.blue'],
        ['i-odd', 'claude · running', 'vm-running', 'charts.green'],
        ['i-exited', 'claude · exited (0)', 'circle-slash', 'disabledForeground'],
      ],
    );
    // The menus do not depend on what the agent says.
    assert.equal(tree.roots[2].contextValue, `${ContextValue.sessions.session}.running.terminal`);
    const tip = (i: number) => tree.roots[i].tooltip!().split('\n');
    assert.equal(tip(0)[1], 'agent: busy (reported 2m ago, at 2026-02-27T10:08:00Z)');
    assert.equal(tip(2)[1], 'agent: waiting for your input (reported 3m ago, at 2026-02-27T10:07:00Z)');
    assert.ok(tip(2).includes("agent's conversation: ses_42"));
    assert.equal(tip(3)[1], 'agent: has not reported its state yet');
    assert.equal(tip(5)[1], 'agent: reported an unknown state "thinking"');
    assert.ok(!tip(6).some((l) => l.startsWith('agent:')), 'an exited session says nothing of its agent');
  });

  it("shows a hand-over delivered but not acknowledged with when it was delivered and that the agent has not acted on it", () => {
    const s = sessionsSample();
    const node = buildSessionsTree(s.sessions, s.undelivered, s.here, undefined, () => NOW).get('delivery:msg_013:instance-2')!;
    assert.deepEqual(node.icon, { id: 'mail-read', color: 'charts.orange' });
    assert.deepEqual(node.tooltip!().split('\n'), [
      'msg_013 to instance-2: delivered 5m ago (2026-02-27T10:05:00Z); its agent has not acted on it yet (no syncord command about it)',
      'session: bbbbbbbb-2',
      'prompt: Do it',
    ]);
    const failed = buildSessionsTree(s.sessions, s.undelivered, s.here).get('delivery:msg_011:instance-2')!;
    assert.deepEqual(failed.tooltip!().split('\n').slice(0, 2), ['msg_011 to instance-2: failed after 2 attempts', 'why: no live session']);
  });

  it('calls the group of hand-overs without a session "Not acknowledged" when one of them was delivered', () => {
    const tree = buildSessionsTree([], [handOver('msg_030', { instance: 'gone', session: 'cleared-1', status: 'delivered' }), handOver('msg_031', { instance: 'gone', status: 'failed' })], () => false);
    assert.deepEqual(tree.roots.map((n) => [n.id, n.label, n.description]), [['sessions:undelivered', 'Not acknowledged', '2 hand-overs to instances without a session']]);
    assert.deepEqual(tree.children('sessions:undelivered').map((n) => n.description), ['delivered, not acknowledged · msg_030', 'not delivered · msg_031']);
  });

  describe('agents waiting for the user', () => {
    const waiting = (id: string, at: string | null, extra = {}) => session(id, { instance: `i-${id}`, agent_state: 'waiting', agent_state_at: at, ...extra });

    it('announces a waiting report once, and again only after a new report', () => {
      const first = newlyWaiting([waiting('a', '2026-02-27T10:00:00Z'), session('b', { agent_state: 'busy' })], new Set());
      assert.deepEqual(first.fresh.map((r) => [r.session.instance, r.key]), [['i-a', 'a@2026-02-27T10:00:00Z']]);

      // sessions.json reloads for another reason: the same report is not new.
      const same = newlyWaiting([waiting('a', '2026-02-27T10:00:00Z'), session('b', { agent_state: 'idle' })], first.seen);
      assert.deepEqual(same.fresh, []);

      // The user answered; the agent worked, then asked again.
      const busy = newlyWaiting([session('a', { agent_state: 'busy', agent_state_at: '2026-02-27T10:01:00Z' })], same.seen);
      assert.deepEqual(busy.fresh, []);
      assert.equal(busy.seen.size, 0);
      const again = newlyWaiting([waiting('a', '2026-02-27T10:02:00Z')], busy.seen);
      assert.deepEqual(again.fresh.map((r) => r.key), ['a@2026-02-27T10:02:00Z']);
    });

    it('announces several sessions at once, and never an exited session or a state it does not know', () => {
      const r = newlyWaiting(
        [
          waiting('a', '2026-02-27T10:00:00Z'),
          waiting('b', null),
          waiting('c', '2026-02-27T10:00:00Z', { state: 'exited' }),
          session('d', { agent_state: 'WAITING' }),
        ],
        new Set(['a@2026-02-27T09:00:00Z']),
      );
      assert.deepEqual(r.fresh.map((x) => x.session.instance), ['i-a', 'i-b']);
      assert.deepEqual([...r.seen], ['a@2026-02-27T10:00:00Z', 'b@']);
    });
  });
});
