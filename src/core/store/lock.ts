import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SyncordError } from '../errors';
import { stateDirOf } from '../workspace';

/**
 * Syncord's per-file lock, safe between processes and against holders that die.
 *
 * The lock of `file` is the directory `file.lock`. It is never created empty: each process prepares, once, a
 * private directory holding one entry whose name records the owner (`pid~start~host~token`), and takes the
 * lock by renaming that directory to `file.lock`. A rename onto an existing non-empty directory fails, so at
 * most one process holds the lock; release renames it back to the private name. A contender that finds the
 * lock held reads the owner entry: when that process is gone (same host, `kill(pid, 0)` says ESRCH, or the pid
 * now belongs to a process started at another time) it removes that owner entry, which succeeds for one
 * contender only and never touches a newer owner's lock, and then takes the now empty directory by the same
 * rename. A live holder is waited for, polling quickly at first, up to a bounded wait; then `lock-timeout`
 * names the file and the holder.
 */

export interface LockOptions {
  /** How long to wait for a lock another process holds, in ms (default 10 s). */
  waitMs?: number;
}

export const DEFAULT_LOCK_WAIT_MS = 10_000;

/** A held lock. `compromised` turns true when the lock was lost (taken over or removed) while held. */
export interface HeldLock {
  readonly file: string;
  readonly compromised: boolean;
  release(): Promise<void>;
}

/** Who holds a lock, as recorded in its owner entry. */
export interface LockOwner {
  pid: number;
  /** Process start time (Linux clock ticks since boot), 0 when unknown. */
  start: number;
  host: string;
  token: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The lock of `file` is the directory `file.lock` next to it. */
export function lockPathOf(file: string): string {
  return `${file}.lock`;
}


/**
 * Keeps the state folder out of version control: the coordination files are often committed, their locks and
 * pending operations never should be.
 */
export function ignoreStateDir(stateDir: string): void {
  try {
    fs.writeFileSync(path.join(stateDir, '.gitignore'), '# Syncord locks and pending operations (local only)\n*\n', { flag: 'wx' });
  } catch {
    // Already there, or the folder is read-only: either way nothing to do.
  }
}

const HOST = os.hostname().replace(/[^A-Za-z0-9.-]/g, '_') || 'localhost';

/** A process's start time (Linux clock ticks since boot), 0 when unknown: with the pid it names one process. */
export function processStart(pid: number | 'self'): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) counts from the field after the command name, which may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]) || 0;
  } catch {
    return 0;
  }
}

const SELF_START = processStart('self');

/** The state letter of a process (R, S, D, Z, ...) from /proc, or undefined when unknown. */
function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

function randomToken(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36).slice(-4);
}

export function formatOwner(o: LockOwner): string {
  return `${o.pid}~${o.start}~${o.host}~${o.token}`;
}

export function parseOwner(name: string): LockOwner | undefined {
  const m = /^(\d+)~(\d+)~([^~]*)~([A-Za-z0-9]+)$/.exec(name);
  return m ? { pid: Number(m[1]), start: Number(m[2]), host: m[3], token: m[4] } : undefined;
}

/** Whether the process that wrote an owner entry is certainly gone. Owners on other hosts count as alive. */
export function ownerIsDead(o: LockOwner): boolean {
  if (o.host !== HOST) return false;
  if (o.pid === process.pid) return o.start !== 0 && SELF_START !== 0 && o.start !== SELF_START;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  // A zombie (ended, not yet reaped by its parent) is gone too.
  if (processState(o.pid) === 'Z') return true;
  // Alive, or a pid now used by a newer process.
  if (o.start === 0) return false;
  const now = processStart(o.pid);
  return now !== 0 && now !== o.start;
}

/** Whether process `pid` on this host is gone (used for pending operations of dead submitters). */
export function pidIsDead(pid: number, start = 0): boolean {
  return ownerIsDead({ pid, start, host: HOST, token: 'x' });
}

export const SELF = { pid: process.pid, start: SELF_START, host: HOST };

/** This machine's name as Syncord records it next to process ids. */
export const HOST_NAME = HOST;

/** The owner entry of a lock directory, or undefined when it has none (free) or does not exist. */
function readOwner(lockDir: string): { name: string; owner?: LockOwner } | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(lockDir);
  } catch {
    return undefined;
  }
  const name = names[0];
  return name === undefined ? undefined : { name, owner: parseOwner(name) };
}

