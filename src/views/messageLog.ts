/**
 * The Message Log's page models: what the webview is sent (src/shared/protocol.ts), built from the core's
 * threads (core/coordination/threads.ts) and the rules about messages (core/coordination/messages.ts).
 */
import { COORDINATION_FILES } from '../core/workspace';
import { acceptsReplies, isUnreadBy, isWaiting, mayClose, mayReply } from '../core/coordination/messages';
import { type Message } from '../core/coordination/schemas';
import { MESSAGE_TYPES, PRIORITIES } from '../core/coordination/vocabulary';
import type { CoordinationSnapshot } from '../core/coordination/snapshot';
import { filterThreads, Thread, ThreadFilter, threadWaiting } from '../core/coordination/threads';
import { timeOf } from '../core/coordination/time';
import type { LogContext, MessageView, ThreadPage, ThreadView } from '../shared/protocol';
import { messageAge, waitedFor } from './messageLogText';

function messageView(m: Message, root: Message, now: number, me: string | undefined): MessageView {
  return {
    id: m.message_id,
    from: m.from,
    to: m.to,
    type: m.type,
    subject: m.subject,
    body: m.message,
    timestamp: m.timestamp,
    age: messageAge(m.timestamp, now),
    priority: m.priority,
    status: m.status,
    requiresResponse: m.requires_response === true,
    waiting: isWaiting(m),
    relatedTask: m.context?.related_task ?? undefined,
    relatedFiles: m.context?.related_files ?? [],
    // Without syncord.instanceId the actions show wherever someone may take them; the extension asks once who the
    // user is (and remembers it) when one is used.
    canReply: me !== undefined ? mayReply(m, root, me) : acceptsReplies(root) && m.from !== m.to,
    canAck: me !== undefined ? isUnreadBy(m, me) : m.status === 'sent',
  };
}

export function threadView(t: Thread, now: number, me: string | undefined): ThreadView {
  const all = [t.root, ...t.replies];
  const oldestWaiting = all.filter(isWaiting).reduce<{ t: number; iso: string } | undefined>((min, m) => {
    const ts = timeOf(m.timestamp);
    return ts === undefined || (min && min.t <= ts) ? min : { t: ts, iso: m.timestamp };
  }, undefined);
  return {
    id: t.root.message_id,
    root: messageView(t.root, t.root, now, me),
    replies: t.replies.map((m) => messageView(m, t.root, now, me)),
    waiting: threadWaiting(t),
    open: acceptsReplies(t.root),
    waitingAge: oldestWaiting && waitedFor(oldestWaiting.iso, now),
    waitingSince: oldestWaiting?.iso,
    canClose: me !== undefined ? mayClose(t.root, me) : acceptsReplies(t.root),
  };
}

export interface PageOptions {
  now: number;
  me?: string;
  totalMessages: number;
  replace: boolean;
}

/** One page of threads already filtered and sorted: from `offset`, at most `limit`; only those are converted. */
export function pageOf(matching: readonly Thread[], offset: number, limit: number, opts: PageOptions): ThreadPage {
  const start = Math.max(0, Math.min(offset, matching.length));
  return {
    now: opts.now,
    total: matching.length,
    totalMessages: opts.totalMessages,
    offset: start,
    threads: matching.slice(start, start + limit).map((t) => threadView(t, opts.now, opts.me)),
    replace: opts.replace,
  };
}

/**
 * One page of the Message Log: the threads matching `filter`, newest first, from `offset`, at most `limit`.
 * Only the threads of the page are converted, so a page of a 10,000-message log stays small.
 */
export function threadPage(threads: readonly Thread[], filter: ThreadFilter, offset: number, limit: number, opts: PageOptions): ThreadPage {
  return pageOf(filterThreads(threads, filter), offset, limit, opts);
}

/** What the webview shows beside the threads: who the user is, the instances, and why the log cannot be shown. */
export function logContext(snap: CoordinationSnapshot | undefined, me: string | undefined): LogContext {
  const log = snap?.messages;
  const name = COORDINATION_FILES.messages;
  let problem: string | null = null;
  if (!snap?.exists) problem = 'This workspace has no coordination folder yet. Run "Syncord: Initialize Coordination" to create it.';
  else if (log?.state === 'invalid') problem = `${name}:${log.line ?? 1}:${log.column ?? 1}: ${log.message}. The file is left as it is; the log shows again once it is fixed.`;
  else if (log?.state === 'missing') problem = `${name} is missing. "Syncord: Initialize Coordination" creates it.`;
  return {
    instanceId: me ?? null,
    instances: snap?.registry.state === 'ok' ? Object.keys(snap.registry.value.instances) : [],
    problem,
    messageTypes: [...MESSAGE_TYPES],
    priorities: [...PRIORITIES],
  };
}
