import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  addTarget,
  applySync,
  backupTarget,
  BackupSummary,
  buildChecklist,
  componentNames,
  ConfigPlan,
  configDiff,
  conflictInputs,
  ConflictInputs,
  dirtySyncedPaths,
  getTarget,
  listConflicts,
  listBackups,
  listPaths,
  loadRules,
  planSync,
  removeTarget,
  ResolvedTarget,
  RestoreResult,
  restoreTarget,
  rollbackComponent,
  settleConflict,
  SyncPlan,
  SyncResult,
  SyncRules,
  TARGET_TYPES,
  TargetStatus,
  verifyTarget,
  VerifyResult,
} from '../../core/targets';
import { isSyncordError, SyncordError } from '../../core/errors';
import { instancesFor, liveInstances, recordVerify, RequestOutcome, requestAgentSync } from '../../core/agentsync';
import { SYNC_AGENTS } from '../../core/coordination/vocabulary';
import { Sessions } from '../sessions/context';
import { readAgentRoles } from '../settings';
import { WorkspacePaths } from '../../core/workspace';
import { displayStatus } from '../../core/targets/overview';
import { describePlan, describeSyncResult, describeVerify } from '../../views/syncText';
import { ConflictChoice, ConflictFacts, conflictChoices, conflictPickTitle, describeOpenMerges, describeSettled } from '../../views/conflicts';
import { isText } from '../../core/targets/merge3';
import { SMALL_FILE } from '../../core/targets/fsutil';
import { STATUS_LABEL, TargetNode, targetNodeId } from '../../views/targets';
import { plural } from '../../views/text';
import { relativeTime } from '../../views/time';
import { ViewId } from '../../views/ids';
import { reportError } from '../errors';
import { Command, TARGETS_BUSY_CONTEXT_KEY } from '../../shared/commands';
import { TargetArgs } from '../commandArgs';
import { Services } from '../services';
import { MergedConfigProvider } from './configDiff';
import { Targets } from './context';
import { TargetViews } from './views';

const VIEW_ID = ViewId.targets;

/** Commands that run git or the rules' verification commands: off in Restricted Mode. */
function requireTrust(title: string, runs: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(`Syncord: ${title} is off in Restricted Mode because it runs ${runs} in this workspace. Trust the workspace to use it.`, 'Manage Workspace Trust')
    .then((pick) => pick && vscode.commands.executeCommand('workbench.trust.manage'));
  return false;
}

/** Shows a failed command; a cancellation is news, not an error. */
function fail(services: Services, what: string, e: unknown): void {
  if (isSyncordError(e) && e.code === 'cancelled') {
    services.log.info(`${what}: ${e.detail}`);
    void vscode.window.showInformationMessage(`Syncord: ${what}: ${e.detail}.`);
  } else reportError(services, what, e);
}

/**
 * The target commands (src/extension/commands.ts registers them): add, remove, detect, checklist, backup, sync,
 * verify, rollback, restore, config diff. Each asks for what its arguments leave out, runs the core with progress
 * in the Targets view, and says what happened.
 */
