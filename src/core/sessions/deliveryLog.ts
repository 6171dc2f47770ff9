import { defineChange } from '../coordination/store';
import { Message } from '../coordination/schemas';
import { SessionContext } from './context';
import { Delivery, SessionRecord } from './schema';

/**
 * The deliveries recorded on messages in communication-log.json: one entry per hand-over of a message to a
 * session, written before anything is attempted and updated as it goes (pending, delivered, failed).
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
    if (patch.status) d.status = patch.status;
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
