// @fixture demo-conflicts
// Sync conflicts settled from the editor, in the real extension host: a target of its own (beside the demo's
// two) is synced, then the main project and the target edit the same line of a synced Markdown file. Resolve
// Sync Conflicts opens VS Code's merge editor on it (the merge is written to the target when its result is
// saved), or keeps the target's copy. The target's file is compared by SHA-256.
import * as assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TargetsApi } from '../../src/extension/targets/api';
import { fixtureRoot, waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';
const NAME = 'merge_app';
/** The synced file both sides edit: the docs component of a source target goes to docs/opencode/docs/. */
const SOURCE_REL = 'docs/configuration.md';
const TARGET_REL = 'docs/opencode/docs/configuration.md';

interface MergeInput {
  base: vscode.Uri;
  input1: vscode.Uri;
  input2: vscode.Uri;
  result: vscode.Uri;
}

interface Resolved {
  target: string;
  opened: { path: string; output: string }[];
  settled: { path: string; how: string }[];
  left: number;
}

async function api(): Promise<TargetsApi> {
  const ext = vscode.extensions.getExtension<{ targets: TargetsApi }>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  await exports.targets.ensureLoaded();
  return exports.targets;
}

const folder = () => path.join(fixtureRoot(), 'targets', NAME);
const sourceFile = () => path.join(workspaceRoot(), SOURCE_REL);
const targetFile = () => path.join(folder(), TARGET_REL);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** The merge editor input of a tab (`vscode.TabInputTextMerge`, typed only in a proposal). */
function mergeInputs(): MergeInput[] {
  const Merge = (vscode as unknown as { TabInputTextMerge?: abstract new (...a: never[]) => MergeInput }).TabInputTextMerge;
  assert.ok(Merge, 'this VS Code has no TabInputTextMerge');
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.input)).filter((i): i is MergeInput => i instanceof Merge);
}

/** Replaces the first line of a file. */
function editFirstLine(file: string, line: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines[0] = line;
  fs.writeFileSync(file, lines.join('\n'));
}

async function statusOf(t: TargetsApi): Promise<string | undefined> {
  await t.reload();
  return t.snapshot()?.targets.find((i) => i.target.name === NAME)?.status?.status;
}

