/**
 * The words of the Message Log that the webview computes itself (counts, ages that tick while the panel stays
 * open, the composer's defaults). Free of the core's file access and of the DOM, so the webview bundles it and
 * the unit tests call it.
 */
import { formatDuration, timeOf } from '../core/coordination/time';
import { plural } from './text';
import { relativeTime } from './time';

/** How often the webview re-renders its relative times from the timestamps. */
export const AGE_TICK_MS = 30_000;

/** "1 thread · 1 message", "50 of 10001 threads · 10003 messages". */
export function countText(shown: number, total: number, totalMessages: number): string {
  const threads = shown === total ? plural(total, 'thread') : `${shown} of ${plural(total, 'thread')}`;
  return `${threads} · ${plural(totalMessages, 'message')}`;
}

/** "1 reply", "3 replies". */
export function repliesText(n: number): string {
  return plural(n, 'reply', 'replies');
}

/** How long a message has waited for its answer: "just now" under a minute, then "5m", "3h 5m", "2d 6h". */
export function waitedFor(sinceIso: string | undefined, now: number): string | undefined {
  const t = timeOf(sinceIso);
  if (t === undefined) return undefined;
  const d = Math.max(0, now - t);
  return d < 60_000 ? 'just now' : formatDuration(d);
}

/** The badge of a thread that waits: "Waiting for a response · 2h". */
export function waitingBadge(sinceIso: string | undefined, now: number): string {
  const age = waitedFor(sinceIso, now);
  return `Waiting for a response${age ? ` · ${age}` : ''}`;
}

/** A message's age as every view says it ("just now", "5m ago"). */
export function messageAge(iso: string, now: number): string {
  return relativeTime(iso, now);
}

/**
 * Whether the composer's "Requires a response" starts checked. A reply answers: it asks for nothing back unless
 * the user says so (a reply that required a response would leave the thread waiting again). A new message asks
 * for an answer when its type asks a question and it goes to one instance.
 */
export function requiresResponseByDefault(kind: 'new' | 'reply', type: string, to: string): boolean {
  if (kind === 'reply') return false;
  return (type === 'consultation_request' || type === 'question') && to !== 'all';
}
