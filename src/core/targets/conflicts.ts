import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { ChangedOnDiskError, toIdentity, writeFileAtomic } from '../store/atomic';
import { WorkspacePaths } from '../workspace';
import { backupUnits, putObject } from './backup';
import { joinRel, ResolvedComponent, selectComponents } from './components';
import { lstatSyncOrUndefined, SMALL_FILE } from './fsutil';
import { ResolvedTarget } from './registry';
import { SyncRules } from './schema';
import { ConflictReason, PlanConflict, planSync, Resolution } from './sync';
import { baseOf, readSyncState, sha256, updateSyncState } from './syncState';

/** One conflict as an editor shows it: the three versions of the file. */
export interface ConflictInputs {
  component: string;
  /** Path in the target, relative to its root. */
  path: string;
  reason: ConflictReason;
  detail: string;
  /** The main project's file (absent: it was deleted there). */
  sourceFile?: string;
  targetFile: string;
  /** What the last sync wrote (the merge base), when known. */
  base?: Buffer;
  /** SHA-256 of the target's copy as the conflict was found: settling checks it is still the same. */
  targetHash: string | null;
}

function componentAt(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, destPath: string): { comp: ResolvedComponent; rel: string } {
  const p = destPath.replace(/\\/g, '/').replace(/^\.\//, '');
  for (const comp of selectComponents(paths, rules, target).components) {
    if (comp.kind === 'file' ? p === comp.destination : p.startsWith(comp.destination + '/')) return { comp, rel: comp.kind === 'file' ? '' : p.slice(comp.destination.length + 1) };
  }
  throw new SyncordError(`${destPath} is not in any component of target "${target.name}"`, 'not-found');
}

function readOrNull(file: string): Buffer | null {
  const st = lstatSyncOrUndefined(file);
  return st?.isFile() ? fs.readFileSync(file) : null;
}

/** The conflicts of a target, as the plan finds them now. */
export async function listConflicts(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget): Promise<{ component: string; path: string; conflict: PlanConflict }[]> {
  const plan = await planSync(paths, rules, target);
  return plan.components.flatMap((c) => c.conflicts.map((x) => ({ component: c.name, path: joinRel(c.destination, x.rel), conflict: x })));
}

/** The three versions of a conflicting file (refused when the file is not a conflict now). */
export async function conflictInputs(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, destPath: string): Promise<ConflictInputs> {
  const { comp, rel } = componentAt(paths, rules, target, destPath);
  const plan = await planSync(paths, rules, target, { components: [comp.name] });
  const conflict = plan.components[0]?.conflicts.find((x) => x.rel === rel);
  if (!conflict) throw new SyncordError(`${destPath} is not a conflict in target "${target.name}" (any more)`, 'conflict');
  const state = (await readSyncState(paths, target.name)).components[comp.name];
  const base = await baseOf(paths, target.name, comp, rel, state?.fingerprint === comp.fingerprint ? state : undefined, target.last_sync_commit ?? undefined);
  const sourceFile = joinRel(comp.sourceAbs, rel);
  const targetFile = joinRel(comp.destAbs, rel);
  const t = readOrNull(targetFile);
  const out: ConflictInputs = { component: comp.name, path: joinRel(comp.destination, rel), reason: conflict.reason, detail: conflict.detail, targetFile, targetHash: t ? sha256(t) : null };
  if (lstatSyncOrUndefined(sourceFile)?.isFile()) out.sourceFile = sourceFile;
  const b = base?.hash ? await base.bytes() : undefined;
  if (b) out.base = b;
  return out;
}

/**
 * Settles one conflict: the main project's version, the target's copy, or a merged text (from a merge editor)
 * is what the target keeps, and the main project's version becomes the merge base of the next sync. The
 * target's copy must still be the one the conflict was found with (`expectTargetHash`), or nothing is written.
 * The target's copy is backed up first.
 */
export async function settleConflict(
  paths: WorkspacePaths,
  rules: SyncRules,
  target: ResolvedTarget,
  destPath: string,
  how: Resolution | { text: string },
  expectTargetHash?: string | null,
): Promise<{ path: string; written: boolean; backup?: string }> {
  const inputs = await conflictInputs(paths, rules, target, destPath);
  if (expectTargetHash !== undefined && expectTargetHash !== inputs.targetHash) {
    throw new SyncordError(`${inputs.path} changed in the target since the conflict was shown; nothing was written. Look at it again.`, 'conflict', { file: inputs.targetFile });
  }
  const { comp, rel } = componentAt(paths, rules, target, destPath);
  const source = inputs.sourceFile ? fs.readFileSync(inputs.sourceFile) : null;
  let written = false;
  let backup: string | undefined;
  const write = async (content: Buffer | string | null) => {
    const m = await backupUnits(paths, target, [{ name: comp.name, kind: comp.kind, destination: comp.destination, only: [rel] }], { reason: 'pre-sync', syncVersion: target.sync_version ?? undefined, commit: target.last_sync_commit, lastSync: target.last_sync ?? null });
    backup = m.id;
    const st = lstatSyncOrUndefined(inputs.targetFile);
    if ((st?.isFile() ? sha256(fs.readFileSync(inputs.targetFile)) : null) !== inputs.targetHash) {
      throw new SyncordError(`${inputs.path} changed in the target while it was being settled; nothing was written`, 'conflict', { file: inputs.targetFile });
    }
    if (content === null) {
      if (st) fs.unlinkSync(inputs.targetFile);
    } else {
      fs.mkdirSync(path.dirname(inputs.targetFile), { recursive: true });
      try {
        writeFileAtomic(inputs.targetFile, content, { expect: st ? toIdentity(st) : null, ...(st ? { mode: st.mode & 0o7777 } : {}) });
      } catch (e) {
        if (e instanceof ChangedOnDiskError) throw new SyncordError(`${inputs.path} changed in the target while it was being settled; nothing was written`, 'conflict', { file: inputs.targetFile });
        throw e;
      }
    }
    written = true;
  };
  if (how === 'take-source') await write(source);
  else if (how !== 'keep-target') await write(how.text);
  // The main project's version is now the base: the next sync sees the target's copy as its own edit of it.
  // Kept in the backup store: git may not have this version at a commit the state names.
  if (source && source.length <= SMALL_FILE) putObject(paths, target.name, source);
  await updateSyncState(paths, target.name, (state) => {
    const cs = state.components[comp.name];
    const next = cs && cs.fingerprint === comp.fingerprint ? cs : { fingerprint: comp.fingerprint, bases: {} };
    if (how === 'take-source' && !source) delete next.bases[rel];
    else next.bases[rel] = source ? sha256(source) : null;
    state.components[comp.name] = next;
  });
  return { path: inputs.path, written, ...(backup ? { backup } : {}) };
}
