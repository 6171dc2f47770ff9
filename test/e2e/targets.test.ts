// The Targets view as a person uses it in the real workbench (code-server in Chromium) on the demo
// workspace: a target that needs sync is synced from its inline action after confirming the plan, verified,
// broken, verified again (the broken link shows in the Problems panel), and brought back from its backup.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Locator } from 'playwright-core';
import { useWorkbench, Workbench } from './workbench';

const COMFY = 'ComfyUI_windows_portable';
const DOCS = 'python_embeded/Lib/site-packages/opencode/docs';
/** A doc the main project changed after this target's last sync: the sync updates it, its backup holds the old copy. */
const DOC = 'configuration.md';

/** An editor tab, by (part of) its title. */
function editorTab(wb: Workbench, title: string): Locator {
  return wb.page.locator('.part.editor .tabs-container .tab').filter({ hasText: title });
}


/** Expands a collapsed row of the Targets view (a click on a row with children toggles it). */
async function expand(row: Locator): Promise<void> {
  await row.waitFor({ state: 'visible' });
  if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
}

function targetRow(wb: Workbench, name: string): Locator {
  return wb.rows('Targets').filter({ hasText: name }).first();
}

async function rowText(row: Locator): Promise<string> {
  return (await row.innerText()).replace(/\s+/g, ' ').trim();
}

/** Waits until the row's text matches (the tree refreshes asynchronously). */
async function waitForRow(wb: Workbench, name: string, re: RegExp): Promise<string> {
  const row = wb.rows('Targets').filter({ hasText: name }).filter({ hasText: re }).first();
  await row.waitFor({ state: 'visible' });
  return rowText(row);
}

/**
 * Waits until the Targets view is still: no progress bar running in it, no row busy ("Syncing…"), and the
 * row's text the same on two reads a moment apart. An action clicked while the view is redrawing the row can
 * lose the row it belongs to.
 */
async function waitForSettled(wb: Workbench, row: Locator): Promise<void> {
  const progress = wb.view('Targets').locator('.monaco-progress-container.active');
  let last = '';
  await wb.waitUntil(async () => {
    if (await progress.count()) return false;
    const text = await rowText(row);
    const still = text === last && !text.includes('…');
    last = text;
    if (!still) await wb.page.waitForTimeout(400);
    return still;
  }, 'the Targets view to settle');
}

/** Clicks one of a row's inline actions (they show on hover), by its title, once the view is still. */
async function clickInline(wb: Workbench, row: Locator, title: string): Promise<void> {
  await waitForSettled(wb, row);
  await row.hover();
  const action = row.locator(`.actions .action-label[aria-label="${title}"]`);
  await action.waitFor({ state: 'visible' });
  await action.click();
}

/** The modal dialog VS Code shows for confirmations; clicks the named button. */
async function confirmDialog(wb: Workbench, button: string, expect: RegExp): Promise<string> {
  const dialog = wb.page.locator('.monaco-dialog-box');
  await dialog.waitFor({ state: 'visible' });
  const text = (await dialog.innerText()).replace(/\s+/g, ' ').trim();
  assert.match(text, expect);
  await dialog.getByRole('button', { name: button, exact: true }).click();
  await dialog.waitFor({ state: 'hidden' });
  return text;
}

function statusItem(wb: Workbench): Locator {
  return wb.page.locator('.part.statusbar .statusbar-item').filter({ hasText: /targets? (need|needs) sync|targets in sync|target has problems|targets have problems/ }).first();
}

