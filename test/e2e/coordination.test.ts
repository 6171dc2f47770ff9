// The coordination UI as a person uses it in the real workbench: the Coordination tree on the seed's
// example files, a task created through the command palette's multi-step input, and the Message Log
// webview sending a message, showing hostile text as text, and following edits made by agents on disk.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { FrameLocator, Locator } from 'playwright-core';
import { useWorkbench, Workbench } from './workbench';

const FILES = ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json'] as const;
type CoordinationFile = (typeof FILES)[number];

function readJson(wb: Workbench, name: CoordinationFile): any {
  return JSON.parse(fs.readFileSync(path.join(wb.ws.folder, 'coordination', name), 'utf8'));
}

/** Fills the visible quick input (after its title shows `step`) and accepts it with Enter. */
async function answer(wb: Workbench, step: RegExp, text: string): Promise<void> {
  const widget = wb.page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: step }).waitFor({ state: 'visible' });
  const input = widget.locator('input.input');
  await input.fill(text);
  await wb.page.keyboard.press('Enter');
}


/** Gives the Coordination view the whole side bar: the Targets view is collapsed. */
async function focusCoordination(wb: Workbench): Promise<void> {
  await wb.openContainer('Syncord');
  const targets = wb.view('Targets').locator('.pane-header').first();
  if ((await targets.getAttribute('aria-expanded')) === 'true') await targets.click();
  await wb.expandView('Coordination');
}



