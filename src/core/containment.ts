import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from './errors';

/**
 * Proving a path inside its root at the moment of use. Paths read from files that agents or people can edit
 * (target paths, backup manifests, session records) are data: before Syncord writes, deletes or shows
 * anything at such a path, the path must resolve inside the root it belongs to, and the root itself must be a
 * real folder, not a symlink that leads elsewhere.
 */

/** Whether `p` is `root` or lies below it, comparing resolved paths (no filesystem access). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * A relative path (either slash) as found in a file, checked to stay inside `root`: no absolute path, no
 * drive letter, no `..` that climbs out, no NUL byte, not empty. Returns the absolute path.
 * `what` names it in the error ("backup manifest entry", "session log").
 */
export function resolveInside(root: string, rel: string, what: string): string {
  const bad = (why: string) => new SyncordError(`${what} ${JSON.stringify(rel)} ${why}; refusing to use it`, 'invalid-file');
  if (typeof rel !== 'string' || rel === '') throw bad('is empty');
  if (rel.includes('\0')) throw bad('contains a NUL byte');
  if (path.isAbsolute(rel) || path.win32.isAbsolute(rel) || /^[A-Za-z]:/.test(rel)) throw bad(`is absolute (it must be relative to ${root})`);
  const abs = path.resolve(root, rel.replace(/\\/g, '/'));
  if (!isInside(root, abs) || abs === path.resolve(root)) throw bad(`leads outside ${root}`);
  return abs;
}

/**
 * Refuses a root that is not a real folder: missing, a file, or a symlink (which would let a write or a
 * delete land wherever the link points). `what` names the root in the error ("target folder").
 */
export function assertRealFolder(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SyncordError(`${what} ${dir} does not exist`, 'not-found', { file: dir });
    throw new SyncordError(`could not read ${dir}: ${(e as Error).message}`, 'io', { file: dir });
  }
  if (st.isSymbolicLink()) {
    let to = '';
    try {
      to = ` (it points to ${fs.readlinkSync(dir)})`;
    } catch {
      // unreadable link: say nothing of where it goes
    }
    throw new SyncordError(`${what} ${dir} is a symlink${to}; Syncord only works in real folders`, 'conflict', { file: dir });
  }
  if (!st.isDirectory()) throw new SyncordError(`${what} ${dir} is not a folder`, 'conflict', { file: dir });
}

/**
 * Checks that no existing part of `abs` below `root` is a symlink (missing parts are fine: they will be
 * created as real folders). `abs` must be inside `root`.
 */
export function assertNoLinkBelow(root: string, abs: string, what: string): void {
  if (!isInside(root, abs)) throw new SyncordError(`${what} ${abs} is outside ${root}; refusing to use it`, 'conflict', { file: abs });
  let cur = path.resolve(root);
  for (const part of path.relative(cur, path.resolve(abs)).split(path.sep).filter(Boolean)) {
    cur = path.join(cur, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      return;
    }
    if (st.isSymbolicLink()) throw new SyncordError(`refusing to go through the symlink ${cur} (${what})`, 'conflict', { file: cur });
  }
}
