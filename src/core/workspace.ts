import * as path from 'path';

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
