import { SyncordError } from '../errors';
import { nextId, uniq } from './ids';
import { requireInstance } from './instances';
import { CommunicationLog, Message, ResponseEntry } from './schemas';
import { Priority } from './vocabulary';
import { conflict, CoordinationStore, defineChange, usage } from './store';
import { requireTask, checkPriority } from './tasks';
import { isoTime, timeOf } from './time';

/** Messages should be answered within this time (seed 004, "Coordination Health Checks"). */
export const DEFAULT_RESPONSE_HOURS = 4;
export const BROADCAST = 'all';
/** The sender of the messages Syncord writes itself (hand-overs of work) when no instance is named. */
export const SYSTEM_SENDER = 'syncord';

/** Types that ask for an answer unless the sender says otherwise. */
const ASKING_TYPES = new Set(['consultation_request', 'question']);

export function requireMessage(log: CommunicationLog, id: string): Message {
  const m = log.messages.find((x) => x.message_id === id);
  if (!m) throw new SyncordError(`message ${JSON.stringify(id)} does not exist`, 'not-found');
  return m;
}

export interface SendInput {
  from: string;
  /** An instance id, or "all". */
  to: string;
  subject: string;
  body: string;
  type?: string;
  priority?: string;
  requiresResponse?: boolean;
  relatedTask?: string;
  relatedFiles?: string[];
  /** When the answer is expected (ISO); default: 4 hours from now. */
  expectBy?: string;
}

export interface SendResult {
  message: Message;
  /** The response-queue entry created for a message that needs an answer. */
  awaiting?: { responding_to: string; from: string; status: string; expected_response_time: string | null };
}

/** Protocol 3, step 1: adds a message to the log; one that needs an answer also gets a response-queue entry. */
export async function sendMessage(store: CoordinationStore, input: SendInput): Promise<SendResult> {
  if (!input.subject.trim()) throw usage('a message needs a subject');
  if (!input.body.trim()) throw usage('a message needs a body');
  checkPriority(input.priority ?? 'medium');
  return store.update(SEND, input);
}

/** What a new message says; `appendMessage` gives it its id and time. */
export interface NewMessage {
  from: string;
  to: string;
  type: string;
  subject: string;
  body: string;
  priority: string;
  requiresResponse: boolean;
  relatedTask: string | null;
  relatedFiles: string[];
  /** Fields after the seed's, e.g. `in_reply_to`, `deliveries`. */
  extra?: Record<string, unknown>;
}

/** Appends a message to the log (a draft) with the next id, in the seed's field order; returns a copy. */
export function appendMessage(messages: CommunicationLog, m: NewMessage, now: string): Message {
  const message: Message = {
    message_id: nextId('msg', messages.messages.map((x) => x.message_id)),
    from: m.from,
    to: m.to,
    type: m.type,
    timestamp: now,
    subject: m.subject,
    message: m.body,
    priority: m.priority,
    requires_response: m.requiresResponse,
    context: { related_task: m.relatedTask, related_files: m.relatedFiles },
    status: m.requiresResponse ? 'pending_response' : 'sent',
    ...m.extra,
  };
  messages.messages.push(message);
  return structuredClone(message);
}

/** A response-queue entry for a message that waits for an answer from `from`. */
function awaitResponse(messages: CommunicationLog, messageId: string, from: string, due: string): NonNullable<SendResult['awaiting']> {
  const awaiting = { responding_to: messageId, from, status: 'pending', expected_response_time: due };
  messages.response_queue.push(awaiting);
  return { ...awaiting };
}

const defaultDue = (now: string) => isoTime(new Date(Date.parse(now) + DEFAULT_RESPONSE_HOURS * 3_600_000));

// The task queue is read (through `files.tasks`) only when the message names a task.
const SEND = defineChange('msg.send', ['messages'], (files, input: SendInput, now): SendResult => {
  const { messages, registry } = files;
  const priority: Priority = checkPriority(input.priority ?? 'medium');
  const type = input.type?.trim() || 'consultation_request';
  requireInstance(registry, input.from);
  if (input.to !== BROADCAST) requireInstance(registry, input.to);
  if (input.to === input.from) throw usage('a message to yourself is a note; send it to another instance or "all"');
  if (input.relatedTask) requireTask(files.tasks, input.relatedTask);
  const requires = input.requiresResponse ?? (ASKING_TYPES.has(type) && input.to !== BROADCAST);
  if (requires && input.to === BROADCAST) throw usage('a message to "all" cannot require a response; address one instance');
  const message = appendMessage(
    messages,
    {
      from: input.from,
      to: input.to,
      type,
      subject: input.subject.trim(),
      body: input.body.trim(),
      priority,
      requiresResponse: requires,
      relatedTask: input.relatedTask ?? null,
      relatedFiles: uniq(input.relatedFiles ?? []),
    },
    now,
  );
  const awaiting = requires ? awaitResponse(messages, message.message_id, input.to, input.expectBy ?? defaultDue(now)) : undefined;
  return { message, awaiting };
});

