/**
 * The Sessions tree: one node per agent session (state, runtime, instance, current task) with the hand-overs
 * that did not reach it as children. Built from the session records and the message log; the extension only
 * adapts it to the editor.
 */
import type { Message } from '../core/coordination/schemas';
import { DeliveryRecord, deliveriesOf } from '../core/sessions/deliveryLog';
import type { SessionView } from '../core/sessions/sessions';
import { ClickCommand, ContextValue } from './ids';
import { NodeIcon, TreeModel, ViewNode } from './tree';

const SessionContextValue = ContextValue.sessions;

export type SessionNodeKind = 'session' | 'delivery' | 'group' | 'error';

export interface SessionNode extends ViewNode {
  kind: SessionNodeKind;
  tooltip?: () => string;
  session?: SessionView;
  delivery?: { messageId: string; subject: string; record: DeliveryRecord };
}

export type SessionsTree = TreeModel<SessionNode>;

export interface Undelivered {
  message: Message;
  delivery: DeliveryRecord;
}

/** The hand-overs whose latest attempt per instance is not delivered (pending or failed), newest first. */
export function undeliveredIn(messages: readonly Message[]): Undelivered[] {
  const out: Undelivered[] = [];
  for (const m of messages) {
    const list = deliveriesOf(m);
    if (!list.length) continue;
    const latest = new Map<string, DeliveryRecord>();
    for (const d of list) latest.set(d.instance, d);
    for (const d of latest.values()) if (d.status !== 'delivered') out.push({ message: m, delivery: d });
  }
  return out.reverse();
}

const STATE_ICONS: Record<string, NodeIcon> = {
  spawning: { id: 'loading~spin' },
  running: { id: 'vm-running', color: 'charts.green' },
  idle: { id: 'debug-pause', color: 'charts.blue' },
  exited: { id: 'circle-slash', color: 'disabledForeground' },
};

export function sessionNodeId(sessionId: string): string {
  return `session:${sessionId}`;
}

export function deliveryNodeId(messageId: string, instance: string): string {
  return `delivery:${messageId}:${instance}`;
}

/** `exited (0)`, or the state as recorded. */
export function stateText(s: SessionView): string {
  return s.state === 'exited' && s.exit_code != null ? `exited (${s.exit_code})` : s.state;
}

function sessionNode(s: SessionView, here: boolean, hasChildren: boolean): SessionNode {
  const live = s.state !== 'exited';
  const parts = [s.runtime, stateText(s)];
  if (live && s.current_task) parts.push(s.current_task);
  return {
    id: sessionNodeId(s.session_id),
    kind: 'session',
    label: s.instance,
    description: parts.join(' · '),
    icon: STATE_ICONS[s.state] ?? { id: 'question' },
    contextValue: `${SessionContextValue.session}.${s.state}.${s.mode}${here ? '.here' : ''}`,
    collapsible: hasChildren ? 'expanded' : 'none',
    click:
      s.mode === 'terminal' && here
        ? { command: ClickCommand.focusSessionTerminal, title: 'Focus Terminal', with: 'node' }
        : s.mode === 'headless' && s.log
          ? { command: ClickCommand.showSessionLog, title: 'Show Session Log', with: 'node' }
          : undefined,
    session: s,
    tooltip: () =>
      [
        `${s.instance} — ${s.runtime}, ${stateText(s)}${s.instance_status ? ` (instance ${s.instance_status})` : ''}`,
        `session: ${s.session_id}`,
        s.current_task ? `current task: ${s.current_task}` : '',
        `mode: ${s.mode === 'terminal' ? `terminal${s.terminal ? ` "${s.terminal}"` : ''}${here ? ' in this window' : ''}` : 'headless'}`,
        `working folder: ${s.cwd}`,
        s.worktree ? `worktree: ${s.worktree}` : '',
        s.pid != null ? `process: ${s.pid}${s.agent_pid != null ? ` (agent ${s.agent_pid})` : ''} on ${s.host}` : '',
        s.log ? `log: ${s.log}` : '',
        `started: ${s.started}`,
        s.ended ? `ended: ${s.ended}` : '',
        s.end_reason ? `exit reason: ${s.end_reason}` : '',
      ]
        .filter(Boolean)
        .join('\n'),
  };
}

