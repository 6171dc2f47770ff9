import { nudgeRecipients } from '../../core/sessions/deliveries';
import { DeliveryRecord } from '../../core/sessions/deliveryLog';
import { Sessions } from './context';

/** How a hand-over went, as a clause: "typed it into its terminal", "it was NOT delivered: …". */
export function deliveryClause(d: DeliveryRecord): string {
  const handed = d.via === 'terminal' ? 'typed it into its terminal' : 'handed it to its session as a prompt';
  switch (d.status) {
    case 'delivered':
      return handed;
    case 'acknowledged':
      return `${handed}; its agent acknowledged it`;
    case 'pending':
      if (d.via === 'terminal') {
        // Typed, until the agent reports itself busy with it; or waiting for the agent to be idle, or for the window.
        return d.attempts > 0
          ? 'typed it into its terminal, waiting for its agent to take it'
          : 'it waits for its agent to be idle and for the VS Code window that has the session’s terminal to type it';
      }
      return 'it is queued for the session; the agent gets it as its next prompt';
    default:
      return `it was NOT delivered: ${d.error ?? 'unknown reason'}`;
  }
}

/**
 * After a message was sent from this window: tells the recipients' live sessions (typed into their terminals,
 * or as a prompt). Returns a sentence for the user ('' when no recipient has a live session). The message is
 * already written, so a failure here is only logged and said.
 */
export async function nudgeAfterSend(s: Sessions, messageId: string): Promise<string> {
  try {
    const ctx = s.context();
    if (!ctx) return '';
    const ds = await nudgeRecipients(ctx, messageId, s.hooks(ctx));
    if (ds.length) void s.model.reload();
    return ds.map((d) => `${d.instance}'s session: ${d.status === 'delivered' ? 'notified' : deliveryClause(d)}`).join('; ');
  } catch (e) {
    s.services.log.warn(`${messageId} was sent, but the recipients' sessions could not be told: ${e instanceof Error ? e.message : String(e)}`);
    return '';
  }
}
