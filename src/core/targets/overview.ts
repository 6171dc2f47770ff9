/**
 * The targets' read model: what is known about each registered target (its computed status, pending changes,
 * components, backups and last verification), and the domain rules read from it. Plain data; the Targets view,
 * its status bar and the Problems panel are built from it in src/views.
 */
import type { WorkflowView } from '../agentsync/workflow';
import type { BackupSummary } from './backup';
import type { ChangedFile } from './detect';
import type { PendingFile } from './status';
import type { ResolvedTarget } from './registry';
import { Priority, PRIORITIES, SyncRules } from './schema';
import type { TargetStatus } from './status';
import type { VerifyProblem, VerifyResult } from './verify';

/** The status a target has: computed from the main project's history, the registry and the last verify. */
export type DisplayStatus = 'synchronized' | 'needs_sync' | 'conflict' | 'verify_failed' | 'sync_failed' | 'missing' | 'unknown';

/** What is known about one target. */
export interface TargetInfo {
  target: ResolvedTarget;
  /** Computed status; absent when it could not be computed (restricted mode, or an error). */
  status?: TargetStatus;
  /** Why the status is absent. */
  statusNote?: string;
  components: { name: string; kind: 'component' | 'config'; mode?: string; destination: string; source: string }[];
  backups: BackupSummary[];
  backupsError?: string;
  /** The last verification (kept until the next one), with the target's `last_sync` when it ran. */
  verify?: { result: VerifyResult; at: string; last_sync?: string | null };
  /** The target's sync by agents (`syncord sync request`): the open one, else the latest, read from the task queue. */
  agents?: WorkflowView;
}

export interface TargetsSnapshot {
  /** The main project's folder (changed files are relative to it); absent without a workspace. */
  root?: string;
  /** The registry's file. */
  registryFile: string;
  /** Whether the registry file exists. */
  registryExists: boolean;
  targets: TargetInfo[];
  rules?: SyncRules;
  /** Registry or rules that cannot be read: message and position. */
  errors: { message: string; file: string; line?: number; column?: number }[];
}

/** Whether the last verification is of the target as it is since its last sync (not of an earlier state). */
export function verifyIsCurrent(info: TargetInfo): boolean {
  const v = info.verify;
  return !!v && (v.last_sync === undefined || (v.last_sync ?? null) === (info.target.last_sync ?? null));
}

/**
 * The status of a target. A computed status is taken as `syncord sync status` prints it; without one
 * (Restricted Mode, an error) the status recorded in targets.json counts. A failed verify of the target as it
 * is since its last sync wins over "synchronized" (a verify from before a later sync is shown, not counted).
 */
export function displayStatus(info: TargetInfo): DisplayStatus {
  const s = info.status;
  if (s?.status === 'missing') return 'missing';
  if (s?.status === 'sync_failed' || (!s && info.target.status === 'sync_failed')) return 'sync_failed';
  if (s?.status === 'conflict') return 'conflict';
  if (info.verify && !info.verify.result.passed && verifyIsCurrent(info)) return 'verify_failed';
  if (s) return s.status === 'needs_sync' ? 'needs_sync' : 'synchronized';
  if (info.target.status === 'needs_sync') return 'needs_sync';
  if (info.target.status === 'synchronized') return 'synchronized';
  return 'unknown';
}

export interface PendingCategory {
  category: string;
  priority: Priority | 'other';
  description?: string;
  files: (ChangedFile | PendingFile)[];
}

/** A target's pending changes grouped by category, highest priority first; files outside every category last. */
export function pendingByCategory(changes: (ChangedFile | PendingFile)[], rules: SyncRules | undefined): PendingCategory[] {
  const map = new Map<string, PendingCategory>();
  const other: (ChangedFile | PendingFile)[] = [];
  for (const f of changes) {
    const cats = f.categories.filter((c) => rules?.categories[c]);
    if (!cats.length) other.push(f);
    for (const c of cats) {
      let g = map.get(c);
      if (!g) {
        const rule = rules!.categories[c];
        g = { category: c, priority: rule.priority, files: [] };
        if (rule.description) g.description = rule.description;
        map.set(c, g);
      }
      g.files.push(f);
    }
  }
  const rank = (p: PendingCategory['priority']) => (p === 'other' ? PRIORITIES.length : PRIORITIES.indexOf(p));
  const out = [...map.values()].sort((a, b) => rank(a.priority) - rank(b.priority) || a.category.localeCompare(b.category));
  if (other.length) out.push({ category: 'other', priority: 'other', description: 'Component sources outside every category', files: other });
  return out;
}

/** The components and config files of the rules that apply to a target type. */
export function componentsFor(rules: SyncRules, type: string): TargetInfo['components'] {
  const out: TargetInfo['components'] = [];
  for (const [name, c] of Object.entries(rules.components)) {
    const dest = (c.destination as Record<string, string | null | undefined>)[type];
    if (dest) out.push({ name, kind: 'component', mode: c.mode, source: c.source, destination: dest.replace(/\/+$/, '') });
  }
  for (const [name, c] of Object.entries(rules.config)) {
    const dest = (c.destination as Record<string, string | null | undefined>)[type];
    if (dest) out.push({ name, kind: 'config', source: c.source, destination: dest });
  }
  return out;
}

/**
 * A fingerprint of everything a snapshot holds: equal fingerprints mean a recomputation found nothing new.
 * (The snapshot holds plain data read from files and git; JSON is cheap.)
 */
export function snapshotFingerprint(snap: TargetsSnapshot | undefined): string {
  return snap ? JSON.stringify(snap) : '';
}

/** Problems that belong at a file and line (the Problems panel): broken links and config files that do not parse. */
export function verifyProblems(r: VerifyResult): (VerifyProblem & { check: string })[] {
  const out: (VerifyProblem & { check: string })[] = [];
  for (const c of r.checks) {
    if (c.status !== 'fail') continue;
    if (c.name !== 'links' && !c.name.startsWith('config:')) continue;
    for (const p of c.problems) out.push({ ...p, check: c.name });
  }
  return out;
}
