import * as path from 'path';

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
