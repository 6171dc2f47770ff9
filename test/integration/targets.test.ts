// @fixture demo
// The target commands in the real extension host, on a fresh copy of the demo workspace: the main project
// `opencode_4py` (git history) and two targets beside it, registered in coordination/targets.json. Each
// command runs with arguments instead of prompts; the tests look at the target folders, targets.json and
// what the Targets view, its status bar item and the Problems panel show.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TargetsApi } from '../../src/extension/targets/api';
import { fixtureRoot, waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';
const COMFY = 'ComfyUI_windows_portable';
const SIMPLE = 'simple_python_app';
const COMFY_BASE = 'python_embeded/Lib/site-packages/opencode';

interface RegistryEntry {
  name: string;
  path: string;
  type: string;
  last_sync?: string | null;
  sync_version?: string | null;
  status?: string;
  last_sync_commit?: string;
}

async function api(): Promise<TargetsApi> {
  const ext = vscode.extensions.getExtension<{ targets: TargetsApi }>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  await exports.targets.ensureLoaded();
  return exports.targets;
}

const main = () => workspaceRoot();
const targetDir = (name: string) => path.join(fixtureRoot(), 'targets', name);
const registry = (): RegistryEntry[] => JSON.parse(fs.readFileSync(path.join(main(), 'coordination', 'targets.json'), 'utf8')).targets;
const entry = (name: string) => registry().find((t) => t.name === name);
const read = (file: string) => fs.readFileSync(file, 'utf8');

function git(args: string[]): string {
  return execFileSync('git', args, {
    cwd: main(),
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 't@example.invalid' },
  });
}

/** Every file under a folder with its content, relative paths as keys. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p).split(path.sep).join('/')] = read(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** The description the Targets view shows on a target's row ("needs sync · synced 7d ago"). */
function rowOf(t: TargetsApi, name: string): string {
  const item = t.treeItem(`target:${name}`);
  assert.ok(item, `the Targets view has no row for ${name}`);
  return String(item.description);
}

