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

export function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

export function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
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

/** Hash of a symlink's text (what a snapshot keeps of a link). */
export async function hashLink(file: string): Promise<{ hash: string; link: string }> {
  const link = await fs.promises.readlink(file);
  return { hash: createHash('sha256').update(`symlink:${link}`).digest('hex'), link };
}

export function tempNameFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.syncord-${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/**
 * Copies a file by writing a temp file beside the destination and renaming it over: readers see the old or
 * the new file, never half of one. Keeps the source's mode and modification time (so a later size+mtime
 * comparison sees the files as equal). `srcInfo` saves a `stat` of the source; its `mode`, when given, is
 * set on the copy (otherwise the source's permission bits are kept).
 */
export async function copyFileAtomic(src: string, dest: string, srcInfo?: { mtimeMs: number; mode?: number; size?: number }): Promise<void> {
  if (srcInfo?.size !== undefined && srcInfo.size <= SMALL_FILE) {
    const st = srcInfo.mode === undefined ? fs.statSync(src) : undefined;
    return copySmallFileSync(src, dest, srcInfo.mtimeMs, srcInfo.mode ?? st!.mode);
  }
  const tmp = tempNameFor(dest);
  try {
    // copyFile keeps the source's permission bits; only a snapshot's recorded mode needs setting.
    await fs.promises.copyFile(src, tmp, fs.constants.COPYFILE_FICLONE);
    if (srcInfo?.mode !== undefined) await fs.promises.chmod(tmp, srcInfo.mode & 0o777);
    const mtimeMs = srcInfo ? srcInfo.mtimeMs : (await fs.promises.stat(src)).mtimeMs;
    await fs.promises.utimes(tmp, mtimeMs / 1000, mtimeMs / 1000);
    await fs.promises.rename(tmp, dest);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * `copyFileAtomic` for a small file, in one synchronous sequence: read the source, write a new temp file
 * (created exclusively, so never through an existing link), set mode and times on the open file, rename.
 */
export function copySmallFileSync(src: string, dest: string, mtimeMs: number, mode: number): void {
  const data = fs.readFileSync(src);
  writeNewFileSync(dest, data, mtimeMs, mode);
}

/**
 * Creates `dest`, which must not exist (an exclusive create: never through a link, never over a file), with
 * the given bytes, permission bits and modification time. Returns false, having written nothing, when
 * something is already there. A new file has no old version that a reader could lose, so it needs no temp
 * file; if writing fails, the partial file is removed.
 */
export function writeFreshFileSync(dest: string, data: Uint8Array, mtimeMs: number, mode: number): boolean {
  let fd: number;
  try {
    fd = fs.openSync(dest, 'wx', mode & 0o777);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fchmodSync(fd, mode & 0o777);
    fs.futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(dest, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  return true;
}

/** Writes `data` to `dest` by exclusive temp file + rename, with the given permission bits and modification time. */
export function writeNewFileSync(dest: string, data: Uint8Array, mtimeMs: number, mode: number): void {
  const tmp = tempNameFor(dest);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', mode & 0o777);
    for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    fs.fchmodSync(fd, mode & 0o777);
    fs.futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, dest);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Makes sure `rel` (a folder path relative to `root`) exists as real folders all the way down: a symlink
 * or a file on the way is refused, so nothing is ever written through a link out of the target.
 */
export async function ensureRealDir(root: string, rel: string, verified: Set<string>): Promise<void> {
  ensureRealDirSync(root, rel, verified);
}

/** `ensureRealDir`, synchronous (a handful of lstat/mkdir calls the first time a folder is seen). */
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
