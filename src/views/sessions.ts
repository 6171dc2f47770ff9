/**
 * The Sessions tree: one node per agent session (runtime, state, what its agent reports of itself, current task)
 * with the hand-overs its agent has not acknowledged as children. Built from the session records and the message
 * log; the extension only adapts it to the editor.
 */
import { DeliveryRecord, HandOver } from '../core/sessions/deliveryLog';
import { AGENT_STATES, AgentState, SessionRecord } from '../core/sessions/schema';
import type { SessionView } from '../core/sessions/sessions';
import { ClickCommand, ContextValue } from './ids';
import { relativeTime } from './time';
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

/** What the agent of a session last reported of itself, when the session is live and the report is one Syncord knows. */
export function agentStateOf(s: Pick<SessionRecord, 'state' | 'agent_state'>): AgentState | undefined {
  if (s.state === 'exited') return undefined;
  return (AGENT_STATES as readonly string[]).includes(s.agent_state ?? '') ? (s.agent_state as AgentState) : undefined;
}

/** The agent state in words: `busy`, `idle`, `waiting for your input`. */
export function agentStateWords(state: AgentState): string {
  return state === 'waiting' ? 'waiting for your input' : state;
}

/** A live session whose agent reported that it waits for the user, keyed by the report (session id and its time). */
export interface WaitingReport {
  key: string;
  session: SessionRecord;
}

/**
 * The waiting reports in `sessions` that were not in `seen` (the keys of the last call), and the keys to pass
 * next time. A report is announced once: the same session waiting with the same `agent_state_at` is not new,
 * a new report after the agent was busy again is. Only live sessions count.
 */
