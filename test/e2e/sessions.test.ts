// Agent sessions as a person uses them in the real workbench, with the fake `claude` of
// test/fixtures/runtimes/bin first on the server's PATH (so the extension host, and every agent it starts,
// finds it): spawned from the Sessions view's title button through its quick inputs, running in a terminal
// that shows the agent's output, checked in in the Coordination view, handed a task from the Coordination
// tree, found again with its terminal after a window reload, stopped from its context menu. In Restricted Mode the view says why nothing can be started.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, useWorkbench, Workbench } from './workbench';

const FAKES = path.join(ROOT, 'test', 'fixtures', 'runtimes', 'bin');

function readJson(wb: Workbench, name: string): any {
  return JSON.parse(fs.readFileSync(path.join(wb.ws.folder, 'coordination', name), 'utf8'));
}

/** Waits for the quick input whose title shows `step`, types `text` (if any) and returns the widget. */
async function step(wb: Workbench, title: RegExp, text?: string) {
  const widget = wb.page.locator('.quick-input-widget');
  await widget.locator('.quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
  if (text !== undefined) await widget.locator('input.input').fill(text);
  return widget;
}

/** The text the visible terminal shows (the DOM renderer's rows). */
async function terminalText(wb: Workbench): Promise<string> {
  const rows = wb.page.locator('.terminal-wrapper.active .xterm-rows, .terminal-wrapper .xterm-rows').first();
  if (!(await rows.count())) return '';
  return (await rows.innerText()).replace(/\u00a0/g, ' ');
}

/** Moves the pointer to the empty editor area, so no hover card covers what is clicked next. */
async function awayFromHovers(wb: Workbench): Promise<void> {
  await wb.page.mouse.move(900, 250);
}

/** Gives the Syncord views room: the Targets view is collapsed. */
async function showSessions(wb: Workbench) {
  // After a window reload the side bar may come back hidden with the container still selected; a click on
  // the container's icon then shows it.
  const title = wb.page.locator('.part.sidebar .composite.title h2', { hasText: /^Syncord$/i });
  await wb.activityBarItem('Syncord').waitFor({ state: 'visible' });
  await wb.waitUntil(async () => {
    if (await title.isVisible()) return true;
    await wb.activityBarItem('Syncord').click();
    await title.waitFor({ state: 'visible', timeout: 2_000 }).catch(() => undefined);
    return title.isVisible();
  }, 'the Syncord side bar');
  const targets = wb.view('Targets').locator('.pane-header').first();
  if ((await targets.getAttribute('aria-expanded')) === 'true') await targets.click();
  await wb.expandView('Coordination');
  return wb.expandView('Sessions');
}

describe('Agent sessions in the workbench (fake claude on PATH)', () => {
  const wb = useWorkbench({
    fixture: 'demo-sessions',
    settings: { 'syncord.instanceId': 'instance-1', 'terminal.integrated.gpuAcceleration': 'off' },
    viewport: { width: 1400, height: 1000 },
    env: { PATH: [FAKES, process.env.PATH ?? ''].join(path.delimiter) },
  });

  it('spawns claude from the Sessions view: the terminal shows the agent, the row runs and the instance checks in', async () => {
    const pane = await showSessions(wb());
    const welcome = wb().welcome('Sessions');
    await welcome.waitFor({ state: 'visible' });
    assert.match(await welcome.innerText(), /No agent session yet/);

    const header = pane.locator('.pane-header').first();
    await header.hover();
    await header.locator('.actions .action-label[aria-label^="Spawn Agent Session"]').click();
    await awayFromHovers(wb());

    // 1/4: a new instance is typed in; the list offers to register it.
    const widget = await step(wb(), /\(1\/4\)/, 'backend-claude');
    const offer = widget.locator('.monaco-list-row', { hasText: 'new instance' });
    await offer.waitFor({ state: 'visible' });
    assert.match(await offer.innerText(), /backend-claude/);
    await wb().page.keyboard.press('Enter');
    // 2/4: its role.
    await step(wb(), /\(2\/4\)/, 'backend');
    await wb().page.keyboard.press('Enter');
    // 3/4: the runtime, with the one the name maps to first and preselected.
    await step(wb(), /\(3\/4\)/);
    const focused = widget.locator('.monaco-list-row.focused');
    await focused.waitFor({ state: 'visible' });
    const runtimeRow = (await focused.innerText()).replace(/\s+/g, ' ');
    assert.match(runtimeRow, /^claude\s*chosen by the mapping \*claude\* · built in/);
    assert.doesNotMatch(runtimeRow, /not installed/);
    await wb().page.keyboard.press('Enter');
    // 4/4: where it runs; here, in the main project folder (no worktree).
    await step(wb(), /\(4\/4\)/);
    await widget.locator('.monaco-list-row.focused', { hasText: 'Here, in the main project folder' }).waitFor({ state: 'visible' });
    await wb().page.keyboard.press('Enter');

    const note = await wb().waitForNotification(/started backend-claude/);
    assert.match(note, /started backend-claude \(newly registered\) with claude \(chosen by the mapping \*claude\*\) in the terminal "backend-claude \(claude\)"/);

    // The terminal runs the agent, which has read its first prompt and run the startup checklist.
    await wb().page.locator('.terminal-tabs-entry, .single-terminal-tab, .terminal-tab', { hasText: 'backend-claude (claude)' }).first().waitFor({ state: 'visible' });
    await wb().waitUntil(async () => (await terminalText(wb())).includes('fake-claude: ready'), 'the terminal to show "fake-claude: ready"');
    const text = await terminalText(wb());
    assert.match(text, /fake-claude: \$ syncord inbox/);
    assert.match(text, /fake-claude: \$ syncord checkin/);

    // The session row runs, with what the agent reports of itself (its Stop hook: idle); the instance is
    // checked in (active) with this session.
    await wb().waitUntil(async () => (await wb().viewRows('Sessions')).includes('backend-claude claude · running · idle'), 'the Sessions view to show backend-claude running, its agent idle');
    const session = readJson(wb(), 'sessions.json').sessions.find((s: { instance: string }) => s.instance === 'backend-claude');
    assert.equal(session.state, 'running');
    assert.equal(session.mode, 'terminal');
    const reg = readJson(wb(), 'instance-registry.json').instances['backend-claude'];
    assert.deepEqual([reg.status, reg.role, reg.current_session_id], ['active', 'backend', session.session_id]);
    const instanceRow = wb().rows('Coordination').filter({ hasText: 'backend-claude' }).first();
    await instanceRow.locator('.codicon-circle-filled').waitFor({ state: 'visible' });
    assert.match(await instanceRow.innerText(), /backend · checked in/);
    await wb().rows('Sessions').filter({ hasText: 'backend-claude' }).first().locator('.codicon-vm-running').waitFor({ state: 'visible' });

    const shot = await wb().screenshot('sessions-running');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');
  });

  it('hands a task to the session from the Coordination tree: typed into its terminal, the agent completes it', async () => {
    const out = execFileSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'cli.js'), '-w', wb().ws.folder, '--as', 'instance-1', 'task', 'add', '--title', 'Add the health endpoint', '--priority', 'high', '--json'],
      { encoding: 'utf8' },
    );
    const task = (JSON.parse(out) as { task_id: string }).task_id;
    // Room for the task rows: the instances are folded away.
    const instances = wb().rows('Coordination').filter({ hasText: /^\s*Instances/ }).first();
    if ((await instances.getAttribute('aria-expanded')) === 'true') await instances.click();
    await awayFromHovers(wb());
    const row = wb().rows('Coordination').filter({ hasText: `${task} Add the health endpoint` }).first();
    await row.waitFor({ state: 'visible' });
    const pick = wb().page.locator('.quick-input-widget .monaco-list-row', { hasText: 'backend-claude' }).first();
    await wb().contextMenu(row, 'Assign to Session…', pick);
    assert.match(await pick.innerText(), /claude · running/);
    await pick.click();

    const note = await wb().waitForNotification(new RegExp(`Assigned ${task} to backend-claude`));
    assert.match(note, new RegExp(`Assigned ${task} to backend-claude(?: and|;) typed it into its terminal`));
    await wb().waitUntil(async () => (await terminalText(wb())).includes(`fake-claude: $ syncord task complete ${task}`), 'the agent to complete the task in its terminal');
    await wb().waitUntil(
      () => readJson(wb(), 'task-queue.json').completed_tasks.some((t: { task_id: string; assigned_to: string }) => t.task_id === task && t.assigned_to === 'backend-claude'),
      `${task} to be completed by backend-claude`,
    );
    // The agent ran `syncord task start` about it itself: acknowledged.
    await wb().waitUntil(() => {
      const handoff = readJson(wb(), 'communication-log.json').messages.filter((m: { type: string }) => m.type === 'handoff').pop();
      return JSON.stringify(handoff.deliveries.map((d: { instance: string; via: string; status: string }) => [d.instance, d.via, d.status])) === JSON.stringify([['backend-claude', 'terminal', 'acknowledged']]);
    }, 'the hand-over to be acknowledged by the agent');
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).includes('Completed 1'), 'the Coordination view to count the completed task');
    await wb().screenshot('sessions-task-completed');
  });

  it('after a window reload the session is found again: still running, its terminal re-attached, work still typed into it', async () => {
    await wb().runCommand('Developer: Reload Window');
    await wb().waitForWorkbench();
    await showSessions(wb());
    await wb().waitUntil(async () => (await wb().viewRows('Sessions')).includes('backend-claude claude · running · idle'), 'the Sessions view to show backend-claude running after the reload');
    // Its terminal is this window's again: the row offers to focus it, and clicking the row shows it.
    const row = wb().rows('Sessions').filter({ hasText: 'backend-claude' }).first();
    await row.hover();
    await row.locator('.actions .action-label[aria-label="Focus Session Terminal"]').waitFor({ state: 'visible' });
    const out = execFileSync(
      process.execPath,
      [path.join(ROOT, 'dist', 'cli.js'), '-w', wb().ws.folder, '--as', 'instance-1', 'task', 'add', '--title', 'Document the health endpoint', '--json'],
      { encoding: 'utf8' },
    );
    const task = (JSON.parse(out) as { task_id: string }).task_id;
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith(`${task} Document the health endpoint`)), `${task} in the Coordination view`);
    await awayFromHovers(wb());
    const pick = wb().page.locator('.quick-input-widget .monaco-list-row', { hasText: task }).first();
    await wb().contextMenu(wb().rows('Sessions').filter({ hasText: 'backend-claude' }).first(), 'Assign Task to Session…', pick);
    await pick.click();
    // Typed at once: this window owns the session's terminal again (found by its process id).
    await wb().waitForNotification(new RegExp(`Assigned ${task} to backend-claude(?: and|;) typed it into its terminal`));
    await wb().waitUntil(
      () => readJson(wb(), 'task-queue.json').completed_tasks.some((t: { task_id: string }) => t.task_id === task),
      `${task} to be completed after the reload`,
    );
  });

  it('stops the session from its context menu after a confirmation; the row shows it exited and the instance goes offline', async () => {
    await awayFromHovers(wb());
    const row = wb().rows('Sessions').filter({ hasText: 'backend-claude' }).first();
    const dialog = wb().page.locator('.monaco-dialog-box');
    await wb().contextMenu(row, 'Stop Session', dialog);
    assert.match(await dialog.innerText(), /Stop the session of backend-claude\?/);
    await dialog.getByRole('button', { name: 'Stop Session' }).click();

    await wb().waitForNotification(/stopped the session of backend-claude/);
    await wb().waitUntil(async () => (await wb().viewRows('Sessions')).some((r) => r.startsWith('backend-claude claude · exited')), 'the Sessions view to show backend-claude exited');
    await row.locator('.codicon-circle-slash').waitFor({ state: 'visible' });
    await wb().waitUntil(() => readJson(wb(), 'instance-registry.json').instances['backend-claude'].status === 'offline', 'backend-claude to be checked out');
    await wb().screenshot('sessions-stopped');
  });
});