function deliveryNode(u: Undelivered, parentId: string): SessionNode {
  const d = u.delivery;
  const failed = d.status === 'failed';
  const how = d.via === 'terminal' ? 'to type into its terminal' : d.via === 'prompt' ? 'as a prompt' : '';
  return {
    id: deliveryNodeId(u.message.message_id, d.instance),
    kind: 'delivery',
    parentId,
    label: u.message.subject,
    description: [failed ? 'not delivered' : `pending${how ? ` ${how}` : ''}`, u.message.message_id].join(' · '),
    icon: failed ? { id: 'warning', color: 'list.warningForeground' } : { id: 'clock' },
    contextValue: `${SessionContextValue.delivery}.${d.status}`,
    collapsible: 'none',
    delivery: { messageId: u.message.message_id, subject: u.message.subject, record: d },
    tooltip: () =>
      [
        `${u.message.message_id} to ${d.instance}: ${d.status}${d.attempts ? ` after ${d.attempts} attempt${d.attempts > 1 ? 's' : ''}` : ''}`,
        d.error ? `why: ${d.error}` : '',
        d.session ? `session: ${d.session}` : 'no live session at the time',
        `updated: ${d.updated}`,
        `prompt: ${d.prompt}`,
      ]
        .filter(Boolean)
        .join('\n'),
  };
}

/**
 * Builds the tree. Each undelivered hand-over goes under its session, else under the newest session of its
 * instance, else under a top-level "Not delivered" group (no session of that instance is known).
 * `here(sessionId)` says whether the session's terminal is open in this window.
 */
export function buildSessionsTree(
  sessions: readonly SessionView[],
  undelivered: readonly Undelivered[],
  here: (sessionId: string) => boolean,
  error?: { message: string; file: string },
): SessionsTree {
  const tree: SessionsTree = new TreeModel();
  if (error) {
    tree.add({
      id: 'sessions:error',
      kind: 'error',
      label: error.message,
      contextValue: SessionContextValue.error,
      collapsible: 'none',
      icon: { id: 'error', color: 'errorForeground' },
      click: { command: ClickCommand.openFile, title: 'Open File', with: { file: error.file } },
      tooltip: () => error.message,
    });
  }
  const homeOf = (d: DeliveryRecord): string | undefined => {
    const own = d.session ? sessions.find((s) => s.session_id === d.session) : undefined;
    // Sessions come newest first; an instance's newest session takes what has no session of its own.
    const s = own ?? sessions.find((x) => x.instance === d.instance);
    return s && sessionNodeId(s.session_id);
  };
  const placed = undelivered.map((u) => ({ u, home: homeOf(u.delivery) }));
  const withChildren = new Set(placed.map((p) => p.home).filter((h): h is string => Boolean(h)));
  for (const s of sessions) tree.add(sessionNode(s, here(s.session_id), withChildren.has(sessionNodeId(s.session_id))));
  const orphans = placed.filter((p) => !p.home);
  for (const p of placed) if (p.home) tree.add(deliveryNode(p.u, p.home));
  if (orphans.length) {
    const group: SessionNode = {
      id: 'sessions:undelivered',
      kind: 'group',
      label: 'Not delivered',
      description: `${orphans.length} hand-over${orphans.length > 1 ? 's' : ''} to instances without a session`,
      icon: { id: 'warning', color: 'list.warningForeground' },
      contextValue: SessionContextValue.undeliveredGroup,
      collapsible: 'expanded',
      tooltip: () => 'Work handed to instances that had no live session. Spawn a session for the instance, then resend.',
    };
    tree.add(group);
    for (const p of orphans) tree.add(deliveryNode(p.u, group.id));
  }
  return tree;
}

/** The Sessions view's description beside its title: how many sessions are live, when there are any. */
export function sessionsViewDescription(sessions: readonly SessionView[] | undefined): string | undefined {
  const list = sessions ?? [];
  return list.length ? `${list.filter((s) => s.state !== 'exited').length} live` : undefined;
}