export function newlyWaiting(sessions: readonly SessionRecord[], seen: ReadonlySet<string>): { fresh: WaitingReport[]; seen: Set<string> } {
  const now = new Set<string>();
  const fresh: WaitingReport[] = [];
  for (const s of sessions) {
    if (agentStateOf(s) !== 'waiting') continue;
    const key = `${s.session_id}@${s.agent_state_at ?? ''}`;
    if (now.has(key)) continue;
    now.add(key);
    if (!seen.has(key)) fresh.push({ key, session: s });
  }
  return { fresh, seen: now };
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

/**
 * `exited (0)`, `unreachable` (a remote session whose heartbeat is older than 3 intervals, as of the listing), or
 * the state as recorded.
 */
export function stateText(s: Pick<SessionView, 'state' | 'exit_code'> & Partial<Pick<SessionView, 'heartbeat'>>): string {
  if (s.state !== 'exited' && s.heartbeat && s.heartbeat !== 'fresh') return 'unreachable';
  return s.state === 'exited' && s.exit_code != null ? `exited (${s.exit_code})` : s.state;
}

/** Whether a remote session is one on an opencode server (its endpoint an http address) rather than over ssh. */
function isServed(s: Pick<SessionView, 'endpoint'>): boolean {
  return /^https?:\/\//.test(s.endpoint ?? '');
}

/**
 * Where a remote session runs, in words: `ssh dev@build-box (remote build-box)` over ssh, `remote serve
 * http://127.0.0.1:4096/session/ses_…` on an opencode server.
 */
export function remoteText(s: Pick<SessionView, 'remote' | 'endpoint'>): string {
  if (isServed(s)) return `remote ${s.remote ?? '?'} ${s.endpoint ?? ''}`.trim();
  return `${s.endpoint ? `ssh ${s.endpoint}` : 'another machine'}${s.remote ? ` (remote ${s.remote})` : ''}`;
}

const UNREACHABLE_ICON: NodeIcon = { id: 'debug-disconnect', color: 'list.warningForeground' };

const WAITING_ICON: NodeIcon = { id: 'bell', color: 'charts.yellow' };

/** What the agent reported, for the tooltip: `agent: busy (reported 2m ago, at …)`. */
function agentLine(s: SessionView, now: number): string {
  if (s.state === 'exited') return '';
  const state = agentStateOf(s);
  if (!state) return s.agent_state ? `agent: reported an unknown state ${JSON.stringify(s.agent_state.slice(0, 40))}` : 'agent: has not reported its state yet';
  const at = s.agent_state_at ? ` (reported ${relativeTime(s.agent_state_at, now)}, at ${s.agent_state_at})` : '';
  return `agent: ${agentStateWords(state)}${at}`;
}

/** A remote of the setting syncord.sessions.remotes in a few words, for pickers: `opencode server http://…`. */
export function remoteSummary(r: { kind: string; endpoint?: string; target?: string; folder?: string }): string {
  if (r.kind === 'opencode-serve') return `opencode server ${r.endpoint ?? ''}`.trim();
  if (r.kind === 'ssh') return `over ssh ${r.target ?? ''}${r.folder ? `:${r.folder}` : ''}`.trim();
  return r.kind;
}

/**
 * A session in one line, as its row and the session pickers describe it: runtime, state, what its agent last
 * reported and current task (`claude · running · busy · task_004`, `claude · running · waiting for your input`).
 */
export function sessionSummary(
  s: Pick<SessionView, 'runtime' | 'state' | 'exit_code' | 'agent_state' | 'current_task'> & Partial<Pick<SessionView, 'mode' | 'remote' | 'heartbeat'>>,
): string {
  const agent = agentStateOf(s);
  // A remote session says where: `opencode on serve · running · idle`.
  const parts = [s.mode === 'remote' && s.remote ? `${s.runtime} on ${s.remote}` : s.runtime, stateText(s)];
  // A headless session idle between prompts is said once, not `idle · idle`.
  if (agent && agent !== s.state) parts.push(agentStateWords(agent));
  if (s.state !== 'exited' && s.current_task) parts.push(s.current_task);
  return parts.join(' · ');
}

function sessionNode(s: SessionView, here: boolean, hasChildren: boolean, now: () => number): SessionNode {
  const agent = agentStateOf(s);
  return {
    id: sessionNodeId(s.session_id),
    kind: 'session',
    label: s.instance,
    description: sessionSummary(s),
    icon: stateText(s) === 'unreachable' ? UNREACHABLE_ICON : agent === 'waiting' ? WAITING_ICON : (STATE_ICONS[s.state] ?? { id: 'question' }),
    contextValue: `${SessionContextValue.session}.${s.state}.${s.mode}${here ? '.here' : ''}`,
    collapsible: hasChildren ? 'expanded' : 'none',
    click:
      s.mode === 'terminal' && here
        ? { command: ClickCommand.focusSessionTerminal, title: 'Focus Terminal', with: 'node' }
        : s.mode !== 'terminal' && s.log
          ? { command: ClickCommand.showSessionLog, title: 'Show Session Log', with: 'node' }
          : undefined,
    session: s,
    tooltip: () =>
      [
        `${s.instance} — ${s.runtime}, ${stateText(s)}${s.instance_status ? ` (instance ${s.instance_status})` : ''}`,
        agentLine(s, now()),
        `session: ${s.session_id}`,
        s.agent_session ? `agent's conversation: ${s.agent_session}` : '',
        s.current_task ? `current task: ${s.current_task}` : '',
        `mode: ${s.mode === 'terminal' ? `terminal${s.terminal ? ` "${s.terminal}"` : ''}${here ? ' in this window' : ''}` : s.mode === 'remote' ? `remote ${s.remote ?? '?'}` : 'headless'}`,
        s.mode === 'remote' ? `endpoint: ${s.endpoint ?? 'not created yet'} (on ${s.host})` : '',
        s.mode === 'remote' && s.state !== 'exited'
          ? `heartbeat: ${relativeTime(s.updated, now())} (${s.updated})${stateText(s) === 'unreachable' ? '; unreachable: none for more than 3 intervals' : ''}`
          : '',
        s.mode === 'remote' && isServed(s) ? '' : `working folder: ${s.cwd}${s.mode === 'remote' ? ` on ${s.host}` : ''}`,
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

const DELIVERY_ICONS: Record<string, NodeIcon> = {
  pending: { id: 'clock' },
  delivered: { id: 'mail-read', color: 'charts.orange' },
  failed: { id: 'warning', color: 'list.warningForeground' },
};

function deliveryNode(u: HandOver, parentId: string, now: () => number): SessionNode {
  const d = u.delivery;
  const how = d.via === 'terminal' ? 'to type into its terminal' : d.via === 'prompt' ? 'as a prompt' : '';
  const status =
    d.status === 'failed' ? 'not delivered' : d.status === 'delivered' ? 'delivered, not acknowledged' : d.status === 'pending' ? `pending${how ? ` ${how}` : ''}` : String(d.status);
  return {
    id: deliveryNodeId(u.message.message_id, d.instance),
    kind: 'delivery',
    parentId,
    label: u.message.subject,
    description: [status, u.message.message_id].join(' · '),
    icon: DELIVERY_ICONS[d.status] ?? { id: 'question' },
    contextValue: `${SessionContextValue.delivery}.${d.status}`,
    collapsible: 'none',
    delivery: { messageId: u.message.message_id, subject: u.message.subject, record: d },
    tooltip: () =>
      [
        d.status === 'delivered'
          ? `${u.message.message_id} to ${d.instance}: delivered ${relativeTime(d.updated, now())} (${d.updated}); its agent has not acted on it yet (no syncord command about it)`
          : `${u.message.message_id} to ${d.instance}: ${d.status}${d.attempts ? ` after ${d.attempts} attempt${d.attempts > 1 ? 's' : ''}` : ''}`,
        d.error ? `why: ${d.error}` : '',
        d.session ? `session: ${d.session}` : 'no live session at the time',
        d.status === 'delivered' ? '' : `updated: ${d.updated}`,
        `prompt: ${d.prompt}`,
      ]
        .filter(Boolean)
        .join('\n'),
  };
}

/**
 * Builds the tree. Each hand-over not acknowledged by its agent (pending, failed, delivered but not acted on)
 * goes under its session, else under the newest session of its instance, else under a top-level group (no
 * session of that instance is known). `here(sessionId)` says whether the session's terminal is open in this
 * window; `now` is read when a tooltip is built (on hover).
 */
export function buildSessionsTree(
  sessions: readonly SessionView[],
  handOvers: readonly HandOver[],
  here: (sessionId: string) => boolean,
  error?: { message: string; file: string },
  now: () => number = Date.now,
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
  const placed = handOvers.map((u) => ({ u, home: homeOf(u.delivery) }));
  const withChildren = new Set(placed.map((p) => p.home).filter((h): h is string => Boolean(h)));
  for (const s of sessions) tree.add(sessionNode(s, here(s.session_id), withChildren.has(sessionNodeId(s.session_id)), now));
  const orphans = placed.filter((p) => !p.home);
  for (const p of placed) if (p.home) tree.add(deliveryNode(p.u, p.home, now));
  if (orphans.length) {
    // A hand-over delivered to a session that was cleared since also lands here: then not all were undelivered.
    const undelivered = orphans.every((p) => p.u.delivery.status !== 'delivered');
    const group: SessionNode = {
      id: 'sessions:undelivered',
      kind: 'group',
      label: undelivered ? 'Not delivered' : 'Not acknowledged',
      description: `${orphans.length} hand-over${orphans.length > 1 ? 's' : ''} to instances without a session`,
      icon: { id: 'warning', color: 'list.warningForeground' },
      contextValue: SessionContextValue.undeliveredGroup,
      collapsible: 'expanded',
      tooltip: () =>
        undelivered
          ? 'Work handed to instances that had no live session. Spawn a session for the instance, then resend.'
          : 'Work handed to instances that have no session now, not acknowledged by their agents. Spawn a session for the instance, then resend.',
    };
    tree.add(group);
    for (const p of orphans) tree.add(deliveryNode(p.u, group.id, now));
  }
  return tree;
}

/** The Sessions view's description beside its title: how many sessions are live, when there are any. */
export function sessionsViewDescription(sessions: readonly SessionView[] | undefined): string | undefined {
  const list = sessions ?? [];
  return list.length ? `${list.filter((s) => s.state !== 'exited').length} live` : undefined;
}
