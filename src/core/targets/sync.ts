import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { createTwoFilesPatch } from 'diff';
import { assertRealFolder } from '../containment';
import { SyncordError } from '../errors';
import { Clock, systemClock } from '../ports';
import { ChangedOnDiskError, FileIdentity, writeFileAtomic } from '../store/atomic';
import { stateFile, WorkspacePaths } from '../workspace';
import { ensureSyncordDir } from './syncordDir';
import { BackupSummary, BackupUnit, backupUnits, toSummary } from './backup';
import { destFiles, joinRel, readTextOrUndefined, ResolvedComponent, ResolvedConfig, selectComponents, Selection, sourceFiles } from './components';
import { KeyChange, mergeConfig } from './configMerge';
import { assertRealDirsSync, ensureRealDirSync, FileInfo, hashFile, infoOf, lstatOrUndefined, lstatSyncOrUndefined, noSymlinkOnPath, pool, sameStat, Slicer, SMALL_FILE } from './fsutil';
import { changesSince, describeVersion, dirtyPaths, GitChange, repoState } from './git';
import { beginWork, removeLeftovers } from './leftovers';
import { ResolvedTarget, updateTarget } from './registry';
import { SyncRules } from './schema';

/** What Syncord remembers per target between syncs (in `.syncord/state/<target>.json`). */
export interface SyncState {
  components: Record<string, { fingerprint: string; commit: string; synced_at: string; dirty: Record<string, string | null> }>;
}

export async function readSyncState(paths: WorkspacePaths, target: string): Promise<SyncState> {
  const text = await readTextOrUndefined(stateFile(paths, target));
  if (!text) return { components: {} };
  try {
    const s = JSON.parse(text) as SyncState;
    return s && typeof s.components === 'object' ? s : { components: {} };
  } catch {
    return { components: {} }; // a damaged state only costs a full comparison
  }
}

export interface ComponentPlan {
  name: string;
  /** The component's rule as applied to this target (`ResolvedComponent.fingerprint`): applying checks it is unchanged. */
  rule: string;
  kind: 'dir' | 'file';
  mode: 'mirror' | 'update';
  source: string;
  destination: string;
  /** Planned from what git says changed since `since` (true) or by comparing every file (false). */
  incremental: boolean;
  since?: string;
  /** Paths relative to the component destination ('' for a single-file component). */
  adds: string[];
  updates: string[];
  deletes: string[];
  /** Same content, different modification time: only the time is set. */
  retime: string[];
  unchanged: number;
  /** Source entries not copied (symlinks, special files). */
  skipped: string[];
  /** Folders left empty by deletions, removed after them (deepest first). */
  dirsToRemove: string[];
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
  totals: { adds: number; updates: number; deletes: number; configs: number };
  /**
   * The identity (`ino:size:mtimeMs:ctimeMs:mode`; '-' when absent) of every file the plan reads or touches,
   * in the main project (`source:<path>`) and in the target (`target:<path>`), as the plan saw them. Applying
   * the plan checks each one right before using it, and refuses ("changed since the plan was made") when it
   * differs.
   */
  fingerprints: Record<string, string>;
  /**
   * Files under the components' sources that differ from `commit` (uncommitted or untracked), with their
   * SHA-256 (null: deleted), as the plan saw them: recorded after the sync so the next incremental plan knows
   * which content was synced. Their identities are in `fingerprints` too; applying the plan also refuses a
   * file that became different from `commit` since.
   */
  dirty?: Record<string, string | null>;
}

export interface PlanOptions {
  /** Limit to these components ("config" = every config file). */
  components?: string[];
  /** Compare every file instead of asking git what changed since the last sync. */
  full?: boolean;
}

/** Verdict from metadata alone; 'hash' when only the contents can tell (same size, different time). */
function quickCompare(src: FileInfo, dest: FileInfo | undefined): 'add' | 'update' | 'same' | 'hash' {
  if (!dest) return 'add';
  if (dest.kind !== 'file') return 'update';
  if (sameStat(src, dest)) return 'same';
  if (src.size !== dest.size) return 'update';
  return 'hash';
}

async function compareContents(srcAbs: string, destAbs: string, size: number): Promise<'update' | 'retime'> {
  const [a, b] = await Promise.all([hashFile(srcAbs, size), hashFile(destAbs, size)]);
  return a === b ? 'retime' : 'update';
}

/** Fills in the 'hash' verdicts (a few files at a time: they read contents). */
async function resolveVerdicts(verdicts: string[], sizes: number[], srcOf: (i: number) => string, destOf: (i: number) => string): Promise<void> {
  const open = verdicts.map((v, i) => (v === 'hash' ? i : -1)).filter((i) => i >= 0);
  await pool(open, 8, async (i) => {
    verdicts[i] = await compareContents(srcOf(i), destOf(i), sizes[i]);
  });
}