describe('Agent sessions in Restricted Mode', () => {
  const wb = useWorkbench({ fixture: 'demo-sessions', trust: false });

  it('the Sessions view says sessions need a trusted workspace, offers to manage trust and cannot spawn', async () => {
    const pane = await showSessions(wb());
    // Syncord is active (the coordination files show, as recorded) ...
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith('Instances')), 'the Coordination view to show the instances');
    // ... and the Sessions view explains why it cannot start anything.
    const welcome = wb().welcome('Sessions');
    await welcome.waitFor({ state: 'visible' });
    assert.match(await welcome.innerText(), /need a trusted workspace/);
    await welcome.getByRole('button', { name: 'Manage Workspace Trust' }).waitFor({ state: 'visible' });
    assert.equal(await welcome.getByRole('button', { name: 'Spawn Agent Session' }).count(), 0);
    const header = pane.locator('.pane-header').first();
    await header.hover();
    const spawn = header.locator('.actions .action-label[aria-label^="Spawn Agent Session"]');
    await spawn.waitFor({ state: 'attached' });
    assert.match((await spawn.getAttribute('class')) ?? '', /\bdisabled\b/);
    await wb().screenshot('sessions-restricted');
    assert.equal(fs.existsSync(path.join(wb().ws.folder, 'coordination', 'sessions.json')), false);
  });
});
