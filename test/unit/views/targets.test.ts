// The Targets view model: what the tree, the status bar and the sync/verify messages show, built from plain
// values (no editor needed).
import * as assert from 'node:assert/strict';
import { DEFAULT_RULES } from '../../../src/core/targets/rules';
import type { BackupSummary } from '../../../src/core/targets/backup';
import type { TargetStatus } from '../../../src/core/targets/status';
import type { SyncPlan, SyncResult } from '../../../src/core/targets/sync';
import type { VerifyResult } from '../../../src/core/targets/verify';
import {
  componentsFor,
  displayStatus,
  pendingByCategory,
  snapshotFingerprint,
  TargetInfo,
  TargetsSnapshot,
  verifyProblems,
} from '../../../src/core/targets/overview';
import { ClickCommand, ContextValue } from '../../../src/views/ids';
import { describePlan, describeSyncResult, describeVerify } from '../../../src/views/syncText';
import { targetsStatusBarView as statusBarView } from '../../../src/views/statusBar';
import { buildTree, targetsTreeMessage } from '../../../src/views/targets';
import { changedNodes } from '../../../src/views/tree';
import { TARGETS_NOW, targetsSnapshot } from './samples';

const TargetContext = ContextValue.targets;
const NOW = Date.parse('2026-02-27T12:00:00Z');
const ROOT = '/ws/targets/ComfyUI_windows_portable';

function target(name: string, type: 'site-packages' | 'source', extra: Partial<TargetInfo['target']> = {}): TargetInfo['target'] {
  return { name, path: `../targets/${name}`, absPath: `/ws/targets/${name}`, type, last_sync: '2026-02-20T12:00:00Z', sync_version: 'v1.2.2', status: 'synchronized', ...extra };
}

function status(name: string, s: TargetStatus['status'], changes: TargetStatus['changes'] = []): TargetStatus {
  return { name, path: '', absPath: '', type: 'site-packages', status: s, reason: s, since: 'abc', changes, categories: [...new Set(changes.flatMap((c) => c.categories))], kept: [], notApplicable: [] };
}

const backup: BackupSummary = { id: '20260227T110000000Z-ab12', target: 'ComfyUI_windows_portable', created: '2026-02-27T11:00:00Z', reason: 'pre-sync', partial: true, components: ['docs', 'rag'], files: 3, bytes: 300, newObjects: 3, newBytes: 300 };

const failedVerify: VerifyResult = {
  target: 'ComfyUI_windows_portable',
  passed: false,
  checks: [
    { name: 'files:docs', status: 'pass', detail: '4/4 source files present with the same hash', problems: [] },
    { name: 'links', status: 'fail', detail: '6 Markdown files checked, 1 broken links', problems: [{ file: `${ROOT}/python_embeded/Lib/site-packages/opencode/docs/index.md`, line: 7, column: 3, message: 'broken link: missing.md' }] },
    { name: 'config:opencode', status: 'fail', detail: 'opencode.toml does not parse', problems: [{ file: `${ROOT}/opencode.toml`, line: 2, column: 1, message: 'bad toml' }] },
    { name: 'files:rag', status: 'fail', detail: '1/2', problems: [{ file: `${ROOT}/x.md`, message: 'missing (source: RAG/x.md)' }] },
  ],
};

function snapshot(targets: TargetInfo[]): TargetsSnapshot {
  return { registryFile: '/ws/opencode_4py/coordination/targets.json', registryExists: true, targets, rules: DEFAULT_RULES, errors: [] };
}