function emptyPlan(c: ResolvedComponent, incremental: boolean): ComponentPlan {
  return { name: c.name, rule: c.fingerprint, kind: c.kind, mode: c.mode, source: c.source, destination: c.destination, incremental, adds: [], updates: [], deletes: [], retime: [], unchanged: 0, skipped: [], dirsToRemove: [] };
}

async function planFull(root: string, c: ResolvedComponent, useGit: boolean): Promise<ComponentPlan> {
  const plan = emptyPlan(c, false);
  const srcSt = await lstatOrUndefined(c.sourceAbs);
  if (!srcSt) {
    plan.note = `${c.source} does not exist in the main project; nothing synced or deleted`;
    return plan;
  }
  const [src, dst] = await Promise.all([sourceFiles(root, c, useGit), destFiles(c)]);
  plan.skipped = src.skipped;
  const entries = [...src.files];
  const verdicts = entries.map(([rel, info]): string => quickCompare(info, dst.files.get(rel)));
  await resolveVerdicts(
    verdicts,
    entries.map(([, info]) => info.size),
    (i) => joinRel(c.sourceAbs, entries[i][0]),
    (i) => joinRel(c.destAbs, entries[i][0]),
  );
  entries.forEach(([rel], i) => {
    const v = verdicts[i];
    if (v === 'add') plan.adds.push(rel);
    else if (v === 'update') plan.updates.push(rel);
    else if (v === 'retime') plan.retime.push(rel);
    else plan.unchanged++;
  });
  if (c.mode === 'mirror') {
    for (const rel of dst.files.keys()) if (!src.files.has(rel)) plan.deletes.push(rel);
    if (c.kind === 'dir') {
      const srcDirs = new Set<string>();
      for (const rel of src.files.keys()) for (let d = path.posix.dirname(rel); d !== '.'; d = path.posix.dirname(d)) srcDirs.add(d);
      plan.dirsToRemove = dst.dirs.filter((d) => !srcDirs.has(d)).sort((a, b) => b.length - a.length);
    }
  }
  for (const k of ['adds', 'updates', 'deletes', 'retime'] as const) plan[k].sort();
  return plan;
}

async function planIncremental(c: ResolvedComponent, since: string, changes: GitChange[], dirty: string[]): Promise<ComponentPlan> {
  const plan = emptyPlan(c, true);
  plan.since = since;
  const prefix = c.kind === 'dir' ? c.source + '/' : undefined;
  const relOf = (p: string): string | undefined => (prefix ? (p.startsWith(prefix) ? p.slice(prefix.length) : undefined) : p === c.source ? '' : undefined);
  const candidates = new Set<string>();
  for (const ch of changes) {
    const r = relOf(ch.path);
    if (r !== undefined) candidates.add(r);
    if (ch.oldPath !== undefined) {
      const o = relOf(ch.oldPath);
      if (o !== undefined) candidates.add(o);
    }
  }
  for (const p of dirty) {
    const r = relOf(p);
    if (r !== undefined) candidates.add(r);
  }
  const list = [...candidates].filter((r) => c.selects(r)).sort();
  const verdicts = new Array<string>(list.length);
  const sizes = new Array<number>(list.length).fill(0);
  const slicer = new Slicer();
  for (let i = 0; i < list.length; i++) {
    const s = lstatSyncOrUndefined(joinRel(c.sourceAbs, list[i]));
    const d = lstatSyncOrUndefined(joinRel(c.destAbs, list[i]));
    if (!s) verdicts[i] = d && !d.isDirectory() ? 'delete' : 'none';
    else if (!s.isFile()) verdicts[i] = 'skip';
    else {
      verdicts[i] = quickCompare(infoOf(s), d && !d.isDirectory() ? infoOf(d) : undefined);
      sizes[i] = s.size;
    }
    await slicer.tick();
  }
  await resolveVerdicts(
    verdicts,
    sizes,
    (i) => joinRel(c.sourceAbs, list[i]),
    (i) => joinRel(c.destAbs, list[i]),
  );
  const emptied = new Set<string>();
  list.forEach((rel, i) => {
    const v = verdicts[i];
    if (v === 'add') plan.adds.push(rel);
    else if (v === 'update') plan.updates.push(rel);
    else if (v === 'retime') plan.retime.push(rel);
    else if (v === 'skip') plan.skipped.push(rel);
    else if (v === 'delete' && c.mode === 'mirror') {
      plan.deletes.push(rel);
      for (let d = path.posix.dirname(rel); d !== '.' && d !== ''; d = path.posix.dirname(d)) emptied.add(d);
    } else plan.unchanged++;
  });
  // Folders the deletions may leave empty, unless the main project still has them with something inside
  // (what a full comparison would keep).
  for (const d of emptied) {
    const st = lstatSyncOrUndefined(path.join(c.sourceAbs, d));
    if (!st?.isDirectory() || fs.readdirSync(path.join(c.sourceAbs, d)).length === 0) plan.dirsToRemove.push(d);
  }
  plan.dirsToRemove.sort((a, b) => b.length - a.length);
  return plan;
}

