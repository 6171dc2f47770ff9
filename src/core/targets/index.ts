/**
 * Targets (seed 002): keeping downstream target projects in step with the main project.
 *
 * The public surface the CLI and the editor call. Every function takes the workspace paths and plain values
 * and returns plain values; refusals are `SyncordError`s (with file:line:col where a file is at fault).
 *
 * Files: `<coordinationDir>/targets.json` (registry), `<coordinationDir>/sync-rules.jsonc` (rules; built-in
 * defaults when absent), `<main project>/.syncord/backups/<target>/` (content-addressed backups and
 * manifests), `<main project>/.syncord/state/<target>.json` (what the last sync saw, for incremental syncs),
 * `<main project>/.syncord/verify/<target>/` (verify command output). `.syncord/` ignores itself in git.
 */
import { WorkspacePaths } from '../workspace';
import { BackupSummary, BackupUnit, backupUnits, toSummary } from './backup';
import { selectComponents } from './components';
import { getTarget } from './registry';
import { SyncRules } from './schema';

export { TargetRegistrySchema, SyncRulesSchema, targetsJsonSchema, syncRulesJsonSchema, TARGET_TYPES, PRIORITIES, MERGE_STRATEGIES } from './schema';
export type { TargetEntry, TargetRegistry, TargetType, SyncRules, Priority, MergeStrategy } from './schema';
export { loadRules, parseRules, initRules, rulesFile, DEFAULT_RULES, RULES_TEMPLATE, RULES_FILE } from './rules';
export type { LoadedRules } from './rules';
/** Registry: list, get, add (folder must exist outside the main project), remove, update. */
export { listTargets, getTarget, addTarget, removeTarget, updateTarget, registryFile, REGISTRY_FILE } from './registry';
export type { ResolvedTarget, AddTargetInput, TargetPatch } from './registry';
/** Change detection from git: one diff plus untracked files, classified by the rules' categories. */
export { detectChanges, classify } from './detect';
export type { DetectResult, ChangedFile, CategoryChanges } from './detect';
export { detectForTargets, targetStatuses, lastSyncedCommit, restoreTarget, rollbackComponent, relevantChanges, tagTargets } from './status';
export type { TargetDetect, TargetStatus, TagResult } from './status';
/** The seed's verification checklist as Markdown. */
export { buildChecklist } from './checklist';
/** Backups: list, load, restore (byte-exact, proved by hash). */
export { listBackups, loadManifest, restoreBackup, backupDir } from './backup';
export type { BackupSummary, Manifest, RestoreResult } from './backup';
/** Sync: plan (nothing written), apply (backup first; progress and cancel), config diff. */
export { planSync, applySync, configDiff, readSyncState, planDifferences } from './sync';
export type { SyncPlan, ComponentPlan, ConfigPlan, SyncOptions, SyncProgress, SyncResult, PlanOptions } from './sync';
export { mergeConfig } from './configMerge';
/** Verification; `runVerifyCommand` is the one function that runs processes (gate it on workspace trust). */
export { verifyTarget, runVerifyCommand, brokenLinks, VERIFY_TEST_GROUPS, checkKindsOf } from './verify';
export type { VerifyResult, VerifyCheck, VerifyProblem, CommandResult, VerifyOptions, CheckKind } from './verify';
export { componentNames } from './components';

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