/** One process's prepared lock directory for one file, reused for every acquisition. */
interface Slot {
  file: string;
  lockDir: string;
  privateDir: string;
  ownerName: string;
  /** Whether the private directory currently exists (false while the lock is held). */
  ready: boolean;
  held: boolean;
  /** In-process queue: operations of this process take turns before contending with other processes. */
  tail: Promise<void>;
  /** Operations of this process holding or waiting for the lock. */
  queued: number;
}

const slots = new Map<string, Slot>();

function slotOf(file: string): Slot {
  const abs = path.resolve(file);
  let s = slots.get(abs);
  if (!s) {
    const token = randomToken();
    const ownerName = formatOwner({ ...SELF, token });
    s = {
      file: abs,
      lockDir: lockPathOf(abs),
      privateDir: path.join(stateDirOf(abs), 'locks', `${path.basename(abs)}.${process.pid}.${token}`),
      ownerName,
      ready: false,
      held: false,
      tail: Promise.resolve(),
      queued: 0,
    };
    slots.set(abs, s);
  }
  return s;
}

function prepare(s: Slot): void {
  if (s.ready) return;
  try {
    fs.mkdirSync(path.join(s.privateDir, s.ownerName), { recursive: true });
    ignoreStateDir(stateDirOf(s.file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new SyncordError(`folder ${path.dirname(s.file)} does not exist`, 'not-found', { file: path.dirname(s.file) });
    }
    throw new SyncordError(`could not prepare the lock of ${s.file}: ${(e as Error).message}`, 'io', { file: s.file });
  }
  if (!cleanedFolders.has(path.dirname(s.privateDir))) {
    cleanedFolders.add(path.dirname(s.privateDir));
    removeDeadPrivateDirs(path.dirname(s.privateDir));
  }
  s.ready = true;
}

const cleanedFolders = new Set<string>();

/** Prepared lock directories of processes that died are removed once per folder and process. */
function removeDeadPrivateDirs(locksDir: string): void {
  let names: string[] = [];
  try {
    names = fs.readdirSync(locksDir);
  } catch {
    return;
  }
  for (const n of names) {
    const dir = path.join(locksDir, n);
    const o = readOwner(dir)?.owner;
    if (o && o.pid !== process.pid && ownerIsDead(o)) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** One attempt: true when the lock is now ours. */
function tryTake(s: Slot): boolean {
  prepare(s);
  try {
    fs.renameSync(s.privateDir, s.lockDir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'EPERM' || code === 'EACCES' || code === 'EISDIR') {
      if (code === 'EACCES' && !fs.existsSync(s.lockDir)) throw new SyncordError(`could not lock ${s.file}: permission denied`, 'io', { file: s.file });
      return false;
    }
    if (code === 'ENOENT') {
      // Our prepared directory vanished (removed by hand): prepare it again next time.
      s.ready = false;
      if (!fs.existsSync(path.dirname(s.file))) {
        throw new SyncordError(`folder ${path.dirname(s.file)} does not exist`, 'not-found', { file: path.dirname(s.file) });
      }
      return false;
    }
    throw new SyncordError(`could not lock ${s.file}: ${(e as Error).message}`, 'io', { file: s.file });
  }
  s.ready = false;
  s.held = true;
  return true;
}

/**
 * Removes the lock when its holder is dead. Only the named owner entry is removed, so of several contenders
 * that judged the same holder dead exactly one succeeds, and a lock taken meanwhile by a live process is
 * never touched. Returns the live holder otherwise.
 */
function takeOverIfDead(s: Slot): { holder?: LockOwner; tookOver: boolean } {
  const found = readOwner(s.lockDir);
  if (!found) return { tookOver: false };
  if (!found.owner) return { tookOver: false };
  if (found.owner.pid === process.pid && found.owner.token === parseOwner(s.ownerName)?.token) return { holder: found.owner, tookOver: false };
  if (!ownerIsDead(found.owner)) return { holder: found.owner, tookOver: false };
  try {
    fs.rmdirSync(path.join(s.lockDir, found.name));
    return { holder: found.owner, tookOver: true };
  } catch {
    return { holder: found.owner, tookOver: false };
  }
}

function releaseSync(s: Slot): void {
  if (!s.held) return;
  s.held = false;
  try {
    // Give the directory back to our private name: the lock is free and ready for our next acquisition.
    fs.renameSync(s.lockDir, s.privateDir);
    s.ready = true;
  } catch {
    // Removed by hand or taken over: nothing of ours is left to undo.
  }
}

let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const s of slots.values()) {
      releaseSync(s);
      if (s.ready) fs.rmSync(s.privateDir, { recursive: true, force: true });
    }
  });
}

export interface AcquireResult extends HeldLock {
  /** True when the previous holder had died and its lock was taken over. */
  readonly tookOver: boolean;
}

