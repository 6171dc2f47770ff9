import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as z from 'zod';
import { SyncordError } from '../errors';
import { isInside } from '../containment';
import { Change, createFileOnce, FileKind, FileStore, readJsonFile } from '../store';
import { isoTime } from '../coordination/time';
import { checkedTargetName, lastVerifyFile, TARGETS_FILE, WorkspacePaths } from '../workspace';
import { TargetEntry, TargetRegistry, TargetRegistrySchema, TargetType, TARGET_TYPES } from './schema';

export const REGISTRY_FILE = TARGETS_FILE;

/** A registry entry with its folder resolved to an absolute path. */
export interface ResolvedTarget extends TargetEntry {
  absPath: string;
}

export function registryFile(paths: WorkspacePaths): string {
  return path.join(paths.coordinationDir, REGISTRY_FILE);
}

const emptyRegistry = (): TargetRegistry => ({ targets: [] });

export function resolveTargetPath(paths: WorkspacePaths, p: string): string {
  return path.resolve(paths.root, p);
}

function resolve(paths: WorkspacePaths, t: TargetEntry): ResolvedTarget {
  return { ...t, absPath: resolveTargetPath(paths, t.path) };
}

/** System folders: a target there or below is refused (sync writes and deletes below a target's root). */
const SYSTEM_TREES = ['/etc', '/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/boot', '/dev', '/proc', '/sys', '/run', '/System', '/Library', '/private/etc'];
/** Folders that are refused as a target themselves (folders below them are fine). */
const SYSTEM_FOLDERS = ['/var', '/tmp', '/home', '/Users', '/root', '/opt', '/srv', '/mnt', '/media', '/private', '/private/var', '/private/tmp'];

function realOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Why a folder cannot be a target, or undefined when it can: the main project itself, a folder inside it or
 * around it, the file system root, the home folder itself, or a system folder. Checked on every read of the
 * registry and when a target is added or moved; the folder need not exist.
 */
export function targetFolderProblem(paths: WorkspacePaths, p: string): string | undefined {
  const abs = resolveTargetPath(paths, p);
  const forms = [...new Set([abs, realOrSelf(abs)])];
  const roots = [...new Set([paths.root, realOrSelf(paths.root)])];
  const home = os.homedir();
  for (const f of forms) {
    if (path.parse(f).root === f) return `a target cannot be the root of the file system (${abs})`;
    if (roots.some((r) => isInside(r, f))) return `a target cannot be the main project or a folder inside it (${abs})`;
    if (roots.some((r) => isInside(f, r))) return `a target cannot contain the main project (${abs})`;
    if (home && path.resolve(home) === f) return `a target cannot be the home folder itself (${abs})`;
    if (process.platform !== 'win32') {
      const tree = SYSTEM_TREES.find((s) => isInside(s, f));
      if (tree) return `a target cannot be a system folder or inside one (${abs} is in ${tree})`;
      if (SYSTEM_FOLDERS.includes(f)) return `a target cannot be the system folder ${abs}`;
    }
  }
  return undefined;
}

/**
 * The registry's schema for one workspace: the file's shape (names included) plus, for every target, a folder
 * that `targetFolderProblem` accepts. Used on every read and inside every update, so a hand-written name or
 * path is refused with the file, line and column of the field.
 */
function registrySchema(paths: WorkspacePaths): z.ZodType<TargetRegistry> {
  return TargetRegistrySchema.superRefine((registry, ctx) => {
    registry.targets.forEach((t, i) => {
      const problem = targetFolderProblem(paths, t.path);
      if (problem) ctx.addIssue({ code: 'custom', path: ['targets', i, 'path'], message: problem });
      if (registry.targets.findIndex((x) => x.name === t.name) !== i) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `a second target named "${t.name}"` });
    });
  }) as unknown as z.ZodType<TargetRegistry>;
}

async function readRegistry(paths: WorkspacePaths): Promise<TargetRegistry> {
  const file = registryFile(paths);
  try {
    return (await readJsonFile({ file, schema: registrySchema(paths) })).value;
  } catch (e) {
    if (e instanceof SyncordError && e.code === 'not-found' && !fs.existsSync(file)) return emptyRegistry();
    throw e;
  }
}

/** Changes the registry under its lock (a missing file is created first, never over an existing one). */
async function updateRegistry<I extends InWorkspace, R>(paths: WorkspacePaths, change: Change<RegistryFiles, I, R>, input: Omit<I, 'paths'>): Promise<R> {
  const file = registryFile(paths);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  createFileOnce(file, JSON.stringify(emptyRegistry(), null, 2) + '\n');
  return new FileStore(REGISTRY, { registry: { file, schema: registrySchema(paths) } }).update(change, { ...input, paths } as I, isoTime(new Date()));
}

interface RegistryFiles {
  registry: TargetRegistry;
}
const REGISTRY = new FileKind<RegistryFiles>(['registry']);

/** Declares a change to targets.json (see src/core/store/update.ts); it gets the workspace's paths with its input. */
function registryChange<I extends InWorkspace, R>(name: string, apply: (registry: TargetRegistry, input: I, now: string) => R) {
  return REGISTRY.change(name, ['registry'], (files, input: I, now) => apply(files.registry, input, now));
}

/** A registry change's input: the workspace (to resolve and check target folders) and what it needs. */
interface InWorkspace {
  paths: WorkspacePaths;
}

/** All registered targets (an absent registry is an empty one). */
export async function listTargets(paths: WorkspacePaths): Promise<ResolvedTarget[]> {
  const registry = await readRegistry(paths);
  return registry.targets.map((t) => resolve(paths, t));
}