describe('Coordination UI (demo workspace with the seed 004 files)', () => {
  const wb = useWorkbench({ fixture: 'demo', settings: { 'syncord.instanceId': 'instance-2' } });

  it('shows the seed instances, tasks and decisions in the Coordination tree', async () => {
    await focusCoordination(wb());
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith('dec_002')), 'the decisions in the tree');
    const rows = await wb().viewRows('Coordination');
    const has = (re: RegExp) => assert.ok(rows.some((r) => re.test(r)), `no row matches ${re}:\n${rows.join('\n')}`);
    has(/^Instances 6 · 2 stale$/);
    has(/^instance-1 \(stale\) architecture-backend · designing-microservices-architecture · checked in .* ago · available$/);
    has(/^instance-2 \(you\)|^instance-2 \(stale\)/);
    has(/^instance-3 frontend-ux · never checked in$/);
    has(/^Tasks 1 active · 2 pending$/);
    has(/^task_001 Design BikeNode AI Agent Architecture instance-2 · high · overdue/);
    has(/^task_003 Design Agent UI\/UX Interface unassigned \(suggested instance-3\) · medium · .* · blocked by task_001, task_002$/);
    has(/^dec_002 Agent Communication Protocol 2 options · input needed from instance-1, instance-3/);
    has(/^REST API 3 pros · 2 cons$/);
    has(/^GraphQL Federation 3 pros · 3 cons$/);
    // The status bar item, under Syncord's name so it is not read as VS Code's own counts: no message waits for
    // instance-2 (no zero shown); the seed's old dates are health problems.
    const status = wb().page.locator('.part.statusbar .statusbar-item').filter({ has: wb().page.locator('.codicon-comment-discussion') }).first();
    await status.waitFor({ state: 'visible' });
    assert.match((await status.innerText()).replace(/\s+/g, ' ').trim(), /^Syncord: [1-9][\d,]* issues?$/);
    const label = await status.evaluate((e) => [e, ...Array.from(e.querySelectorAll('[aria-label]'))].map((x) => x.getAttribute('aria-label')).find((l) => !!l?.startsWith('Syncord')) ?? null);
    assert.ok(label && /^Syncord coordination\. /.test(label) && !/\.\s*\./.test(label), `the screen-reader label is "${label}"`);
    const shot = await wb().screenshot('coordination-container');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');
  });

  it('creates a task through the multi-step input; it lands in task-queue.json and in the tree', async () => {
    await wb().startCommand('Syncord: Create Task…');
    await answer(wb(), /\(1\/5\)/, 'Draft the onboarding guide for new agents');
    await answer(wb(), /\(2\/5\)/, 'Explain check-in, tasks, messages and decisions');
    await answer(wb(), /\(3\/5\)/, 'high');
    await answer(wb(), /\(4\/5\)/, '+2d');
    await answer(wb(), /\(5\/5\)/, '');
    await wb().page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    await wb().waitForNotification(/created task_004/);

    const t = readJson(wb(), 'task-queue.json').pending_tasks.find((x: { task_id: string }) => x.task_id === 'task_004');
    assert.ok(t, 'task_004 is not in pending_tasks');
    assert.equal(t.title, 'Draft the onboarding guide for new agents');
    assert.equal(t.description, 'Explain check-in, tasks, messages and decisions');
    assert.equal(t.priority, 'high');
    assert.equal(t.status, 'pending_assignment');
    assert.equal(t.created_by, 'instance-2');
    assert.ok(Date.parse(t.due) > Date.now() + 86_400_000, `due ${t.due} is not two days ahead`);
    await wb().waitUntil(
      async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith('task_004 Draft the onboarding guide for new agents unassigned · high · due in')),
      'task_004 in the tree',
    );
  });

  it('claims task_004 with the inline action of its row', async () => {
    const row = wb().rows('Coordination').filter({ hasText: 'task_004 Draft the onboarding guide' }).first();
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Claim Task"]').click();
    await wb().waitForNotification(/instance-2 has task_004 in progress/);
    const q = readJson(wb(), 'task-queue.json');
    const t = q.active_tasks.find((x: { task_id: string }) => x.task_id === 'task_004');
    assert.ok(t, 'task_004 is not in active_tasks');
    assert.deepEqual([t.status, t.assigned_to], ['in_progress', 'instance-2']);
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).includes('Tasks 2 active · 2 pending'), 'the Tasks group to count two active tasks');
  });

  it('follows an agent that completes a task by rewriting task-queue.json on disk', async () => {
    const file = path.join(wb().ws.folder, 'coordination', 'task-queue.json');
    const q = readJson(wb(), 'task-queue.json');
    const i = q.active_tasks.findIndex((t: { task_id: string }) => t.task_id === 'task_004');
    const [t] = q.active_tasks.splice(i, 1);
    q.completed_tasks.push({ ...t, status: 'completed', completed_at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    fs.writeFileSync(`${file}.agent`, JSON.stringify(q, null, 2) + '\n');
    fs.renameSync(`${file}.agent`, file);
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).includes('Tasks 1 active · 2 pending'), 'the Tasks group to count one active task again');
    assert.ok((await wb().viewRows('Coordination')).includes('Completed 1'));
  });

  it('sends a message from the Message Log; it lands in communication-log.json and in its thread', async () => {
    const frame = await wb().openMessageLog();
    await Workbench.thread(frame, 'API Design for Agent Coordination').waitFor({ state: 'visible' });
    // The seed's message waits for a response and says since when.
    assert.match(await Workbench.thread(frame, 'API Design for Agent Coordination').locator('.badge.waiting').innerText(), /^Waiting for a response · \d+d/);

    await frame.locator('#new-message').click();
    await frame.locator('#compose-to').selectOption('instance-1');
    await frame.locator('#compose-subject').fill('Coordination UI review');
    await frame.locator('#compose-body').fill('Could you review the Message Log before Friday?');
    await frame.locator('#compose-send').click();

    const t = Workbench.thread(frame, 'Coordination UI review');
    await t.waitFor({ state: 'visible' });
    assert.equal(await t.locator('.body').first().innerText(), 'Could you review the Message Log before Friday?');
    assert.match(await t.locator('.meta').first().innerText(), /instance-2\s*→\s*instance-1/);
    await frame.locator('#composer').waitFor({ state: 'hidden' });

    const sent = readJson(wb(), 'communication-log.json').messages.find((m: { subject: string }) => m.subject === 'Coordination UI review');
    assert.ok(sent, 'the message is not in communication-log.json');
    assert.deepEqual([sent.from, sent.to, sent.message, sent.status], ['instance-2', 'instance-1', 'Could you review the Message Log before Friday?', 'pending_response']);
  });

  it('shows a hostile message body as literal text and runs nothing', async () => {
    const frame = await wb().openMessageLog();
    const hostile = '<img src=x onerror="window.__syncordPwned = 1; document.title = \'pwned\'">';
    await frame.locator('#new-message').click();
    await frame.locator('#compose-to').selectOption('instance-3');
    await frame.locator('#compose-subject').fill('<b>bold?</b>');
    await frame.locator('#compose-body').fill(hostile);
    await frame.locator('#compose-send').click();

    const t = Workbench.thread(frame, '<b>bold?</b>');
    await t.waitFor({ state: 'visible' });
    assert.equal(await t.locator('.body').first().innerText(), hostile);
    assert.equal(await t.locator('h3.subject').innerText(), '<b>bold?</b>');
    assert.equal(await frame.locator('#threads img, #threads b').count(), 0);
    const pwned = await frame.locator('body').evaluate(() => ({ flag: (window as unknown as { __syncordPwned?: number }).__syncordPwned, title: document.title }));
    assert.equal(pwned.flag, undefined);
    assert.notEqual(pwned.title, 'pwned');
    const stored = readJson(wb(), 'communication-log.json').messages.find((m: { subject: string }) => m.subject === '<b>bold?</b>');
    assert.equal(stored.message, hostile);
  });

  it('follows an agent writing the log on disk, and filters by instance and status', async () => {
    const frame = await wb().openMessageLog();
    const file = path.join(wb().ws.folder, 'coordination', 'communication-log.json');
    const log = JSON.parse(fs.readFileSync(file, 'utf8'));
    log.messages.push({
      message_id: 'msg_900',
      from: 'instance-5',
      to: 'instance-2',
      type: 'info',
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      subject: 'Deployment window moved',
      message: 'Friday 18:00 UTC instead of Thursday.',
      priority: 'high',
      requires_response: false,
      status: 'sent',
    });
    fs.writeFileSync(`${file}.agent`, JSON.stringify(log, null, 2) + '\n');
    fs.renameSync(`${file}.agent`, file);
    const t = Workbench.thread(frame, 'Deployment window moved');
    await t.waitFor({ state: 'visible' });
    // Addressed to me (instance-2) and needing no answer: it can be acknowledged.
    await t.getByRole('button', { name: 'Acknowledge' }).click();
    await t.locator('.meta .status', { hasText: 'acknowledged' }).waitFor({ state: 'visible' });
    assert.equal(readJson(wb(), 'communication-log.json').messages.find((m: { message_id: string }) => m.message_id === 'msg_900').status, 'acknowledged');

    await frame.locator('#filter-status').selectOption('waiting');
    await Workbench.thread(frame, 'Deployment window moved').waitFor({ state: 'detached' });
    const waiting = await frame.locator('article.thread h3.subject').allInnerTexts();
    assert.deepEqual(waiting.sort(), ['<b>bold?</b>', 'API Design for Agent Coordination', 'Coordination UI review']);
    await frame.locator('#filter-instance').selectOption('instance-3');
    await wb().waitUntil(async () => (await frame.locator('article.thread').count()) === 1, 'the instance filter');
    assert.deepEqual(await frame.locator('article.thread h3.subject').allInnerTexts(), ['<b>bold?</b>']);
    await frame.locator('#filter-instance').selectOption('');
    await frame.locator('#filter-status').selectOption('all');
    await Workbench.thread(frame, 'Deployment window moved').waitFor({ state: 'visible' });
    const shot = await wb().screenshot('message-log');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');
  });

  it('shows a 10,000-message log a page at a time, loads more on scrolling, and moves by keyboard', async () => {
    const frame = await wb().openMessageLog();
    const file = path.join(wb().ws.folder, 'coordination', 'communication-log.json');
    const log = JSON.parse(fs.readFileSync(file, 'utf8'));
    const base = Date.parse('2024-02-01T00:00:00Z');
    for (let n = 1; n <= 10_000; n++) {
      log.messages.push({
        message_id: `msg_${String(1000 + n)}`,
        from: `instance-${(n % 6) + 1}`,
        to: `instance-${((n + 1) % 6) + 1}`,
        type: 'info',
        timestamp: new Date(base + n * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        subject: `Bulk message ${n}`,
        message: `Status update number ${n}.`,
        status: 'sent',
      });
    }
    fs.writeFileSync(`${file}.agent`, JSON.stringify(log, null, 2) + '\n');
    fs.renameSync(`${file}.agent`, file);

    const total = log.messages.length;
    const count = frame.locator('#count');
    await wb().waitUntil(async () => (await count.innerText()).includes(`${total} messages`), 'the Message Log to show the big log');
    // Only the first page is in the page, newest first (after the messages written today by the tests above).
    assert.equal(await frame.locator('article.thread').count(), 50);
    const bulk = frame.locator('article.thread h3.subject', { hasText: /^Bulk message/ });
    assert.deepEqual((await bulk.allInnerTexts()).slice(0, 3), ['Bulk message 10000', 'Bulk message 9999', 'Bulk message 9998']);

    // Scrolling to the end brings the next page.
    await frame.locator('article.thread').last().scrollIntoViewIfNeeded();
    await wb().waitUntil(async () => (await frame.locator('article.thread').count()) === 100, 'the second page');
    assert.match(await count.innerText(), new RegExp(`^100 of ${total} threads`));

    // Keyboard: threads take focus and the arrow keys move between them.
    await Workbench.thread(frame, 'Bulk message 10000').focus();
    await wb().page.keyboard.press('ArrowDown');
    const focused = await frame.locator('article.thread:focus h3.subject').innerText();
    assert.equal(focused, 'Bulk message 9999');
  });
});
