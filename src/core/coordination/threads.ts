/**
 * The Message Log's read model: the communication log grouped into threads (a message and every reply to it),
 * filtered by instance, status and text. Plain data over a parsed log; the rules about single messages
 * (waiting, open) are in messages.ts.
 */
import { isOpen, isWaiting, replyTarget } from './messages';
import type { CommunicationLog, Message } from './schemas';
import { timeOf } from './time';

export interface Thread {
  root: Message;
  /** Replies (and replies to replies), oldest first. */
  replies: Message[];
  /** Index of the root in the log, for a stable order among equal times. */
  index: number;
  /** Latest timestamp in the thread (ms). */
  last: number;
  participants: Set<string>;
}

/** Groups the log into threads: each message without a known parent starts one; replies join their root's. */
export function buildThreads(log: CommunicationLog): Thread[] {
  const byId = new Map<string, number>();
  const msgs = log.messages;
  for (let i = 0; i < msgs.length; i++) if (!byId.has(msgs[i].message_id)) byId.set(msgs[i].message_id, i);
  const rootOf = new Int32Array(msgs.length).fill(-1);
  const findRoot = (i: number): number => {
    // Walk up the reply chain; a cycle or a missing parent makes the message its own root.
    let cur = i;
    const seen: number[] = [];
    for (let steps = 0; steps < msgs.length; steps++) {
      if (rootOf[cur] >= 0) {
        cur = rootOf[cur];
        break;
      }
      seen.push(cur);
      const p = replyTarget(msgs[cur]);
      const pi = p === undefined ? undefined : byId.get(p);
      if (pi === undefined || pi === cur || seen.includes(pi)) break;
      cur = pi;
    }
    for (const s of seen) rootOf[s] = cur;
    return cur;
  };
  const threads = new Map<number, Thread>();
  for (let i = 0; i < msgs.length; i++) {
    const r = findRoot(i);
    let t = threads.get(r);
    if (!t) {
      t = { root: msgs[r], replies: [], index: r, last: timeOf(msgs[r].timestamp) ?? 0, participants: new Set([msgs[r].from, msgs[r].to]) };
      threads.set(r, t);
    }
    if (r !== i) {
      const m = msgs[i];
      t.replies.push(m);
      t.last = Math.max(t.last, timeOf(m.timestamp) ?? 0);
      t.participants.add(m.from);
      t.participants.add(m.to);
    }
  }
  const out = [...threads.values()];
  for (const t of out) if (t.replies.length > 1) t.replies.sort((a, b) => (timeOf(a.timestamp) ?? 0) - (timeOf(b.timestamp) ?? 0));
  return out;
}

/** Status filter of the Message Log. */
export type ThreadStatusFilter = 'all' | 'waiting' | 'open' | 'closed';

export interface ThreadFilter {
  /** Only threads this instance takes part in (sender or recipient; messages to "all" count for everyone). */
  instance?: string;
  status?: ThreadStatusFilter;
  /** Case-insensitive text in subject, body, sender or recipient. */
  text?: string;
}

/** A thread waits while any of its messages waits for a response. */
export function threadWaiting(t: Thread): boolean {
  return isWaiting(t.root) || t.replies.some(isWaiting);
}

export function matchesFilter(t: Thread, f: ThreadFilter): boolean {
  if (f.instance && !t.participants.has(f.instance) && !t.participants.has('all')) return false;
  switch (f.status ?? 'all') {
    case 'waiting':
      if (!threadWaiting(t)) return false;
      break;
    case 'open':
      if (!isOpen(t.root)) return false;
      break;
    case 'closed':
      if (isOpen(t.root)) return false;
      break;
  }
  const q = f.text?.trim().toLowerCase();
  if (q) {
    const hit = (m: Message) =>
      m.subject.toLowerCase().includes(q) || m.message.toLowerCase().includes(q) || m.from.toLowerCase().includes(q) || m.to.toLowerCase().includes(q) || m.message_id.toLowerCase() === q;
    if (!hit(t.root) && !t.replies.some(hit)) return false;
  }
  return true;
}

/** Threads matching the filter, newest activity first (log order breaks ties, later first). */
export function filterThreads(threads: readonly Thread[], f: ThreadFilter): Thread[] {
  const out = threads.filter((t) => matchesFilter(t, f));
  out.sort((a, b) => b.last - a.last || b.index - a.index);
  return out;
}
