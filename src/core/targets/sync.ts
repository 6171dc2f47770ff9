import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { assertRealFolder } from '../containment';
import { SyncordError } from '../errors';
import { Clock, systemClock } from '../ports';
import { ChangedOnDiskError, FileIdentity, parseTempName, writeFileAtomic } from '../store/atomic';
import { pidIsDead } from '../store/lock';
import { WorkspacePaths } from '../workspace';
import { BackupSummary, BackupUnit, backupUnits, putObject, toSummary } from './backup';
import { destFiles, joinRel, readTextOrUndefined, ResolvedComponent, ResolvedConfig, selectComponents, Selection, sourceFiles } from './components';
import { KeyChange, mergeConfig } from './configMerge';
import { assertRealDirsSync, ensureRealDirSync, FileInfo, hashFile, lstatOrUndefined, lstatSyncOrUndefined, noSymlinkOnPath, pool, sameStat, Slicer, SMALL_FILE } from './fsutil';
import { describeVersion, dirtyPaths, repoState } from './git';
import { beginWork, removeLeftovers } from './leftovers';
import { isText, merge3 } from './merge3';
import { ResolvedTarget, updateTarget } from './registry';
import { SyncRules } from './schema';
import { baseOf, ComponentState, ReadState, readSyncStateAt, sha256, updateSyncState } from './syncState';
import { plural } from '../plural';

export { readSyncState } from './syncState';

/** Why a file cannot be synced without the user choosing: the main project's version or the target's. */
export type ConflictReason = 'both-changed' | 'no-base' | 'deleted-in-source' | 'added-in-target';

export interface PlanConflict {
  /** Path relative to the component destination ('' for a single-file component). */
  rel: string;
  reason: ConflictReason;
  /** In words, for people. */
  detail: string;
  /** Number of conflicting regions of a text merge. */
  regions?: number;
}

/** How to settle a conflict: the main project's version (or its deletion) wins, or the target's copy is kept. */
export type Resolution = 'take-source' | 'keep-target';

export interface ComponentPlan {
  name: string;
  /** The component's rule as applied to this target (`ResolvedComponent.fingerprint`): applying checks it is unchanged. */
  rule: string;
  kind: 'dir' | 'file';
  mode: 'mirror' | 'update';
  source: string;
  destination: string;
  /** Paths relative to the component destination ('' for a single-file component). */
  adds: string[];
  /** The main project changed the file; the target's copy is still what the last sync wrote (or the user chose the main project's). */
  updates: string[];
  deletes: string[];
  /** Changed on both sides, merged without conflict: the merged text is written. */
  merges: string[];
  /** The target changed its copy since the last sync and the main project did not: kept as it is. */
  kept: string[];
  /** Changed on both sides and not mergeable: left alone until the user chooses (`resolutions`). */
  conflicts: PlanConflict[];
  /** Conflicts settled by the user's choice (`take-source` ones are also in adds/updates/deletes). */
  resolved: { rel: string; resolution: Resolution; reason: ConflictReason }[];
  /** Same content, different modification time: only the time is set. */
  retime: string[];
  unchanged: number;
  /** Source entries not copied (symlinks, special files). */
  skipped: string[];
  /** Folders left empty by deletions, removed after them (deepest first). */
  dirsToRemove: string[];
  /** The source does not exist in the main project: the component does not apply (nothing synced, deleted or checked). */
  notApplicable?: boolean;
  note?: string;
}

export interface ConfigPlan {
  name: string;
  source: string;
  destination: string;
  changed: boolean;
  created: boolean;
  changes: KeyChange[];
  /** Unified diff of what config sync writes. */
  diff: string;
  /** The source does not exist in the main project: not applicable. */
  notApplicable?: boolean;
  note?: string;
  /** The merged text the sync writes (left out of results printed as JSON). */
  text?: string;
}

export interface SyncPlan {
  target: string;
  commit?: string;
  components: ComponentPlan[];
  configs: ConfigPlan[];
  /** Every component and config file of the target type is part of this plan. */
  all: boolean;
  totals: { adds: number; updates: number; deletes: number; merges: number; conflicts: number; kept: number; configs: number };
  /**
   * The identity (`ino:size:mtimeMs:ctimeMs:mode`; '-' when absent) of every file the plan reads or touches,
   * in the main project (`source:<path>`) and in the target (`target:<path>`), as the plan saw them. Applying
   * the plan checks each one right before using it, and refuses ("changed since the plan was made") when it
   * differs.
   */
  fingerprints: Record<string, string>;
  /** The main project's SHA-256 of files the plan compared by content (`source:<path>`): the new merge bases. */
  sourceHashes: Record<string, string>;
  /** Merged texts the sync writes, by target path (left out of results printed as JSON). */
  merged?: Record<string, string>;
  /** Files under the components' sources that differ from `commit` (uncommitted or untracked): their bases are kept in the backup store. */
  dirty?: string[];
}

export interface PlanOptions {
  /** Limit to these components ("config" = every config file). */
  components?: string[];
  /** Kept for the command line's `--full` / `--complete`: every plan compares every file. */
  full?: boolean;
  /** Settle every conflict this way. */
  resolve?: Resolution;
  /** Settle the conflicts of these files (paths relative to the target root, or to the main project for the source side). */
  resolutions?: Record<string, Resolution>;
  /** Compare contents even where size and modification time agree (verification). */
  contents?: boolean;
  /** Leave config files out (their merge is not computed). */
  noConfigs?: boolean;
}

