import { SyncordError } from '../errors';
import { writeFileAtomic } from '../store/atomic';
import { stateFile, WorkspacePaths } from '../workspace';
import { BackupSummary, BackupUnit, backupUnits, lastPreSyncBackup, loadManifest, restoreBackup, RestoreResult, toSummary } from './backup';
import { selectComponents } from './components';
import { getTarget, updateTarget } from './registry';
import { SyncRules } from './schema';
import { readSyncState } from './sync';

/**
 * Backups and restores of a registered target, with what they mean for its registry entry and sync state: a
 * backup of everything sync manages; a restore (or a rollback of one component) marks the target as needing
 * sync and forgets the incremental state, so the next sync compares every file.
 */

/**
 * A full snapshot of everything sync manages in a target (all components and config files of its type, or
 * the named ones) into the content-addressed backup store.
 */
export async function backupTarget(
  paths: WorkspacePaths,
  rules: SyncRules,
  targetName: string,
  opts: { components?: string[]; now?: Date; signal?: AbortSignal } = {},
): Promise<BackupSummary> {
  const target = await getTarget(paths, targetName);
  const sel = selectComponents(paths, rules, target, opts.components);
  const units: BackupUnit[] = [
    ...sel.components.map((c): BackupUnit => ({ name: c.name, kind: c.kind, destination: c.destination, selects: c.selects })),
    ...sel.configs.map((c): BackupUnit => ({ name: c.name, kind: 'file', destination: c.destination })),
  ];
  const m = await backupUnits(paths, target, units, { reason: 'manual', now: opts.now, syncVersion: target.sync_version ?? undefined, signal: opts.signal });
  return toSummary(m);
}

/** Forgets what Syncord knew about components after a restore (all of them: `undefined`): the next sync compares every file. */
async function forgetSyncState(paths: WorkspacePaths, target: string, components: string[] | undefined): Promise<void> {
  const file = stateFile(paths, target);
  const state = await readSyncState(paths, target);
  let changed = false;
  for (const c of components ?? Object.keys(state.components)) if (state.components[c]) (delete state.components[c], (changed = true));
  if (changed) writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
}

async function restoreAndRecord(paths: WorkspacePaths, targetName: string, backupId: string, components: string[] | undefined, rewind: boolean): Promise<RestoreResult> {
  const target = await getTarget(paths, targetName);
  const m = await loadManifest(paths, targetName, backupId);
  const r = await restoreBackup(paths, target, backupId, { components });
  const full = rewind && m.reason === 'pre-sync' && Object.keys(m.components).every((n) => r.components.includes(n));
  if (!full) {
    await forgetSyncState(paths, targetName, r.components);
    await updateTarget(paths, targetName, { status: 'needs_sync' });
    return r;
  }
  // Everything that sync wrote is undone: the sync record goes back to what it was before it, so the
  // pending changes computed from git are again the files that sync had brought over.
  const record = { last_sync_commit: m.commit ?? null, sync_version: m.sync_version ?? null, last_sync: m.last_sync !== undefined ? m.last_sync : (target.last_sync ?? null) };
  await forgetSyncState(paths, targetName, undefined);
  await updateTarget(paths, targetName, { status: 'needs_sync', ...record });
  return { ...r, syncRecord: record };
}

/**
 * Restores a backup (all its components, or some) and marks the target as needing sync. Restoring every
 * component of a pre-sync backup also sets the target's `last_sync_commit`, `sync_version` and `last_sync`
 * back to what they were before that sync.
 */
export async function restoreTarget(paths: WorkspacePaths, targetName: string, backupId: string, components?: string[]): Promise<RestoreResult> {
  return restoreAndRecord(paths, targetName, backupId, components, true);
}

/** Restores one component ("config" = every config file) from the newest pre-sync backup that has it. */
export async function rollbackComponent(paths: WorkspacePaths, rules: SyncRules, targetName: string, component: string): Promise<RestoreResult & { backupInfo?: BackupSummary }> {
  const target = await getTarget(paths, targetName);
  const names = component === 'config' && !rules.components.config ? Object.keys(rules.config) : [component];
  selectComponents(paths, rules, target, [component]);
  for (const n of names) {
    const m = await lastPreSyncBackup(paths, targetName, n);
    if (m) {
      const covered = names.filter((x) => m.components[x]);
      return restoreAndRecord(paths, targetName, m.id, covered, false);
    }
  }
  throw new SyncordError(`no pre-sync backup of "${component}" for target "${targetName}" (the component was not changed by any sync yet)`, 'not-found');
}