export async function getTarget(paths: WorkspacePaths, name: string): Promise<ResolvedTarget> {
  const all = await listTargets(paths);
  const t = all.find((x) => x.name === name);
  if (!t) {
    const known = all.map((x) => x.name).join(', ') || 'none registered';
    throw new SyncordError(`no target named "${name}" (known: ${known})`, 'not-found', { file: registryFile(paths) });
  }
  return t;
}

/** Checks that a target folder exists, is a real folder (not a symlink), and is a place `targetFolderProblem` accepts. */
async function checkTargetFolder(paths: WorkspacePaths, p: string): Promise<string> {
  const abs = resolveTargetPath(paths, p);
  const problem = targetFolderProblem(paths, abs);
  if (problem) throw new SyncordError(problem, 'usage');
  let st: fs.Stats;
  try {
    st = await fs.promises.lstat(abs);
  } catch {
    throw new SyncordError(`target folder does not exist: ${abs}`, 'usage');
  }
  if (st.isSymbolicLink()) throw new SyncordError(`target folder ${abs} is a symlink; register the real folder it points to`, 'usage');
  if (!st.isDirectory()) throw new SyncordError(`target path is not a folder: ${abs}`, 'usage');
  return abs;
}

function checkType(type: string): TargetType {
  if (!(TARGET_TYPES as readonly string[]).includes(type)) {
    throw new SyncordError(`unknown target type "${type}" (expected ${TARGET_TYPES.join(' or ')})`, 'usage');
  }
  return type as TargetType;
}

export interface AddTargetInput {
  name: string;
  /** Absolute, or relative to the main project root. Stored relative to the main project root. */
  path: string;
  type: string;
}

/** Registers a target. The name must be new and the folder must exist outside the main project. */
export async function addTarget(paths: WorkspacePaths, input: AddTargetInput): Promise<ResolvedTarget> {
  checkedTargetName(input.name);
  const type = checkType(input.type);
  const abs = await checkTargetFolder(paths, input.path);
  const stored = path.relative(paths.root, abs).split(path.sep).join('/');
  return updateRegistry(paths, ADD_TARGET, { name: input.name, type, abs, stored });
}

const ADD_TARGET = registryChange('target.add', (registry, input: InWorkspace & { name: string; type: TargetType; abs: string; stored: string }) => {
  const { paths, abs } = input;
  if (registry.targets.some((t) => t.name === input.name)) throw new SyncordError(`a target named "${input.name}" is already registered`, 'conflict', { file: registryFile(paths) });
  const clash = registry.targets.find((t) => {
    const other = resolveTargetPath(paths, t.path);
    return isInside(other, abs) || isInside(abs, other);
  });
  if (clash) throw new SyncordError(`the folder overlaps target "${clash.name}" (${clash.path})`, 'conflict', { file: registryFile(paths) });
  const entry: TargetEntry = { name: input.name, path: input.stored, type: input.type, last_sync: null, sync_version: null, status: 'needs_sync' };
  registry.targets.push(entry);
  return resolve(paths, entry);
});

/**
 * Removes a target from the registry (its folder, backups and verification logs are left alone). Its kept
 * verification result goes with it: a target registered later under the same name must not show it as its own.
 */
export async function removeTarget(paths: WorkspacePaths, name: string): Promise<TargetEntry> {
  const removed = await updateRegistry(paths, REMOVE_TARGET, { name });
  await fs.promises.rm(lastVerifyFile(paths, removed.name), { force: true });
  return removed;
}

const REMOVE_TARGET = registryChange('target.remove', (registry, { paths, name }: InWorkspace & { name: string }) => {
  const i = registry.targets.findIndex((t) => t.name === name);
  if (i < 0) throw new SyncordError(`no target named "${name}"`, 'not-found', { file: registryFile(paths) });
  return registry.targets.splice(i, 1)[0];
});

export interface TargetPatch {
  status?: string;
  path?: string;
  type?: string;
  /** Other fields to set (kept as they are; `undefined` values are ignored). */
  extra?: Record<string, unknown>;
  last_sync?: string | null;
  sync_version?: string | null;
  /** null removes the field (the target was never synced from a known commit). */
  last_sync_commit?: string | null;
}

/** Changes fields of a registered target; other fields, including unknown ones, are kept. */
export async function updateTarget(paths: WorkspacePaths, name: string, patch: TargetPatch): Promise<ResolvedTarget> {
  const type = patch.type !== undefined ? checkType(patch.type) : undefined;
  const abs = patch.path !== undefined ? await checkTargetFolder(paths, patch.path) : undefined;
  return updateRegistry(paths, UPDATE_TARGET, { name, patch, type, abs });
}

const UPDATE_TARGET = registryChange(
  'target.update',
  (registry, { paths, name, patch, type, abs }: InWorkspace & { name: string; patch: TargetPatch; type?: TargetType; abs?: string }) => {
    const t = registry.targets.find((x) => x.name === name);
    if (!t) throw new SyncordError(`no target named "${name}"`, 'not-found', { file: registryFile(paths) });
    if (patch.status !== undefined) {
      if (!patch.status.trim()) throw new SyncordError('status cannot be empty', 'usage');
      t.status = patch.status;
    }
    if (type) t.type = type;
    if (abs) t.path = path.relative(paths.root, abs).split(path.sep).join('/');
    if (patch.last_sync !== undefined) t.last_sync = patch.last_sync;
    if (patch.sync_version !== undefined) t.sync_version = patch.sync_version;
    if (patch.last_sync_commit === null) delete t.last_sync_commit;
    else if (patch.last_sync_commit !== undefined) t.last_sync_commit = patch.last_sync_commit;
    for (const [k, v] of Object.entries(patch.extra ?? {})) if (v !== undefined) (t as Record<string, unknown>)[k] = v;
    return resolve(paths, t);
  },
);