async function planConfig(cfg: ResolvedConfig): Promise<ConfigPlan> {
  const out: ConfigPlan = { name: cfg.name, source: cfg.source, destination: cfg.destination, changed: false, created: false, changes: [], diff: '' };
  const sourceText = await readTextOrUndefined(cfg.sourceAbs);
  if (sourceText === undefined) {
    out.note = `${cfg.source} does not exist in the main project`;
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
  out.diff = merged.changed ? createTwoFilesPatch(targetText === undefined ? '/dev/null' : `a/${cfg.destination}`, `b/${cfg.destination}`, targetText ?? '', merged.text) : '';
  return out;
}

/** What a sync would do, component by component. Nothing is written. */
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
  // One round of git processes: the repository check and, for components synced before, the diffs since
  // their last synced commits (started speculatively; a commit that no longer exists means a full compare).
  const state = opts.full ? { components: {} as SyncState['components'] } : await readSyncState(paths, target.name);
  const bySince = new Map<string, ResolvedComponent[]>();
  const full: ResolvedComponent[] = [];
  for (const c of sel.components) {
    const s = state.components[c.name];
    if (s && s.fingerprint === c.fingerprint && s.commit && /^[0-9a-f]{40,64}$/.test(s.commit)) {
      if (!bySince.has(s.commit)) bySince.set(s.commit, []);
      bySince.get(s.commit)!.push(c);
    } else full.push(c);
  }
  const diffs = new Map<string, Promise<GitChange[] | undefined>>();
  const repoP = repoState(paths.root);
  for (const [since, comps] of bySince) {
    const specs = comps.map((c) => (c.kind === 'dir' ? `${c.source}/` : c.source));
    diffs.set(since, changesSince(paths.root, `${since}^{commit}`, specs).catch(() => undefined));
  }
  const repo = await repoP;
  const useGit = repo.repo;
  const head = repo.head;
  const plans = new Map<string, ComponentPlan>();
  for (const [since, comps] of bySince) {
    const changes = await diffs.get(since)!;
    if (!head || !changes) {
      full.push(...comps); // not a repository any more, or history rewritten: compare everything
      continue;
    }
    for (const c of comps) plans.set(c.name, await planIncremental(c, since, changes, Object.keys(state.components[c.name].dirty ?? {})));
  }
  await Promise.all(full.map(async (c) => plans.set(c.name, await planFull(paths.root, c, useGit))));
  const components = sel.components.map((c) => plans.get(c.name)!);
  const configs = await Promise.all(sel.configs.map(planConfig));
  const plan: SyncPlan = {
    target: target.name,
    components,
    configs,
    all: sel.all,
    fingerprints: planFingerprints(sel, components),
    totals: {
      adds: components.reduce((a, c) => a + c.adds.length, 0),
      updates: components.reduce((a, c) => a + c.updates.length, 0),
      deletes: components.reduce((a, c) => a + c.deletes.length, 0),
      configs: configs.filter((c) => c.changed).length,
    },
  };
  if (head) {
    plan.commit = head;
    const dirtyNow = await dirtyPaths(paths.root, sourceSpecs(sel.components));
    for (const ch of dirtyNow) plan.fingerprints[`source:${ch.path}`] ??= fingerprintOf(path.join(paths.root, ch.path));
    plan.dirty = await hashDirty(paths.root, dirtyNow);
  }
  return plan;
}

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
    for (const rel of [...p.adds, ...p.updates, ...p.deletes, ...p.retime]) {
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
  recorded?: { last_sync: string; sync_version: string | null; status: string; commit?: string };
}

/** The plan as results show it: without the merged config texts (`config diff` shows what changes). */
function withoutTexts(plan: SyncPlan): SyncPlan {
  return { ...plan, configs: plan.configs.map(({ text: _t, ...rest }) => rest) };
}

/** git pathspecs of the components' sources. */
function sourceSpecs(comps: ResolvedComponent[]): string[] {
  return comps.map((c) => (c.kind === 'dir' ? `${c.source}/` : c.source));
}