/** Whether every file is as the rules want it: nothing to add, update, merge, delete or settle, and no config change. */
export function planIsEmpty(plan: SyncPlan): boolean {
  const t = plan.totals;
  return !t.adds && !t.updates && !t.deletes && !t.merges && !t.conflicts && !t.configs && plan.components.every((c) => !c.resolved.length);
}

function emptyPlan(c: ResolvedComponent): ComponentPlan {
  return { name: c.name, rule: c.fingerprint, kind: c.kind, mode: c.mode, source: c.source, destination: c.destination, adds: [], updates: [], deletes: [], merges: [], kept: [], conflicts: [], resolved: [], retime: [], unchanged: 0, skipped: [], dirsToRemove: [] };
}

interface PlanContext {
  paths: WorkspacePaths;
  target: ResolvedTarget;
  state: ComponentState | undefined;
  fallbackCommit: string | undefined;
  opts: PlanOptions;
  sourceHashes: Record<string, string>;
  merged: Record<string, string>;
}

function resolutionFor(ctx: PlanContext, c: ResolvedComponent, rel: string): Resolution | undefined {
  const r = ctx.opts.resolutions ?? {};
  return r[joinRel(c.destination, rel)] ?? r[joinRel(c.source, rel)] ?? ctx.opts.resolve;
}

/** Reads a file's bytes (undefined when too large to merge in memory). */
function readSmall(abs: string, size: number): Buffer | undefined {
  return size <= SMALL_FILE ? fs.readFileSync(abs) : undefined;
}

/**
 * Classifies a file present on both sides with different contents, from its merge base: the main project
 * changed it (update), the target did (kept), both did (merged, or a conflict), or nothing is known of its
 * history (a conflict: whose edit it is cannot be told).
 */
async function classifyBoth(ctx: PlanContext, c: ResolvedComponent, plan: ComponentPlan, rel: string, hS: string, hT: string, sizes: { s: number; t: number }): Promise<void> {
  const base = await baseOf(ctx.paths, ctx.target.name, c, rel, ctx.state, ctx.fallbackCommit);
  if (base && base.hash === hT) return void plan.updates.push(rel);
  if (base && base.hash === hS) return void plan.kept.push(rel);
  const conflict = async (reason: ConflictReason, detail: string, regions?: number) => {
    const how = resolutionFor(ctx, c, rel);
    if (how === 'take-source') plan.updates.push(rel);
    if (how) return void plan.resolved.push({ rel, resolution: how, reason });
    plan.conflicts.push({ rel, reason, detail, ...(regions ? { regions } : {}) });
  };
  if (!base) return conflict('no-base', 'differs from the main project, and no earlier sync of it is known: whose edit it is cannot be told');
  if (base.hash === null) return conflict('both-changed', 'added on both sides with different contents');
  const [b, s, t] = [await base.bytes(), readSmall(joinRel(c.sourceAbs, rel), sizes.s), readSmall(joinRel(c.destAbs, rel), sizes.t)];
  if (!b) return conflict('no-base', 'changed on both sides, and the version of the last sync is no longer available to merge from');
  if (!s || !t || !isText(b) || !isText(s) || !isText(t)) return conflict('both-changed', 'changed on both sides (not a text file that can be merged line by line)');
  const m = merge3(b.toString('utf8'), s.toString('utf8'), t.toString('utf8'));
  if (!m.clean) return conflict('both-changed', `changed on both sides; ${plural(m.conflicts, 'overlapping change')}`, m.conflicts);
  if (m.text === t.toString('utf8')) return void plan.kept.push(rel); // the target already holds the main project's change
  ctx.merged[joinRel(c.destination, rel)] = m.text;
  plan.merges.push(rel);
}

/**
 * Compares a component's files in the main project and in the target. Size and modification time settle most
 * files; contents are hashed where they do not (or everywhere, for verification), and a file that differs is
 * classified against its merge base (see `classifyBoth`).
 */