describe('targets view model', () => {
  it('groups pending changes by category, highest priority first, with files outside every category last', () => {
    const groups = pendingByCategory(
      [
        { status: 'M', path: 'docs/configuration.md', categories: ['docs'], action: 'update' },
        { status: 'A', path: 'RAG/troubleshooting/x.md', categories: ['rag'] },
        { status: 'R', path: 'src/opencode/provider/anthropic.py', oldPath: 'src/opencode/provider/a.py', categories: ['provider'] },
        { status: 'M', path: 'README.md', categories: [] },
      ],
      DEFAULT_RULES,
    );
    assert.deepEqual(
      groups.map((g) => [g.category, g.priority, g.files.length]),
      [
        ['provider', 'high', 1],
        ['rag', 'high', 1],
        ['docs', 'medium', 1],
        ['other', 'other', 1],
      ],
    );
  });

  it('shows a target that needs sync with its status, type, last sync and version, and its pending changes', () => {
    const info: TargetInfo = {
      target: target('ComfyUI_windows_portable', 'site-packages'),
      status: status('ComfyUI_windows_portable', 'needs_sync', [
        { status: 'M', path: 'docs/configuration.md', categories: ['docs'], action: 'update' },
        { status: 'A', path: 'src/opencode/provider/anthropic.py', categories: ['provider'], action: 'changed' },
      ]),
      components: componentsFor(DEFAULT_RULES, 'site-packages'),
      backups: [backup],
    };
    const tree = buildTree(snapshot([info]), NOW);
    const root = tree.roots[0];
    assert.equal(root.id, 'target:ComfyUI_windows_portable');
    assert.equal(root.label, 'ComfyUI_windows_portable');
    // What fits a side bar of the default width: the status and the last sync; type and version are in the tooltip.
    assert.equal(root.description, 'needs sync · synced 7d ago');
    assert.match(root.tooltip!, /^ComfyUI_windows_portable \(site-packages\)\n/);
    assert.match(root.tooltip!, /\nLast sync: 2026-02-20T12:00:00Z \(v1\.2\.2\)/);
    assert.equal(root.contextValue, `${TargetContext.target}:needs_sync`);
    assert.equal(root.icon?.id, 'arrow-circle-down');
    assert.deepEqual(
      tree.children(root.id).map((n) => [n.label, n.description]),
      [
        ['Pending changes', '2 files · 2 categories'],
        ['Components', '6'],
        ['Backups', '1'],
      ],
    );
    const changes = tree.children(`${root.id}/changes`);
    assert.deepEqual(
      changes.map((n) => [n.label, n.description]),
      [
        ['provider', 'high priority · 1 file'],
        ['docs', 'medium priority · 1 file'],
      ],
    );
    assert.deepEqual(
      tree.children(changes[0].id).map((n) => [n.label, n.description]),
      // Not copied by any component: changed in a synced category since the last sync (e.g. code to reinstall).
      [['anthropic.py', 'changed · src/opencode/provider']],
    );
    // Without the main project's folder a changed file is not a file to open.
    assert.equal(tree.children(changes[0].id)[0].resource, undefined);
    const comps = tree.children(`${root.id}/components`);
    assert.deepEqual(
      comps.map((n) => [n.label, n.contextValue]),
      [
        ['docs', TargetContext.component],
        ['plans', TargetContext.component],
        ['rag', TargetContext.component],
        ['readme', TargetContext.component],
        ['mission', TargetContext.component],
        ['opencode', TargetContext.config],
      ],
    );
    // The destination is cut from its start to fit; the tooltip has it in full.
    assert.equal(comps[0].description, 'mirror → …/site-packages/opencode/docs');
    assert.match(comps[0].tooltip!, / → python_embeded\/Lib\/site-packages\/opencode\/docs /);
    const [b] = tree.children(`${root.id}/backups`);
    assert.equal(b.label, '1h ago');
    assert.equal(b.backupId, backup.id);
    assert.equal(b.contextValue, TargetContext.backup);
    assert.equal(b.description, 'pre-sync (partial) · 3 files');
    assert.match(b.tooltip as string, /\nComponents: docs, rag\n/);
    // Every node can find its parent (needed by reveal), and ids are unique.
    const all = tree.all();
    assert.equal(new Set(all.map((n) => n.id)).size, all.length);
    for (const n of all) if (n.parentId) assert.equal(tree.parent(n.id)?.id, n.parentId);
  });

  it('opens a changed file of the main project, a problem or an error at its position, and a check at its log', () => {
    const tree = buildTree(targetsSnapshot(), TARGETS_NOW);
    const [modified, deleted] = tree.children('target:portable/changes/docs');
    assert.deepEqual([modified.label, modified.resource], ['configuration.md', '/ws/main/docs/configuration.md']);
    // Without the file's place in the target there is no diff to show: the main project's file opens.
    assert.deepEqual(modified.click, { command: ClickCommand.openFile, title: 'Open', with: { file: '/ws/main/docs/configuration.md' } });
    assert.equal(modified.description, 'update · docs');
    // A file the sync deletes, and whose place in the target is not known, has nothing to open.
    assert.deepEqual([deleted.description, deleted.icon?.id, deleted.click], ['delete · docs', 'diff-removed', undefined]);
    const open = { command: ClickCommand.openTargetLocation, title: 'Open', with: 'node' };
    const [problem] = tree.children('target:portable/checks/links');
    assert.deepEqual(problem.click, open);
    assert.deepEqual(tree.get('target:portable/checks/tests')?.click, open);
    assert.deepEqual(tree.get('target:portable/checks/tests')?.location, { file: '/ws/main/.syncord/verify/portable/tests.log' });
    assert.equal(tree.get('target:portable/checks/links')?.click, undefined);
    const [error] = tree.roots;
    assert.deepEqual([error.kind, error.label, error.description, error.click], ['error', 'sync-rules.jsonc: unknown key', 'sync-rules.jsonc:3', open]);
    assert.equal(tree.get('target:portable')?.click, undefined);
  });

  it('says above the tree in Restricted Mode that the statuses are as recorded', () => {
    assert.equal(targetsTreeMessage(targetsSnapshot(), true), undefined);
    assert.equal(targetsTreeMessage(targetsSnapshot(), false), 'Restricted Mode: statuses are as recorded; sync, detect and verify need a trusted workspace.');
    assert.equal(targetsTreeMessage({ ...targetsSnapshot(), targets: [] }, false), undefined);
  });

  it('keeps node ids when the tree is rebuilt from a new snapshot', () => {
    const info: TargetInfo = { target: target('a', 'source'), status: status('a', 'synchronized'), components: componentsFor(DEFAULT_RULES, 'source'), backups: [backup] };
    const ids1 = buildTree(snapshot([info]), NOW).all().map((n) => n.id);
    const ids2 = buildTree(snapshot([{ ...info, status: status('a', 'needs_sync') }]), NOW + 3_600_000).all().map((n) => n.id);
    assert.deepEqual(ids2, ids1);
  });

  it('shows the last verify with a pass or fail per check and the problems at file and line', () => {
    const info: TargetInfo = { target: target('ComfyUI_windows_portable', 'site-packages'), status: status('ComfyUI_windows_portable', 'synchronized'), components: [], backups: [], verify: { result: failedVerify, at: '2026-02-27T11:58:00Z' } };
    assert.equal(displayStatus(info), 'verify_failed');
    const tree = buildTree(snapshot([info]), NOW);
    assert.equal(tree.roots[0].icon?.id, 'error');
    const checks = tree.get('target:ComfyUI_windows_portable/checks')!;
    assert.equal(checks.description, '3 of 4 checks failed · 2m ago');
    assert.deepEqual(
      tree.children(checks.id).map((n) => [n.label, n.contextValue]),
      [
        ['files:docs', `${TargetContext.check}.pass`],
        ['links', `${TargetContext.check}.fail`],
        ['config:opencode', `${TargetContext.check}.fail`],
        ['files:rag', `${TargetContext.check}.fail`],
      ],
    );
    const [link] = tree.children(`${checks.id}/links`);
    assert.equal(link.label, 'broken link: missing.md');
    assert.equal(link.description, '…/site-packages/opencode/docs/index.md:7');
    assert.deepEqual(link.location, { file: `${ROOT}/python_embeded/Lib/site-packages/opencode/docs/index.md`, line: 7, column: 3 });
    // Only broken links and config parse errors go to the Problems panel.
    assert.deepEqual(
      verifyProblems(failedVerify).map((p) => [p.check, p.line]),
      [
        ['links', 7],
        ['config:opencode', 2],
      ],
    );
    assert.match(describeVerify(failedVerify), /^Verify ComfyUI_windows_portable: 3 of 4 checks failed \(links, config:opencode, files:rag\); 3 problems\.$/);
  });

  it('shows the computed status as `syncord sync status` prints it, and the recorded one only when none was computed', () => {
    // A target that was never synced but whose files already match: the reason says so where no file is pending.
    const restored: TargetInfo = {
      target: target('a', 'source', { status: 'needs_sync' }),
      status: { ...status('a', 'needs_sync'), reason: 'never synced: the files already match; a sync records it' },
      components: [],
      backups: [],
    };
    assert.equal(displayStatus(restored), 'needs_sync');
    // The row says the first words; the tooltip the whole reason.
    const changesRow = buildTree(snapshot([restored]), NOW).get('target:a/changes')!;
    assert.equal(changesRow.description, 'never synced');
    assert.equal(changesRow.tooltip, 'never synced: the files already match; a sync records it');
    // Files changed on both sides make a conflict, shown before anything else but a missing folder or a failed sync.
    assert.equal(displayStatus({ ...restored, status: status('a', 'conflict') }), 'conflict');
    // The computed status is the one shown, whatever targets.json says.
    assert.equal(displayStatus({ ...restored, status: status('a', 'synchronized') }), 'synchronized');
    assert.equal(displayStatus({ target: target('a', 'source'), status: status('a', 'needs_sync'), components: [], backups: [] }), 'needs_sync');
    // Restricted mode: no computed status, the recorded one shows.
    assert.equal(displayStatus({ target: target('a', 'source'), components: [], backups: [], statusNote: 'Restricted Mode' }), 'synchronized');
    assert.equal(displayStatus({ target: target('a', 'source', { status: 'needs_sync' }), components: [], backups: [], statusNote: 'Restricted Mode' }), 'needs_sync');
  });

  it('tells a recomputation that found nothing new from one that did, and which rows changed', () => {
    const info = (s: TargetStatus['status'], backups: BackupSummary[] = []): TargetInfo => ({ target: target('a', 'source'), status: status('a', s), components: componentsFor(DEFAULT_RULES, 'source'), backups });
    const b = target('b', 'site-packages');
    const other: TargetInfo = { target: b, status: status('b', 'synchronized'), components: [], backups: [] };
    assert.equal(snapshotFingerprint(snapshot([info('synchronized'), other])), snapshotFingerprint(snapshot([info('synchronized'), other])));
    assert.notEqual(snapshotFingerprint(snapshot([info('synchronized'), other])), snapshotFingerprint(snapshot([info('needs_sync'), other])));

    const t1 = buildTree(snapshot([info('synchronized'), other]), NOW);
    assert.deepEqual(changedNodes(t1, buildTree(snapshot([info('synchronized'), other]), NOW)), { all: false, nodes: [] });
    // A status change redraws that target's row (and its children with it), not the other target.
    const t2 = buildTree(snapshot([info('needs_sync'), other]), NOW);
    assert.deepEqual(changedNodes(t1, t2).nodes.map((n) => n.id), ['target:a']);
    // A new backup redraws the Backups node only.
    const t3 = buildTree(snapshot([info('synchronized', [backup]), other]), NOW);
    assert.deepEqual(changedNodes(t1, t3).nodes.map((n) => n.id), ['target:a/backups']);
    // A target added or removed redraws everything.
    assert.equal(changedNodes(t1, buildTree(snapshot([info('synchronized')]), NOW)).all, true);
  });

  it('says in the status bar how many targets need sync, spins while syncing, and hides with no targets', () => {
    const need = (n: string): TargetInfo => ({ target: target(n, 'source'), status: status(n, 'needs_sync'), components: [], backups: [] });
    const ok = (n: string): TargetInfo => ({ target: target(n, 'source'), status: status(n, 'synchronized'), components: [], backups: [] });
    assert.equal(statusBarView(snapshot([need('a'), need('b')])).text, '$(sync) 2 targets need sync');
    assert.equal(statusBarView(snapshot([need('a'), ok('b')])).text, '$(sync) 1 target needs sync');
    assert.equal(statusBarView(snapshot([ok('a'), ok('b')])).text, '$(check) targets in sync');
    assert.equal(statusBarView(snapshot([ok('a')]), new Map([['a', 'Syncing']])).text, '$(sync~spin) Syncing a…');
    assert.equal(statusBarView(snapshot([])).visible, false);
    assert.match(statusBarView(snapshot([need('a')])).tooltip, /a: needs sync/);
    // Restricted mode: nothing computed, the recorded statuses show and say so.
    const recorded: TargetInfo = { target: target('a', 'source'), statusNote: 'Restricted Mode: trust the workspace to detect changes', components: [], backups: [] };
    const v = statusBarView(snapshot([recorded]));
    assert.equal(v.text, '$(check) targets in sync (as recorded)');
    assert.match(v.tooltip, /Restricted Mode/);
  });

  it('summarizes a sync plan per component for the confirmation, and the result of a cancelled sync', () => {
    const plan: SyncPlan = {
      target: 'ComfyUI_windows_portable',
      commit: '0123456789abcdef',
      all: true,
      components: [
        { name: 'docs', rule: 'r', kind: 'dir', mode: 'mirror', source: 'docs', destination: 'x/docs', merges: [], kept: [], conflicts: [], resolved: [], adds: ['new.md'], updates: ['index.md', 'providers.md'], deletes: ['old.md'], retime: [], unchanged: 1, skipped: [], dirsToRemove: [] },
        { name: 'rag', rule: 'r', kind: 'dir', mode: 'mirror', source: 'RAG', destination: 'x/RAG', merges: [], kept: [], conflicts: [], resolved: [], adds: [], updates: [], deletes: [], retime: [], unchanged: 3, skipped: [], dirsToRemove: [] },
      ],
      configs: [{ name: 'opencode', source: 'opencode.toml', destination: 'opencode.toml', changed: true, created: false, changes: [{ key: 'providers.anthropic', action: 'added', strategy: 'merge' }], diff: '--- a\n+++ b\n' }],
      totals: { adds: 1, updates: 2, deletes: 1, configs: 1, merges: 0, conflicts: 0, kept: 0 },
      fingerprints: {},
      sourceHashes: {},
    };
    const d = describePlan(plan);
    assert.equal(d.empty, false);
    assert.equal(d.summary, 'Sync ComfyUI_windows_portable? 1 file to add, 2 to update, 1 to delete, 1 config file to merge.');
    assert.equal(d.detail.split('\n')[0], 'docs: 1 file to add, 2 to update, 1 to delete');
    assert.match(d.detail, /^opencode\.toml: 1 key to merge$/m);
    assert.doesNotMatch(d.detail, /rag/, 'components without changes are left out');
    const updatesOnly = describePlan({ ...plan, components: [{ ...plan.components[0], adds: [], deletes: [] }], configs: [], totals: { adds: 0, updates: 2, deletes: 0, configs: 0, merges: 0, conflicts: 0, kept: 0 } });
    assert.equal(updatesOnly.summary, 'Sync ComfyUI_windows_portable? 2 files to update.');
    assert.match(d.markdown, /\*\*Delete\*\* \(1\)\n\n- `old.md`/);
    assert.match(d.markdown, /No changes \(3 files unchanged\)/);

    const empty = describePlan({ ...plan, components: [], configs: [], totals: { adds: 0, updates: 0, deletes: 0, configs: 0, merges: 0, conflicts: 0, kept: 0 } });
    assert.equal(empty.empty, true);
    assert.equal(empty.summary, 'ComfyUI_windows_portable is already up to date: nothing to copy, delete or merge.');

    // Merges, the target's own edits and conflicts are named in the confirmation and in the plan.
    const docs3 = {
      ...plan.components[0],
      adds: [],
      deletes: [],
      updates: ['index.md'],
      merges: ['guide.md'],
      kept: ['local.md'],
      conflicts: [{ rel: 'config.md', reason: 'both-changed' as const, detail: 'changed on both sides; 1 overlapping change', regions: 1 }],
    };
    const three = describePlan({ ...plan, components: [docs3], configs: [], totals: { adds: 0, updates: 1, deletes: 0, configs: 0, merges: 1, conflicts: 1, kept: 1 } });
    assert.equal(three.empty, false);
    assert.equal(three.summary, "Sync ComfyUI_windows_portable? 1 file to update, 1 to merge with the target's edits; 1 file with the target's own edits kept, 1 conflict left untouched until you choose.");
    assert.equal(three.detail.split('\n')[0], "docs: 1 file to update, 1 to merge with the target's edits; 1 file with the target's own edits kept, 1 conflict left untouched until you choose");
    assert.match(three.markdown, /\*\*Merge with the target's edits\*\* \(1\)\n\n- `guide\.md`/);
    assert.match(three.markdown, /\*\*Kept: the target's own edits\*\* \(1\)\n\n- `local\.md`/);
    assert.match(three.markdown, /\*\*Conflicts: left untouched until you choose\*\* \(1\)\n\n- `config\.md`: changed on both sides; 1 overlapping change/);
    // Only conflicts: nothing to do but choose.
    const onlyConflicts = describePlan({ ...plan, components: [{ ...docs3, updates: [], merges: [], kept: [] }], configs: [], totals: { adds: 0, updates: 0, deletes: 0, configs: 0, merges: 0, conflicts: 1, kept: 0 } });
    assert.equal(onlyConflicts.empty, true);
    assert.equal(onlyConflicts.summary, 'ComfyUI_windows_portable has nothing to copy, delete or merge; 1 conflict needs your choice (Resolve Sync Conflicts).');

    const withConflicts: SyncResult = { target: 'ComfyUI_windows_portable', dryRun: false, plan, written: 3, deleted: 0, configsWritten: 1, ok: true, conflicts: [{ component: 'docs', path: 'x/docs/config.md', reason: 'both-changed', detail: 'changed on both sides' }, { component: 'docs', path: 'x/docs/a.md', reason: 'no-base', detail: 'no base' }] };
    const c = describeSyncResult(withConflicts);
    assert.deepEqual([c.ok, c.conflicts], [true, 2]);
    assert.equal(c.message, 'Synced ComfyUI_windows_portable, 2 conflicts left untouched: 3 files written, 0 deleted, 1 config file merged.');
    assert.equal(describeSyncResult({ ...withConflicts, conflicts: [] }).message, 'Synced ComfyUI_windows_portable: 3 files written, 0 deleted, 1 config file merged.');

    const cancelled: SyncResult = { target: 'ComfyUI_windows_portable', dryRun: false, plan, written: 2, deleted: 1, configsWritten: 0, ok: false, cancelled: true, backup: { ...backup }, conflicts: [] };
    const r = describeSyncResult(cancelled);
    assert.equal(r.ok, false);
    assert.equal(r.backupId, backup.id);
    assert.equal(r.message, `Sync of ComfyUI_windows_portable was cancelled. Done so far: 2 files written, 1 deleted, 0 config files merged. Backup ${backup.id} restores the target as it was before.`);
  });
});