describe('Sync conflicts settled in the editor', function () {
  this.timeout(120_000);
  let original: string;

  before(async () => {
    original = fs.readFileSync(sourceFile(), 'utf8');
    fs.mkdirSync(folder(), { recursive: true });
    const added = await vscode.commands.executeCommand('syncord.addTarget', { path: folder(), name: NAME, type: 'source' });
    assert.ok(added, 'the target is registered');
    const synced = (await vscode.commands.executeCommand('syncord.syncTarget', NAME, { confirm: false })) as { ok: boolean };
    assert.ok(synced?.ok, 'the first sync succeeds');
    assert.equal(fs.readFileSync(targetFile(), 'utf8'), original);
  });

  after(async () => {
    fs.writeFileSync(sourceFile(), original);
    await vscode.commands.executeCommand('syncord.removeTarget', NAME, { confirm: false });
  });

  it('opens the merge editor on a conflict and writes the completed merge to the target, never before', async () => {
    const t = await api();
    editFirstLine(sourceFile(), '# Configuration (edited in the main project)');
    editFirstLine(targetFile(), '# Configuration (edited in the target)');
    const theirs = fs.readFileSync(targetFile());
    await waitFor(async () => (await statusOf(t)) === 'conflict', 'the target to be in conflict');

    const r = (await vscode.commands.executeCommand('syncord.resolveSyncConflicts', { target: NAME, choice: 'merge' })) as Resolved;
    assert.deepEqual(r.opened.map((o) => o.path), [TARGET_REL]);
    const output = r.opened[0].output;
    assert.ok(output.startsWith(path.join(workspaceRoot(), '.syncord', 'tmp', 'merge', NAME) + path.sep), `the result is a scratch file of the main project: ${output}`);
    const input = (await waitFor(() => mergeInputs().find((i) => i.result.fsPath === output), 'a merge editor tab on the scratch file'))!;
    assert.equal(input.input1.fsPath, sourceFile(), 'input 1 is the main project version');
    assert.equal(input.input2.fsPath, targetFile(), "input 2 is the target's copy");
    // The base is what the first sync wrote; the scratch result starts as the target's copy.
    assert.equal(input.base.scheme, 'syncord-merge');
    assert.match(input.base.path, /\/Base \(as last synced\)\//);
    assert.equal((await vscode.workspace.openTextDocument(input.base)).getText(), original);
    assert.equal(sha256(fs.readFileSync(output)), sha256(theirs));
    assert.equal(sha256(fs.readFileSync(targetFile())), sha256(theirs), 'opening the merge editor writes nothing into the target');

    // The user's merge, saved in the result.
    const merged = original.replace(/^.*$/m, '# Configuration (edited on both sides)');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(output));
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), merged);
    assert.ok(await vscode.workspace.applyEdit(edit));
    // (save() is false when the document is no longer dirty: saved already, e.g. by the workbench's auto save.)
    // A save the busy workbench turns down is tried again, as a user would press Ctrl+S again.
    await waitFor(async () => (await doc.save()) || !doc.isDirty, 'the result to be saved');
    assert.equal(sha256(fs.readFileSync(output)), sha256(merged), 'the result file holds the merge');

    await waitFor(() => sha256(fs.readFileSync(targetFile())) === sha256(merged), 'the merged text in the target');
    await waitFor(async () => (await statusOf(t)) !== 'conflict', 'the conflict to be settled');
    const info = t.snapshot()!.targets.find((i) => i.target.name === NAME)!;
    assert.ok(!info.status!.changes.some((c) => c.action === 'conflict'), 'no conflict is pending');
  });

  it("Keep the Target's Copy settles a conflict without changing the target's file", async () => {
    const t = await api();
    editFirstLine(sourceFile(), '# Configuration (the main project again)');
    editFirstLine(targetFile(), '# Configuration (the target again)');
    const theirs = sha256(fs.readFileSync(targetFile()));
    await waitFor(async () => (await statusOf(t)) === 'conflict', 'the target to be in conflict again');
    const row = t.tree()!.all().find((n) => n.target === NAME && n.contextValue === 'syncord.target.conflictFile');
    assert.equal(row?.targetPath, TARGET_REL, 'the conflict shows in the tree with its path in the target');

    // As from the conflict row's menu, with the choice made.
    const r = (await vscode.commands.executeCommand('syncord.resolveSyncConflicts', row, { choice: 'keep-target' })) as Resolved;
    assert.deepEqual(r.settled, [{ path: TARGET_REL, how: 'keep-target' }]);
    assert.deepEqual(r.opened, []);
    assert.equal(sha256(fs.readFileSync(targetFile())), theirs);
    assert.notEqual(await statusOf(t), 'conflict');
    // The next sync keeps the target's edit.
    const synced = (await vscode.commands.executeCommand('syncord.syncTarget', NAME, { confirm: false })) as { ok: boolean; conflicts: unknown[] };
    assert.ok(synced.ok);
    assert.deepEqual(synced.conflicts, []);
    assert.equal(sha256(fs.readFileSync(targetFile())), theirs);
  });

  it('recomputes by itself when a file is deleted in the target (no command, no change in the main project)', async () => {
    const t = await api();
    await waitFor(() => t.snapshot()?.targets.find((i) => i.target.name === NAME)?.status?.status === 'synchronized', 'the target to be synchronized');
    fs.rmSync(targetFile());
    await waitFor(
      () => t.snapshot()?.targets.find((i) => i.target.name === NAME)?.status?.changes.some((c) => c.action === 'add' && c.targetPath === TARGET_REL),
      'the deleted file to show as one to add again',
    );
  });
});