async function planComponent(ctx: PlanContext, c: ResolvedComponent, useGit: boolean): Promise<ComponentPlan> {
  const plan = emptyPlan(c);
  const srcSt = await lstatOrUndefined(c.sourceAbs);
  if (!srcSt) {
    plan.notApplicable = true;
    plan.note = `not applicable: ${c.source}${c.kind === 'dir' ? '/' : ''} does not exist in the main project (nothing is synced, deleted or checked)`;
    return plan;
  }
  const [src, dst] = await Promise.all([sourceFiles(ctx.paths.root, c, useGit), destFiles(c)]);
  plan.skipped = src.skipped;
  const compare: { rel: string; s: FileInfo; t: FileInfo }[] = [];
  for (const [rel, s] of src.files) {
    const t = dst.files.get(rel);
    if (!t) plan.adds.push(rel);
    else if (t.kind !== 'file') plan.updates.push(rel); // a symlink where a file belongs: replaced (never followed)
    else if (!ctx.opts.contents && sameStat(s, t)) plan.unchanged++;
    else compare.push({ rel, s, t });
  }
  const hashes = new Map<string, { hS: string; hT: string }>();
  await pool(compare, 8, async ({ rel, s, t }) => {
    const [hS, hT] = await Promise.all([hashFile(joinRel(c.sourceAbs, rel), s.size), hashFile(joinRel(c.destAbs, rel), t.size)]);
    hashes.set(rel, { hS, hT });
  });
  for (const { rel, s, t } of compare.sort((a, b) => (a.rel < b.rel ? -1 : 1))) {
    const { hS, hT } = hashes.get(rel)!;
    ctx.sourceHashes[joinRel(c.source, rel)] = hS;
    if (hS === hT) {
      if (sameStat(s, t)) plan.unchanged++;
      else plan.retime.push(rel);
    } else await classifyBoth(ctx, c, plan, rel, hS, hT, { s: s.size, t: t.size });
  }
  if (c.mode === 'mirror') {
    for (const [rel, t] of dst.files) {
      if (src.files.has(rel)) continue;
      // A temporary file of Syncord's atomic writer: a live process's write in flight is left alone; one a
      // killed process left is a leftover (the next sync, backup or restore removes it first).
      const temp = parseTempName(path.posix.basename(rel));
      if (temp && (temp.pid === process.pid || !pidIsDead(temp.pid))) continue;
      if (temp) {
        plan.deletes.push(rel);
        continue;
      }
      const base = await baseOf(ctx.paths, ctx.target.name, c, rel, ctx.state, ctx.fallbackCommit);
      let reason: ConflictReason | undefined;
      let detail = '';
      if (base?.hash === null) {
        plan.kept.push(rel); // the target's own file, kept by the user's choice before
        continue;
      }
      if (!base) {
        reason = 'added-in-target';
        detail = 'not in the main project, and not put there by a sync: the target added it';
      } else if (t.kind !== 'file' || (await hashFile(joinRel(c.destAbs, rel), t.size)) !== base.hash) {
        reason = 'deleted-in-source';
        detail = 'deleted in the main project, and changed in the target since the last sync';
      }
      if (!reason) {
        plan.deletes.push(rel);
        continue;
      }
      const how = resolutionFor(ctx, c, rel);
      if (how === 'take-source') plan.deletes.push(rel);
      if (how) plan.resolved.push({ rel, resolution: how, reason });
      else plan.conflicts.push({ rel, reason, detail });
    }
    if (c.kind === 'dir') {
      const keep = new Set<string>();
      for (const rel of [...src.files.keys(), ...plan.kept, ...plan.conflicts.map((x) => x.rel), ...plan.resolved.filter((r) => r.resolution === 'keep-target').map((r) => r.rel)]) {
        for (let d = path.posix.dirname(rel); d !== '.' && d !== ''; d = path.posix.dirname(d)) keep.add(d);
      }
      plan.dirsToRemove = dst.dirs.filter((d) => !keep.has(d)).sort((a, b) => b.length - a.length);
    }
  }
  for (const k of ['adds', 'updates', 'deletes', 'retime', 'merges', 'kept'] as const) plan[k].sort();
  return plan;
}

async function planConfig(cfg: ResolvedConfig): Promise<ConfigPlan> {
  const out: ConfigPlan = { name: cfg.name, source: cfg.source, destination: cfg.destination, changed: false, created: false, changes: [], diff: '' };
  const sourceText = await readTextOrUndefined(cfg.sourceAbs);
  if (sourceText === undefined) {
    out.notApplicable = true;
    out.note = `not applicable: ${cfg.source} does not exist in the main project (nothing is merged or checked)`;
    return out;
  }
  const st = await lstatOrUndefined(cfg.destAbs);
  if (st && !st.isFile()) throw new SyncordError('the config file in the target is not a regular file; refusing to write through it', 'conflict', { file: cfg.destAbs });
  const targetText = st ? await fs.promises.readFile(cfg.destAbs, 'utf8') : undefined;
  const merged = mergeConfig({
    format: cfg.format,
    sourceFile: cfg.sourceAbs,
    sourceText,
    targetFile: cfg.destAbs,
    targetText,
    strategies: cfg.strategies,
    defaultStrategy: cfg.defaultStrategy,
  });
  out.changed = merged.changed;
  out.created = merged.created;
  out.changes = merged.changes;
  out.text = merged.text;
  // The diff library is loaded only when a config file changes: most syncs and every status never need it.
  out.diff = merged.changed ? (await import('diff')).createTwoFilesPatch(targetText === undefined ? '/dev/null' : `a/${cfg.destination}`, `b/${cfg.destination}`, targetText ?? '', merged.text) : '';
  return out;
}

/**
 * What a sync would do, component by component: every file of the main project's sources compared with the
 * target's copy, and each difference classified against the version the last sync wrote (the merge base).
 * Nothing is written.
 */
