import { WorkspacePaths } from '../workspace';
import { joinRel } from './components';
import { ChangedFile, classify, DetectResult, detectChanges, sharedDetection } from './detect';
import { lstatOrUndefined } from './fsutil';
import { isGitRepo, resolveCommit } from './git';
import { getTarget, listTargets, registryFile, ResolvedTarget, updateTarget } from './registry';
import { interruptedWork } from './leftovers';
import { SyncRules } from './schema';
import { planSync, SyncPlan } from './sync';
import { SyncordError } from '../errors';

/** The commit a target was last synced from: `last_sync_commit`, else its `sync_version` if that names a commit. */
export async function lastSyncedCommit(paths: WorkspacePaths, t: ResolvedTarget): Promise<string | undefined> {
  for (const rev of [t.last_sync_commit, t.sync_version]) {
    if (rev) {
      const id = await resolveCommit(paths.root, rev);
      if (id) return id;
    }
  }
  return undefined;
}

export interface TargetDetect extends DetectResult {
  target: string;
}

/** Changes since each target's last synced commit (everything, for a target never synced). */
export async function detectForTargets(paths: WorkspacePaths, rules: SyncRules, targets?: ResolvedTarget[]): Promise<TargetDetect[]> {
  const all = targets ?? (await listTargets(paths));
  const detect = sharedDetection(paths, rules);
  const out: TargetDetect[] = [];
  for (const t of all) out.push({ target: t.name, ...(await detect(await lastSyncedCommit(paths, t))) });
  return out;
}

/** What a pending file is waiting for: the sync's action on it, or (`changed`) a change outside every component. */
export type PendingAction = 'add' | 'update' | 'merge' | 'delete' | 'conflict' | 'config' | 'changed';

export interface PendingFile extends ChangedFile {
  action: PendingAction;
  /** The file in the target (relative to the target root), for files a component or config file covers. */
  targetPath?: string;
  /** Why a conflict is one. */
  detail?: string;
}

export interface TargetStatus {
  name: string;
  path: string;
  absPath: string;
  type: string;
  /** The status written in the registry. */
  recorded?: string;
  /**
   * Computed now, from one comparison: `synchronized` exactly when a sync would change nothing (no file to add,
   * update, merge or delete, no config change, no conflict, and nothing new in a synced category since the
   * recorded sync); `conflict` when files changed on both sides wait for the user's choice.
   */
  status: 'synchronized' | 'needs_sync' | 'conflict' | 'sync_failed' | 'missing';
  reason: string;
  last_sync?: string | null;
  sync_version?: string | null;
  since: string | null;
  /** Everything pending, file by file: what the sync would do, and changes in synced categories outside every component. */
  changes: PendingFile[];
  categories: string[];
  /** What a sync would do (the merged texts left out). */
  plan?: SyncPlan;
  /** Files the target changed itself since the last sync, kept by syncs (paths in the target). */
  kept: string[];
  /** Components and config files whose source does not exist in the main project. */
  notApplicable: string[];
}

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The pending files of a plan, classified into the rules' categories by their path in the main project. */
function pendingOf(plan: SyncPlan, rules: SyncRules): PendingFile[] {
  const out: PendingFile[] = [];
  const add = (action: PendingAction, status: ChangedFile['status'], source: string, targetPath: string, detail?: string) => {
    const categories = classify([{ status, path: source }], rules).files[0]?.categories ?? [];
    out.push({ status, path: source, categories, action, targetPath, ...(detail ? { detail } : {}) });
  };
  for (const c of plan.components) {
    for (const r of c.adds) add('add', 'A', joinRel(c.source, r), joinRel(c.destination, r));
    for (const r of c.updates) add('update', 'M', joinRel(c.source, r), joinRel(c.destination, r));
    for (const r of c.merges) add('merge', 'M', joinRel(c.source, r), joinRel(c.destination, r));
    for (const r of c.deletes) add('delete', 'D', joinRel(c.source, r), joinRel(c.destination, r));
    for (const x of c.conflicts) add('conflict', 'U', joinRel(c.source, x.rel), joinRel(c.destination, x.rel), x.detail);
  }
  for (const c of plan.configs) if (c.changed) add('config', c.created ? 'A' : 'M', c.source, c.destination);
  return out;
}