/** Hashes (null = absent) of the files under the sources that differ from HEAD, for the next incremental plan. */
async function hashDirty(root: string, changes: GitChange[]): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  await pool(changes, 8, async (ch) => {
    const st = lstatSyncOrUndefined(path.join(root, ch.path));
    out[ch.path] = st?.isFile() ? await hashFile(path.join(root, ch.path), st.size) : null;
  });
  return out;
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
      for (const ch of await dirtyPaths(paths.root, sourceSpecs(sel.components))) {
        if (!Object.prototype.hasOwnProperty.call(plan.dirty, ch.path)) changed.push(`${ch.path} changed in the main project`);
      }
    }
    if (changed.length) throw changedSincePlan(target.name, [...new Set(changed)]);
  }
  const result: SyncResult = { target: target.name, dryRun: !!opts.dryRun, plan: withoutTexts(plan), written: 0, deleted: 0, configsWritten: 0, ok: true };
  if (opts.dryRun) return result;
  const compByName = new Map(sel.components.map((c) => [c.name, c]));
  const cfgByName = new Map(sel.configs.map((c) => [c.name, c]));
  const fingerprint = (side: 'source' | 'target', rel: string) => plan.fingerprints[`${side}:${rel}`] ?? '?';

  // 1. Snapshot of every path the sync will touch.
  const units: BackupUnit[] = [];
  for (const p of plan.components) {
    const only = [...p.adds, ...p.updates, ...p.deletes, ...p.retime];
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
  type Op = { kind: 'copy' | 'delete' | 'retime'; comp: ResolvedComponent; rel: string };
  const ops: Op[] = [];
  for (const p of plan.components) for (const rel of p.deletes) ops.push({ kind: 'delete', comp: compByName.get(p.name)!, rel });
  for (const p of plan.components) {
    const comp = compByName.get(p.name)!;
    for (const rel of [...p.adds, ...p.updates]) ops.push({ kind: 'copy', comp, rel });
    for (const rel of p.retime) ops.push({ kind: 'retime', comp, rel });
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
      } else if (op.kind === 'copy') {
        ensureRealDirSync(target.absPath, path.posix.dirname(destRel), verified);
        const planned = fingerprint('target', destRel);
        if (planned === 'dir') throw new SyncordError(`a folder is in the way of ${destRel}`, 'conflict', { file: dest });
        const expect = identityFrom(planned);
        if (expect === undefined) throw changed('target')();
        const t0 = parallel ? 0 : performance.now();
        const read = parallel ? await readSourceAsync(src, fingerprint('source', srcRel), changed('source')) : readSourceSync(src, fingerprint('source', srcRel), changed('source'));
        writeIntoTarget(src, read, dest, destRel, expect, changed('target'));
        if (!parallel) {
          copyMs += performance.now() - t0;
          if (++copies % 64 === 0) {
            if (copyMs / 64 > SLOW_COPY_MS && opts.parallelCopies !== false) parallel = true;
            copyMs = 0;
          }
        }
        result.written++;
      } else {
        assertRealDirsSync(target.absPath, path.posix.dirname(destRel), verified);
        if (fingerprint('target', destRel) !== fingerprintOf(dest)) throw changed('target')();
        const s = fs.lstatSync(src);
        if (fingerprintOfStats(s) !== fingerprint('source', srcRel)) throw changed('source')();
        fs.lutimesSync(dest, s.atime, s.mtime);
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
  // The incremental state and the registry are separate files: written side by side.
  const recordState = async () => {
    if (!plan.commit) return;
    const file = stateFile(paths, target.name);
    await ensureSyncordDir(paths);
    const state = await readSyncState(paths, target.name);
    const dirty = plan.dirty ?? {};
    for (const c of sel.components) {
      const mine: Record<string, string | null> = {};
      for (const [p, h] of Object.entries(dirty)) if (c.kind === 'dir' ? p.startsWith(c.source + '/') : p === c.source) mine[p] = h;
      state.components[c.name] = { fingerprint: c.fingerprint, commit: plan.commit, synced_at: syncedAt, dirty: mine };
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
  };
  const recordRegistry = async () => {
    if (!sel.all) return;
    const rec = { last_sync: syncedAt, sync_version: version, status: 'synchronized', ...(plan.commit ? { last_sync_commit: plan.commit } : {}) };
    await updateTarget(paths, target.name, rec);
    result.recorded = { last_sync: syncedAt, sync_version: version, status: 'synchronized', commit: plan.commit };
  };
  await Promise.all([recordState(), recordRegistry()]);
  return result;
}

/** What config sync would do to each config file of a target: the changes, the unified diff and the merged text. */
export async function configDiff(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, only?: string[]): Promise<ConfigPlan[]> {
  const sel = selectComponents(paths, rules, target, only ?? ['config']);
  return Promise.all(sel.configs.map(planConfig));
}