export async function planSync(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, opts: PlanOptions = {}): Promise<SyncPlan> {
  assertRealFolder(target.absPath, `the folder of target "${target.name}"`);
  const sel = selectComponents(paths, rules, target, opts.components);
  for (const c of [...sel.components, ...sel.configs]) {
    if (!(await noSymlinkOnPath(target.absPath, c.destination))) {
      throw new SyncordError(`refusing to sync ${c.name}: a symlink is on the way to ${c.destination} in the target`, 'conflict', { file: path.join(target.absPath, c.destination) });
    }
    if (!(await noSymlinkOnPath(paths.root, c.source))) {
      throw new SyncordError(`refusing to sync ${c.name}: ${c.source} is reached through a symlink in the main project`, 'conflict', { file: path.join(paths.root, c.source) });
    }
  }
  const [read, repo] = await Promise.all([readSyncStateAt(paths, target.name), repoState(paths.root)]);
  const state = read.state;
  const sourceHashes: Record<string, string> = {};
  const merged: Record<string, string> = {};
  const fallbackCommit = target.last_sync_commit && /^[0-9a-f]{40,64}$/.test(target.last_sync_commit) ? target.last_sync_commit : undefined;
  const components: ComponentPlan[] = [];
  for (const c of sel.components) {
    const s = state.components[c.name];
    const ctx: PlanContext = { paths, target, state: s && s.fingerprint === c.fingerprint ? s : undefined, fallbackCommit, opts, sourceHashes, merged };
    components.push(await planComponent(ctx, c, repo.repo));
  }
  const configs = opts.noConfigs ? [] : await Promise.all(sel.configs.map(planConfig));
  const unknown = Object.keys(opts.resolutions ?? {}).filter((p) => !components.some((c) => c.resolved.some((r) => joinRel(c.destination, r.rel) === p || joinRel(c.source, r.rel) === p)));
  if (unknown.length) {
    throw new SyncordError(`no conflict to settle at ${unknown.join(', ')} in target "${target.name}" (a conflict is named by its path in the target, as the plan lists it)`, 'usage');
  }
  const sum = (k: 'adds' | 'updates' | 'deletes' | 'merges' | 'kept') => components.reduce((a, c) => a + c[k].length, 0);
  const plan: SyncPlan = {
    target: target.name,
    components,
    configs,
    all: sel.all,
    fingerprints: planFingerprints(sel, components),
    sourceHashes,
    totals: {
      adds: sum('adds'),
      updates: sum('updates'),
      deletes: sum('deletes'),
      merges: sum('merges'),
      kept: sum('kept'),
      conflicts: components.reduce((a, c) => a + c.conflicts.length, 0),
      configs: configs.filter((c) => c.changed).length,
    },
  };
  if (Object.keys(merged).length) plan.merged = merged;
  if (repo.head) {
    plan.commit = repo.head;
    const dirtyNow = await dirtySources(paths.root, sel.components);
    for (const ch of dirtyNow) plan.fingerprints[`source:${ch.path}`] ??= fingerprintOf(path.join(paths.root, ch.path));
    plan.dirty = dirtyNow.map((ch) => ch.path).sort();
  }
  statesRead.set(plan, read);
  return plan;
}

/**
 * The sync state each plan was made with: applying the plan records the new merge bases into it without
 * reading the file again, when the file is still the version read (else it is read again).
 */
const statesRead = new WeakMap<SyncPlan, ReadState>();

