import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { pidIsDead } from './lock';

/**
 * The one way Syncord replaces a file: write a temporary file beside it (created exclusively, so never through
 * a link and never over another file), flush it to disk, give it the right permission bits and times, then
 * rename it over the destination. Readers see the old file or the new one, never half of one.
 *
 * When the caller read the destination before (the usual case: read, change, write back), it passes the
 * identity it read (`expect`). Right before the rename the destination's identity is checked again; if
 * someone else replaced or edited it in between, nothing is renamed, the temporary file is removed and
 * `ChangedOnDiskError` is thrown, so an edit made by someone else is never overwritten.
 *
 * Temporary files are named `.<name>.syncord-<pid>-<random>.tmp`: a later run recognises the ones left by a
 * process that died (`removeDeadTemps`) and removes only those.
 */

/** What tells one version of a file from another without reading it. */
export interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Permission bits. Not compared: a chmod alone does not change the content. */
  mode: number;
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}

/** The identity of a file from its stats (an lstat, or an fstat of a file already open). */
export function toIdentity(s: fs.Stats): FileIdentity {
  return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, mode: s.mode & 0o7777 };
}

/** The identity of `file` (not following a final symlink), or undefined when there is nothing there. */
export function identityOf(file: string): FileIdentity | undefined {
  try {
    return toIdentity(fs.lstatSync(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
}

/** Someone else changed the file between the caller's read and the rename: nothing was written. */
export class ChangedOnDiskError extends SyncordError {
  constructor(file: string) {
    super(`${path.basename(file)} was changed on disk by someone else while Syncord was writing it; nothing was written`, 'conflict', { file });
    this.name = 'ChangedOnDiskError';
  }
}

const TEMP_RE = /^\.(.+)\.syncord-(\d+)-[a-z0-9]+\.tmp$/;

/** A fresh temporary file name beside `file`. */
export function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.syncord-${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`);
}

/** The file a temporary file name was made for, and the process that made it; undefined for other names. */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const m = TEMP_RE.exec(name);
  return m ? { target: m[1], pid: Number(m[2]) } : undefined;
}

export interface AtomicWriteOptions {
  /**
   * The destination's identity as the caller read it: the write is refused (`ChangedOnDiskError`) if the file
   * is no longer that version right before the rename. `null`: the destination must not exist. Undefined: no
   * check (for files only Syncord writes, such as content-addressed objects).
   */
  expect?: FileIdentity | null;
  /** Permission bits; default: the existing destination's, else 0o666 less the umask. */
  mode?: number;
  /** Modification time to set (ms); default: now. */
  mtimeMs?: number;
  /** Flush to disk before the rename (default true). */
  fsync?: boolean;
}

/** What to write: text (UTF-8), bytes, a copy of another file's content, or a symbolic link. */
export type AtomicContent = string | Uint8Array | { copyFrom: string } | { symlinkTo: string };

/** Writes a new temporary file: its content, permission bits and times, flushed unless told otherwise. */
function fillTemp(temp: string, content: string | Uint8Array | { copyFrom: string }, mode: number | undefined, opts: AtomicWriteOptions): void {
  let fd: number | undefined;
  try {
    if (typeof content === 'object' && !(content instanceof Uint8Array)) {
      fs.copyFileSync(content.copyFrom, temp, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
      // Read-only is enough for fchmod, futimes and fsync on POSIX, and works when the copy has the source's
      // read-only permission bits (a backup object); Windows needs write access to flush.
      fd = fs.openSync(temp, process.platform === 'win32' ? 'r+' : 'r');
    } else {
      fd = fs.openSync(temp, 'wx', mode ?? 0o666);
      const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
    }
    if (mode !== undefined) fs.fchmodSync(fd, mode & 0o7777);
    if (opts.mtimeMs !== undefined) fs.futimesSync(fd, opts.mtimeMs / 1000, opts.mtimeMs / 1000);
    if (opts.fsync !== false) fs.fsyncSync(fd);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Flushes a file to disk without blocking the event loop (the flush runs on Node's thread pool): for a prepared
 * write made with `fsync: false`, so that a process serving many callers goes on taking their requests meanwhile.
 */
export async function flushFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, process.platform === 'win32' ? 'r+' : 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A replacement written to its temporary file and not yet renamed into place. */
export interface PreparedWrite {
  readonly file: string;
  readonly temp: string;
  /** Whether the destination is still the version the caller read (always true without `expect`). */
  unchanged(): boolean;
  /** Checks `unchanged()` and renames the temporary file into place; `ChangedOnDiskError` when not. */
  commit(): FileIdentity;
  /** Removes the temporary file; the destination stays as it is. */
  abort(): void;
}

/**
 * Writes `content` to a temporary file beside `file`, flushed, with its mode and times set, ready to be
 * renamed into place. Several prepared writes can be checked together before any is committed (all or
 * nothing for the checks); `writeFileAtomic` is prepare + commit.
 */
export function prepareWrite(file: string, content: AtomicContent, opts: AtomicWriteOptions = {}): PreparedWrite {
  const mode = opts.mode ?? (opts.expect === undefined ? identityOf(file)?.mode : opts.expect?.mode);
  const temp = tempPathFor(file);
  try {
    if (typeof content === 'object' && 'symlinkTo' in content) fs.symlinkSync(content.symlinkTo, temp);
    else fillTemp(temp, content, mode, opts);
  } catch (e) {
    fs.rmSync(temp, { force: true });
    throw new SyncordError(`could not write ${file}: ${(e as Error).message}; the file was not changed`, 'io', { file });
  }
  const unchanged = () => {
    if (opts.expect === undefined) return true;
    const now = identityOf(file);
    return opts.expect === null ? now === undefined : now !== undefined && sameIdentity(now, opts.expect);
  };
  const abort = () => fs.rmSync(temp, { force: true });
  return {
    file,
    temp,
    unchanged,
    abort,
    commit() {
      // Checked immediately before the rename: an edit that landed while the temporary file was written wins.
      if (!unchanged()) {
        abort();
        throw new ChangedOnDiskError(file);
      }
      try {
        fs.renameSync(temp, file);
      } catch (e) {
        abort();
        throw new SyncordError(`could not replace ${file}: ${(e as Error).message}; the file was not changed`, 'io', { file });
      }
      return identityOf(file)!;
    },
  };
}

/**
 * Replaces `file` with `content` atomically (see the module comment). Returns the new file's identity.
 * On any failure the temporary file is removed and the destination is as it was.
 */
export function writeFileAtomic(file: string, content: AtomicContent, opts: AtomicWriteOptions = {}): FileIdentity {
  return prepareWrite(file, content, opts).commit();
}

/**
 * Creates `file` with `content` unless something is there already (then nothing is written and false is
 * returned): a file someone else created first is never replaced.
 */
export function createFileOnce(file: string, content: AtomicContent, opts: Omit<AtomicWriteOptions, 'expect'> = {}): boolean {
  try {
    writeFileAtomic(file, content, { ...opts, expect: null });
    return true;
  } catch (e) {
    if (e instanceof ChangedOnDiskError) return false;
    throw e;
  }
}

/**
 * Replaces several files, all or nothing as far as the checks go: every temporary file is written and every
 * destination checked unchanged before the first rename. Returns the files replaced.
 */
export function writeFilesAtomic(writes: { file: string; content: AtomicContent; opts?: AtomicWriteOptions }[]): string[] {
  const prepared: PreparedWrite[] = [];
  try {
    for (const w of writes) prepared.push(prepareWrite(w.file, w.content, w.opts));
    const changed = prepared.find((p) => !p.unchanged());
    if (changed) throw new ChangedOnDiskError(changed.file);
  } catch (e) {
    for (const p of prepared) p.abort();
    throw e;
  }
  const done: string[] = [];
  for (const [i, p] of prepared.entries()) {
    try {
      p.commit();
      done.push(p.file);
    } catch (e) {
      for (const q of prepared.slice(i + 1)) q.abort();
      if (!done.length) throw e;
      const err = e as SyncordError;
      throw new SyncordError(`${err.detail} (already replaced: ${done.join(', ')})`, err.code, err.location);
    }
  }
  return done;
}

/**
 * Removes the temporary files in `dir` (not below it) that a Syncord process left when it died: only names
 * made by `tempPathFor`, only when their process is gone and the file belongs to this user. Returns the removed
 * paths.
 */
export function removeDeadTemps(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const removed: string[] = [];
  for (const name of names) {
    const t = parseTempName(name);
    if (!t || t.pid === process.pid || !pidIsDead(t.pid)) continue;
    const p = path.join(dir, name);
    try {
      const st = fs.lstatSync(p);
      if (!st.isFile() || (uid !== undefined && st.uid !== uid)) continue;
      fs.rmSync(p, { force: true });
      removed.push(p);
    } catch {
      // Gone already.
    }
  }
  return removed;
}
