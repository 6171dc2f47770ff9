import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { SyncordError } from '../errors';

export interface FileInfo {
  kind: 'file' | 'symlink';
  size: number;
  mtimeMs: number;
  mode: number;
  ino: number;
  ctimeMs: number;
}

/** Same size and modification time within 1 ms (utimes may round). */
export function sameStat(a: { size: number; mtimeMs: number }, b: { size: number; mtimeMs: number }): boolean {
  return a.size === b.size && Math.abs(a.mtimeMs - b.mtimeMs) < 1;
}

export async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}

export function infoOf(st: fs.Stats): FileInfo {
  return { kind: st.isSymbolicLink() ? 'symlink' : 'file', size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, ino: st.ino, ctimeMs: st.ctimeMs };
}

export interface WalkResult {
  files: Map<string, FileInfo>;
  /** Folders below the root (relative), parents before their children. */
  dirs: string[];
  /** Symlinks to folders and other special entries that were not descended into. */
  skipped: string[];
}

/**
 * Metadata calls (lstat, readdir, unlink, rename, small reads and writes) are made synchronously, in slices
 * of a few milliseconds with a yield to the event loop between slices. On a busy machine every round trip
 * through libuv's thread pool costs two thread wake-ups, which made a 10,000-file walk or copy several
 * times slower than the same system calls made in a row; the slices keep the editor responsive.
 */
export class Slicer {
  private last = performance.now();
  private n = 0;
  constructor(private readonly sliceMs = 8) {}

  /** Whether the current slice is used up (checks the clock every 16 calls). */
  due(): boolean {
    if (++this.n < 16) return false;
    this.n = 0;
    return performance.now() - this.last >= this.sliceMs;
  }

  /** Lets other work run, then starts a new slice. */
  async yield(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
    this.n = 0;
  }

  /** `due()` and `yield()` in one call. */
  async tick(): Promise<void> {
    if (this.due()) await this.yield();
  }
}

/** `lstat` that returns undefined for a missing path (also when a parent is a file); synchronous. */
export function lstatSyncOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

/**
 * Lists the files under a folder without following symlinks: a symlink is reported as a `symlink` entry
 * and never descended into. Paths are relative to `root`, with POSIX separators.
 */
export async function walk(root: string, slicer: Slicer = new Slicer()): Promise<WalkResult> {
  const result: WalkResult = { files: new Map(), dirs: [], skipped: [] };
  const st = lstatSyncOrUndefined(root);
  if (!st || !st.isDirectory()) return result;
  const queue: string[] = [''];
  for (let q = 0; q < queue.length; q++) {
    const rel = queue[q];
    const dirAbs = rel ? path.join(root, rel) : root;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirAbs, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue; // removed while walking
      throw e;
    }
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        result.dirs.push(childRel);
        queue.push(childRel);
      } else if (e.isFile() || e.isSymbolicLink()) {
        const s = lstatSyncOrUndefined(dirAbs + path.sep + e.name);
        if (s) result.files.set(childRel, infoOf(s));
      } else result.skipped.push(childRel);
      if (slicer.due()) await slicer.yield();
    }
  }
  return result;
}

/** Files up to this size are read, hashed and copied in one synchronous call each. */
export const SMALL_FILE = 1 << 20;

/** SHA-256 of a file (hex). Small files (by `size`, when known) are read in one synchronous call. */
export async function hashFile(file: string, size?: number): Promise<string> {
  if (size !== undefined && size <= SMALL_FILE) return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  const h = createHash('sha256');
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(size === undefined ? 1 << 16 : 1 << 20);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      h.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/**
 * Makes sure `rel` (a folder path relative to `root`) exists as real folders all the way down: a symlink
 * or a file on the way is refused, so nothing is ever written through a link out of the target. `verified`
 * remembers the folders already proved (a handful of lstat/mkdir calls the first time a folder is seen).
 */
export function ensureRealDirSync(root: string, rel: string, verified: Set<string>): void {
  if (!rel || rel === '.' || verified.has(rel)) return;
  const parent = path.posix.dirname(rel);
  if (parent !== '.') ensureRealDirSync(root, parent, verified);
  const abs = path.join(root, rel);
  const st = lstatSyncOrUndefined(abs);
  if (!st) {
    try {
      fs.mkdirSync(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const again = fs.lstatSync(abs);
      if (!again.isDirectory()) throw new SyncordError(`refusing to write through ${abs}: not a real folder`, 'conflict', { file: abs });
    }
  } else if (!st.isDirectory()) {
    throw new SyncordError(
      st.isSymbolicLink() ? `refusing to write through the symlink ${abs}` : `${abs} is in the way: a file where a folder is needed`,
      'conflict',
      { file: abs },
    );
  }
  verified.add(rel);
}

/**
 * Refuses a symlink or a file among the existing folders of `rel` below `root` (missing parts are fine: there
 * is nothing to delete or write through there). `verified` as for `ensureRealDirSync`.
 */
export function assertRealDirsSync(root: string, rel: string, verified: Set<string>): void {
  if (!rel || rel === '.' || verified.has(rel)) return;
  const parent = path.posix.dirname(rel);
  if (parent !== '.') assertRealDirsSync(root, parent, verified);
  const abs = path.join(root, rel);
  const st = lstatSyncOrUndefined(abs);
  if (!st) return;
  if (!st.isDirectory()) {
    throw new SyncordError(st.isSymbolicLink() ? `refusing to go through the symlink ${abs}` : `${abs} is a file where a folder is expected`, 'conflict', { file: abs });
  }
  verified.add(rel);
}

/** Whether a folder path relative to `root` consists of real folders only (missing parts count as fine). */
export async function noSymlinkOnPath(root: string, rel: string): Promise<boolean> {
  let cur = root;
  for (const part of rel.split('/').filter(Boolean)) {
    cur = path.join(cur, part);
    const st = lstatSyncOrUndefined(cur);
    if (!st) return true;
    if (st.isSymbolicLink()) return false;
  }
  return true;
}

/** Runs tasks with at most `limit` at once; stops starting new ones when `signal` aborts. */
export async function pool<T>(items: T[], limit: number, fn: (item: T, index: number) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined && !signal?.aborted) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        if (failure === undefined) failure = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
}
