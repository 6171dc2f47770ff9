/**
 * Targets (seed 002): keeping downstream target projects in step with the main project.
 *
 * The public surface the CLI and the editor call. Every function takes the workspace paths and plain values
 * and returns plain values; refusals are `SyncordError`s (with file:line:col where a file is at fault).
 *
 * Files: `<coordinationDir>/targets.json` (registry), `<coordinationDir>/sync-rules.jsonc` (rules; when absent,
 * the `auto` preset's rules inferred from the main project), and what Syncord keeps under `<main project>/.syncord/` (see paths.ts).
 */
export { TargetRegistrySchema, SyncRulesSchema, targetsJsonSchema, syncRulesJsonSchema, TARGET_TYPES, PRIORITIES, MERGE_STRATEGIES } from './schema';
export type { TargetEntry, TargetRegistry, TargetType, SyncRules, Priority, MergeStrategy } from './schema';
export { loadRules, parseRules, initRules, rulesFile, DEFAULT_RULES, RULES_TEMPLATE, RULES_FILE, RULE_PRESETS, DEFAULT_PRESET, checkPreset, presetRules } from './rules';
export type { LoadedRules, RulePreset } from './rules';
export { scanProject, inferredRulesText, DOC_DIRS, DOC_FILES, SOURCE_DIRS } from './infer';
export type { ProjectFacts } from './infer';
/** Registry: list, get, add (folder must exist outside the main project), remove, update. */
export { listTargets, getTarget, addTarget, removeTarget, updateTarget, registryFile, REGISTRY_FILE } from './registry';
export type { ResolvedTarget, AddTargetInput, TargetPatch } from './registry';
/** Change detection from git: one diff plus untracked files, classified by the rules' categories. */
export { detectChanges, classify, sharedDetection } from './detect';
export type { DetectResult, ChangedFile, CategoryChanges } from './detect';
export { detectForTargets, targetStatus, targetStatuses, lastSyncedCommit, tagTargets } from './status';
/** Backup, restore and rollback of a registered target, recorded in the registry. */
export { backupTarget, restoreTarget, rollbackComponent } from './targetBackups';
export type { TargetDetect, TargetStatus, TagResult, PendingFile, PendingAction } from './status';
/** The seed's verification checklist as Markdown. */
export { buildChecklist } from './checklist';
/** Backups: list, load, restore (byte-exact, proved by hash). */
export { listBackups, loadManifest, restoreBackup } from './backup';
export { backupDir, SYNCORD_DIR } from '../workspace';
export type { BackupSummary, Manifest, RestoreResult } from './backup';
/** Sync: plan (nothing written), apply (backup first; progress and cancel), config diff. */
export { planSync, applySync, configDiff, readSyncState, planIsEmpty } from './sync';
export type { SyncPlan, ComponentPlan, ConfigPlan, SyncOptions, SyncProgress, SyncResult, PlanOptions, PlanConflict, ConflictReason, Resolution } from './sync';
export { mergeConfig } from './configMerge';
/** Verification; `runVerifyCommand` is the one function that runs processes (gate it on workspace trust). */
export { verifyTarget, runVerifyCommand, brokenLinks, VERIFY_TEST_GROUPS, checkKindsOf, keepVerify, lastVerify } from './verify';
export type { KeptVerify, VerifyResult, VerifyCheck, VerifyProblem, CommandResult, VerifyOptions, CheckKind } from './verify';
export { componentNames } from './components';

/** Conflicts: the three versions of a file, and settling one (take the main project's, keep the target's, or a merged text). */
export { listConflicts, conflictInputs, settleConflict } from './conflicts';
export type { ConflictInputs } from './conflicts';
/** Targets that are git repositories: uncommitted changes in synced paths, committing a sync, git tags. */
export { targetRepo, plannedPaths, dirtySyncedPaths, dirtyRefusal, dirtyManagedPaths, listPaths, prepareCommit, switchToNewBranch, commitSync, syncCommitMessage, tagTargetsAndRepos } from './targetRepo';
export type { TargetRepo, DirtyPath, DirtyCheck, CommitPreparation, SyncCommit, TargetGitTag, RepoTagResult } from './targetRepo';