describe('Targets view (demo workspace)', () => {
  const wb = useWorkbench({ fixture: 'demo' });
  let docBefore: string;
  let configBefore: string;

  it('shows the target that is behind as "needs sync", and the status bar counts it', async () => {
    await wb().openContainer('Syncord');
    await wb().expandView('Targets');
    const text = await waitForRow(wb(), COMFY, /needs sync/);
    // Short enough for the side bar's default width; the type and version are in the row's tooltip.
    assert.match(text, new RegExp(`^${COMFY}\\s*needs sync · synced .+ ago$`));
    assert.match(await rowText(targetRow(wb(), 'simple_python_app')), /^simple_python_app\s*synchronized · synced /);
    const status = statusItem(wb());
    await status.waitFor({ state: 'visible' });
    assert.match((await status.innerText()).trim(), /^\d+ targets? needs? sync$/);
    docBefore = fs.readFileSync(path.join(wb().ws.targets[COMFY], DOCS, DOC), 'utf8');
    configBefore = fs.readFileSync(path.join(wb().ws.targets[COMFY], 'opencode.toml'), 'utf8');
    await wb().screenshot('targets-before-sync');
  });

  it('a click on a pending file opens the diff of the target\'s copy and the main project\'s file', async () => {
    const target = targetRow(wb(), COMFY);
    await waitForSettled(wb(), target);
    await expand(target);
    await expand(wb().rows('Targets').filter({ hasText: /^\s*Pending changes/ }).first());
    await expand(wb().rows('Targets').filter({ hasText: /^\s*docs\s*medium priority/ }).first());
    const file = wb().rows('Targets').filter({ hasText: new RegExp(`^\\s*${DOC.replace('.', '\\.')}\\s*update · docs$`) }).first();
    await file.waitFor({ state: 'visible' });
    await file.click();
    await editorTab(wb(), `${DOC}: ${COMFY} ↔ main project`).waitFor({ state: 'visible' });
    await wb().page.locator('.part.editor .monaco-diff-editor').first().waitFor({ state: 'visible' });
    await wb().screenshot('targets-pending-file-diff');
    // Looking changes nothing in the target.
    assert.equal(fs.readFileSync(path.join(wb().ws.targets[COMFY], DOCS, DOC), 'utf8'), docBefore);
    await wb().runCommand('View: Close All Editors');
    await editorTab(wb(), `${DOC}: ${COMFY} ↔ main project`).waitFor({ state: 'detached' });
  });

  it('cancelling a sync closes the config diff and plan tabs its preview opened', async () => {
    await wb().startCommand('Syncord: Sync One Target…');
    // Two targets: the one behind is offered first.
    await wb().page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: COMFY }).first().click();
    await editorTab(wb(), `opencode.toml (${COMFY}) ↔ After Sync`).waitFor({ state: 'visible' });
    await confirmDialog(wb(), 'Show Plan', new RegExp(`Sync ${COMFY}\\?`));
    await editorTab(wb(), `Sync Plan (${COMFY}).md`).waitFor({ state: 'visible' });
    await confirmDialog(wb(), 'Cancel', new RegExp(`Sync ${COMFY}\\?`));
    const previews = wb().page.locator('.part.editor .tabs-container .tab').filter({ hasText: /↔ After Sync|Sync Plan/ });
    await wb().waitUntil(async () => (await previews.count()) === 0, 'the preview tabs to close');
    // Nothing was written.
    assert.equal(fs.readFileSync(path.join(wb().ws.targets[COMFY], DOCS, DOC), 'utf8'), docBefore);
    assert.equal(fs.readFileSync(path.join(wb().ws.targets[COMFY], 'opencode.toml'), 'utf8'), configBefore);
    await waitForRow(wb(), COMFY, /needs sync/);
  });

  it('syncs from the row\'s inline action after the plan is confirmed; the row and the status bar change', async () => {
    const before = (await statusItem(wb()).innerText()).trim();
    await clickInline(wb(), targetRow(wb(), COMFY), 'Sync One Target…');
    const plan = await confirmDialog(wb(), 'Sync', new RegExp(`Sync ${COMFY}\\? 1 file to add, 3 to update, 1 config file to merge\\.`));
    // Per component, in words; every file is listed by Show Plan.
    assert.match(plan, /docs: 2 files to update plans: 1 file to update rag: 1 file to add opencode\.toml: 3 keys to merge/);
    await wb().waitForNotification(new RegExp(`Synced ${COMFY}`));
    const text = await waitForRow(wb(), COMFY, /synchronized/);
    assert.match(text, /synchronized · synced just now/);
    // The main project's docs are in the target now.
    const main = wb().ws.main;
    assert.equal(fs.readFileSync(path.join(wb().ws.targets[COMFY], DOCS, 'configuration.md'), 'utf8'), fs.readFileSync(path.join(main, 'docs', 'configuration.md'), 'utf8'));
    assert.notEqual(fs.readFileSync(path.join(wb().ws.targets[COMFY], 'opencode.toml'), 'utf8'), configBefore, 'the config was merged');
    await wb().page.waitForFunction(
      (prev) => Array.from(document.querySelectorAll('.part.statusbar .statusbar-item')).some((e) => /targets? (need|needs) sync|targets in sync/.test(e.textContent ?? '') && (e.textContent ?? '').trim() !== prev),
      before,
    );
    assert.notEqual((await statusItem(wb()).innerText()).trim(), before);
    await wb().screenshot('targets-after-sync');
  });

  it('Verify passes on the synced target', async () => {
    const row = targetRow(wb(), COMFY);
    if ((await row.getAttribute('aria-expanded')) !== 'true') await row.click();
    await clickInline(wb(), row, 'Verify Target');
    const msg = await wb().waitForNotification(new RegExp(`Verify ${COMFY}: passed`));
    assert.match(msg, /passed \(\d+ checks/);
    await wb().rows('Targets').filter({ hasText: 'Last verify' }).filter({ hasText: /passed/ }).first().waitFor({ state: 'visible' });
  });

  it('a broken link made in the target makes Verify fail and appears in the Problems panel', async () => {
    const file = path.join(wb().ws.targets[COMFY], DOCS, DOC);
    fs.appendFileSync(file, '\nSee [the old guide](old-guide.md).\n');
    await clickInline(wb(), targetRow(wb(), COMFY), 'Verify Target');
    await wb().waitForNotification(new RegExp(`Verify ${COMFY}: \\d+ of \\d+ checks failed`));
    await waitForRow(wb(), COMFY, /verify failed/);
    // The failing check and its problem are shown under the target.
    await wb().rows('Targets').filter({ hasText: 'broken link: old-guide.md' }).first().waitFor({ state: 'visible' });
    await wb().page.locator('.part.statusbar [id="status.problems"]').click();
    const marker = wb().page.locator('.markers-panel .monaco-list-row').filter({ hasText: 'broken link: old-guide.md' }).first();
    await marker.waitFor({ state: 'visible' });
    await wb().page.locator('.markers-panel .monaco-list-row').filter({ hasText: DOC }).first().waitFor({ state: 'visible' });
    await wb().screenshot('targets-verify-failed');
  });

  it('Restore Backup from the backup\'s context menu brings the target back', async () => {
    await wb().openContainer('Syncord');
    const target = targetRow(wb(), COMFY);
    if ((await target.getAttribute('aria-expanded')) !== 'true') await target.click();
    const backups = wb().rows('Targets').filter({ hasText: /^\s*Backups/ }).first();
    await backups.waitFor({ state: 'visible' });
    if ((await backups.getAttribute('aria-expanded')) !== 'true') await backups.click();
    const backup = wb().rows('Targets').filter({ hasText: /pre-sync/ }).first();
    await backup.waitFor({ state: 'visible' });
    await wb().contextMenu(backup, 'Restore Backup', wb().page.locator('.monaco-dialog-box'));
    await confirmDialog(wb(), 'Restore', new RegExp(`Restore ${COMFY} to the backup taken .+ \\(pre-sync\\)\\?`));
    await wb().waitForNotification(new RegExp(`${COMFY}: restored backup`));
    await waitForRow(wb(), COMFY, /needs sync/);
    const doc = fs.readFileSync(path.join(wb().ws.targets[COMFY], DOCS, DOC), 'utf8');
    assert.equal(doc, docBefore, `docs/${DOC} is as it was before the sync, without the broken link`);
    assert.equal(fs.readFileSync(path.join(wb().ws.targets[COMFY], 'opencode.toml'), 'utf8'), configBefore, 'the config the sync merged is as it was');
    await wb().screenshot('targets-restored');
  });
});

