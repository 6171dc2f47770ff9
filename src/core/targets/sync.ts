import * as fs from 'fs';
import * as path from 'path';
import { createTwoFilesPatch } from 'diff';
import { SyncordError } from '../errors';
import { Clock, systemClock } from '../ports';
import { WorkspacePaths } from '../workspace';
import { BackupSummary, BackupUnit, backupUnits, ensureSyncordDir, SYNCORD_DIR, toSummary } from './backup';
import { destFiles, joinRel, readTextOrUndefined, ResolvedComponent, ResolvedConfig, selectComponents, sourceFiles } from './components';
import { KeyChange, mergeConfig } from './configMerge';
import { copyFileAtomic, ensureRealDirSync, FileInfo, hashFile, infoOf, lstatOrUndefined, lstatSyncOrUndefined, noSymlinkOnPath, pool, sameStat, Slicer, SMALL_FILE, tempNameFor, writeFreshFileSync, writeNewFileSync } from './fsutil';
import { performance } from 'perf_hooks';
import { changesSince, describeVersion, dirtyPaths, GitChange, repoState } from './git';
import { ResolvedTarget, updateTarget } from './registry';
import { writeFileAtomic } from './registryStore';
import { SyncRules } from './schema';

/** What Syncord remembers per target between syncs (in `.syncord/state/<target>.json`). */
export interface SyncState {
  components: Record<string, { fingerprint: string; commit: string; synced_at: string; dirty: Record<string, string | null> }>;
}

function stateFile(paths: WorkspacePaths, target: string): string {
  return path.join(paths.root, SYNCORD_DIR, 'state', `${target}.json`);
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
  /** The text to write (not serialized in results). */
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
   * Size and modification time (`size:mtimeMs`, '-' when absent) of every file the plan touches, in the main
   * project (`source:<path>`) and in the target (`target:<path>`): `applySync` with this plan as
   * `options.plan` refuses when any of them changed since.
   */
  fingerprints?: Record<string, string>;
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
  return { name: c.name, kind: c.kind, mode: c.mode, source: c.source, destination: c.destination, incremental, adds: [], updates: [], deletes: [], retime: [], unchanged: 0, skipped: [], dirsToRemove: [] };
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
  const st = lstatSyncOrUndefined(target.absPath);
  if (!st?.isDirectory()) throw new SyncordError(`the folder of target "${target.name}" does not exist: ${target.absPath}`, 'not-found');
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
    totals: {
      adds: components.reduce((a, c) => a + c.adds.length, 0),
      updates: components.reduce((a, c) => a + c.updates.length, 0),
      deletes: components.reduce((a, c) => a + c.deletes.length, 0),
      configs: configs.filter((c) => c.changed).length,
    },
  };
  if (head) plan.commit = head;
  plan.fingerprints = planFingerprints(sel.components, sel.configs, components);
  return plan;
}

function fingerprintOf(abs: string): string {
  const st = lstatSyncOrUndefined(abs);
  if (!st) return '-';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  return `${st.size}:${st.mtimeMs}`;
}

function planFingerprints(comps: ResolvedComponent[], cfgs: ResolvedConfig[], plans: ComponentPlan[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of plans) {
    const c = comps.find((x) => x.name === p.name)!;
    for (const rel of [...p.adds, ...p.updates, ...p.deletes, ...p.retime]) {
      out[`source:${joinRel(c.source, rel)}`] = fingerprintOf(joinRel(c.sourceAbs, rel));
      out[`target:${joinRel(c.destination, rel)}`] = fingerprintOf(joinRel(c.destAbs, rel));
    }
  }
  for (const c of cfgs) {
    out[`source:${c.source}`] = fingerprintOf(c.sourceAbs);
    out[`target:${c.destination}`] = fingerprintOf(c.destAbs);
  }
  return out;
}

/**
 * How a new plan differs from a confirmed one: other files to add, update or delete, other config merges,
 * or planned files whose size or modification time changed. Empty when the confirmed plan still holds.
 */
