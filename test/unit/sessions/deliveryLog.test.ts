// Which hand-overs are still open: the latest delivery of a message to each instance, unless that instance's
// agent acknowledged it (ran a syncord verb about it). What `syncord agents` and the Sessions view list.
import * as assert from 'node:assert/strict';
import type { Message } from '../../../src/core/coordination/schemas';
import { DeliveryRecord, unacknowledgedIn } from '../../../src/core/sessions/deliveryLog';
import type { DeliveryStatus } from '../../../src/core/sessions/schema';

const d = (instance: string, status: DeliveryStatus, session: string | null = null): DeliveryRecord => ({
  session,
  instance,
  via: session ? 'prompt' : null,
  status,
  attempts: 1,
  updated: '2026-02-27T10:00:00Z',
  prompt: 'p',
});

const message = (id: string, deliveries?: DeliveryRecord[]): Message =>
  ({ message_id: id, from: 'syncord', to: 'all', type: 'handoff', timestamp: '2026-02-27T10:00:00Z', subject: `About ${id}`, message: 'm', status: 'sent', ...(deliveries ? { deliveries } : {}) }) as Message;

describe('sessions: hand-overs not acknowledged', () => {
  it('lists the latest delivery per instance unless it is acknowledged: pending, failed and delivered ones', () => {
    const m = message('msg_001', [
      d('a', 'failed'),
      d('a', 'acknowledged', 's-a'), // a resend reached a's agent, which acted on it
      d('b', 'acknowledged', 's-b'),
      d('b', 'failed'), // a later attempt to b failed: that is where b stands now
      d('c', 'delivered', 's-c'),
      d('e', 'pending', 's-e'),
    ]);
    assert.deepEqual(
      unacknowledgedIn([m]).map((u) => [u.delivery.instance, u.delivery.status]),
      [
        ['e', 'pending'],
        ['c', 'delivered'],
        ['b', 'failed'],
      ],
    );
  });

  it('lists the newest message first, and skips messages without deliveries or with a deliveries field that is not a list', () => {
    const messages = [
      message('msg_001', [d('a', 'delivered', 's-1')]),
      message('msg_002'),
      { ...message('msg_003'), deliveries: 'broken' } as Message,
      message('msg_004', [d('a', 'failed')]),
      message('msg_005', [d('a', 'acknowledged', 's-1')]),
    ];
    assert.deepEqual(
      unacknowledgedIn(messages).map((u) => [u.message.message_id, u.message.subject, u.delivery.status]),
      [
        ['msg_004', 'About msg_004', 'failed'],
        ['msg_001', 'About msg_001', 'delivered'],
      ],
    );
  });
});
