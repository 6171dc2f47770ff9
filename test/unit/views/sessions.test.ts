// The Sessions tree: a row per session, the hand-overs that did not arrive under their session, the rest in
// a "Not delivered" group; what a click on each row runs.
import * as assert from 'node:assert/strict';
import { ClickCommand, ContextValue } from '../../../src/views/ids';
import { buildSessionsTree, sessionsViewDescription, undeliveredIn } from '../../../src/views/sessions';
import { handOver, session, sessionsSample } from './samples';

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

  it('puts each undelivered hand-over under its session, else the instance\'s newest, else in "Not delivered"', () => {
    const s = sessionsSample();
    const tree = buildSessionsTree(s.sessions, s.undelivered, s.here);
    assert.deepEqual(
      tree.children('session:aaaaaaaa-1').map((n) => [n.label, n.description, n.contextValue]),
      [['Work msg_010', 'pending to type into its terminal · msg_010', `${ContextValue.sessions.delivery}.pending`]],
    );
    assert.deepEqual(
      tree.children('session:bbbbbbbb-2').map((n) => [n.label, n.description, n.icon?.id]),
      [['Work msg_011', 'not delivered · msg_011', 'warning']],
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

  it('lists as undelivered only the latest attempt per instance that is not delivered', () => {
    const m = handOver('msg_020', { instance: 'instance-1' }).message;
    const d = (instance: string, status: 'pending' | 'delivered' | 'failed') => ({ session: null, instance, via: null, status, attempts: 1, updated: '2026-02-27T10:00:00Z', prompt: 'p' });
    Object.assign(m, { deliveries: [d('instance-1', 'failed'), d('instance-1', 'delivered'), d('instance-2', 'pending')] });
    assert.deepEqual(undeliveredIn([m]).map((u) => [u.delivery.instance, u.delivery.status]), [['instance-2', 'pending']]);
  });

  it('says in the view description how many sessions are live', () => {
    assert.equal(sessionsViewDescription(undefined), undefined);
    assert.equal(sessionsViewDescription([]), undefined);
    assert.equal(sessionsViewDescription([session('a'), session('b', { state: 'exited' })]), '1 live');
  });
});
