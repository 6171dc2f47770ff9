import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { ChangedOnDiskError, writeFileAtomic } from '../store/atomic';
import { WorkspacePaths } from '../workspace';

/**
 * Every path targets keep under `<main project>/.syncord/`, in one place. A target name becomes a path
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
export const SYNCORD_DIR = '.syncord';

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

/** Creates `.syncord/` with a `.gitignore` that keeps it out of git. */
export async function ensureSyncordDir(paths: WorkspacePaths): Promise<string> {
  const dir = syncordDir(paths);
  await fs.promises.mkdir(dir, { recursive: true });
  const ignore = path.join(dir, '.gitignore');
  if (!fs.existsSync(ignore)) {
    try {
      writeFileAtomic(ignore, '# Syncord backups and sync state (local only)\n*\n', { expect: null, fsync: false });
    } catch (e) {
      if (!(e instanceof ChangedOnDiskError)) throw e;
    }
  }
  return dir;
}

/** The backup store of a target: `.syncord/backups/<target>/`. */
export function backupDir(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'backups', checkedTargetName(target));
}

/** What the last sync of a target saw: `.syncord/state/<target>.json`. */
export function stateFile(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'state', `${checkedTargetName(target)}.json`);
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