/**
 * Takes the lock of one file, waiting up to `waitMs` while another process (or another operation in this one)
 * holds it. Works whether or not the file exists yet; its folder must exist.
 */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<AcquireResult> {
  const s = slotOf(file);
  hookExit();
  const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const deadline = Date.now() + waitMs;
  // Take turns inside this process first.
  let finish!: () => void;
  const mine = new Promise<void>((r) => (finish = r));
  const done = () => {
    s.queued--;
    finish();
  };
  const before = s.tail;
  s.tail = before.then(() => mine);
  s.queued++;
  let timer: NodeJS.Timeout | undefined;
  const inProcess = await Promise.race([
    before.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), waitMs);
    }),
  ]);
  clearTimeout(timer);
  if (!inProcess) {
    // Leave the queue in order: our turn passes straight on once it comes.
    void before.then(done);
    throw timeoutError(s, waitMs, { ...SELF, token: '' });
  }
  let tookOver = false;
  try {
    let delay = 1;
    let nextCheck = 0;
    const started = Date.now();
    for (;;) {
      if (tryTake(s)) break;
      const now = Date.now();
      let holder: LockOwner | undefined;
      if (now >= nextCheck) {
        const t = takeOverIfDead(s);
        holder = t.holder;
        if (t.tookOver) {
          tookOver = true;
          continue;
        }
        nextCheck = now + 20;
      }
      if (now >= deadline) {
        throw timeoutError(s, waitMs, holder ?? readOwner(s.lockDir)?.owner);
      }
      await sleep(Math.min(delay, Math.max(1, deadline - now)));
      // Locks are held for milliseconds: poll quickly at first, then back off.
      if (now - started > 10) delay = Math.min(delay * 2, 16);
    }
  } catch (e) {
    done();
    throw e;
  }
  return heldLock(s, tookOver, done);
}

/** Tries the lock once without waiting; undefined when another operation holds it. */
export async function tryAcquireLock(file: string): Promise<AcquireResult | undefined> {
  const s = slotOf(file);
  hookExit();
  // Only when no operation of this process holds it or waits for it.
  if (s.held || s.queued > 0) return undefined;
  let finish!: () => void;
  const mine = new Promise<void>((r) => (finish = r));
  const done = () => {
    s.queued--;
    finish();
  };
  s.tail = s.tail.then(() => mine);
  s.queued++;
  let tookOver = false;
  try {
    let ok = tryTake(s);
    if (!ok) {
      const t = takeOverIfDead(s);
      if (t.tookOver) {
        tookOver = true;
        ok = tryTake(s);
      }
    }
    if (!ok) {
      done();
      return undefined;
    }
  } catch (e) {
    done();
    throw e;
  }
  return heldLock(s, tookOver, done);
}

/** The handle of a taken lock; `done` lets the next operation of this process waiting for the file go on. */
function heldLock(s: Slot, tookOver: boolean, done: () => void): AcquireResult {
  let released = false;
  return {
    file: s.file,
    tookOver,
    get compromised() {
      if (released) return false;
      const o = readOwner(s.lockDir);
      return !o || o.name !== s.ownerName;
    },
    async release() {
      if (released) return;
      released = true;
      releaseSync(s);
      done();
    },
  };
}

function timeoutError(s: Slot, waitMs: number, holder: LockOwner | undefined): SyncordError {
  const who = holder ? ` (process ${holder.pid}${holder.host !== HOST ? ` on ${holder.host}` : ''})` : '';
  return new SyncordError(
    `${path.basename(s.file)} is locked by another Syncord operation${who} that has held it for over ${Math.round(waitMs / 100) / 10}s; ` +
      `try again, or remove ${s.lockDir} if that process is no longer running`,
    'lock-timeout',
    { file: s.file },
  );
}

/** The current holder of a file's lock, if any. */
export function lockHolder(file: string): LockOwner | undefined {
  return readOwner(lockPathOf(path.resolve(file)))?.owner;
}

/** Takes the locks of several files in a fixed order (so two callers can never wait on each other), or none. */
export async function acquireLocks(files: string[], opts: LockOptions = {}): Promise<AcquireResult[]> {
  const sorted = [...new Set(files.map((f) => path.resolve(f)))].sort();
  const held: AcquireResult[] = [];
  try {
    for (const f of sorted) held.push(await acquireLock(f, opts));
  } catch (e) {
    await releaseLocks(held);
    throw e;
  }
  return held;
}

export async function releaseLocks(locks: HeldLock[]): Promise<void> {
  for (const l of [...locks].reverse()) await l.release();
}
