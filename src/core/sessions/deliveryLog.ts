import { defineChange } from '../coordination/store';
import { Message } from '../coordination/schemas';
import { SessionContext } from './context';
import { Delivery, SessionRecord } from './schema';

/**
 * The deliveries recorded on messages in communication-log.json: one entry per hand-over of a message to a
 * session, written before anything is attempted and updated as it goes (pending, delivered, acknowledged,
 * failed).
 */

export interface DeliveryRecord extends Omit<Delivery, 'session' | 'via'> {
  session: string | null;
  via: Delivery['via'] | null;
  /** The exact words handed to the agent. */
  prompt: string;
}

export type WithDeliveries = Message & { deliveries?: DeliveryRecord[] };

export function deliveriesOf(m: Message): DeliveryRecord[] {
  const d = (m as WithDeliveries).deliveries;
  return Array.isArray(d) ? d : [];
}

/** A message and one of its deliveries: the latest one to an instance. */
export interface HandOver {
  message: Message;
  delivery: DeliveryRecord;
}

/**
 * The hand-overs whose latest delivery per instance is not acknowledged by the agent — pending, failed, and
 * delivered but never acted on — newest first: the work that did not reach an agent or that its agent ignored.
 */
export function unacknowledgedIn(messages: readonly Message[]): HandOver[] {
  const out: HandOver[] = [];
  for (const m of messages) {
    const latest = new Map<string, DeliveryRecord>();
    for (const d of deliveriesOf(m)) latest.set(d.instance, d);
    for (const d of latest.values()) if (d.status !== 'acknowledged') out.push({ message: m, delivery: d });
  }
  return out.reverse();
}

/** Changes the delivery of `messageId` to `sessionId` (the newest entry for that session). */
export async function markDelivery(
  ctx: SessionContext,
  messageId: string,
  sessionId: string,
  patch: Partial<Pick<DeliveryRecord, 'status' | 'error' | 'attempts'>> & { attempt?: boolean },
): Promise<DeliveryRecord | undefined> {
  return ctx.store.update(MARK_DELIVERY, { messageId, sessionId, patch });
}

const MARK_DELIVERY = defineChange(
  'delivery.mark',
  ['messages'],
  ({ messages }, input: { messageId: string; sessionId: string; patch: Partial<Pick<DeliveryRecord, 'status' | 'error'>> & { attempt?: boolean } }, now) => {
    const { messageId, sessionId, patch } = input;
    const m = messages.messages.find((x) => x.message_id === messageId) as WithDeliveries | undefined;
    const d = m?.deliveries?.filter((x) => x.session === sessionId).pop();
    if (!d) return undefined;
    // The agent acting on it is the strongest fact: what its runtime reports later is kept beside it, never over it.
    if (patch.status && d.status !== 'acknowledged') d.status = patch.status;
    if (patch.error !== undefined) d.error = patch.error;
    if (patch.attempt) d.attempts = (d.attempts ?? 0) + 1;
    d.updated = now;
    return { ...d };
  },
);

/** Marks queued deliveries failed (their session ended or could not take them). */
export async function failQueued(ctx: SessionContext, session: SessionRecord, messageIds: string[], error: string): Promise<void> {
  for (const id of messageIds) await markDelivery(ctx, id, session.session_id, { status: 'failed', error });
}

/** The prompt recorded for a session on a message, for whoever hands it over. */
export async function promptFor(ctx: SessionContext, messageId: string, sessionId: string): Promise<string | undefined> {
  const { messages } = await ctx.store.read('messages');
  const m = messages.messages.find((x) => x.message_id === messageId);
  return m && deliveriesOf(m).filter((d) => d.session === sessionId).pop()?.prompt;
}

/** What an agent acted on: a task (any `syncord task` verb naming it) or a message (`msg show|reply|ack`). */
export type AcknowledgedAbout = { task: string } | { message: string };

/**
 * Called after an agent's `syncord` verb about a task or message succeeded, with the session it runs in
 * (`SYNCORD_SESSION`, set for every agent Syncord starts) and the instance it acted as: acknowledges what was
 * handed to that instance about it. Only an agent of a recorded session of that instance acknowledges; a
 * person running the same verb does not. Returns how many hand-overs changed.
 */
export async function acknowledgeFromSession(ctx: SessionContext, sessionId: string, instance: string, about: AcknowledgedAbout): Promise<number> {
  const s = (await ctx.sessions.list()).find((x) => x.session_id === sessionId);
  if (!s || s.instance !== instance) return 0;
  return acknowledgeDeliveries(ctx, instance, about);
}

/**
 * Marks the hand-overs an agent acted on acknowledged: the latest delivery to `instance` of the messages about
 * that task (hand-overs name it as their related task) or of that message. Returns how many changed.
 */
export async function acknowledgeDeliveries(ctx: Pick<SessionContext, 'store'>, instance: string, about: AcknowledgedAbout): Promise<number> {
  return ctx.store.update(ACKNOWLEDGE, { instance, about });
}

const ACKNOWLEDGE = defineChange('delivery.acknowledge', ['messages'], ({ messages }, input: { instance: string; about: AcknowledgedAbout }, now) => {
  let changed = 0;
  for (const m of messages.messages as WithDeliveries[]) {
    const about = 'task' in input.about ? m.context?.related_task === input.about.task : m.message_id === input.about.message;
    if (!about) continue;
    const d = deliveriesOf(m).filter((x) => x.instance === input.instance).pop();
    if (!d || d.status === 'acknowledged') continue;
    d.status = 'acknowledged';
    d.updated = now;
    changed++;
  }
  return changed;
});