export function planDifferences(confirmed: SyncPlan, now: SyncPlan): string[] {
  const out: string[] = [];
  if (confirmed.target !== now.target) return [`the plan is for target "${confirmed.target}", not "${now.target}"`];
  const byName = new Map(confirmed.components.map((c) => [c.name, c]));
  for (const c of now.components) {
    const old = byName.get(c.name);
    byName.delete(c.name);
    for (const k of ['adds', 'updates', 'deletes', 'retime'] as const) {
      const before = new Set(old?.[k] ?? []);
      const after = new Set(c[k]);
      const verb = { adds: 'add', updates: 'update', deletes: 'delete', retime: 'retouch' }[k];
      for (const r of after) if (!before.has(r)) out.push(`now also ${verb}s ${joinRel(c.destination, r)}`);
      for (const r of before) if (!after.has(r)) out.push(`no longer ${verb}s ${joinRel(c.destination, r)}`);
    }
  }
  for (const name of byName.keys()) out.push(`component ${name} is no longer part of the sync`);
  const cfgByName = new Map(confirmed.configs.map((c) => [c.name, c]));
  for (const c of now.configs) {
    const old = cfgByName.get(c.name);
    cfgByName.delete(c.name);
    if (!old || old.changed !== c.changed || old.diff !== c.diff || old.note !== c.note) out.push(`the config merge into ${c.destination} changed`);
  }
  for (const name of cfgByName.keys()) out.push(`config file ${name} is no longer part of the sync`);
  const fa = confirmed.fingerprints ?? {};
  const fb = now.fingerprints ?? {};
  const named = new Set(out.map((x) => x));
  for (const key of new Set([...Object.keys(fa), ...Object.keys(fb)])) {
    if (fa[key] === undefined || fb[key] === undefined || fa[key] === fb[key]) continue;
    const [side, ...rest] = key.split(':');
    const msg = `${rest.join(':')} changed in the ${side === 'source' ? 'main project' : 'target'}`;
    if (!named.has(msg)) out.push(msg);
  }
  return out;
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
   * The plan the user confirmed (from `planSync`). The sync is planned again and refused with a 'conflict'
   * error, nothing written, when the files changed since: other files to touch, or planned files with another
   * size or modification time. Without it, whatever the fresh plan says is applied.
   */
  plan?: SyncPlan;
  /**
   * Copy files several at a time through the thread pool (true), one after the other synchronously (false),
   * or start synchronously and switch when the file system turns out to be slow (default).
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

function stripText(plan: SyncPlan): SyncPlan {
  return { ...plan, configs: plan.configs.map(({ text: _t, ...rest }) => rest) };
}

/** Hashes (null = absent) of files under the sources that differ from HEAD, for the next incremental plan. */
async function dirtyFiles(root: string, comps: ResolvedComponent[]): Promise<Record<string, string | null>> {
  const specs = comps.map((c) => (c.kind === 'dir' ? `${c.source}/` : c.source));
  if (!specs.length) return {};
  const changes = await dirtyPaths(root, specs);
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

/**
 * Copies one source file of a component into the target: opened without following a symlink (a source
 * that became a link since the plan is refused), written by temp file + rename with the source's
 * permission bits and modification time. Small files go in one synchronous sequence; larger ones through
 * `copyFileAtomic`. A file the plan adds (`fresh`) is created in place, exclusively; should something have
 * appeared there since the plan, it is replaced by temp file + rename like any update.
 */
async function copyIntoTarget(src: string, dest: string, destRel: string, fresh: boolean): Promise<void> {
  let fd: number;
  try {
    fd = fs.openSync(src, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    throw symlinkRefusal(e, src);
  }
  let st: fs.Stats;
  let data: Buffer | undefined;
  try {
    st = fs.fstatSync(fd);
    if (!st.isFile()) throw new SyncordError(`${src} is no longer a regular file`, 'conflict', { file: src });
    if (st.size <= SMALL_FILE) data = fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    if (data) {
      if (!fresh || !writeFreshFileSync(dest, data, st.mtimeMs, st.mode)) writeNewFileSync(dest, data, st.mtimeMs, st.mode);
    } else await copyFileAtomic(src, dest, { mtimeMs: st.mtimeMs });
  } catch (e) {
    if (lstatSyncOrUndefined(dest)?.isDirectory()) throw new SyncordError(`a folder is in the way of ${destRel}`, 'conflict', { file: dest });
    throw e;
  }
}

/**
 * `copyIntoTarget` through libuv's thread pool, for when the file system answers slowly: several copies are
 * then in flight at once. Same steps, same safety: no symlink followed, adds created exclusively, updates by
 * temp file + rename.
 */
export async function copyIntoTargetParallel(src: string, dest: string, destRel: string, fresh: boolean): Promise<void> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(src, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    throw symlinkRefusal(e, src);
  }
  let st: fs.Stats;
  let data: Buffer | undefined;
  try {
    st = await fh.stat();
    if (!st.isFile()) throw new SyncordError(`${src} is no longer a regular file`, 'conflict', { file: src });
    if (st.size <= SMALL_FILE) data = await fh.readFile();
  } finally {
    await fh.close();
  }
  /** Creates `file` exclusively and fills it; a file it created and could not finish is removed. */
  const createWith = async (file: string): Promise<void> => {
    const out = await fs.promises.open(file, 'wx', st.mode & 0o777);
    try {
      await out.writeFile(data!);
      await out.chmod(st.mode & 0o777);
      await out.utimes(st.mtimeMs / 1000, st.mtimeMs / 1000);
    } catch (e) {
      await out.close();
      await fs.promises.rm(file, { force: true });
      throw e;
    }
    await out.close();
  };
  try {
    if (!data) return await copyFileAtomic(src, dest, { mtimeMs: st.mtimeMs });
    if (fresh) {
      try {
        return await createWith(dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    const tmp = tempNameFor(dest);
    await createWith(tmp);
    try {
      await fs.promises.rename(tmp, dest);
    } catch (e) {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      throw e;
    }
  } catch (e) {
    if ((await lstatOrUndefined(dest))?.isDirectory()) throw new SyncordError(`a folder is in the way of ${destRel}`, 'conflict', { file: dest });
    throw e;
  }
}

/**
 * Copies are made synchronously while the file system answers fast (no thread hand-offs); when creating
 * files turns slow (a busy or remote disk, or ext4 skipping thousands of recently freed inodes), the rest
 * goes through the thread pool, this many at a time, so the waits overlap.
 */
const SLOW_COPY_MS = 0.25;
const PARALLEL_COPIES = 8;

/**
 * Synchronizes a target: plans, snapshots everything the plan touches (so a failed or cancelled sync can be
 * undone exactly), copies files by temp file + rename, merges config files, removes what mirror components
 * no longer have, and records `last_sync`, `sync_version` and `status` in the registry. Failures and
 * cancellation are reported in the result (with the backup that restores the target), not thrown.
 */
export async function applySync(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, opts: SyncOptions = {}): Promise<SyncResult> {
  const clock = opts.clock ?? systemClock;
  const progress = opts.onProgress ?? (() => undefined);
  progress({ phase: 'plan', done: 0, total: 1 });
  // `git describe` (for the recorded sync_version) runs beside the plan's git processes.
  const versionP = opts.dryRun ? Promise.resolve(undefined) : describeVersion(paths.root);
  if (opts.plan && opts.components === undefined && !opts.plan.all) {
    // The same selection as the confirmed plan.
    opts = { ...opts, components: [...opts.plan.components.map((c) => c.name), ...opts.plan.configs.map((c) => c.name)] };
  }
  const plan = await planSync(paths, rules, target, opts);
  if (opts.plan) {
    const diffs = planDifferences(opts.plan, plan);
    if (diffs.length) {
      const shown = diffs.slice(0, 8).join('; ') + (diffs.length > 8 ? `; and ${diffs.length - 8} more` : '');
      throw new SyncordError(`files changed since the sync plan of "${target.name}" was made (${shown}); nothing was written. Review the new plan and confirm it again.`, 'conflict');
    }
  }
  const result: SyncResult = { target: target.name, dryRun: !!opts.dryRun, plan: stripText(plan), written: 0, deleted: 0, configsWritten: 0, ok: true };
  if (opts.dryRun) return result;
  const sel = selectComponents(paths, rules, target, opts.components);
  const compByName = new Map(sel.components.map((c) => [c.name, c]));
  const cfgByName = new Map(sel.configs.map((c) => [c.name, c]));

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

  // 2. Apply.
  const ops: { kind: 'copy' | 'delete' | 'retime'; comp: ResolvedComponent; rel: string; fresh?: boolean }[] = [];
  for (const p of plan.components) {
    const comp = compByName.get(p.name)!;
    for (const rel of p.deletes) ops.push({ kind: 'delete', comp, rel });
  }
  for (const p of plan.components) {
    const comp = compByName.get(p.name)!;
    for (const rel of p.adds) ops.push({ kind: 'copy', comp, rel, fresh: true });
    for (const rel of p.updates) ops.push({ kind: 'copy', comp, rel });
    for (const rel of p.retime) ops.push({ kind: 'retime', comp, rel });
  }
  const verified = new Set<string>();
  const slicer = new Slicer();
  let done = 0;
  try {
    // Deletions come first in `ops` (a folder may replace a deleted file of the same name).
    let parallel = opts.parallelCopies === true;
    let copies = 0;
    let copyMs = 0;
    const runOp = async (op: (typeof ops)[number]) => {
      const destRel = joinRel(op.comp.destination, op.rel);
      const dest = path.join(target.absPath, destRel);
      if (op.kind === 'delete') {
        const st = lstatSyncOrUndefined(dest);
        if (st && !st.isDirectory()) {
          fs.unlinkSync(dest);
          result.deleted++;
        }
      } else if (op.kind === 'copy') {
        ensureRealDirSync(target.absPath, path.posix.dirname(destRel), verified);
        if (parallel) await copyIntoTargetParallel(joinRel(op.comp.sourceAbs, op.rel), dest, destRel, !!op.fresh);
        else {
          const t0 = performance.now();
          await copyIntoTarget(joinRel(op.comp.sourceAbs, op.rel), dest, destRel, !!op.fresh);
          copyMs += performance.now() - t0;
          if (++copies % 64 === 0) {
            if (copyMs / 64 > SLOW_COPY_MS && opts.parallelCopies !== false) parallel = true;
            copyMs = 0;
          }
        }
        result.written++;
      } else {
        const s = fs.statSync(joinRel(op.comp.sourceAbs, op.rel));
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
      for (const d of p.dirsToRemove) await fs.promises.rmdir(path.join(comp.destAbs, d)).catch(() => undefined);
    }
    // 3. Config files.
    const cfgs = plan.configs.filter((c) => c.changed);
    let k = 0;
    for (const c of cfgs) {
      if (opts.signal?.aborted) throw new SyncordError('sync cancelled', 'cancelled');
      const cfg = cfgByName.get(c.name)!;
      ensureRealDirSync(target.absPath, path.posix.dirname(c.destination), verified);
      // Re-check just before writing: the file must still be what the plan merged into.
      const now = await planConfig(cfg);
      await writeFileAtomic(cfg.destAbs, now.text!);
      result.configsWritten++;
      progress({ phase: 'config', done: ++k, total: cfgs.length, path: c.destination });
    }
  } catch (e) {
    result.ok = false;
    result.cancelled = e instanceof SyncordError && e.code === 'cancelled';
    result.error = e instanceof Error ? e.message : String(e);
    await updateTarget(paths, target.name, { status: 'sync_failed' }).catch(() => undefined);
    return result;
  }

  // 4. Record.
  progress({ phase: 'record', done: 0, total: 1 });
  const now = clock.now().toISOString();
  // The incremental state and the registry are separate files: written side by side.
  const recordState = async () => {
    if (!plan.commit) return;
    const [state, dirty] = await Promise.all([readSyncState(paths, target.name), dirtyFiles(paths.root, sel.components), ensureSyncordDir(paths)]);
    for (const c of sel.components) {
      const mine: Record<string, string | null> = {};
      for (const [p, h] of Object.entries(dirty)) if (c.kind === 'dir' ? p.startsWith(c.source + '/') : p === c.source) mine[p] = h;
      state.components[c.name] = { fingerprint: c.fingerprint, commit: plan.commit, synced_at: now, dirty: mine };
    }
    await fs.promises.mkdir(path.dirname(stateFile(paths, target.name)), { recursive: true });
    await writeFileAtomic(stateFile(paths, target.name), JSON.stringify(state, null, 2) + '\n');
  };
  const recordRegistry = async () => {
    if (!sel.all) return;
    const rec = { last_sync: now, sync_version: version, status: 'synchronized', ...(plan.commit ? { last_sync_commit: plan.commit } : {}) };
    await updateTarget(paths, target.name, rec);
    result.recorded = { last_sync: now, sync_version: version, status: 'synchronized', commit: plan.commit };
  };
  await Promise.all([recordState(), recordRegistry()]);
  return result;
}

/** The unified diff config sync would apply to each config file of a target. */
export async function configDiff(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, only?: string[]): Promise<ConfigPlan[]> {
  const sel = selectComponents(paths, rules, target, only ?? ['config']);
  return (await Promise.all(sel.configs.map(planConfig))).map(({ text: _t, ...rest }) => rest);
}
