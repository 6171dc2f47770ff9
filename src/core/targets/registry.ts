import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { registryStore } from './registryStore';
import { TargetEntry, TargetRegistry, TargetRegistrySchema, TargetType, TARGET_TYPES } from './schema';

export const REGISTRY_FILE = 'targets.json';

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

/** All registered targets (an absent registry is an empty one). */
export async function listTargets(paths: WorkspacePaths): Promise<ResolvedTarget[]> {
  const reg = await registryStore.readJson(registryFile(paths), TargetRegistrySchema, emptyRegistry);
  return reg.targets.map((t) => resolve(paths, t));
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

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Checks that a target folder exists and is neither the main project, inside it, nor around it. */
async function checkTargetFolder(paths: WorkspacePaths, p: string): Promise<string> {
  const abs = resolveTargetPath(paths, p);
  let real: string;
  try {
    real = await fs.promises.realpath(abs);
  } catch {
    throw new SyncordError(`target folder does not exist: ${abs}`, 'usage');
  }
  if (!(await fs.promises.stat(real)).isDirectory()) throw new SyncordError(`target path is not a folder: ${abs}`, 'usage');
  const root = await fs.promises.realpath(paths.root).catch(() => paths.root);
  if (isInside(real, root)) throw new SyncordError(`a target cannot be the main project or a folder inside it: ${abs}`, 'usage');
  if (isInside(root, real)) throw new SyncordError(`a target cannot contain the main project: ${abs}`, 'usage');
  return abs;
}

function checkType(type: string): TargetType {
  if (!(TARGET_TYPES as readonly string[]).includes(type)) {
    throw new SyncordError(`unknown target type "${type}" (expected ${TARGET_TYPES.join(' or ')})`, 'usage');
  }
  return type as TargetType;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new SyncordError(`invalid target name "${name}" (letters, digits, ".", "_", "-")`, 'usage');
  }
}

export interface AddTargetInput {
  name: string;
  /** Absolute, or relative to the main project root. Stored relative to the main project root. */
  path: string;
  type: string;
}

/** Registers a target. The name must be new and the folder must exist outside the main project. */
export async function addTarget(paths: WorkspacePaths, input: AddTargetInput): Promise<ResolvedTarget> {
  checkName(input.name);
  const type = checkType(input.type);
  const abs = await checkTargetFolder(paths, input.path);
  const stored = path.relative(paths.root, abs).split(path.sep).join('/');
  return registryStore.updateJson(registryFile(paths), TargetRegistrySchema, emptyRegistry, (reg) => {
    if (reg.targets.some((t) => t.name === input.name)) throw new SyncordError(`a target named "${input.name}" is already registered`, 'conflict', { file: registryFile(paths) });
    const clash = reg.targets.find((t) => {
      const other = resolveTargetPath(paths, t.path);
      return isInside(abs, other) || isInside(other, abs);
    });
    if (clash) throw new SyncordError(`the folder overlaps target "${clash.name}" (${clash.path})`, 'conflict', { file: registryFile(paths) });
    const entry: TargetEntry = { name: input.name, path: stored, type, last_sync: null, sync_version: null, status: 'needs_sync' };
    reg.targets.push(entry);
    return resolve(paths, entry);
  });
}

/** Removes a target from the registry (its folder and backups are left alone). */
export async function removeTarget(paths: WorkspacePaths, name: string): Promise<TargetEntry> {
  return registryStore.updateJson(registryFile(paths), TargetRegistrySchema, emptyRegistry, (reg) => {
    const i = reg.targets.findIndex((t) => t.name === name);
    if (i < 0) throw new SyncordError(`no target named "${name}"`, 'not-found', { file: registryFile(paths) });
    return reg.targets.splice(i, 1)[0];
  });
}

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
  return registryStore.updateJson(registryFile(paths), TargetRegistrySchema, emptyRegistry, (reg) => {
    const t = reg.targets.find((x) => x.name === name);
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
  });
}