/** A file's identity as a plan records it: `ino:size:mtimeMs:ctimeMs:mode` (octal), '-' when absent, 'dir', 'link'. */
function fingerprintOfStats(st: fs.Stats | undefined): string {
  if (!st) return '-';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${(st.mode & 0o7777).toString(8)}`;
}

function fingerprintOf(abs: string): string {
  return fingerprintOfStats(lstatSyncOrUndefined(abs));
}

/** The identity a fingerprint stands for (for `writeFileAtomic`'s `expect`): null for absent, undefined when not a file. */
function identityFrom(fp: string): FileIdentity | null | undefined {
  if (fp === '-') return null;
  const [ino, size, mtimeMs, ctimeMs, mode] = fp.split(':');
  if (mode === undefined) return undefined;
  return { ino: Number(ino), size: Number(size), mtimeMs: Number(mtimeMs), ctimeMs: Number(ctimeMs), mode: parseInt(mode, 8) };
}

function planFingerprints(sel: Selection, plans: ComponentPlan[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of plans) {
    const c = sel.components.find((x) => x.name === p.name)!;
    const keep = p.resolved.filter((r) => r.resolution === 'keep-target').map((r) => r.rel);
    for (const rel of [...p.adds, ...p.updates, ...p.deletes, ...p.retime, ...p.merges, ...keep]) {
      out[`source:${joinRel(c.source, rel)}`] = fingerprintOf(joinRel(c.sourceAbs, rel));
      out[`target:${joinRel(c.destination, rel)}`] = fingerprintOf(joinRel(c.destAbs, rel));
    }
  }
  for (const c of sel.configs) {
    out[`source:${c.source}`] = fingerprintOf(c.sourceAbs);
    out[`target:${c.destination}`] = fingerprintOf(c.destAbs);
  }
  return out;
}

/** The refusal when something a plan covers is no longer as the plan saw it. */
function changedSincePlan(target: string, what: string[], started = false): SyncordError {
  const shown = what.slice(0, 8).join('; ') + (what.length > 8 ? `; and ${what.length - 8} more` : '');
  const then = started ? 'the sync stopped there (its backup undoes what it wrote)' : 'nothing was written';
  return new SyncordError(`files changed since the plan was made for target "${target}" (${shown}); ${then}. Plan the sync again and review it.`, 'conflict');
}

export interface SyncProgress {
  phase: 'plan' | 'backup' | 'apply' | 'config' | 'record';
  done: number;
  total: number;
  path?: string;
}

export interface SyncOptions extends PlanOptions {
  dryRun?: boolean;
  /**
   * The plan to apply (from `planSync`, as shown to the user). It is applied exactly as it is, not planned
   * again: before anything is written every file it covers is checked against the identity the plan recorded,
   * and the sync is refused with a 'conflict' error ("changed since the plan was made") when one differs.
   * Without it, a plan is made and applied at once.
   */
  plan?: SyncPlan;
  /**
   * Read the sources several at a time through the thread pool (true), one after the other synchronously
   * (false), or start synchronously and switch when the file system turns out to be slow (default). Writes
   * always go through the one atomic writer.
   */
  parallelCopies?: boolean;
  onProgress?: (p: SyncProgress) => void;
  signal?: AbortSignal;
  clock?: Clock;
}

export interface SyncResult {
  target: string;
  dryRun: boolean;
  plan: SyncPlan;
  /** The pre-sync snapshot of everything the sync touched (restores the target exactly). */
  backup?: BackupSummary;
  written: number;
  deleted: number;
  configsWritten: number;
  ok: boolean;
  cancelled?: boolean;
  error?: string;
  /** The command that undoes a failed or cancelled sync. */
  restoreCommand?: string;
  /** Files left alone because they conflict (paths in the target): the sync is not complete until they are settled. */
  conflicts: { component: string; path: string; reason: ConflictReason; detail: string }[];
  recorded?: { last_sync: string; sync_version: string | null; status: string; commit?: string };
}

/** The plan as results show it: without the merged config texts (`config diff` shows what changes). */
function withoutTexts(plan: SyncPlan): SyncPlan {
  const { merged: _m, ...rest } = plan;
  return { ...rest, configs: plan.configs.map(({ text: _t, ...c }) => c) };
}

/**
 * The files under the components' sources that differ from HEAD. No component, no sources: without a path
 * `git status` would read the whole work tree (config files are checked by their fingerprints).
 */
function dirtySources(root: string, comps: ResolvedComponent[]): Promise<{ path: string }[]> {
  return comps.length ? dirtyPaths(root, sourceSpecs(comps)) : Promise.resolve([]);
}

/** git pathspecs of the components' sources. */
function sourceSpecs(comps: ResolvedComponent[]): string[] {
  return comps.map((c) => (c.kind === 'dir' ? `${c.source}/` : c.source));
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** Opening a source with O_NOFOLLOW fails with ELOOP when it became a symlink: say so instead. */
function symlinkRefusal(e: unknown, src: string): unknown {
  if ((e as NodeJS.ErrnoException).code === 'ELOOP') return new SyncordError(`${src} became a symlink during the sync; not followed`, 'conflict', { file: src });
  return e;
}

/** A source file as read for copying: its metadata and, when small, its bytes. */
interface SourceRead {
  st: fs.Stats;
  data?: Buffer;
}

/** Reads a source without following a symlink (synchronously); refuses one that is not the file the plan saw. */
function readSourceSync(src: string, planned: string, changed: () => SyncordError): SourceRead {
  let fd: number;
  try {
    fd = fs.openSync(src, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    throw symlinkRefusal(e, src);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new SyncordError(`${src} is no longer a regular file`, 'conflict', { file: src });
    if (fingerprintOfStats(st) !== planned) throw changed();
    return { st, data: st.size <= SMALL_FILE ? fs.readFileSync(fd) : undefined };
  } finally {
    fs.closeSync(fd);
  }
}

/** `readSourceSync` through libuv's thread pool, for when the file system answers slowly. */
async function readSourceAsync(src: string, planned: string, changed: () => SyncordError): Promise<SourceRead> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(src, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    throw symlinkRefusal(e, src);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new SyncordError(`${src} is no longer a regular file`, 'conflict', { file: src });
    if (fingerprintOfStats(st) !== planned) throw changed();
    return { st, data: st.size <= SMALL_FILE ? await fh.readFile() : undefined };
  } finally {
    await fh.close();
  }
}

/**
 * Writes a source file into the target through the one atomic writer, with the source's permission bits and
 * modification time, and only over the version of the destination the plan saw (`expect`): a file edited in
 * the target since is never overwritten.
 */
function writeIntoTarget(src: string, read: SourceRead, dest: string, destRel: string, expect: FileIdentity | null | undefined, changed: () => SyncordError): void {
  try {
    writeFileAtomic(dest, read.data ?? { copyFrom: src }, { expect, mode: read.st.mode & 0o7777, mtimeMs: read.st.mtimeMs, fsync: false });
  } catch (e) {
    if (e instanceof ChangedOnDiskError) throw changed();
    if (lstatSyncOrUndefined(dest)?.isDirectory()) throw new SyncordError(`a folder is in the way of ${destRel}`, 'conflict', { file: dest });
    throw e;
  }
}

/**
 * Copies are made synchronously while the file system answers fast (no thread hand-offs); when copying turns
 * slow (a busy or remote disk, or ext4 skipping thousands of recently freed inodes), the sources are read
 * through the thread pool, this many at a time, so the waits overlap.
 */
const SLOW_COPY_MS = 0.25;
const PARALLEL_COPIES = 8;

/** The components and config files a plan covers, resolved against the rules now; refused when they differ. */
function selectionOf(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, plan: SyncPlan): Selection {
  if (plan.target !== target.name) throw new SyncordError(`the plan is for target "${plan.target}", not "${target.name}"`, 'usage');
  const sel = selectComponents(paths, rules, target, plan.all ? undefined : [...plan.components.map((c) => c.name), ...plan.configs.map((c) => c.name)]);
  const differs: string[] = [];
  if (sel.components.length !== plan.components.length || sel.configs.length !== plan.configs.length) differs.push('other components or config files apply now');
  for (const p of plan.components) {
    const c = sel.components.find((x) => x.name === p.name);
    if (!c || c.fingerprint !== p.rule) differs.push(`the rule of component ${p.name} changed`);
  }
  for (const p of plan.configs) {
    const c = sel.configs.find((x) => x.name === p.name);
    if (!c || c.source !== p.source || c.destination !== p.destination) differs.push(`the rule of config file ${p.name} changed`);
    else if (p.changed && p.text === undefined) differs.push(`the plan does not carry the merged text of ${p.destination}`);
  }
  if (differs.length) throw new SyncordError(`the sync rules changed since the plan was made for target "${target.name}" (${differs.join('; ')}); nothing was written. Plan the sync again.`, 'conflict');
  return sel;
}

/** Every file a plan covers whose identity differs from what the plan recorded (a planned deletion already done counts as unchanged). */
function changedFiles(plan: SyncPlan, targetRoot: string, mainRoot: string): string[] {
  const deleted = new Set<string>();
  for (const p of plan.components) for (const rel of p.deletes) deleted.add(`target:${joinRel(p.destination, rel)}`);
  const out: string[] = [];
  for (const [key, fp] of Object.entries(plan.fingerprints)) {
    const colon = key.indexOf(':');
    const side = key.slice(0, colon);
    const rel = key.slice(colon + 1);
    const now = fingerprintOf(path.join(side === 'source' ? mainRoot : targetRoot, rel));
    if (now === fp || (now === '-' && deleted.has(key))) continue;
    out.push(`${rel} changed in the ${side === 'source' ? 'main project' : 'target'}`);
  }
  return out;
}

/**
 * Synchronizes a target by applying a plan (the one given, or one made now): checks that nothing the plan
 * covers changed since it was made, snapshots everything it touches (so a failed or cancelled sync can be
 * undone exactly), copies files through the one atomic writer, writes the merged config texts the plan
 * carries, removes what mirror components no longer have, and records `last_sync`, `sync_version` and
 * `status` in the registry. Every file is checked against the plan's fingerprint right before it is written,
 * retouched or deleted. Failures and cancellation are reported in the result (with the backup that restores
 * the target), not thrown; a plan that no longer holds is refused before anything is written.
 */
export async function applySync(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, opts: SyncOptions = {}): Promise<SyncResult> {
  const clock = opts.clock ?? systemClock;
  const progress = opts.onProgress ?? (() => undefined);
  progress({ phase: 'plan', done: 0, total: 1 });
  assertRealFolder(target.absPath, `the folder of target "${target.name}"`);
  // Temporary files a killed sync, backup or restore of this target left: removed before looking at it.
  if (!opts.dryRun) removeLeftovers(paths, target.name, target.absPath);
  // `git describe` (for the recorded sync_version) runs beside the plan's git processes.
  const versionP = opts.dryRun ? Promise.resolve(undefined) : describeVersion(paths.root);
  const plan = opts.plan ?? (await planSync(paths, rules, target, opts));
  const sel = opts.plan ? selectionOf(paths, rules, target, plan) : selectComponents(paths, rules, target, opts.components);
  if (opts.plan) {
    const changed = changedFiles(plan, target.absPath, paths.root);
    if (plan.commit && plan.dirty) {
      // Files that became different from the plan's commit since (they were not part of what it compared).
      for (const ch of await dirtySources(paths.root, sel.components)) {
        if (!plan.dirty.includes(ch.path)) changed.push(`${ch.path} changed in the main project`);
      }
    }
    if (changed.length) throw changedSincePlan(target.name, [...new Set(changed)]);
  }
  const conflicts = plan.components.flatMap((p) => p.conflicts.map((c) => ({ component: p.name, path: joinRel(p.destination, c.rel), reason: c.reason, detail: c.detail })));
  const result: SyncResult = { target: target.name, dryRun: !!opts.dryRun, plan: withoutTexts(plan), written: 0, deleted: 0, configsWritten: 0, ok: true, conflicts };
  if (opts.dryRun) return result;
  const compByName = new Map(sel.components.map((c) => [c.name, c]));
  const cfgByName = new Map(sel.configs.map((c) => [c.name, c]));
  const fingerprint = (side: 'source' | 'target', rel: string) => plan.fingerprints[`${side}:${rel}`] ?? '?';

  // 1. Snapshot of every path the sync will touch.
  const units: BackupUnit[] = [];
  for (const p of plan.components) {
    const only = [...p.adds, ...p.updates, ...p.deletes, ...p.retime, ...p.merges];
    if (only.length) units.push({ name: p.name, kind: p.kind, destination: p.destination, only });
  }
  for (const c of plan.configs) if (c.changed) units.push({ name: c.name, kind: 'file', destination: c.destination, only: [''] });
  const version = (await versionP) ?? null;
  if (units.length) {
    progress({ phase: 'backup', done: 0, total: units.length });
    let m;
    try {
      m = await backupUnits(paths, target, units, { reason: 'pre-sync', now: clock.now(), syncVersion: target.sync_version ?? undefined, commit: target.last_sync_commit, lastSync: target.last_sync ?? null, signal: opts.signal });
    } catch (e) {
      if (!(e instanceof SyncordError && e.code === 'cancelled')) throw e;
      return { ...result, ok: false, cancelled: true, error: 'sync cancelled during the backup; the target was not changed' };
    }
    result.backup = toSummary(m);
    result.restoreCommand = `syncord target restore ${target.name} --backup ${m.id}`;
  }

  // 2. Apply, exactly as planned.
  type Op = { kind: 'copy' | 'delete' | 'retime' | 'merge'; comp: ResolvedComponent; rel: string };
  const ops: Op[] = [];
  for (const p of plan.components) for (const rel of p.deletes) ops.push({ kind: 'delete', comp: compByName.get(p.name)!, rel });
  for (const p of plan.components) {
    const comp = compByName.get(p.name)!;
    for (const rel of [...p.adds, ...p.updates]) ops.push({ kind: 'copy', comp, rel });
    for (const rel of p.retime) ops.push({ kind: 'retime', comp, rel });
    for (const rel of p.merges) ops.push({ kind: 'merge', comp, rel });
  }
  // The merge bases the sync leaves (per component: path -> hash; null = the main project has none; undefined = forget).
  const dirty = new Set(plan.dirty ?? []);
  const bases = new Map<string, Map<string, string | null | undefined>>(plan.components.map((p) => [p.name, new Map()]));
  const keepBase = (op: { comp: ResolvedComponent; rel: string }, data?: Buffer): string | undefined => {
    const srcRel = joinRel(op.comp.source, op.rel);
    const hash = data ? sha256(data) : plan.sourceHashes[srcRel];
    // An uncommitted version is kept in the backup store: git cannot give it back as the next merge base.
    if (data && dirty.has(srcRel)) putObject(paths, target.name, data);
    bases.get(op.comp.name)!.set(op.rel, hash);
    return hash;
  };
  for (const p of plan.components) {
    const comp = compByName.get(p.name)!;
    for (const r of p.resolved) {
      if (r.resolution !== 'keep-target') continue;
      const srcAbs = joinRel(comp.sourceAbs, r.rel);
      const st = lstatSyncOrUndefined(srcAbs);
      if (!st?.isFile()) bases.get(p.name)!.set(r.rel, null);
      else keepBase({ comp, rel: r.rel }, st.size <= SMALL_FILE ? fs.readFileSync(srcAbs) : undefined);
    }
  }
  const changedCfgs = plan.configs.filter((c) => c.changed);
  const work = await beginWork(paths, target.name, {
    target: [...ops.map((op) => path.posix.dirname(joinRel(op.comp.destination, op.rel))), ...changedCfgs.map((c) => path.posix.dirname(c.destination))],
  });
  const verified = new Set<string>();
  const slicer = new Slicer();
  let done = 0;
  try {
    // Deletions come first in `ops` (a folder may replace a deleted file of the same name).
    let parallel = opts.parallelCopies === true;
    let copies = 0;
    let copyMs = 0;
    const runOp = async (op: Op) => {
      const destRel = joinRel(op.comp.destination, op.rel);
      const srcRel = joinRel(op.comp.source, op.rel);
      const dest = path.join(target.absPath, destRel);
      const src = joinRel(op.comp.sourceAbs, op.rel);
      const changed = (side: 'source' | 'target') => () => changedSincePlan(target.name, [`${side === 'source' ? srcRel : destRel} changed in the ${side === 'source' ? 'main project' : 'target'}`], true);
      if (op.kind === 'delete') {
        assertRealDirsSync(target.absPath, path.posix.dirname(destRel), verified);
        const st = lstatSyncOrUndefined(dest);
        if (st && !st.isDirectory()) {
          if (fingerprintOfStats(st) !== fingerprint('target', destRel)) throw changed('target')();
          fs.unlinkSync(dest);
          result.deleted++;
        }
        bases.get(op.comp.name)!.set(op.rel, undefined);
      } else if (op.kind === 'copy') {
        ensureRealDirSync(target.absPath, path.posix.dirname(destRel), verified);
        const planned = fingerprint('target', destRel);
        if (planned === 'dir') throw new SyncordError(`a folder is in the way of ${destRel}`, 'conflict', { file: dest });
        const expect = identityFrom(planned);
        if (expect === undefined) throw changed('target')();
        const t0 = parallel ? 0 : performance.now();
        const read = parallel ? await readSourceAsync(src, fingerprint('source', srcRel), changed('source')) : readSourceSync(src, fingerprint('source', srcRel), changed('source'));
        writeIntoTarget(src, read, dest, destRel, expect, changed('target'));
        if (read.data) keepBase(op, read.data);
        else bases.get(op.comp.name)!.set(op.rel, await hashFile(src));
        if (!parallel) {
          copyMs += performance.now() - t0;
          if (++copies % 64 === 0) {
            if (copyMs / 64 > SLOW_COPY_MS && opts.parallelCopies !== false) parallel = true;
            copyMs = 0;
          }
        }
        result.written++;
      } else if (op.kind === 'retime') {
        assertRealDirsSync(target.absPath, path.posix.dirname(destRel), verified);
        if (fingerprint('target', destRel) !== fingerprintOf(dest)) throw changed('target')();
        const s = fs.lstatSync(src);
        if (fingerprintOfStats(s) !== fingerprint('source', srcRel)) throw changed('source')();
        fs.lutimesSync(dest, s.atime, s.mtime);
        keepBase(op);
      } else {
        // A merge: the merged text over the target's version the plan merged, with the source's base kept.
        ensureRealDirSync(target.absPath, path.posix.dirname(destRel), verified);
        const text = plan.merged?.[destRel];
        if (text === undefined) throw new SyncordError(`the plan does not carry the merged text of ${destRel}`, 'conflict');
        const expect = identityFrom(fingerprint('target', destRel));
        if (!expect) throw changed('target')();
        const srcData = readSourceSync(src, fingerprint('source', srcRel), changed('source'));
        try {
          writeFileAtomic(dest, text, { expect, mode: expect.mode, fsync: false });
        } catch (e) {
          throw e instanceof ChangedOnDiskError ? changed('target')() : e;
        }
        keepBase(op, srcData.data);
        result.written++;
      }
      done++;
      if (done === 1 || done % 64 === 0 || done === ops.length) progress({ phase: 'apply', done, total: ops.length, path: destRel });
    };
    let i = 0;
    for (; i < ops.length && (!parallel || ops[i].kind === 'delete'); i++) {
      if (opts.signal?.aborted) break;
      await runOp(ops[i]);
      if (slicer.due()) await slicer.yield();
    }
    if (parallel && i < ops.length && !opts.signal?.aborted) await pool(ops.slice(i), PARALLEL_COPIES, runOp, opts.signal);
    if (opts.signal?.aborted) throw new SyncordError('sync cancelled', 'cancelled');
    for (const p of plan.components) {
      const comp = compByName.get(p.name)!;
      for (const d of p.dirsToRemove) {
        assertRealDirsSync(target.absPath, joinRel(comp.destination, d), verified);
        await fs.promises.rmdir(path.join(comp.destAbs, d)).catch(() => undefined);
      }
    }
    // 3. Config files: the merged texts the plan carries, over the versions it merged into.
    let k = 0;
    for (const c of changedCfgs) {
      if (opts.signal?.aborted) throw new SyncordError('sync cancelled', 'cancelled');
      const cfg = cfgByName.get(c.name)!;
      ensureRealDirSync(target.absPath, path.posix.dirname(c.destination), verified);
      const changed = (side: 'source' | 'target') => changedSincePlan(target.name, [`${side === 'source' ? c.source : c.destination} changed in the ${side === 'source' ? 'main project' : 'target'}`], true);
      if (fingerprintOf(cfg.sourceAbs) !== fingerprint('source', c.source)) throw changed('source');
      const expect = identityFrom(fingerprint('target', c.destination));
      if (expect === undefined) throw changed('target');
      try {
        writeFileAtomic(cfg.destAbs, c.text!, { expect });
      } catch (e) {
        throw e instanceof ChangedOnDiskError ? changed('target') : e;
      }
      result.configsWritten++;
      progress({ phase: 'config', done: ++k, total: changedCfgs.length, path: c.destination });
    }
  } catch (e) {
    result.ok = false;
    result.cancelled = e instanceof SyncordError && e.code === 'cancelled';
    result.error = e instanceof Error ? e.message : String(e);
    await updateTarget(paths, target.name, { status: 'sync_failed' }).catch(() => undefined);
    return result;
  } finally {
    work.end();
  }

  // 4. Record.
  progress({ phase: 'record', done: 0, total: 1 });
  const syncedAt = clock.now().toISOString();
  // The merge bases and the registry are separate files: written side by side.
  // The state the plan was made with, taken once (a second application of the same plan reads the file).
  const stateRead = statesRead.get(plan);
  statesRead.delete(plan);
  const recordState = () =>
    updateSyncState(
      paths,
      target.name,
      (state) => {
        let changed = false;
        for (const c of sel.components) {
          const before = state.components[c.name];
          const kept = before && before.fingerprint === c.fingerprint ? before : undefined;
          // The bases are edited in place: the state is this sync's own copy.
          const next: ComponentState = { fingerprint: c.fingerprint, synced_at: syncedAt, bases: kept?.bases ?? Object.create(null) };
          const commits = [plan.commit, kept?.commit, ...(kept?.earlier ?? [])].filter((x, i, a): x is string => !!x && a.indexOf(x) === i);
          if (commits.length) next.commit = commits[0];
          if (commits.length > 1) next.earlier = commits.slice(1, 1 + EARLIER_COMMITS);
          let basesChanged = false;
          for (const [rel, hash] of bases.get(c.name) ?? []) {
            const had = Object.prototype.hasOwnProperty.call(next.bases, rel);
            if (hash === undefined) {
              if (had) delete next.bases[rel];
            } else if (!had || next.bases[rel] !== hash) next.bases[rel] = hash;
            else continue;
            basesChanged = basesChanged || hash !== undefined || had;
          }
          // A sync that changes nothing of a component's record leaves it (and its time) as it is.
          if (kept && !basesChanged && kept.commit === next.commit && (kept.earlier ?? []).join() === (next.earlier ?? []).join()) continue;
          state.components[c.name] = next;
          changed = true;
        }
        return changed;
      },
      stateRead,
    );
  const complete = !conflicts.length;
  const recordRegistry = async () => {
    if (!sel.all || !complete) return;
    const rec = { last_sync: syncedAt, sync_version: version, status: 'synchronized', ...(plan.commit ? { last_sync_commit: plan.commit } : {}) };
    await updateTarget(paths, target.name, rec);
    result.recorded = { last_sync: syncedAt, sync_version: version, status: 'synchronized', commit: plan.commit };
  };
  await Promise.all([recordState(), recordRegistry()]);
  return result;
}

/** How many earlier commits a component's state remembers (merge bases recorded then are found in git there). */
const EARLIER_COMMITS = 20;

/** What config sync would do to each config file of a target: the changes, the unified diff and the merged text. */
export async function configDiff(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, only?: string[]): Promise<ConfigPlan[]> {
  const sel = selectComponents(paths, rules, target, only ?? ['config']);
  return Promise.all(sel.configs.map(planConfig));
}
