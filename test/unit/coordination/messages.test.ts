import * as assert from 'node:assert/strict';
import { getInbox } from '../../../src/core/coordination/inbox';
import {
  acknowledgeMessage,
  closeThread,
  replyToMessage,
  sendMessage,
  threadOf,
} from '../../../src/core/coordination/messages';
import { refusal, snapshot, TestWorkspace, workspace } from './helpers';

describe('coordination/messages (protocol 3)', () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await workspace({ now: '2024-01-15T11:30:00Z' });
  });
  afterEach(() => ws?.dispose());

  it('sends a consultation request that waits for a response within 4 hours', async () => {
    const r = await sendMessage(ws.store, {
      from: 'instance-1',
      to: 'instance-6',
      subject: 'Token storage',
      body: 'Where should agent tokens live?',
      relatedTask: 'task_002',
      relatedFiles: ['src/auth.ts'],
    });
    assert.equal(r.message.message_id, 'msg_002');
    const { messages } = await ws.store.read('messages');
    assert.deepEqual(messages.messages[1], {
      message_id: 'msg_002',
      from: 'instance-1',
      to: 'instance-6',
      type: 'consultation_request',
      timestamp: '2024-01-15T11:30:00Z',
      subject: 'Token storage',
      message: 'Where should agent tokens live?',
      priority: 'medium',
      requires_response: true,
      context: { related_task: 'task_002', related_files: ['src/auth.ts'] },
      status: 'pending_response',
    });
    assert.deepEqual(messages.response_queue[1], {
      responding_to: 'msg_002',
      from: 'instance-6',
      status: 'pending',
      expected_response_time: '2024-01-15T15:30:00Z',
    });
  });

  it('refuses unknown recipients and tasks without writing', async () => {
    const before = snapshot(ws);
    const e1 = await refusal(sendMessage(ws.store, { from: 'instance-1', to: 'instance-9', subject: 's', body: 'b' }));
    assert.equal(e1.code, 'not-found');
    const e2 = await refusal(sendMessage(ws.store, { from: 'instance-1', to: 'instance-2', subject: 's', body: 'b', relatedTask: 'task_404' }));
    assert.equal(e2.code, 'not-found');
    const e3 = await refusal(sendMessage(ws.store, { from: 'instance-1', to: 'all', subject: 's', body: 'b', requiresResponse: true }));
    assert.equal(e3.code, 'usage');
    assert.deepEqual(snapshot(ws), before);
  });

  it('runs a thread: request, reply, acknowledgement and close', async () => {
    // instance-2's request msg_001 is in the seed, waiting on instance-1.
    const wrong = await refusal(replyToMessage(ws.store, { id: 'msg_001', from: 'instance-3', body: 'me too' }));
    assert.equal(wrong.code, 'conflict');
    const reply = await replyToMessage(ws.store, { id: 'msg_001', from: 'instance-1', body: 'REST for now; GraphQL later.' });
    assert.equal(reply.message.type, 'consultation_response');
    assert.equal(reply.message.to, 'instance-2');
    assert.equal(reply.message.subject, 'Re: API Design for Agent Coordination');
    assert.equal(reply.message.in_reply_to, 'msg_001');
    let { messages } = await ws.store.read('messages');
    assert.equal(messages.messages[0].status, 'responded');
    assert.equal(messages.response_queue[0].status, 'completed');
    assert.equal(messages.response_queue[0].response_id, 'msg_002');

    const inbox = await getInbox(ws.store, 'instance-2');
    assert.deepEqual(inbox.answered.map((a) => [a.request.message_id, a.replies.map((r) => r.message_id)]), [['msg_001', ['msg_002']]]);

    const notMine = await refusal(closeThread(ws.store, { id: 'msg_001', by: 'instance-1' }));
    assert.match(notMine.message, /only instance-2, who started the thread msg_001, can close it/);
    await closeThread(ws.store, { id: 'msg_002', by: 'instance-2' });
    ({ messages } = await ws.store.read('messages'));
    assert.deepEqual(
      threadOf(messages, 'msg_001').map((m) => [m.message_id, m.status]),
      [
        ['msg_001', 'closed'],
        ['msg_002', 'acknowledged'],
      ],
    );
    const after = await getInbox(ws.store, 'instance-2');
    assert.equal(after.answered.length + after.unread.length, 0);
  });

  it('broadcasts to all; each instance acknowledges for itself', async () => {
    const r = await sendMessage(ws.store, { from: 'instance-2', to: 'all', subject: 'Freeze', body: 'No merges today.', type: 'info' });
    assert.equal(r.message.status, 'sent');
    assert.equal(r.awaiting, undefined);
    assert.deepEqual((await getInbox(ws.store, 'instance-3')).unread.map((m) => m.message_id), ['msg_002']);
    assert.deepEqual((await getInbox(ws.store, 'instance-2')).unread, [], 'the sender does not get its own broadcast');
    await acknowledgeMessage(ws.store, { id: 'msg_002', by: 'instance-3' });
    assert.deepEqual((await getInbox(ws.store, 'instance-3')).unread, []);
    assert.deepEqual((await getInbox(ws.store, 'instance-4')).unread.map((m) => m.message_id), ['msg_002']);
  });

  it('flags overdue answers in the inbox', async () => {
    ws.setNow('2024-01-15T12:30:00Z');
    const inbox = await getInbox(ws.store, 'instance-1');
    assert.deepEqual(
      inbox.awaitingResponse.map((a) => [a.message.message_id, a.due, a.overdue]),
      [['msg_001', '2024-01-15T12:00:00Z', true]],
    );
    const ack = await refusal(acknowledgeMessage(ws.store, { id: 'msg_001', by: 'instance-1' }));
    assert.match(ack.message, /asks for a response; answer it with `msg reply msg_001`/);
  });
});
