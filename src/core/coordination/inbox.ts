import { affects, missingInput } from './decisions';
import { requireInstance } from './instances';
import { awaitsAnswerFrom, isUnreadBy, pendingResponses, responseDue } from './messages';
import { Decision, Message, PendingDecision, Task } from './schemas';
import { CoordinationStore } from './store';
import { unmetDependencies } from './tasks';
import { isoTime, timeOf } from './time';

export interface AwaitingMessage {
  message: Message;
  /** When the answer is due (ISO), if known. */
  due: string | null;
  overdue: boolean;
}

/** Everything that waits for one instance: the startup checklist of seed 004 in one read. */
export interface Inbox {
  instance: string;
  /** Messages to it that need an answer. */
  awaitingResponse: AwaitingMessage[];
  /** Messages to it (or to all) that need no answer and are not acknowledged yet. */
  unread: Message[];
  /** Its requests that were answered: read the replies, then close the thread. */
  answered: { request: Message; replies: Message[] }[];
  /** Tasks it holds (in progress or blocked). */
  activeTasks: Task[];
  /** Tasks offered to it (assigned, waiting for claim or decline) or accepted by it, not started yet. */
  offeredTasks: Task[];
  /** For each of those tasks, its dependencies not completed yet (empty: ready to start). */
  waitingFor: Record<string, string[]>;
  /** Unassigned tasks suggested for it. */
  suggestedTasks: Task[];
  /** Pending decisions that wait for its input. */
  decisionsAwaitingInput: PendingDecision[];
  /** Decisions affecting it made since `since` (all active ones when `since` is not given). */
  recentDecisions: Decision[];
}

export function inboxCount(i: Inbox): number {
  return (
    i.awaitingResponse.length +
    i.unread.length +
    i.answered.length +
    i.offeredTasks.length +
    i.decisionsAwaitingInput.length
  );
}

export async function getInbox(store: CoordinationStore, instance: string, opts: { since?: string | null } = {}): Promise<Inbox> {
  const { registry, tasks, messages, decisions } = await store.read('registry', 'tasks', 'messages', 'decisions');
  requireInstance(registry, instance);
  const now = store.clock.now().getTime();

  const waiting = messages.messages.filter((m) => awaitsAnswerFrom(m, instance));
  const pending = waiting.length ? pendingResponses(messages) : undefined;
  const awaitingResponse = waiting.map((message) => {
    const due = responseDue(messages, message, pending);
    return { message, due: due === undefined ? null : isoTime(new Date(due)), overdue: due !== undefined && due < now };
  });
  const unread = messages.messages.filter((m) => isUnreadBy(m, instance));
  const requests = messages.messages.filter((m) => m.from === instance && m.status === 'responded');
  // The replies to each request, in log order, found in one pass over the log.
  const repliesTo = new Map<string, Message[]>(requests.map((r) => [r.message_id, []]));
  if (requests.length) {
    for (const r of messages.messages) if (typeof r.in_reply_to === 'string') repliesTo.get(r.in_reply_to)?.push(r);
  }
  const answered = requests.map((request) => ({ request, replies: repliesTo.get(request.message_id)!.slice() }));

  const since = timeOf(opts.since ?? undefined);
  const offeredTasks = tasks.pending_tasks.filter((t) => t.assigned_to === instance);
  return {
    instance,
    awaitingResponse,
    unread,
    answered,
    activeTasks: tasks.active_tasks.filter((t) => t.assigned_to === instance),
    offeredTasks,
    waitingFor: Object.fromEntries(offeredTasks.map((t) => [t.task_id, unmetDependencies(tasks, t)])),
    suggestedTasks: tasks.pending_tasks.filter((t) => !t.assigned_to && t.suggested_assignee === instance),
    decisionsAwaitingInput: decisions.pending_decisions.filter((d) => missingInput(d).includes(instance)),
    recentDecisions: decisions.decisions.filter(
      (d) => d.status === 'active' && affects(d, instance) && (since === undefined || (timeOf(d.date) ?? 0) > since),
    ),
  };
}