describe('Targets view in Restricted Mode (demo workspace, not trusted)', () => {
  const wb = useWorkbench({ fixture: 'demo', trust: false });

  it('still lists the targets as recorded, and says why sync and verify are off', async () => {
    await wb().openContainer('Syncord');
    await wb().expandView('Targets');
    // The statuses written in targets.json (git is not run in an untrusted workspace).
    const text = await waitForRow(wb(), COMFY, /synchronized/);
    assert.match(text, new RegExp(`^${COMFY}\\s*synchronized · synced `));
    await wb().view('Targets').getByText(/Restricted Mode: statuses are as recorded/).waitFor({ state: 'visible' });
    const status = wb().page.locator('.part.statusbar .statusbar-item').filter({ hasText: /as recorded/ }).first();
    await status.waitFor({ state: 'visible' });
    assert.equal((await status.innerText()).trim(), 'targets in sync (as recorded)');
    // The row's Sync action is shown disabled.
    const row = targetRow(wb(), COMFY);
    await row.hover();
    const sync = row.locator('.actions .action-label[aria-label="Sync One Target…"]');
    await sync.waitFor({ state: 'visible' });
    assert.match((await sync.getAttribute('class')) ?? '', /\bdisabled\b/);
    // Asking for a sync anyway (the status bar's menu) explains why it is off and changes nothing.
    const registry = fs.readFileSync(path.join(wb().ws.coordinationDir!, 'targets.json'), 'utf8');
    await status.click();
    const input = wb().page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible' });
    await input.fill(COMFY);
    await wb().page.locator('.quick-input-widget .monaco-list-row').filter({ hasText: COMFY }).first().click();
    const msg = await wb().waitForNotification(/Sync Target is off in Restricted Mode/);
    assert.match(msg, /runs git/);
    assert.equal(fs.readFileSync(path.join(wb().ws.coordinationDir!, 'targets.json'), 'utf8'), registry);
    await wb().screenshot('targets-restricted-mode');
  });
});