export class TargetCommands {
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly t: Targets,
    private readonly views: TargetViews,
    private readonly sessions: Sessions,
  ) {}

  private get services(): Services {
    return this.t.services;
  }

  private async context(): Promise<{ paths: WorkspacePaths; rules: SyncRules } | undefined> {
    const paths = this.services.requirePaths();
    if (!paths) return undefined;
    const { rules } = await loadRules(paths);
    return { paths, rules };
  }

  /** The target named in the arguments, or one the user picks (undefined when they dismiss the pick). */
  private async pickTarget(args: TargetArgs, placeHolder: string, prefer?: (s: string) => boolean): Promise<string | undefined> {
    if (args.target) return args.target;
    const snap = await this.t.model.ensureLoaded();
    const infos = snap?.targets ?? [];
    if (!infos.length) {
      const pick = await vscode.window.showInformationMessage('Syncord: no target projects are registered yet.', 'Add Target');
      if (pick) void vscode.commands.executeCommand(Command.addTarget);
      return undefined;
    }
    if (infos.length === 1) return infos[0].target.name;
    const items = infos.map((i) => {
      const s = displayStatus(i);
      return { label: i.target.name, description: `${STATUS_LABEL[s]} · ${i.target.type}`, detail: i.target.absPath, status: s };
    });
    if (prefer) items.sort((a, b) => Number(prefer(b.status)) - Number(prefer(a.status)));
    return (await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true }))?.label;
  }

  private setBusy(name: string, what: string | undefined): void {
    this.t.model.setBusy(name, what);
    void vscode.commands.executeCommand('setContext', TARGETS_BUSY_CONTEXT_KEY, this.t.model.busy.size > 0);
  }

  /** Runs work with progress in the Targets view; the view's Cancel action and the progress's cancel abort it. */
  private async inView<T>(title: string, work: (progress: vscode.Progress<{ message?: string }>, signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    this.aborts.add(ac);
    try {
      return await vscode.window.withProgress({ location: { viewId: VIEW_ID }, title, cancellable: true }, (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        return work(progress, ac.signal);
      });
    } finally {
      this.aborts.delete(ac);
    }
  }

  private async reveal(id: string, expand: boolean | number = false): Promise<void> {
    const view = this.views.treeView;
    const node = this.views.provider.node(id);
    if (!view.visible || !node) return;
    await Promise.resolve(view.reveal(node, { expand, select: true, focus: false })).catch(() => undefined);
  }

  cancel(): void {
    for (const ac of this.aborts) ac.abort();
  }

  async refresh(): Promise<void> {
    await this.t.model.reload('refresh requested');
  }

  async addTarget(args: TargetArgs): Promise<ResolvedTarget | undefined> {
    const paths = this.services.requirePaths();
    if (!paths) return undefined;
    let folder = args.path;
    if (!folder) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        canSelectMany: false,
        openLabel: 'Add Target',
        title: 'Syncord: choose the target project folder (outside the main project)',
        defaultUri: vscode.Uri.file(path.dirname(paths.root)),
      });
      if (!picked?.length) return undefined;
      folder = picked[0].fsPath;
    }
    const abs = path.resolve(paths.root, folder);
    let name = args.name;
    if (!name) {
      name = await vscode.window.showInputBox({
        title: 'Syncord: Add Target',
        prompt: 'Name of the target in the registry',
        value: path.basename(abs).replace(/[^A-Za-z0-9._-]/g, '_'),
        validateInput: (v) => (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ? undefined : 'Letters, digits, ".", "_" and "-", starting with a letter or digit'),
      });
      if (!name) return undefined;
    }
    let type = args.type;
    if (!type) {
      const guess = fs.existsSync(path.join(abs, 'python_embeded')) ? 'site-packages' : 'source';
      const items = TARGET_TYPES.map((t) => ({
        label: t,
        description: t === guess ? '(looks like this one)' : undefined,
        detail: t === 'site-packages' ? 'opencode installed with pip into the target’s site-packages (python_embeded/Lib/site-packages)' : 'opencode installed from source; docs go to docs/opencode/',
      }));
      items.sort((x, y) => Number(y.label === guess) - Number(x.label === guess));
      type = (await vscode.window.showQuickPick(items, { title: `Syncord: type of ${name}`, placeHolder: 'How does the target integrate the main project?' }))?.label;
      if (!type) return undefined;
    }
    try {
      this.t.model.noteOwnWrites();
      const added = await addTarget(paths, { name, path: abs, type });
      await this.t.model.reload('target added');
      void vscode.window.showInformationMessage(`Syncord: added target ${added.name} (${added.type}) at ${added.path}.`);
      await this.reveal(targetNodeId(added.name));
      return added;
    } catch (e) {
      reportError(this.services, 'Add Target', e);
      return undefined;
    }
  }

  async removeTarget(args: TargetArgs): Promise<boolean> {
    const paths = this.services.requirePaths();
    if (!paths) return false;
    const name = await this.pickTarget(args, 'Remove which target from the registry?');
    if (!name) return false;
    if (args.confirm !== false) {
      const ok = await vscode.window.showWarningMessage(
        `Remove ${name} from the target registry?`,
        { modal: true, detail: 'Its folder and its backups are left as they are; only the entry in targets.json goes.' },
        'Remove',
      );
      if (ok !== 'Remove') return false;
    }
    try {
      this.t.model.noteOwnWrites();
      await removeTarget(paths, name);
      await this.t.model.reload('target removed');
      void vscode.window.showInformationMessage(`Syncord: removed ${name} from the registry.`);
      return true;
    } catch (e) {
      reportError(this.services, 'Remove Target', e);
      return false;
    }
  }

  async detectChanges(args: TargetArgs): Promise<TargetStatus[] | undefined> {
    if (!requireTrust('Detect Changes', 'git')) return undefined;
    try {
      await this.inView('Detecting changes…', () => this.t.model.reload('detect changes'));
      const snap = this.t.model.snapshot;
      const statuses = (snap?.targets ?? []).filter((i) => !args.target || i.target.name === args.target).map((i) => i.status).filter((s): s is TargetStatus => !!s);
      if (args.target && !statuses.length) throw new Error(`no status for target "${args.target}"`);
      const lines = statuses.map((s) => (s.changes.length ? `${s.name}: ${plural(s.changes.length, 'changed file')} in ${s.categories.join(', ') || 'component sources'}` : `${s.name}: no changes to sync`));
      this.services.log.info(`Detect changes:\n  ${lines.join('\n  ')}`);
      void vscode.window.showInformationMessage(`Syncord: ${lines.join('; ') || 'no targets registered'}.`);
      const first = statuses.find((s) => s.changes.length);
      if (first) await this.reveal(`${targetNodeId(first.name)}/changes`, 1);
      return statuses;
    } catch (e) {
      reportError(this.services, 'Detect Changes', e);
      return undefined;
    }
  }

  async openChecklist(args: TargetArgs): Promise<vscode.TextDocument | undefined> {
    if (!requireTrust('Open Sync Checklist', 'git')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Checklist for which target?', (s) => s === 'needs_sync' || s === 'conflict');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      const content = await buildChecklist(ctx.paths, ctx.rules, target);
      const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
      await vscode.window.showTextDocument(doc, { preview: false });
      return doc;
    } catch (e) {
      reportError(this.services, 'Open Sync Checklist', e);
      return undefined;
    }
  }

  async backupTarget(args: TargetArgs): Promise<BackupSummary | undefined> {
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Back up which target?');
      if (!name) return undefined;
      this.setBusy(name, 'Backing up');
      let summary: BackupSummary;
      try {
        summary = await this.inView(`Backing up ${name}…`, (_p, signal) => backupTarget(ctx.paths, ctx.rules, name, { signal }));
      } finally {
        this.setBusy(name, undefined);
      }
      await this.t.model.reload('backup taken');
      void vscode.window.showInformationMessage(
        `Syncord: backed up ${name}: ${plural(summary.files, 'file')} (${summary.newObjects} new, ${summary.newBytes} bytes added to the store).`,
      );
      await this.reveal(`${targetNodeId(name)}/backups/${summary.id}`);
      return summary;
    } catch (e) {
      fail(this.services, 'Back Up Target', e);
      return undefined;
    }
  }

  /**
   * Opens the diff editor for each config file the plan changes: the target's file ↔ the merged text the plan
   * carries. Returns the documents shown (their right sides), so a cancelled sync can close exactly those tabs.
   */
  private async showConfigChanges(target: ResolvedTarget, configs: ConfigPlan[]): Promise<vscode.Uri[]> {
    const shown: vscode.Uri[] = [];
    for (const c of configs) {
      if (!c.changed || c.text === undefined) continue;
      const destAbs = path.join(target.absPath, c.destination);
      const right = this.t.configDocs.set(target.name, c.name, c.destination, c.text);
      const left = c.created ? this.t.configDocs.set(target.name, `${c.name}.absent`, c.destination, '') : vscode.Uri.file(destAbs);
      // "opencode.toml (ComfyUI_windows_portable) ↔ After Sync": the target's file now, and what the sync writes.
      await vscode.commands.executeCommand('vscode.diff', left, right, `${c.destination} (${target.name}) ↔ After Sync`, {
        preview: true,
        preserveFocus: true,
      });
      shown.push(right);
    }
    return shown;
  }

  /** Closes the tabs that show one of these read-only documents (alone, or as the right side of a diff). */
  private async closeTabsOf(uris: readonly vscode.Uri[]): Promise<void> {
    if (!uris.length) return;
    const wanted = new Set(uris.map((u) => u.toString()));
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter(
        (t) =>
          !t.isDirty &&
          ((t.input instanceof vscode.TabInputTextDiff && wanted.has(t.input.modified.toString())) ||
            (t.input instanceof vscode.TabInputText && wanted.has(t.input.uri.toString()))),
      );
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
  }

  /**
   * A click on a pending file: the diff editor with the target's copy on the left and the main project's file on
   * the right (what the sync would make of it); a side that does not exist (a file to add, a file to delete) shows
   * as an empty document. Both files must lie inside their roots.
   */
  async openPendingDiff(node: TargetNode | undefined): Promise<void> {
    const d = node?.diff;
    const name = node?.target;
    if (!d || !name) return;
    const snap = await this.t.model.ensureLoaded();
    const target = snap?.targets.find((i) => i.target.name === name)?.target;
    const inside = (root: string | undefined, file: string) => {
      if (!root) return false;
      const rel = path.relative(root, file);
      return !!rel && !rel.startsWith('..') && !path.isAbsolute(rel);
    };
    if ((d.targetFile && !inside(target?.absPath, d.targetFile)) || (d.sourceFile && !inside(snap?.root, d.sourceFile))) {
      void vscode.window.showWarningMessage(`Syncord: ${node.label} is not inside ${name} and the main project; not opened.`);
      return;
    }
    const base = path.basename(d.sourceFile ?? d.targetFile ?? node.label);
    const side = (file: string | undefined, which: string) => (file ? vscode.Uri.file(file) : this.t.configDocs.set(name, which, base, ''));
    await vscode.commands.executeCommand('vscode.diff', side(d.targetFile, 'not-in-target'), side(d.sourceFile, 'not-in-main-project'), d.title, { preview: true });
  }

  /** Closes the diff editors that previewed a target's config merge. */
  private async closeConfigPreviews(target: string): Promise<void> {
    const tabs = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === MergedConfigProvider.scheme && t.input.modified.path.startsWith(`/${target}/`) && !t.isDirty);
    if (tabs.length) await vscode.window.tabGroups.close(tabs, true).then(undefined, () => undefined);
  }

  async showConfigDiff(args: TargetArgs): Promise<ConfigPlan[] | undefined> {
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Config diff of which target?');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      const configs = await configDiff(ctx.paths, ctx.rules, target, args.component ? [args.component] : undefined);
      if (!configs.length) {
        void vscode.window.showInformationMessage(`Syncord: no config files are merged into ${target.type} targets.`);
        return configs;
      }
      const shown = (await this.showConfigChanges(target, configs)).length;
      if (!shown) {
        void vscode.window.showInformationMessage(
          `Syncord: the config of ${name} is up to date (${configs.map((c) => c.note ?? c.destination).join(', ')}).`,
        );
      }
      return configs;
    } catch (e) {
      reportError(this.services, 'Show Config Diff', e);
      return undefined;
    }
  }

  /**
   * Asks to confirm a plan; "Show Plan" opens it as Markdown and asks again. The plan document shown is added to
   * `opened`, so the caller can close its tab.
   */
  private async confirmPlan(summary: string, detail: string, markdown: string, button: string, name: string, opened: vscode.Uri[]): Promise<boolean> {
    for (;;) {
      const pick = await vscode.window.showInformationMessage(summary, { modal: true, detail }, button, 'Show Plan');
      if (pick === button) return true;
      if (pick !== 'Show Plan') return false;
      // A read-only document (nothing to save when it is closed), named after what it shows.
      const uri = this.t.configDocs.set(name, 'plan', `Sync Plan (${name}).md`, markdown);
      opened.push(uri);
      const doc = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), 'markdown');
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    }
  }

  async syncTarget(args: TargetArgs): Promise<SyncResult | undefined> {
    if (!requireTrust('Sync Target', 'git')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Sync which target?', (s) => s === 'needs_sync' || s === 'sync_failed' || s === 'conflict');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      const plan = await this.inView(`Planning the sync of ${name}…`, async (_p, signal) => {
        const p = await planSync(ctx.paths, ctx.rules, target);
        if (signal.aborted) throw new SyncordError('sync cancelled before anything was written', 'cancelled');
        return p;
      });
      const d = describePlan(plan);
      // A target that is a git repository: files the sync would overwrite or delete with uncommitted changes there.
      const dirty = (await dirtySyncedPaths(target, plan)).paths;
      if (dirty.length && args.confirm !== false) {
        const pick = await vscode.window.showWarningMessage(
          `${plural(dirty.length, 'file the sync would overwrite has', 'files the sync would overwrite have')} uncommitted changes in ${name}'s repository: ${listPaths(dirty)}`,
          { modal: true, detail: 'Commit or stash them in the target first, or sync anyway (the pre-sync backup keeps their current content).' },
          'Sync Anyway',
        );
        if (pick !== 'Sync Anyway') return undefined;
      }
      // The tabs this sync's preview opens (config diffs, the plan): closed again when the user cancels.
      const previews: vscode.Uri[] = [];
      if (args.confirm !== false && !d.empty) {
        if (args.showDiff !== false) previews.push(...(await this.showConfigChanges(target, plan.configs)));
        if (!(await this.confirmPlan(d.summary, d.detail, d.markdown, 'Sync', name, previews))) {
          await this.closeTabsOf(previews);
          return undefined;
        }
      }
      const [result] = await this.runSyncs(ctx, [target], args, [plan]);
      // The previews of the config merge now compare the synced file with itself; a cancelled run needs them no more.
      if (result?.ok) await this.closeConfigPreviews(name);
      if (result?.ok || result?.cancelled) await this.closeTabsOf(previews);
      return result;
    } catch (e) {
      fail(this.services, 'Sync Target', e);
      return undefined;
    }
  }

  async syncAll(args: TargetArgs): Promise<SyncResult[] | undefined> {
    if (!requireTrust('Sync All Targets', 'git')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      await this.t.model.reload('sync all');
      const infos = this.t.model.snapshot?.targets ?? [];
      if (!infos.length) {
        void vscode.window.showInformationMessage('Syncord: no target projects are registered yet.');
        return [];
      }
      const targets = infos.map((i) => i.target);
      const plans: SyncPlan[] = await this.inView('Planning the sync of all targets…', async (_p, signal) => {
        const all = await Promise.all(targets.map((t) => planSync(ctx.paths, ctx.rules, t)));
        if (signal.aborted) throw new SyncordError('sync cancelled before anything was written', 'cancelled');
        return all;
      });
      const described = plans.map(describePlan);
      // Targets that are git repositories: files the syncs would overwrite or delete with uncommitted changes there.
      if (args.confirm !== false) {
        const dirty: string[] = [];
        for (const [i, t] of targets.entries()) {
          const paths = (await dirtySyncedPaths(t, plans[i])).paths;
          if (paths.length) dirty.push(`${t.name}: ${listPaths(paths)}`);
        }
        if (dirty.length) {
          const pick = await vscode.window.showWarningMessage(
            `Files the sync would overwrite have uncommitted changes in ${plural(dirty.length, "target's repository", "targets' repositories")}: ${dirty.join('; ')}`,
            { modal: true, detail: 'Commit or stash them in the targets first, or sync anyway (the pre-sync backups keep their current content).' },
            'Sync Anyway',
          );
          if (pick !== 'Sync Anyway') return undefined;
        }
      }
      if (args.confirm !== false && described.some((d) => !d.empty)) {
        const n = described.filter((d) => !d.empty).length;
        const summary = `Sync ${n} of ${plural(targets.length, 'target')}?`;
        const detail = [...described.map((d) => d.summary), '', 'Everything each sync touches is backed up first.'].join('\n');
        const previews: vscode.Uri[] = [];
        const ok = await this.confirmPlan(summary, detail, described.map((d) => d.markdown).join('\n\n---\n\n'), 'Sync All', 'all targets', previews);
        await this.closeTabsOf(previews);
        if (!ok) return undefined;
      }
      return await this.runSyncs(ctx, targets, args, plans);
    } catch (e) {
      fail(this.services, 'Sync All Targets', e);
      return undefined;
    }
  }

  /**
   * Applies syncs one target after another, with progress in the view; reports each result. `plans` are the
   * plans shown for confirmation (same order as `targets`): a target whose files changed since is refused.
   */
  private async runSyncs(ctx: { paths: WorkspacePaths; rules: SyncRules }, targets: ResolvedTarget[], args: TargetArgs, plans?: SyncPlan[]): Promise<SyncResult[]> {
    const results: SyncResult[] = [];
    for (const t of targets) this.setBusy(t.name, 'Syncing');
    try {
      await this.inView(targets.length === 1 ? `Syncing ${targets[0].name}…` : `Syncing ${targets.length} targets…`, async (progress, signal) => {
        for (const [i, t] of targets.entries()) {
          if (signal.aborted) break;
          const r = await applySync(ctx.paths, ctx.rules, t, {
            plan: plans?.[i],
            signal,
            onProgress: (p) => progress.report({ message: `${t.name}: ${p.phase}${p.total > 1 ? ` ${p.done}/${p.total}` : ''}${p.path ? ` ${p.path}` : ''}` }),
          });
          results.push(r);
          this.setBusy(t.name, undefined);
          if (!r.ok) break;
        }
      });
    } finally {
      for (const t of targets) this.setBusy(t.name, undefined);
      await this.t.model.reload('synced');
    }
    for (const r of results) await this.reportSync(r, args);
    return results;
  }

  private async reportSync(r: SyncResult, args: TargetArgs): Promise<void> {
    const d = describeSyncResult(r);
    this.services.log.info(`Sync: ${d.message}`);
    if (d.ok && d.conflicts) {
      const resolve = 'Resolve Conflicts…';
      void vscode.window.showWarningMessage(`Syncord: ${d.message}`, resolve).then((pick) => pick === resolve && vscode.commands.executeCommand(Command.resolveSyncConflicts, { target: r.target }));
      return;
    }
    if (d.ok) {
      void vscode.window.showInformationMessage(`Syncord: ${d.message}`);
      return;
    }
    const restore = d.backupId ? 'Restore Backup' : undefined;
    let pick: string | undefined;
    if (args.restoreOnFailure !== undefined) pick = args.restoreOnFailure && restore ? restore : undefined;
    else pick = await (r.cancelled ? vscode.window.showWarningMessage : vscode.window.showErrorMessage)(`Syncord: ${d.message}`, ...(restore ? [restore] : []));
    if (pick === restore && d.backupId) {
      await this.restoreBackup({ target: r.target, backupId: d.backupId, confirm: false });
    }
  }

  async verifyTarget(args: TargetArgs): Promise<VerifyResult | undefined> {
    if (!requireTrust('Verify Target', 'git and the verification commands of the sync rules')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Verify which target?');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      this.setBusy(name, 'Verifying');
      let result: VerifyResult;
      try {
        result = await this.inView(`Verifying ${name}…`, (_p, signal) => verifyTarget(ctx.paths, ctx.rules, target, { runCommands: vscode.workspace.isTrusted, hostTrusted: vscode.workspace.isTrusted, signal }));
      } finally {
        this.setBusy(name, undefined);
      }
      // Recorded by the core as `syncord sync verify` records it: kept (`.syncord/verify/<target>/last.json`), and
      // the target's sync by agents moved on when it waits for this verification.
      this.t.model.noteOwnWrites();
      const sctx = this.sessions.context();
      if (!sctx) return undefined;
      const recorded = await recordVerify(sctx, target, result, { by: this.services.settings().instanceId, roles: readAgentRoles() }, this.sessions.hooks(sctx));
      await Promise.all([this.t.model.reload('verified'), this.sessions.coordination.model.reload()]);
      if (recorded.workflowError) reportError(this.services, `The verification of ${name} is kept, but its sync by agents could not move on`, recorded.workflowError);
      const w = recorded.workflow;
      const agents =
        w?.reaction === 'passed'
          ? ` Sync by agents ${w.workflow}: ${w.verifyTask} completed${w.next ? `; ${w.next} (docs) can start` : ''}.`
          : w?.reaction === 'failed'
            ? ` Sync by agents ${w.workflow}: ${w.debugTask} (debug) and ${w.fixTask} (fix) opened; ${w.verifyTask} verifies again after the fix.`
            : '';
      const message = `Syncord: ${describeVerify(result)}${agents}`;
      this.services.log.info(message);
      if (result.passed) void vscode.window.showInformationMessage(message);
      else {
        void vscode.window.showErrorMessage(message, 'Show Problems').then((p) => p && vscode.commands.executeCommand('workbench.actions.view.problems'));
        await this.reveal(`${targetNodeId(name)}/checks`, 2);
      }
      return result;
    } catch (e) {
      reportError(this.services, 'Verify Target', e);
      return undefined;
    }
  }

  /**
   * Sync with Agents…: the target's sync becomes work on the task queue (apply → verify → docs), each step offered
   * to the instance whose role fits (`syncord.agentSync.roles`), the first handed to its live session.
   */
  async syncWithAgents(args: TargetArgs): Promise<RequestOutcome | undefined> {
    if (!requireTrust('Sync with Agents', 'git')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Request a sync by agents of which target?', (s) => s !== 'synchronized');
      if (!name) return undefined;
      const sctx = this.sessions.context();
      if (!sctx) return undefined;
      const roles = readAgentRoles();
      const target = await getTarget(ctx.paths, name);
      if (args.confirm !== false) {
        const { registry } = await sctx.store.read('registry');
        const who = instancesFor(registry, roles, await liveInstances(sctx));
        const detail = SYNC_AGENTS.filter((a) => a !== 'debugging')
          .map((a) => `${a[0].toUpperCase()}${a.slice(1)}: ${who[a] ?? 'no instance has a fitting role (anyone may take the step)'}`)
          .join('\n');
        const pick = await vscode.window.showInformationMessage(
          `Request a sync of ${name} by agents? It becomes tasks on the queue: apply → verify → docs.`,
          { modal: true, detail: `${detail}\nA failed verification goes to the Debugging agent (${who.debugging ?? 'no instance fits'}).` },
          'Request',
        );
        if (pick !== 'Request') return undefined;
      }
      const me = this.services.settings().instanceId;
      const [r] = await vscode.window.withProgress({ location: { viewId: VIEW_ID }, title: `Requesting a sync of ${name} by agents…` }, () =>
        requestAgentSync(sctx, ctx.rules, [target], { requestedBy: me, roles }, this.sessions.hooks(sctx)),
      );
      await Promise.all([this.t.model.reload('sync requested'), this.sessions.coordination.model.reload(), this.sessions.model.reload()]);
      if (r.requested) {
        const first = r.tasks[0];
        const handed = r.deliveries.length ? `handed to ${first.assigned_to}'s session` : first.assigned_to ? `offered to ${first.assigned_to} (no live session: it is in its inbox)` : 'waiting for an instance of the Coding role';
        const message = `Syncord: requested ${r.workflow.id}, a sync of ${name} by agents: ${r.tasks.map((t) => `${t.task_id} ${t.sync_workflow!.step}`).join(' → ')}; ${first.task_id} ${handed}.`;
        this.services.log.info(message);
        void vscode.window.showInformationMessage(message, 'Open Message Log').then((p) => p && vscode.commands.executeCommand(Command.openMessageLog));
        await this.reveal(`${targetNodeId(name)}/agents`, 1);
      }
      return r;
    } catch (e) {
      reportError(this.services, 'Sync with Agents', e);
      return undefined;
    }
  }

  async rollbackComponent(args: TargetArgs): Promise<RestoreResult | undefined> {
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Roll back a component of which target?');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      let component = args.component;
      if (!component) {
        const names = componentNames(ctx.rules).filter((n) => {
          const c = ctx.rules.components[n] ?? ctx.rules.config[n];
          return !c || !!(c.destination as Record<string, unknown>)[target.type];
        });
        component = await vscode.window.showQuickPick(names, { placeHolder: `Roll back which component of ${name} to its last pre-sync backup?` });
        if (!component) return undefined;
      }
      if (args.confirm !== false) {
        const ok = await vscode.window.showWarningMessage(
          `Roll back ${component} of ${name} to its last pre-sync backup?`,
          { modal: true, detail: 'The files that sync changed in this component are put back as they were before it. A backup of the current state is taken first.' },
          'Roll Back',
        );
        if (ok !== 'Roll Back') return undefined;
      }
      this.setBusy(name, 'Rolling back');
      let r: RestoreResult;
      try {
        r = await this.inView(`Rolling back ${component} of ${name}…`, () => rollbackComponent(ctx.paths, ctx.rules, name, component!));
      } finally {
        this.setBusy(name, undefined);
      }
      await this.t.model.reload('rolled back');
      this.reportRestore(name, r, `rolled back ${r.components.join(', ')}`);
      return r;
    } catch (e) {
      reportError(this.services, 'Roll Back Component', e);
      return undefined;
    }
  }

  async restoreBackup(args: TargetArgs): Promise<RestoreResult | undefined> {
    try {
      const paths = this.services.requirePaths();
      if (!paths) return undefined;
      const name = await this.pickTarget(args, 'Restore a backup of which target?');
      if (!name) return undefined;
      const backups = await listBackups(paths, name);
      let backup = args.backupId ? backups.find((x) => x.id === args.backupId) : undefined;
      if (args.backupId && !backup) throw new Error(`target ${name} has no backup ${args.backupId}`);
      if (!backup) {
        if (!backups.length) {
          void vscode.window.showInformationMessage(`Syncord: ${name} has no backups yet.`);
          return undefined;
        }
        const now = Date.now();
        const pick = await vscode.window.showQuickPick(
          backups.map((x) => ({ label: relativeTime(x.created, now), description: `${x.reason} · ${plural(x.files, 'file')} · ${x.components.join(', ')}`, detail: x.id, backup: x })),
          { placeHolder: `Restore which backup of ${name}?` },
        );
        if (!pick) return undefined;
        backup = pick.backup;
      }
      if (args.confirm !== false) {
        const ok = await vscode.window.showWarningMessage(
          `Restore ${name} to the backup taken ${relativeTime(backup.created, Date.now())} (${backup.reason})?`,
          {
            modal: true,
            detail: `Backup ${backup.id} covers ${backup.components.join(', ') || 'nothing'} (${plural(backup.files, 'file')}). Those files are replaced by the backup's copies${backup.partial ? '' : ', and files the backup did not have are deleted'}. A backup of the current state is taken first, so this can be undone.`,
          },
          'Restore',
        );
        if (ok !== 'Restore') return undefined;
      }
      this.setBusy(name, 'Restoring');
      let r: RestoreResult;
      try {
        r = await this.inView(`Restoring ${name}…`, () => restoreTarget(paths, name, backup!.id));
      } finally {
        this.setBusy(name, undefined);
      }
      await this.t.model.reload('backup restored');
      this.reportRestore(name, r, `restored backup ${r.backup}`);
      return r;
    } catch (e) {
      reportError(this.services, 'Restore Backup', e);
      return undefined;
    }
  }

  private reportRestore(name: string, r: RestoreResult, what: string): void {
    const done = `${plural(r.written, 'file')} written, ${r.deleted} deleted`;
    if (r.verified) {
      void vscode.window.showInformationMessage(`Syncord: ${name}: ${what} (${done}; every file checked by hash). Backup ${r.preRestoreBackup} holds the state before.`);
    } else {
      void vscode.window.showErrorMessage(`Syncord: ${name}: ${what}, but ${plural(r.mismatches.length, 'file differs', 'files differ')} from the backup: ${r.mismatches.slice(0, 5).join(', ')}`);
    }
  }

  /** What is known of a conflict for the choice: whether the main project has the file, and whether all versions are text. */
  private async conflictFacts(inputs: ConflictInputs): Promise<ConflictFacts> {
    const textFile = async (file: string | undefined) => {
      if (!file) return true;
      const st = await fs.promises.lstat(file).catch(() => undefined);
      if (!st?.isFile()) return true;
      return st.size <= SMALL_FILE && isText(await fs.promises.readFile(file));
    };
    const text = (!inputs.base || isText(inputs.base)) && (await textFile(inputs.sourceFile)) && (await textFile(inputs.targetFile));
    return { path: inputs.path, reason: inputs.reason, detail: inputs.detail, hasSource: !!inputs.sourceFile, text };
  }

  /**
   * Resolve Sync Conflicts: for each conflict of a target (or the one of a conflict row), the user opens it in
   * VS Code's merge editor, takes the main project's version or keeps the target's copy. A merge is applied to
   * the target when it is completed (ConflictMerges); the other two are settled at once. Nothing is written for
   * a conflict the user passes over.
   */
  async resolveConflicts(args: TargetArgs): Promise<{ target: string; opened: { path: string; output: string }[]; settled: { path: string; how: ConflictChoice }[]; left: number } | undefined> {
    if (!requireTrust('Resolve Sync Conflicts', 'git')) return undefined;
    try {
      const ctx = await this.context();
      if (!ctx) return undefined;
      const name = await this.pickTarget(args, 'Resolve the sync conflicts of which target?', (s) => s === 'conflict');
      if (!name) return undefined;
      const target = await getTarget(ctx.paths, name);
      let conflicts = await this.inView(`Finding the conflicts of ${name}…`, () => listConflicts(ctx.paths, ctx.rules, target));
      if (args.file) {
        const want = args.file.replace(/\\/g, '/').replace(/^\.\//, '');
        conflicts = conflicts.filter((c) => c.path === want);
        if (!conflicts.length) {
          void vscode.window.showInformationMessage(`Syncord: ${want} is not a conflict in ${name} (any more).`);
          await this.t.model.reload('conflicts listed');
          return { target: name, opened: [], settled: [], left: 0 };
        }
      }
      if (!conflicts.length) {
        void vscode.window.showInformationMessage(`Syncord: ${name} has no sync conflicts.`);
        await this.t.model.reload('conflicts listed');
        return { target: name, opened: [], settled: [], left: 0 };
      }
      const opened: { path: string; output: string }[] = [];
      const settled: { path: string; how: ConflictChoice }[] = [];
      for (let i = 0; i < conflicts.length; i++) {
        const inputs = await conflictInputs(ctx.paths, ctx.rules, target, conflicts[i].path);
        const facts = await this.conflictFacts(inputs);
        const items = conflictChoices(facts);
        let choice: ConflictChoice | undefined = args.choice;
        if (!choice) {
          const pick = await vscode.window.showQuickPick(items, { title: conflictPickTitle(name, facts, i, conflicts.length), placeHolder: 'How should the target settle this file?', ignoreFocusOut: true });
          if (!pick) break;
          choice = pick.choice;
        }
        if (!items.some((x) => x.choice === choice)) {
          throw new SyncordError(`${inputs.path} cannot be opened in the merge editor: ${facts.hasSource ? 'it is not a text file' : 'the main project has no such file'}; take the main project's version or keep the target's copy`, 'usage');
        }
        if (choice === 'merge') {
          const s = await this.t.merges.openEditor(ctx.paths, name, inputs);
          opened.push({ path: inputs.path, output: s.output.fsPath });
          continue;
        }
        if (choice === 'take-source' && !facts.hasSource && args.confirm !== false) {
          const ok = await vscode.window.showWarningMessage(
            `Delete ${inputs.path} from ${name}?`,
            { modal: true, detail: `The main project has no such file (${inputs.detail}). The target's copy is backed up first.` },
            'Delete',
          );
          if (ok !== 'Delete') continue;
        }
        this.t.model.noteOwnWrites();
        const r = await settleConflict(ctx.paths, ctx.rules, target, inputs.path, choice, inputs.targetHash);
        settled.push({ path: r.path, how: choice });
        this.services.log.info(`Resolve Sync Conflicts: ${describeSettled(name, r.path, choice, choice === 'take-source' && !facts.hasSource)}`);
        if (conflicts.length === 1) void vscode.window.showInformationMessage(`Syncord: ${describeSettled(name, r.path, choice, choice === 'take-source' && !facts.hasSource)}`);
      }
      const left = conflicts.length - opened.length - settled.length;
      if (settled.length) await this.t.model.reload('conflicts settled');
      if (conflicts.length > 1 && (settled.length || left)) void vscode.window.showInformationMessage(`Syncord: ${describeOpenMerges(name, opened.length, settled.length, left)}`);
      return { target: name, opened, settled, left };
    } catch (e) {
      await this.t.model.reload('conflicts').catch(() => undefined);
      fail(this.services, 'Resolve Sync Conflicts', e);
      return undefined;
    }
  }

  async statusBarMenu(): Promise<void> {
    const snap = await this.t.model.ensureLoaded();
    const infos = snap?.targets ?? [];
    const need = infos.filter((i) => displayStatus(i) === 'needs_sync').length;
    type Item = vscode.QuickPickItem & { run?: () => unknown };
    const items: Item[] = [
      { label: '$(sync) Sync Targets (All at Once)…', description: need ? `${need} need sync` : 'all in sync', run: () => vscode.commands.executeCommand(Command.syncAllTargets) },
      { label: 'Sync one target', kind: vscode.QuickPickItemKind.Separator },
      ...infos.map((i) => {
        const s = displayStatus(i);
        const icon = s === 'synchronized' ? '$(pass-filled)' : s === 'needs_sync' ? '$(sync)' : s === 'verify_failed' ? '$(error)' : '$(warning)';
        return { label: `${icon} ${i.target.name}`, description: `${STATUS_LABEL[s]} · ${i.target.type}`, run: () => vscode.commands.executeCommand(Command.syncTarget, i.target.name) };
      }),
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      { label: '$(list-tree) Show the Targets view', run: () => vscode.commands.executeCommand(`${VIEW_ID}.focus`) },
    ];
    const pick = await vscode.window.showQuickPick(items, { placeHolder: 'Syncord targets' });
    await pick?.run?.();
  }
}