/** Recipients of a message: its `to`, or every instance but the sender for "all". */
export function isRecipient(m: Message, instance: string): boolean {
  return m.to === instance || (m.to === BROADCAST && m.from !== instance);
}

/** The message a reply answers (`in_reply_to`, as replies are written). */
export function replyTarget(m: Message): string | undefined {
  return typeof m.in_reply_to === 'string' && m.in_reply_to ? m.in_reply_to : undefined;
}

/** Waiting: the message asks for a response that has not come yet. */
export function isWaiting(m: Message): boolean {
  return m.status === 'pending_response';
}

/** Open: neither acknowledged by its reader nor closed. */
export function isOpen(m: Message): boolean {
  return m.status !== 'closed' && m.status !== 'acknowledged';
}

/** A thread takes replies until its first message is closed. */
export function acceptsReplies(root: Message): boolean {
  return root.status !== 'closed';
}

/** Whether `instance` has read a message sent to "all" (it is listed in `acknowledged_by`). */
export function acknowledgedBy(m: Message, instance: string): boolean {
  return m.to === BROADCAST && Array.isArray(m.acknowledged_by) && (m.acknowledged_by as unknown[]).includes(instance);
}

/** A message addressed to `instance` that waits for its answer. */
export function awaitsAnswerFrom(m: Message, instance: string): boolean {
  return m.to === instance && isWaiting(m);
}

/** A message to `instance` (or to all) that needs no answer and that it has not acknowledged yet. */
export function isUnreadBy(m: Message, instance: string): boolean {
  return isRecipient(m, instance) && m.status === 'sent' && !acknowledgedBy(m, instance);
}

/** Messages that wait for `instance`: its answer, or its reading. The rule of `syncord inbox`. */
export function unreadFor(log: CommunicationLog, instance: string | undefined): Message[] {
  if (!instance) return [];
  return log.messages.filter((m) => awaitsAnswerFrom(m, instance) || isUnreadBy(m, instance));
}

/** Whether `instance` may answer `m`, a message of the thread started by `root`. */
export function mayReply(m: Message, root: Message, instance: string | undefined): boolean {
  return instance !== undefined && acceptsReplies(root) && isRecipient(m, instance) && m.from !== instance;
}

/** Whether `instance` may close the thread started by `root` (only who started it, while it is open). */
export function mayClose(root: Message, instance: string | undefined): boolean {
  return instance !== undefined && acceptsReplies(root) && root.from === instance;
}

/**
 * Protocol 3, steps 2–3: the recipient answers. The reply joins the thread (`in_reply_to`), the original is
 * marked `responded` and its response-queue entry `completed`.
 */
export async function replyToMessage(
  store: CoordinationStore,
  input: { id: string; from: string; body: string; subject?: string; requiresResponse?: boolean },
): Promise<SendResult> {
  if (!input.body.trim()) throw usage('a reply needs a body');
  return store.update(REPLY, input);
}

const REPLY = defineChange(
  'msg.reply',
  ['messages'],
  ({ messages, registry }, input: { id: string; from: string; body: string; subject?: string; requiresResponse?: boolean }, now): SendResult => {
    requireInstance(registry, input.from);
    const original = requireMessage(messages, input.id);
    if (original.from === input.from) {
      throw conflict(`${input.id} is your own message; reply to a message sent to you, or close the thread with \`msg close\``);
    }
    if (original.status === 'closed') throw conflict(`the thread of ${input.id} is closed`);
    if (!isRecipient(original, input.from)) throw conflict(`${input.id} is addressed to ${original.to}, not ${input.from}`);
    const type = original.type === 'consultation_request' ? 'consultation_response' : 'reply';
    const subject = input.subject?.trim() || (/^re:/i.test(original.subject) ? original.subject : `Re: ${original.subject}`);
    const requires = input.requiresResponse ?? false;
    const reply = appendMessage(
      messages,
      {
        from: input.from,
        to: original.from,
        type,
        subject,
        body: input.body.trim(),
        priority: original.priority ?? 'medium',
        requiresResponse: requires,
        relatedTask: original.context?.related_task ?? null,
        relatedFiles: [...(original.context?.related_files ?? [])],
        extra: { in_reply_to: original.message_id },
      },
      now,
    );
    if (original.status === 'pending_response' || original.status === 'sent') {
      original.status = original.requires_response || original.status === 'pending_response' ? 'responded' : 'acknowledged';
    }
    for (const r of messages.response_queue) {
      if (r.responding_to === original.message_id && r.from === input.from && r.status === 'pending') {
        r.status = 'completed';
        r.response_id = reply.message_id;
        r.responded_at = now;
      }
    }
    const awaiting = requires ? awaitResponse(messages, reply.message_id, reply.to, defaultDue(now)) : undefined;
    return { message: reply, awaiting };
  },
);

/**
 * Protocol 3, step 4: the instance that asked acknowledges the answer and closes the thread. Replies it
 * received are marked acknowledged and any response still pending is cancelled.
 */
