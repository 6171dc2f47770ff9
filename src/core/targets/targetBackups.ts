import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { BackupSummary, BackupUnit, backupUnits, lastPreSyncBackup, loadManifest, Manifest, restoreBackup, RestoreResult, toSummary } from './backup';
import { selectComponents } from './components';
import { getTarget, updateTarget } from './registry';
import { SyncRules } from './schema';
import { updateSyncState } from './syncState';

/**
 * Backups and restores of a registered target, with what they mean for its registry entry and sync state: a
 * backup of everything sync manages; a restore (or a rollback of one component) marks the target as needing
 * sync and makes the restored files the merge bases of the next sync.
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

/**
 * After a restore, the restored files are what the target holds: they become the merge bases of their
 * components (what a later sync compares the target's copies with), so the next sync brings the main
 * project's changes over them instead of taking them for the target's own edits.
 */
async function rebaseRestored(paths: WorkspacePaths, target: string, m: Manifest, components: string[]): Promise<void> {
  await updateSyncState(paths, target, (state) => {
    for (const name of components) {
      const mc = m.components[name];
      const cs = state.components[name];
      if (!mc || !cs) continue;
      if (!m.partial) cs.bases = Object.create(null);
      for (const rel of mc.absent ?? []) delete cs.bases[rel];
      const files = mc.files;
      for (const rel in files) {
        const e = files[rel];
        if (e.link) delete cs.bases[rel];
        else cs.bases[rel] = e.hash;
      }
    }
  });
}

async function restoreAndRecord(paths: WorkspacePaths, targetName: string, backupId: string, components: string[] | undefined, rewind: boolean): Promise<RestoreResult> {
  const target = await getTarget(paths, targetName);
  const m = await loadManifest(paths, targetName, backupId);
  const r = await restoreBackup(paths, target, backupId, { components, manifest: m });
  const full = rewind && m.reason === 'pre-sync' && Object.keys(m.components).every((n) => r.components.includes(n));
  await rebaseRestored(paths, targetName, m, r.components);
  if (!full) {
    await updateTarget(paths, targetName, { status: 'needs_sync' });
    return r;
  }
  // Everything that sync wrote is undone: the sync record goes back to what it was before it, so the
  // pending changes computed from git are again the files that sync had brought over.
  const record = { last_sync_commit: m.commit ?? null, sync_version: m.sync_version ?? null, last_sync: m.last_sync !== undefined ? m.last_sync : (target.last_sync ?? null) };
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
