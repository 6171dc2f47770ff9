import * as path from 'path';
import { SyncordError } from './errors';

/**
 * Every place a Syncord workspace keeps its files: the shared files in the coordination folder, and Syncord's
 * own state in `.syncord/` folders (local to this machine, ignored by git). Nothing else names these paths.
 */

/** The folder of Syncord's own state: beside the coordination files, and in the main project for targets. */
export const SYNCORD_DIR = '.syncord';

/** The four coordination files of seed 004. */
export const COORDINATION_FILES = {
  registry: 'instance-registry.json',
  tasks: 'task-queue.json',
  messages: 'communication-log.json',
  decisions: 'decisions.json',
} as const;

/** The agent sessions (seed 003), beside the coordination files. */
export const SESSIONS_FILE = 'sessions.json';

/** The target registry (seed 002's appendix), beside the coordination files. */
export const TARGETS_FILE = 'targets.json';

/** Syncord's private state next to a workspace file: lock folders, pending combined changes. */
export function stateDirOf(file: string): string {
  return path.join(path.dirname(file), SYNCORD_DIR);
}

/** Where changes queued for `file` wait for the lock holder (combined writes). */
export function spoolDirOf(file: string): string {
  return path.join(stateDirOf(file), 'pending', path.basename(file));
}

/** Where the sessions keep what is not shared: the agents' `syncord` command and their logs. */
export function sessionStateDir(paths: WorkspacePaths): string {
  return path.join(paths.coordinationDir, SYNCORD_DIR);
}

/** Where a Syncord workspace keeps its files. */
export interface WorkspacePaths {
  /** The main project's root folder. */
  root: string;
  /** The coordination folder (absolute). */
  coordinationDir: string;
}

export const DEFAULT_COORDINATION_DIR = 'coordination';

export function resolveWorkspace(root: string, coordinationDir: string = DEFAULT_COORDINATION_DIR): WorkspacePaths {
  const absRoot = path.resolve(root);
  return { root: absRoot, coordinationDir: path.resolve(absRoot, coordinationDir) };
}

/**
 * The paths targets keep under `<main project>/.syncord/`. A target name becomes a path
 * segment here only after it was checked against `TARGET_NAME` (the registry schema checks the same), so a
 * name read from a hand-edited `targets.json` can never lead out of `.syncord/`.
 *
 * - `backups/<target>/objects/<2 hex>/<62 hex>`: content-addressed copies of target files (read-only)
 * - `backups/<target>/manifests/<id>.json`: one manifest per backup, with the digest of its own content
 * - `state/<target>.json`: what the last sync saw, for incremental syncs
 * - `work/<target>/<pid>-<random>.json`: folders an operation is writing into, while it runs (a later run
 *   removes the temp files a killed one left there)
 * - `verify/<target>/`: output of verify commands
 * - `cache/detect/`: committed changes between two commits
 *
 * `.syncord/` ignores itself in git.
 */
/** Target names: what the registry schema accepts, and what may become a folder or file name. */
export const TARGET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The name, checked to be usable as one path segment (letters, digits, ".", "_", "-"; not "." or ".."). */
export function checkedTargetName(name: string): string {
  if (typeof name !== 'string' || !TARGET_NAME.test(name) || name.length > 200) {
    throw new SyncordError(`invalid target name ${JSON.stringify(name)} (letters, digits, ".", "_", "-", starting with a letter or digit)`, 'usage');
  }
  return name;
}

export function syncordDir(paths: WorkspacePaths): string {
  return path.join(paths.root, SYNCORD_DIR);
}


/** The backup store of a target: `.syncord/backups/<target>/`. */
export function backupDir(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'backups', checkedTargetName(target));
}

/** What the last sync of a target saw: `.syncord/state/<target>.json`. */
export function stateFile(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'state', `${checkedTargetName(target)}.json`);
}

/** The last verification of a target, kept until the next one: `.syncord/verify/<target>/last.json`. */
export function lastVerifyFile(paths: WorkspacePaths, target: string): string {
  return path.join(verifyLogDir(paths, target), 'last.json');
}

/** Records of operations in progress on a target: `.syncord/work/<target>/`. */
export function workDir(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'work', checkedTargetName(target));
}

/** Output of the verify commands run in a target: `.syncord/verify/<target>/`. */
export function verifyLogDir(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'verify', checkedTargetName(target));
}

/** Where the committed changes between two commits are kept: `.syncord/cache/detect/<since>-<head>.z`. */
export function committedCacheDir(paths: WorkspacePaths): string {
  return path.join(syncordDir(paths), 'cache', 'detect');
}