/** Sources of the components and config files of a plan, as path tests. */
function inSources(plan: SyncPlan): (p: string) => boolean {
  const dirs = plan.components.filter((c) => c.kind === 'dir').map((c) => c.source + '/');
  const files = new Set([...plan.components.filter((c) => c.kind === 'file').map((c) => c.source), ...plan.configs.map((c) => c.source)]);
  return (p) => files.has(p) || dirs.some((d) => p.startsWith(d));
}

/**
 * One target's status, from one comparison: the sync plan (every file of the rules compared with the target's
 * copy, against the version the last sync wrote) and, for changes the components do not copy (code in a
 * synced category, to reinstall), what changed in the main project since the recorded sync.
 */
export async function targetStatus(paths: WorkspacePaths, rules: SyncRules, t: ResolvedTarget, opts: { git?: boolean; detect?: (since: string | undefined) => Promise<DetectResult> } = {}): Promise<TargetStatus> {
  const base = { name: t.name, path: t.path, absPath: t.absPath, type: t.type, recorded: t.status, last_sync: t.last_sync, sync_version: t.sync_version, changes: [], categories: [], kept: [], notApplicable: [] };
  const folder = await lstatOrUndefined(t.absPath);
  if (!folder?.isDirectory()) {
    const reason = folder?.isSymbolicLink() ? `the target folder ${t.absPath} is a symlink; Syncord only works in real folders` : `folder not found: ${t.absPath}`;
    return { ...base, status: 'missing', reason, since: null };
  }
  if (interruptedWork(paths, t.name)) {
    return { ...base, status: 'needs_sync', reason: 'a sync, backup or restore of this target was interrupted and may have left temporary files in it; sync again to remove them', since: null };
  }
  let plan: SyncPlan;
  try {
    const { merged: _m, ...p } = await planSync(paths, rules, t);
    plan = { ...p, configs: p.configs.map(({ text: _t, ...c }) => c) };
  } catch (e) {
    return { ...base, status: t.status === 'sync_failed' ? 'sync_failed' : 'needs_sync', reason: `cannot compare: ${(e as Error).message}`, since: null };
  }
  const git = opts.git ?? (await isGitRepo(paths.root));
  const since = git ? await lastSyncedCommit(paths, t) : undefined;
  const pending = pendingOf(plan, rules);
  if (git && since) {
    // Changes in synced categories that no component copies (e.g. code to reinstall in the target).
    const d = await (opts.detect ? opts.detect(since) : detectChanges(paths, rules, since));
    const covered = inSources(plan);
    for (const f of d.files) {
      if (!f.categories.some((c) => rules.categories[c]?.sync)) continue;
      if (covered(f.path) || (f.oldPath !== undefined && covered(f.oldPath))) continue;
      pending.push({ ...f, action: 'changed' });
    }
  }
  const kept = plan.components.flatMap((c) => c.kept.map((r) => joinRel(c.destination, r)));
  const notApplicable = [...plan.components.filter((c) => c.notApplicable).map((c) => c.name), ...plan.configs.filter((c) => c.notApplicable).map((c) => c.name)];
  const categories = [...new Set(pending.flatMap((f) => f.categories))];
  const count = (a: PendingAction) => pending.filter((f) => f.action === a).length;
  const parts: string[] = [];
  if (count('add')) parts.push(`${count('add')} to add`);
  if (count('update')) parts.push(`${count('update')} to update`);
  if (count('merge')) parts.push(`${count('merge')} to merge with the target's edits`);
  if (count('delete')) parts.push(`${count('delete')} to delete`);
  if (count('config')) parts.push(plural(count('config'), 'config file') + ' to merge');
  const changed = pending.filter((f) => f.action === 'changed');
  if (changed.length) {
    const cats = [...new Set(changed.flatMap((f) => f.categories))].join(', ');
    parts.push(`${plural(changed.length, 'changed file')} in ${cats} since ${since!.slice(0, 12)} (not copied by a component; a sync records the new commit)`);
  }
  const keptNote = kept.length ? `; ${plural(kept.length, 'file')} with the target's own edits kept` : '';
  const naNote = notApplicable.length ? `; not applicable (no source in the main project): ${notApplicable.join(', ')}` : '';
  const out = { ...base, since: since ?? null, changes: pending, categories, plan, kept, notApplicable };
  const conflicts = count('conflict');
  if (conflicts) {
    const also = parts.length ? `; also ${parts.join(', ')}` : '';
    return { ...out, status: 'conflict', reason: `${plural(conflicts, 'file')} changed on both sides need your choice (syncord sync run --target ${t.name} --take-source|--keep-target)${also}${keptNote}${naNote}` };
  }
  if (parts.length) {
    const failed = t.status === 'sync_failed';
    return { ...out, status: failed ? 'sync_failed' : 'needs_sync', reason: `${failed ? 'the last sync failed; ' : ''}${parts.join(', ')}${keptNote}${naNote}` };
  }
  if (!plan.components.length && !plan.configs.length) {
    return { ...out, status: 'synchronized', reason: `nothing to keep in step: the sync rules copy nothing into ${t.type} targets (see syncord sync rules)` };
  }
  if (!t.last_sync && !since) {
    return { ...out, status: 'needs_sync', reason: `never synced: the files already match; a sync records it${keptNote}${naNote}` };
  }
  const at = since ? ` with ${since.slice(0, 12)}` : '';
  return { ...out, status: 'synchronized', reason: `in step${at}: a sync would change nothing${keptNote}${naNote}` };
}