export async function closeThread(
  store: CoordinationStore,
  input: { id: string; by: string; force?: boolean },
): Promise<{ closed: string[] }> {
  return store.update(CLOSE, input);
}

const CLOSE = defineChange('msg.close', ['messages'], ({ messages, registry }, input: { id: string; by: string; force?: boolean }, now): { closed: string[] } => {
    requireInstance(registry, input.by);
    const root = threadRoot(messages, requireMessage(messages, input.id));
    if (root.from !== input.by && !input.force) {
      throw conflict(`only ${root.from}, who started the thread ${root.message_id}, can close it (or use --force)`);
    }
    const thread = threadOf(messages, root.message_id);
    const closed: string[] = [];
    for (const m of thread) {
      if (m === root) {
        if (m.status !== 'closed') {
          m.status = 'closed';
          m.closed_at = now;
          closed.push(m.message_id);
        }
      } else if (m.status === 'sent' || m.status === 'pending_response') {
        m.status = m.to === root.from ? 'acknowledged' : 'closed';
      }
    }
    const ids = new Set(thread.map((m) => m.message_id));
    for (const r of messages.response_queue) if (ids.has(r.responding_to) && r.status === 'pending') r.status = 'cancelled';
    return { closed };
});

/** Marks a message (that needs no answer) as read by its recipient. For "all", records who has read it. */
export async function acknowledgeMessage(
  store: CoordinationStore,
  input: { id: string; by: string },
): Promise<{ message: Message; changed: boolean }> {
  return store.update(ACK, input);
}

const ACK = defineChange('msg.ack', ['messages'], ({ messages, registry }, input: { id: string; by: string }, now): { message: Message; changed: boolean } => {
    requireInstance(registry, input.by);
    const m = requireMessage(messages, input.id);
    if (!isRecipient(m, input.by)) throw conflict(`${input.id} is addressed to ${m.to}, not ${input.by}`);
    if (m.status === 'pending_response') {
      throw conflict(`${input.id} asks for a response; answer it with \`msg reply ${input.id}\``);
    }
    let changed = false;
    if (m.to === BROADCAST) {
      const by = Array.isArray(m.acknowledged_by) ? (m.acknowledged_by as unknown[]).filter((x): x is string => typeof x === 'string') : [];
      if (!by.includes(input.by)) {
        m.acknowledged_by = [...by, input.by];
        changed = true;
      }
    } else if (m.status === 'sent') {
      m.status = 'acknowledged';
      m.acknowledged_at = now;
      changed = true;
    }
    return { message: structuredClone(m), changed };
});

/** The first message of the thread that `m` belongs to. */
export function threadRoot(log: CommunicationLog, m: Message): Message {
  const byId = new Map(log.messages.map((x) => [x.message_id, x]));
  const seen = new Set<string>();
  let cur = m;
  while (typeof cur.in_reply_to === 'string' && byId.has(cur.in_reply_to) && !seen.has(cur.message_id)) {
    seen.add(cur.message_id);
    cur = byId.get(cur.in_reply_to)!;
  }
  return cur;
}

/** Every message of the thread starting at `rootId`, in log order. */
export function threadOf(log: CommunicationLog, rootId: string): Message[] {
  const inThread = new Set([rootId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const m of log.messages) {
      if (!inThread.has(m.message_id) && typeof m.in_reply_to === 'string' && inThread.has(m.in_reply_to)) {
        inThread.add(m.message_id);
        grew = true;
      }
    }
  }
  return log.messages.filter((m) => inThread.has(m.message_id));
}

export interface MessageFilter {
  to?: string;
  from?: string;
  status?: string;
  task?: string;
  /** Messages from or to this instance (including "all"). */
  involving?: string;
}

export function filterMessages(log: CommunicationLog, f: MessageFilter = {}): Message[] {
  return log.messages.filter(
    (m) =>
      (!f.to || m.to === f.to) &&
      (!f.from || m.from === f.from) &&
      (!f.status || m.status === f.status) &&
      (!f.task || m.context?.related_task === f.task) &&
      (!f.involving || m.from === f.involving || isRecipient(m, f.involving)),
  );
}

/** The first pending response-queue entry of each message, for asking `responseDue` about many messages. */
export function pendingResponses(log: CommunicationLog): Map<string, ResponseEntry> {
  const out = new Map<string, ResponseEntry>();
  for (const r of log.response_queue) if (r.status === 'pending' && !out.has(r.responding_to)) out.set(r.responding_to, r);
  return out;
}

/**
 * When the answer to a message is due, from its response-queue entry; undefined when none is pending.
 * `pending`: the log's `pendingResponses`, when asking about many messages.
 */
export function responseDue(log: CommunicationLog, m: Message, pending?: Map<string, ResponseEntry>): number | undefined {
  const entry = pending ? pending.get(m.message_id) : log.response_queue.find((r) => r.responding_to === m.message_id && r.status === 'pending');
  return timeOf(entry?.expected_response_time) ?? (m.status === 'pending_response' ? (timeOf(m.timestamp) ?? 0) + DEFAULT_RESPONSE_HOURS * 3_600_000 : undefined);
}
