import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
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
  /** Folders below the root (relative), deepest last. */
  dirs: string[];
  /** Symlinks to folders and other special entries that were not descended into. */
  skipped: string[];
}

/**
 * Lists the files under a folder without following symlinks: a symlink is reported as a `symlink` entry
 * and never descended into. Paths are relative to `root`, with POSIX separators.
 */
export async function walk(root: string): Promise<WalkResult> {
  const result: WalkResult = { files: new Map(), dirs: [], skipped: [] };
  const st = await lstatOrUndefined(root);
  if (!st || !st.isDirectory()) return result;
  const queue: string[] = [''];
  const pending: Promise<void>[] = [];
  const statMany = async (entries: string[]) => {
    await Promise.all(
      entries.map(async (rel) => {
        const s = await lstatOrUndefined(path.join(root, rel));
        if (s) result.files.set(rel, infoOf(s));
      }),
    );
  };
  while (queue.length) {
    const batch = queue.splice(0, 64);
    const listings = await Promise.all(batch.map((rel) => fs.promises.readdir(path.join(root, rel), { withFileTypes: true }).then((e) => [rel, e] as const)));
    for (const [rel, entries] of listings) {
      const files: string[] = [];
      for (const e of entries) {
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) {
          result.dirs.push(childRel);
          queue.push(childRel);
        } else if (e.isFile() || e.isSymbolicLink()) files.push(childRel);
        else result.skipped.push(childRel);
      }
      if (files.length) pending.push(statMany(files));
    }
  }
  await Promise.all(pending);
  return result;
}

/** SHA-256 of a file (hex). */
export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await fs.promises.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
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
 * comparison sees the files as equal).
 */
export async function copyFileAtomic(src: string, dest: string, srcInfo?: { mtimeMs: number; mode: number }): Promise<void> {
  const tmp = tempNameFor(dest);
  try {
    // copyFile keeps the source's permission bits; only a snapshot's recorded mode needs setting.
    await fs.promises.copyFile(src, tmp, fs.constants.COPYFILE_FICLONE);
    if (srcInfo) await fs.promises.chmod(tmp, srcInfo.mode & 0o777);
    const mtimeMs = srcInfo ? srcInfo.mtimeMs : (await fs.promises.stat(src)).mtimeMs;
    await fs.promises.utimes(tmp, mtimeMs / 1000, mtimeMs / 1000);
    await fs.promises.rename(tmp, dest);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/**
 * Makes sure `rel` (a folder path relative to `root`) exists as real folders all the way down: a symlink
 * or a file on the way is refused, so nothing is ever written through a link out of the target.
 */
export async function ensureRealDir(root: string, rel: string, verified: Set<string>): Promise<void> {
  if (!rel || rel === '.' || verified.has(rel)) return;
  const parent = path.posix.dirname(rel);
  if (parent !== '.') await ensureRealDir(root, parent, verified);
  const abs = path.join(root, rel);
  const st = await lstatOrUndefined(abs);
  if (!st) {
    try {
      await fs.promises.mkdir(abs);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const again = await fs.promises.lstat(abs);
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
    const st = await lstatOrUndefined(cur);
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
