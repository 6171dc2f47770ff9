// The README's pictures, taken on the demo exactly as `npm start` lays it out (the fixture `demo-live`: dated
// relative to now, VS Code acting as `lead`, instances named demo-* running the stand-in agent), following the
// README's tour: the Coordination view with the Message Log, the Targets view with one target behind, and the
// Sessions view with a stand-in agent that took a task.
//
// With SYNCORD_SCREENSHOTS=<folder> (e.g. docs/images, relative to the repository) the pictures are written
// there under the names the README uses; otherwise into test-output/screenshots/ like every e2e picture:
//
//   SYNCORD_SCREENSHOTS=docs/images npm test -- --only e2e
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ROOT, SCREENSHOTS, useWorkbench, Workbench } from './workbench';

const OUT = process.env.SYNCORD_SCREENSHOTS ? path.resolve(ROOT, process.env.SYNCORD_SCREENSHOTS) : SCREENSHOTS;

/** Saves the window as <OUT>/<name>.png (a name the README references) and checks it is a real picture. */
async function picture(wb: Workbench, name: string): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.png`);
  await wb.page.mouse.move(1, 1);
  // Nothing half-open in the picture: no quick input, no menu.
  if (await wb.page.locator('.quick-input-widget').isVisible()) await wb.page.keyboard.press('Escape');
  await wb.page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  await wb.page.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 20_000, `${file} is nearly empty`);
}

function readJson(wb: Workbench, name: string): any {
  return JSON.parse(fs.readFileSync(path.join(wb.ws.folder, 'coordination', name), 'utf8'));
}

/** Collapses a view of the Syncord container when it is expanded. */
async function collapse(wb: Workbench, name: string): Promise<void> {
  const header = wb.view(name).locator('.pane-header').first();
  // On the title: the header's middle may hold the view's actions (Create Task…).
  if ((await header.getAttribute('aria-expanded')) === 'true') await header.locator('.title').first().click();
  await wb.waitUntil(async () => (await header.getAttribute('aria-expanded')) === 'false', `${name} to be collapsed`);
}

describe("The README's pictures (the demo as npm start lays it out)", () => {
  const wb = useWorkbench({
    fixture: 'demo-live',
    settings: { 'terminal.integrated.gpuAcceleration': 'off', 'workbench.startupEditor': 'none' },
    viewport: { width: 1400, height: 900 },
  });

  it('coordination.png: the Coordination view and the Message Log, acting as lead', async () => {
    await wb().openContainer('Syncord');
    await collapse(wb(), 'Targets');
    await collapse(wb(), 'Sessions');
    await wb().expandView('Coordination');
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith('backend-claude')), 'the demo instances in the tree');
    await wb().waitUntil(async () => (await wb().viewRows('Coordination')).some((r) => r.startsWith('task_005')), 'the demo tasks in the tree');
    await wb().runCommand('Syncord: Open Message Log');
    await wb().webviewFrame().getByText('Config merge: which keys does a target keep?').first().waitFor({ state: 'visible' });
    await picture(wb(), 'coordination');
  });

  it('targets.png: simple_python_app in sync, ComfyUI_windows_portable behind with its changes', async () => {
    await collapse(wb(), 'Coordination');
    await wb().expandView('Targets');
    const behind = wb().rows('Targets').filter({ hasText: 'ComfyUI_windows_portable' }).first();
    await behind.waitFor({ state: 'visible' });
    await wb().rows('Targets').filter({ hasText: 'simple_python_app' }).first().waitFor({ state: 'visible' });
    if ((await behind.getAttribute('aria-expanded')) === 'false') await behind.click();
    await wb().waitUntil(async () => (await wb().viewItems('Targets')).some((r) => r.level === 2), "the target's changes under it");
    await picture(wb(), 'targets');
  });

  it('sessions.png: a stand-in agent spawned as demo-1 takes task_006 and completes it', async () => {
    await collapse(wb(), 'Targets');
    await wb().expandView('Coordination');
    const pane = await wb().expandView('Sessions');
    const header = pane.locator('.pane-header').first();
    await header.hover();
    await header.locator('.actions .action-label[aria-label^="Spawn Agent Session"]').click();
    await wb().page.mouse.move(900, 250);
    const widget = wb().page.locator('.quick-input-widget');
    const step = async (n: number, text?: string) => {
      await widget.locator('.quick-input-title', { hasText: `(${n}/4)` }).waitFor({ state: 'visible' });
      if (text !== undefined) await widget.locator('input.input').fill(text);
    };
    await step(1, 'demo-1');
    await widget.locator('.monaco-list-row', { hasText: 'new instance' }).waitFor({ state: 'visible' });
    await wb().page.keyboard.press('Enter');
    await step(2, 'tester');
    await wb().page.keyboard.press('Enter');
    await step(3);
    // The demo maps demo-* to its stand-in agent, offered first.
    await widget.locator('.monaco-list-row.focused', { hasText: 'demo-agent' }).waitFor({ state: 'visible' });
    await wb().page.keyboard.press('Enter');
    await step(4);
    await wb().page.keyboard.press('Enter');
    await wb().waitForNotification(/started demo-1/);
    await wb().waitUntil(async () => (await wb().viewRows('Sessions')).some((r) => r.startsWith('demo-1') && r.includes('running')), 'demo-1 running in the Sessions view');

    // Assign to Session… on task_006 in the Coordination tree, as the tour says.
    const instances = wb().rows('Coordination').filter({ hasText: /^\s*Instances/ }).first();
    if ((await instances.getAttribute('aria-expanded')) === 'true') await instances.click();
    const row = wb().rows('Coordination').filter({ hasText: 'task_006' }).first();
    await row.waitFor({ state: 'visible' });
    const pick = wb().page.locator('.quick-input-widget .monaco-list-row', { hasText: 'demo-1' }).first();
    await wb().contextMenu(row, 'Assign to Session…', pick);
    await pick.click();
    await wb().waitUntil(
      () => readJson(wb(), 'task-queue.json').completed_tasks.some((t: { task_id: string }) => t.task_id === 'task_006'),
      'the stand-in agent to complete task_006',
      60_000,
    );
    await picture(wb(), 'sessions');
  });
});