describe('Targets in the extension host', function () {
  this.timeout(120_000);
  let before: Record<string, string>;

  it('lists both demo targets with their status, and the status bar counts those that need sync', async () => {
    const t = await api();
    await waitFor(() => t.snapshot()?.targets.length === 2, 'the two demo targets');
    // Short enough for a side bar of the default width; the type and the version are in the tooltip.
    assert.match(rowOf(t, COMFY), /^needs sync · synced .+ ago$/);
    assert.match(String(t.treeItem(`target:${COMFY}`)!.tooltip), new RegExp(`^${COMFY} \\(site-packages\\)\n[^]*\\(v1\\.2\\.2\\)`));
    assert.match(String(t.treeItem(`target:${SIMPLE}`)!.tooltip), new RegExp(`^${SIMPLE} \\(source\\)\n`));
    const children = t.tree()!.children(`target:${COMFY}`).map((n) => n.label);
    assert.deepEqual(children, ['Pending changes', 'Components', 'Backups']);
    const pending = t.tree()!.children(`target:${COMFY}/changes`);
    assert.ok(pending.some((n) => n.label === 'docs' && /medium priority/.test(n.description ?? '')), 'the docs category is pending');
    // The main project's last commit documented the config merge and added the Anthropic provider.
    assert.ok(pending.some((n) => n.label === 'provider' && /high priority/.test(n.description ?? '')), 'the provider category is pending');
    assert.equal(pending[0].label, 'provider', 'the highest priority comes first');
    const n = t.snapshot()!.targets.filter((i) => /^needs sync/.test(rowOf(t, i.target.name))).length;
    assert.equal(t.statusBarText(), `$(sync) ${n} ${n === 1 ? 'target needs' : 'targets need'} sync`);
  });

  it('a click on a pending file opens the diff of the target\'s copy and the main project\'s file', async () => {
    const t = await api();
    const docs = t.tree()!.children(`target:${COMFY}/changes`).find((n) => n.label === 'docs');
    assert.ok(docs, 'the docs category is pending');
    const row = t.tree()!.children(docs.id).find((n) => n.label === 'configuration.md');
    assert.ok(row, `configuration.md is not pending under docs: ${t.tree()!.children(docs.id).map((n) => n.label).join(', ')}`);
    // The row runs what the view runs on a click, with the row itself.
    const item = t.treeItem(row.id)!;
    assert.equal(item.command?.command, 'syncord.openPendingDiff');
    assert.equal(String(item.label), 'configuration.md');
    assert.match(String(item.description), /^update · docs$/);
    await vscode.commands.executeCommand(item.command!.command, ...(item.command!.arguments ?? []));
    const tab = await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((x) => x.input instanceof vscode.TabInputTextDiff && x.label === `configuration.md: ${COMFY} ↔ main project`),
      'the diff editor of configuration.md',
    );
    const input = tab!.input as vscode.TabInputTextDiff;
    assert.equal(input.original.fsPath, path.join(targetDir(COMFY), COMFY_BASE, 'docs', 'configuration.md'));
    assert.equal(input.modified.fsPath, path.join(main(), 'docs', 'configuration.md'));
    // Looking writes nothing.
    assert.notEqual(read(input.original.fsPath), read(input.modified.fsPath), 'the target is still behind');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Sync Target copies the docs into the target, records the sync in targets.json and shows it synchronized', async () => {
    const t = await api();
    before = tree(path.join(targetDir(COMFY), COMFY_BASE));
    const result = (await vscode.commands.executeCommand('syncord.syncTarget', COMFY, { confirm: false })) as { ok: boolean; written: number; backup?: { id: string } };
    assert.ok(result?.ok, 'the sync reports success');
    assert.ok(result.written > 0, 'the sync wrote files');
    // Docs, plans and RAG of the main project are now in the target, byte for byte.
    for (const f of ['docs/configuration.md', 'docs/providers.md', 'plans/TARGET_SYNC_PLAN.md', 'RAG/troubleshooting/config-parse-error.md', 'README.md', 'MISSION.md']) {
      assert.equal(read(path.join(targetDir(COMFY), COMFY_BASE, f)), read(path.join(main(), f)), `${f} differs from the main project`);
    }
    const e = entry(COMFY)!;
    assert.equal(e.status, 'synchronized');
    assert.equal(e.last_sync_commit, git(['rev-parse', 'HEAD']).trim());
    assert.ok(e.last_sync && Date.now() - Date.parse(e.last_sync) < 10 * 60_000, 'last_sync is now');
    assert.match(rowOf(t, COMFY), /^synchronized · synced just now$/);
    // The pre-sync backup is listed under the target.
    const backups = t.tree()!.children(`target:${COMFY}/backups`);
    assert.ok(backups.some((b) => b.backupId === result.backup?.id && /^pre-sync/.test(b.description ?? '')), 'the pre-sync backup is listed');
    assert.ok(!/^\$\(sync\) 2 /.test(t.statusBarText() ?? ''), `status bar still says ${t.statusBarText()}`);
  });

  it('Verify Target passes on the synced target and shows its checks in the tree', async () => {
    const t = await api();
    const r = (await vscode.commands.executeCommand('syncord.verifyTarget', COMFY)) as { passed: boolean; checks: { name: string; status: string }[] };
    assert.equal(r.passed, true, `checks failed: ${JSON.stringify(r.checks.filter((c) => c.status === 'fail'))}`);
    const checks = t.tree()!.get(`target:${COMFY}/checks`)!;
    assert.match(checks.description!, /^passed/);
    const labels = t.tree()!.children(checks.id).map((n) => `${n.label}: ${n.description?.split(' · ')[0]}`);
    assert.ok(labels.includes('links: pass'), labels.join(', '));
    assert.ok(labels.includes('files:docs: pass'), labels.join(', '));
  });

  it('a broken link in the target makes Verify fail, in the tree and in the Problems panel at its line', async () => {
    const t = await api();
    const doc = path.join(targetDir(COMFY), COMFY_BASE, 'docs', 'index.md');
    fs.writeFileSync(doc, read(doc) + '\nSee [the old guide](old-guide.md) too.\n');
    const line = read(doc).split('\n').findIndex((l) => l.includes('old-guide.md')) + 1;
    const r = (await vscode.commands.executeCommand('syncord.verifyTarget', COMFY)) as { passed: boolean };
    assert.equal(r.passed, false);
    assert.match(rowOf(t, COMFY), /^verify failed/);
    const diags = t.diagnostics(doc);
    assert.equal(diags.length, 1, `diagnostics: ${JSON.stringify(diags)}`);
    assert.match(diags[0].message, /broken link: old-guide\.md/);
    assert.equal(diags[0].range.start.line + 1, line);
    // The same entry through VS Code's own diagnostics API (what the Problems panel lists).
    const all = vscode.languages.getDiagnostics(vscode.Uri.file(doc));
    assert.ok(all.some((d) => /old-guide\.md/.test(d.message)));
    const problem = t.tree()!.children(`target:${COMFY}/checks/links`)[0];
    assert.equal(problem.location?.line, line);
  });

  it('Restore Backup puts the target back as it was before the sync', async () => {
    const t = await api();
    const pre = t.snapshot()!.targets.find((i) => i.target.name === COMFY)!.backups.find((b) => b.reason === 'pre-sync');
    assert.ok(pre, 'a pre-sync backup exists');
    const r = (await vscode.commands.executeCommand('syncord.restoreBackup', { target: COMFY, backupId: pre.id, confirm: false })) as { verified: boolean };
    assert.equal(r.verified, true);
    assert.deepEqual(tree(path.join(targetDir(COMFY), COMFY_BASE)), before);
    assert.equal(entry(COMFY)!.status, 'needs_sync');
    assert.match(rowOf(t, COMFY), /^needs sync/);
    // The verify result described the target as it was synced: it is kept, marked as from before the sync now
    // recorded (the restore put the earlier one back), and its problems leave the Problems panel.
    assert.match(t.tree()!.get(`target:${COMFY}/checks`)!.description!, /· outdated$/);
    assert.equal(t.diagnostics(path.join(targetDir(COMFY), COMFY_BASE, 'docs', 'index.md')).length, 0);
  });

  it('Back Up Target takes a full snapshot that the tree lists', async () => {
    const t = await api();
    const n = t.snapshot()!.targets.find((i) => i.target.name === SIMPLE)!.backups.length;
    const b = (await vscode.commands.executeCommand('syncord.backupTarget', SIMPLE)) as { id: string; reason: string; files: number };
    assert.equal(b.reason, 'manual');
    assert.ok(b.files > 0);
    const listed = t.tree()!.children(`target:${SIMPLE}/backups`);
    assert.equal(listed.length, n + 1);
    assert.ok(listed.some((x) => x.backupId === b.id && /^manual/.test(x.description ?? '')));
  });

  it('Roll Back Component restores one component from its last pre-sync backup', async () => {
    await vscode.commands.executeCommand('syncord.syncTarget', COMFY, { confirm: false });
    const docs = path.join(targetDir(COMFY), COMFY_BASE, 'docs');
    const rag = path.join(targetDir(COMFY), COMFY_BASE, 'RAG');
    const ragAfterSync = tree(rag);
    assert.notDeepEqual(tree(docs), Object.fromEntries(Object.entries(before).filter(([k]) => k.startsWith('docs/')).map(([k, v]) => [k.slice(5), v])));
    const r = (await vscode.commands.executeCommand('syncord.rollbackComponent', { target: COMFY, component: 'docs', confirm: false })) as { verified: boolean; components: string[] };
    assert.equal(r.verified, true);
    assert.deepEqual(r.components, ['docs']);
    const docsBefore = Object.fromEntries(Object.entries(before).filter(([k]) => k.startsWith('docs/')).map(([k, v]) => [k.slice(5), v]));
    assert.deepEqual(tree(docs), docsBefore);
    assert.deepEqual(tree(rag), ragAfterSync, 'other components are left alone');
  });

  it('Show Config Diff opens the diff editor: the target file beside the merged config', async () => {
    // simple_python_app holds what its last sync wrote; a provider added in the main project is what it lacks.
    fs.appendFileSync(path.join(main(), 'opencode.toml'), '\n[providers.mistral]\napi_key_env = "MISTRAL_API_KEY"\n');
    const configs = (await vscode.commands.executeCommand('syncord.showConfigDiff', SIMPLE)) as { changed: boolean; destination: string }[];
    assert.ok(configs.some((c) => c.changed), 'the config of simple_python_app would change');
    const tab = await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((x) => x.input instanceof vscode.TabInputTextDiff && x.input.modified.scheme === 'syncord-merged'),
      'a diff editor with the merged config',
    );
    const input = tab!.input as vscode.TabInputTextDiff;
    assert.equal(input.original.fsPath, path.join(targetDir(SIMPLE), 'opencode.toml'));
    const merged = (await vscode.workspace.openTextDocument(input.modified)).getText();
    assert.match(merged, /mistral/);
    // The target's own model stays (keep-target).
    const own = /default_model\s*=\s*"([^"]+)"/.exec(read(path.join(targetDir(SIMPLE), 'opencode.toml')))?.[1];
    assert.ok(own, 'the demo target has its own default_model');
    assert.match(merged, new RegExp(`default_model\\s*=\\s*"${own.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"`));
    // Nothing was written by looking.
    assert.doesNotMatch(read(path.join(targetDir(SIMPLE), 'opencode.toml')), /mistral/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Open Sync Checklist opens the seed checklist for the target as an untitled Markdown document', async () => {
    const doc = (await vscode.commands.executeCommand('syncord.openSyncChecklist', COMFY)) as vscode.TextDocument;
    assert.equal(doc.languageId, 'markdown');
    assert.equal(doc.isUntitled, true);
    assert.match(doc.getText(), new RegExp(`Verification Checklist for ${COMFY}`));
    assert.match(doc.getText(), /No broken links in copied documents/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Sync All Targets brings every target in step and the status bar says so', async () => {
    const t = await api();
    const results = (await vscode.commands.executeCommand('syncord.syncAllTargets', { confirm: false })) as { ok: boolean; target: string }[];
    assert.deepEqual(results.map((r) => [r.target, r.ok]).sort(), [
      [COMFY, true],
      [SIMPLE, true],
    ]);
    assert.equal(entry(SIMPLE)!.status, 'synchronized');
    assert.match(read(path.join(targetDir(SIMPLE), 'opencode.toml')), /anthropic/);
    assert.match(rowOf(t, SIMPLE), /^synchronized/);
    assert.match(rowOf(t, COMFY), /^synchronized/);
    assert.equal(t.statusBarText(), '$(check) targets in sync');
  });

  it('recomputes the statuses by itself after a commit in the main project', async () => {
    const t = await api();
    const detected = (await vscode.commands.executeCommand('syncord.detectChanges')) as { name: string; status: string }[];
    assert.deepEqual(detected.map((s) => s.status), ['synchronized', 'synchronized']);
    fs.writeFileSync(path.join(main(), 'docs', 'sessions.md'), '# Sessions\n\nWhere session files are kept.\n');
    git(['add', 'docs/sessions.md']);
    git(['commit', '-q', '--no-gpg-sign', '--no-verify', '-m', 'Document sessions']);
    // No command, no reload: the watchers on HEAD/refs and on the synced sources recompute the statuses.
    await waitFor(() => /^needs sync/.test(rowOf(t, SIMPLE)) && /^needs sync/.test(rowOf(t, COMFY)), 'both targets to show "needs sync" after the commit');
    const docs = t.tree()!.children(`target:${SIMPLE}/changes`).find((n) => n.label === 'docs');
    assert.ok(docs, 'the docs category is pending');
    assert.deepEqual(t.tree()!.children(docs.id).map((n) => [n.label, n.description]), [['sessions.md', 'add · docs']]);
    assert.equal(t.statusBarText(), '$(sync) 2 targets need sync');
  });

  it('Add Target registers a folder and Remove Target takes it out of targets.json again', async () => {
    const t = await api();
    const folder = path.join(fixtureRoot(), 'targets', 'third_app');
    fs.mkdirSync(folder, { recursive: true });
    const added = (await vscode.commands.executeCommand('syncord.addTarget', { path: folder, name: 'third_app', type: 'source' })) as { name: string };
    assert.equal(added.name, 'third_app');
    assert.deepEqual(
      { ...entry('third_app'), last_sync: undefined },
      { name: 'third_app', path: '../targets/third_app', type: 'source', last_sync: undefined, sync_version: null, status: 'needs_sync' },
    );
    assert.match(rowOf(t, 'third_app'), /^needs sync · never synced$/);
    // A folder inside the main project is refused, and nothing is written.
    const beforeText = read(path.join(main(), 'coordination', 'targets.json'));
    const refused = await vscode.commands.executeCommand('syncord.addTarget', { path: path.join(main(), 'docs'), name: 'inside', type: 'source' });
    assert.equal(refused, undefined);
    assert.equal(read(path.join(main(), 'coordination', 'targets.json')), beforeText);

    assert.equal(await vscode.commands.executeCommand('syncord.removeTarget', 'third_app', { confirm: false }), true);
    assert.equal(entry('third_app'), undefined);
    assert.ok(fs.existsSync(folder), 'the folder itself is left alone');
    assert.equal(t.tree()!.get('target:third_app'), undefined);
  });
  it('a failed sync reports what went wrong and its backup restores the target', async () => {
    const docs = path.join(targetDir(COMFY), COMFY_BASE, 'docs');
    const configurationBefore = read(path.join(docs, 'configuration.md'));
    // Two changes in the main project; in the target, a folder stands where one of the new files must go.
    fs.appendFileSync(path.join(main(), 'docs', 'configuration.md'), '\n## Merging\n\nSee the merge table.\n');
    fs.writeFileSync(path.join(main(), 'docs', 'zzz-appendix.md'), '# Appendix\n');
    fs.mkdirSync(path.join(docs, 'zzz-appendix.md'), { recursive: true });
    fs.writeFileSync(path.join(docs, 'zzz-appendix.md', 'keep.txt'), 'a folder of the target\n');
    const r = (await vscode.commands.executeCommand('syncord.syncTarget', COMFY, { confirm: false, restoreOnFailure: true })) as {
      ok: boolean;
      error?: string;
      backup?: { id: string };
    };
    assert.equal(r.ok, false);
    assert.match(r.error ?? '', /a folder is in the way/);
    assert.ok(r.backup, 'the failed sync left a backup');
    // Restored at once (restoreOnFailure): the file the sync may have written is back as it was.
    assert.equal(read(path.join(docs, 'configuration.md')), configurationBefore);
    assert.ok(!fs.existsSync(path.join(docs, 'sessions.md')), 'the file the failed sync added is gone again');
    assert.equal(read(path.join(docs, 'zzz-appendix.md', 'keep.txt')), 'a folder of the target\n');
    assert.equal(entry(COMFY)!.status, 'needs_sync');
    // The folder the test put into the mirrored docs holds a file no sync wrote: the target's own, a
    // conflict until the user chooses (never deleted silently).
    const t = await api();
    await waitFor(() => /^conflicts to settle/.test(rowOf(t, COMFY)), 'the target to show its conflict');
  });

  it('a target config file that does not parse makes Verify fail, with the line in the Problems panel', async () => {
    const t = await api();
    const file = path.join(targetDir(SIMPLE), 'opencode.toml');
    const lines = read(file).split('\n');
    lines.splice(3, 0, '[providers.broken');
    fs.writeFileSync(file, lines.join('\n'));
    const r = (await vscode.commands.executeCommand('syncord.verifyTarget', SIMPLE)) as { passed: boolean; checks: { name: string; status: string }[] };
    assert.equal(r.passed, false);
    assert.equal(r.checks.find((c) => c.name === 'config:opencode')?.status, 'fail');
    const diags = t.diagnostics(file);
    assert.equal(diags.length, 1, JSON.stringify(diags));
    assert.equal(diags[0].range.start.line, 3);
    assert.equal(diags[0].code, 'config:opencode');
    assert.match(rowOf(t, SIMPLE), /^verify failed/);
  });
});