/** Every registered target's status (see `targetStatus`); detection since a commit is shared between targets. */
export async function targetStatuses(paths: WorkspacePaths, rules: SyncRules): Promise<TargetStatus[]> {
  const targets = await listTargets(paths);
  const git = await isGitRepo(paths.root);
  const detect = sharedDetection(paths, rules);
  const out: TargetStatus[] = [];
  for (const t of targets) out.push(await targetStatus(paths, rules, t, { git, detect }));
  return out;
}

export interface TagResult {
  version: string;
  /** Targets whose `sync_version` now is the version. */
  tagged: string[];
  /** Targets left alone, with the reason (not synchronized, folder missing, …). */
  skipped: { name: string; status: string; reason: string }[];
}

/**
 * Records a release version (e.g. `git describe --tags` after a push) as the `sync_version` of synchronized
 * targets: the named ones (each must be synchronized, else a 'conflict' refusal and nothing is written) or,
 * with `'all'`, every target that is synchronized now (the others are reported as skipped). The commit the
 * target was synced from is kept in `last_sync_commit`, so change detection keeps its base.
 */
export async function tagTargets(paths: WorkspacePaths, rules: SyncRules, which: string[] | 'all', version: string): Promise<TagResult> {
  const v = version.trim();
  if (!v || /[\s\x00-\x1f]/.test(v)) throw new SyncordError(`invalid version "${version}" (one word, e.g. v1.2.0)`, 'usage');
  const statuses = await targetStatuses(paths, rules);
  if (which !== 'all') {
    for (const n of which) if (!statuses.some((s) => s.name === n)) await getTarget(paths, n); // throws not-found, naming the known ones
  }
  const chosen = which === 'all' ? statuses : statuses.filter((s) => which.includes(s.name));
  const notSynced = chosen.filter((s) => s.status !== 'synchronized' || !s.since);
  if (which !== 'all' && notSynced.length) {
    const list = notSynced.map((s) => `"${s.name}" is ${s.status} (${s.reason})`).join('; ');
    throw new SyncordError(`only synchronized targets can be tagged: ${list}; sync first (syncord sync run --target <name>)`, 'conflict', { file: registryFile(paths) });
  }
  const result: TagResult = { version: v, tagged: [], skipped: notSynced.map((s) => ({ name: s.name, status: s.status, reason: s.reason })) };
  for (const s of chosen) {
    if (s.status !== 'synchronized' || !s.since) continue;
    await updateTarget(paths, s.name, { sync_version: v, last_sync_commit: s.since });
    result.tagged.push(s.name);
  }
  return result;
}
