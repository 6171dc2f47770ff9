// The Message Log as a new user meets it in the real workbench (code-server in Chromium), before they have set
// syncord.instanceId: a thread opens on a click, a reply asks once who they are (and remembers it), the answer
// ends the wait, and the ages keep moving while the panel stays open.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator, Locator } from 'playwright-core';
import { useWorkbench, Workbench } from './workbench';

const LOG = 'communication-log.json';

function logFile(wb: Workbench): string {
  return path.join(wb.ws.folder, 'coordination', LOG);
}

function readLog(wb: Workbench): { messages: Record<string, unknown>[] } {
  return JSON.parse(fs.readFileSync(logFile(wb), 'utf8'));
}

/** Writes the log the way an agent does: a whole new file renamed over the old one. */
function writeLog(wb: Workbench, log: unknown): void {
  fs.writeFileSync(`${logFile(wb)}.agent`, JSON.stringify(log, null, 2) + '\n');
  fs.renameSync(`${logFile(wb)}.agent`, logFile(wb));
}

const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d{3}Z$/, 'Z');



describe('Message Log for a new user (demo workspace, no syncord.instanceId)', () => {
  const wb = useWorkbench({ fixture: 'demo' });

  it('a click on a thread opens it; one Show in File per thread; counts say "1 thread · 1 message"', async () => {
    const frame = await wb().openMessageLog();
    await Workbench.thread(frame, 'API Design for Agent Coordination').waitFor({ state: 'visible' });
    assert.equal(await frame.locator('#count').innerText(), '1 thread · 1 message');
    assert.equal(await frame.locator('#identity').innerText(), 'No instance id set');

    const log = readLog(wb());
    log.messages.push(
      { message_id: 'msg_900', from: 'instance-3', to: 'instance-2', type: 'question', timestamp: iso(10 * 60_000), subject: 'Schema review', message: 'Is the schema final?', priority: 'medium', requires_response: true, status: 'responded' },
      { message_id: 'msg_901', from: 'instance-2', to: 'instance-3', type: 'reply', timestamp: iso(5 * 60_000), subject: 'Re: Schema review', message: 'Looks good.', priority: 'medium', requires_response: false, status: 'sent', in_reply_to: 'msg_900' },
    );
    writeLog(wb(), log);
    const t = Workbench.thread(frame, 'Schema review');
    await t.waitFor({ state: 'visible' });
    assert.equal(await frame.locator('#count').innerText(), '2 threads · 3 messages');

    // Closed: the first message and a line about the replies.
    assert.equal(await t.getAttribute('aria-expanded'), 'false');
    assert.match(await t.locator('.summary').innerText(), /^1 reply · latest from instance-2, \d+m ago$/);
    assert.equal(await t.locator('.message.reply').isVisible(), false);

    // A click opens it: the reply shows and the thread has the focus.
    await t.locator('h3.subject').click();
    await wb().waitUntil(async () => (await t.getAttribute('aria-expanded')) === 'true', 'the thread to open');
    assert.equal(await t.locator('.message.reply .body').innerText(), 'Looks good.');
    assert.equal(await frame.locator('article.thread:focus h3.subject').innerText(), 'Schema review');
    assert.equal(await t.locator('.summary').isVisible(), false);
    await wb().screenshot('message-log-thread-open');

    // One Show in File for the whole thread, none per message; it opens the log.
    const show = t.getByRole('button', { name: 'Show in File' });
    assert.equal(await show.count(), 1);
    assert.equal(await frame.getByRole('button', { name: 'Show in File' }).count(), 2, 'one per thread');
    await show.click();
    await wb().page.locator('.part.editor .tabs-container .tab').filter({ hasText: LOG }).first().waitFor({ state: 'visible' });

    // Another click closes it again.
    await t.locator('h3.subject').click();
    await wb().waitUntil(async () => (await t.getAttribute('aria-expanded')) === 'false', 'the thread to close');
    assert.equal(await t.locator('.message.reply').isVisible(), false);
  });

  it('replies without Set Instance: asks once who the user is, remembers it, and the answer ends the wait', async () => {
    const frame = await wb().openMessageLog();
    const t = Workbench.thread(frame, 'API Design for Agent Coordination');
    await t.waitFor({ state: 'visible' });
    await t.locator('.badge.waiting').waitFor({ state: 'visible' });

    await t.locator('.message:not(.reply)').getByRole('button', { name: 'Reply' }).click();
    // A reply asks for nothing back unless the user says so.
    assert.equal(await frame.locator('#compose-requires').isChecked(), false);
    await frame.locator('#compose-body').fill('REST first; GraphQL once the schema settles.');
    await frame.locator('#compose-send').click();

    // Asked once: which instance the user is, the message's addressee offered first.
    const widget = wb().page.locator('.quick-input-widget');
    await widget.locator('.quick-input-title', { hasText: 'Which instance are you?' }).waitFor({ state: 'visible' });
    const first = widget.locator('.monaco-list-row').first();
    assert.match(await first.innerText(), /^instance-1(?!\d)/);
    await first.click();

    await t.locator('.message.reply .body', { hasText: 'REST first' }).waitFor({ state: 'visible' });
    await t.locator('.badge.waiting').waitFor({ state: 'detached' });
    const log = readLog(wb());
    const original = log.messages.find((m) => m.message_id === 'msg_001')!;
    const reply = log.messages.find((m) => m.in_reply_to === 'msg_001')!;
    assert.equal(original.status, 'responded');
    assert.deepEqual([reply.from, reply.to, reply.requires_response, reply.status], ['instance-1', 'instance-2', false, 'sent']);
    // Remembered in the workspace settings.
    const settings = fs.readFileSync(path.join(wb().ws.folder, '.vscode', 'settings.json'), 'utf8');
    assert.match(settings, /"syncord\.instanceId"\s*:\s*"instance-1"/);
    await frame.locator('#identity', { hasText: 'You are instance-1' }).waitFor({ state: 'visible' });

    // Not asked again: the next message goes out as instance-1 (a question here would keep it from being sent).
    await frame.locator('#new-message').click();
    await frame.locator('#compose-to').selectOption('instance-3');
    await frame.locator('#compose-subject').fill('Thanks for the review');
    await frame.locator('#compose-body').fill('Merged.');
    await frame.locator('#compose-send').click();
    await Workbench.thread(frame, 'Thanks for the review').waitFor({ state: 'visible' });
    assert.equal(await widget.isVisible(), false);
    const sent = readLog(wb()).messages.find((m) => m.subject === 'Thanks for the review')!;
    assert.equal(sent.from, 'instance-1');
  });

  it('renews the ages while the panel stays open', async () => {
    const frame = await wb().openMessageLog();
    const log = readLog(wb());
    // 40 seconds old: "just now" when it arrives, "1m ago" at one of the next renewals (every 30 s).
    log.messages.push({ message_id: 'msg_950', from: 'instance-4', to: 'instance-5', type: 'info', timestamp: iso(40_000), subject: 'Build is green', message: 'All checks pass.', priority: 'low', requires_response: false, status: 'sent' });
    writeLog(wb(), log);
    const age = Workbench.thread(frame, 'Build is green').locator('.message:not(.reply) time.age');
    await age.waitFor({ state: 'visible' });
    assert.equal(await age.innerText(), 'just now');
    // The log does not change meanwhile: the webview renews the text from the message's timestamp.
    await wb().waitUntil(async () => (await age.innerText()) === '1m ago', 'the age to move on to "1m ago"', 100_000);
  });
});
