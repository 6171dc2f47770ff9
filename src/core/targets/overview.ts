/**
 * The targets' read model: what is known about each registered target (its computed status, pending changes,
 * components, backups and last verification), and the domain rules read from it. Plain data; the Targets view,
 * its status bar and the Problems panel are built from it in src/views.
 */
import type { BackupSummary } from './backup';
import type { ChangedFile } from './detect';
import type { ResolvedTarget } from './registry';
import { Priority, PRIORITIES, SyncRules } from './schema';
import type { TargetStatus } from './status';
import type { VerifyProblem, VerifyResult } from './verify';

/** The status a target has: computed from the main project's history, the registry and the last verify. */
export type DisplayStatus = 'synchronized' | 'needs_sync' | 'verify_failed' | 'sync_failed' | 'missing' | 'unknown';

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
  verify?: { result: VerifyResult; at: string };
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

/**
 * The status of a target. A computed status is taken as `syncord sync status` prints it (the core already
 * counts a `needs_sync` written by a restore); without one (Restricted Mode, an error) the status recorded in
 * targets.json counts. A failed last verify wins over "synchronized" until the next verify or sync.
 */
export function displayStatus(info: TargetInfo): DisplayStatus {
  const s = info.status;
  if (s?.status === 'missing') return 'missing';
  if (s?.status === 'sync_failed' || (!s && info.target.status === 'sync_failed')) return 'sync_failed';
  if (info.verify && !info.verify.result.passed) return 'verify_failed';
  if (s) return s.status === 'needs_sync' ? 'needs_sync' : 'synchronized';
  if (info.target.status === 'needs_sync') return 'needs_sync';
  if (info.target.status === 'synchronized') return 'synchronized';
  return 'unknown';
}

export interface PendingCategory {
  category: string;
  priority: Priority | 'other';
  description?: string;
  files: ChangedFile[];
}

/** A target's pending changes grouped by category, highest priority first; files outside every category last. */
export function pendingByCategory(changes: ChangedFile[], rules: SyncRules | undefined): PendingCategory[] {
  const map = new Map<string, PendingCategory>();
  const other: ChangedFile[] = [];
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
