import * as path from 'path';
import { WorkspacePaths } from '../workspace';
import { selectComponents } from './components';
import { ChangedFile, DetectResult, detectChanges } from './detect';
import { hashFile, lstatOrUndefined } from './fsutil';
import { isGitRepo, resolveCommit } from './git';
import { getTarget, listTargets, registryFile, ResolvedTarget, updateTarget } from './registry';
import { interruptedWork } from './leftovers';
import { SyncRules } from './schema';
import { readSyncState } from './sync';
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
  const cache = new Map<string, Promise<DetectResult>>();
  const out: TargetDetect[] = [];
  for (const t of all) {
    const since = await lastSyncedCommit(paths, t);
    const key = since ?? '';
    if (!cache.has(key)) cache.set(key, detectChanges(paths, rules, since));
    out.push({ target: t.name, ...(await cache.get(key)!) });
  }
  return out;
}

/**
 * The changes that make a target need sync: files in synced categories or in the sources of its components
 * and config files. With `syncedSince` equal to the diff's base (the target's last synced commit), a file
 * synced from an uncommitted state and unchanged since then does not count. `targetStatuses` and the
 * checklist both count with this, so their numbers agree.
 */
export async function relevantChanges(paths: WorkspacePaths, rules: SyncRules, t: ResolvedTarget, d: DetectResult, syncedSince?: string): Promise<ChangedFile[]> {
  const sel = selectComponents(paths, rules, t);
  const sources = [...sel.components.map((c) => (c.kind === 'dir' ? c.source + '/' : c.source)), ...sel.configs.map((c) => c.source)];
  const inSources = (p: string) => sources.some((s) => (s.endsWith('/') ? p.startsWith(s) : p === s));
  const skipSynced = !!syncedSince && d.since === syncedSince;
  const dirty: Record<string, string | null> = {};
  if (skipSynced) {
    const state = await readSyncState(paths, t.name);
    for (const c of Object.values(state.components)) Object.assign(dirty, c.dirty ?? {});
  }
  const relevant: ChangedFile[] = [];
  for (const f of d.files) {
    const counts = f.categories.some((c) => rules.categories[c]?.sync) || inSources(f.path) || (f.oldPath !== undefined && inSources(f.oldPath));
    if (!counts) continue;
    if (skipSynced && Object.prototype.hasOwnProperty.call(dirty, f.path)) {
      // Synced from an uncommitted state: unchanged since then if the content is still the same.
      const st = await lstatOrUndefined(path.join(paths.root, f.path));
      const now = st?.isFile() ? await hashFile(path.join(paths.root, f.path)) : null;
      if (now === dirty[f.path]) continue;
    }
    relevant.push(f);
  }
  return relevant;
}

export interface TargetStatus {
  name: string;
  path: string;
  absPath: string;
  type: string;
  /** The status written in the registry. */
  recorded?: string;
  /** Computed now: synchronized | needs_sync | sync_failed | missing. */
  status: 'synchronized' | 'needs_sync' | 'sync_failed' | 'missing';
  reason: string;
  last_sync?: string | null;
  sync_version?: string | null;
  since: string | null;
  /** Changed files in synced categories or component sources. */
  changes: ChangedFile[];
  categories: string[];
}

/**
 * Each target's status, computed: `needs_sync` when the main project has changes in synced categories (or in
 * the sources of its components and config files) since that target's last sync.
 */
export async function targetStatuses(paths: WorkspacePaths, rules: SyncRules): Promise<TargetStatus[]> {
  const targets = await listTargets(paths);
  const git = await isGitRepo(paths.root);
  const out: TargetStatus[] = [];
  const cache = new Map<string, Promise<DetectResult>>();
  for (const t of targets) {
    const base = { name: t.name, path: t.path, absPath: t.absPath, type: t.type, recorded: t.status, last_sync: t.last_sync, sync_version: t.sync_version };
    const folder = await lstatOrUndefined(t.absPath);
    if (!folder?.isDirectory()) {
      const reason = folder?.isSymbolicLink() ? `the target folder ${t.absPath} is a symlink; Syncord only works in real folders` : `folder not found: ${t.absPath}`;
      out.push({ ...base, status: 'missing', reason, since: null, changes: [], categories: [] });
      continue;
    }
    if (interruptedWork(paths, t.name)) {
      out.push({ ...base, status: 'needs_sync', reason: 'a sync, backup or restore of this target was interrupted and may have left temporary files in it; sync again to remove them', since: null, changes: [], categories: [] });
      continue;
    }
    if (t.status === 'sync_failed') {
      out.push({ ...base, status: 'sync_failed', reason: 'the last sync failed; restore its backup or sync again', since: null, changes: [], categories: [] });
      continue;
    }
    if (!git) {
      out.push({ ...base, status: 'needs_sync', reason: 'the main project is not a git repository', since: null, changes: [], categories: [] });
      continue;
    }
    const since = await lastSyncedCommit(paths, t);
    const key = since ?? '';
    if (!cache.has(key)) cache.set(key, detectChanges(paths, rules, since));
    const d = await cache.get(key)!;
    const relevant = await relevantChanges(paths, rules, t, d, since);
    const categories = [...new Set(relevant.flatMap((f) => f.categories))];
    const marked = t.status === 'needs_sync' && !relevant.length && since;
    const status = !since || relevant.length || marked ? 'needs_sync' : 'synchronized';
    const reason = !since
      ? 'never synced (no recorded commit)'
      : relevant.length
        ? `${relevant.length} changed file(s) since ${since.slice(0, 12)}`
        : marked
          ? 'marked needs_sync in the registry (restored from a backup, or set by hand)'
          : `no changes since ${since.slice(0, 12)}`;
    out.push({ ...base, status, reason, since: since ?? null, changes: relevant, categories });
  }
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
