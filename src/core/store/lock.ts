import * as path from 'path';
import * as lockfile from 'proper-lockfile';
import { SyncordError } from '../errors';

export interface LockOptions {
  /** How long to wait for a lock another process holds, in ms (default 10 s). */
  waitMs?: number;
  /** A lock whose holder stopped refreshing it for this long is considered abandoned and taken over (default 10 s). */
  staleMs?: number;
}

export const DEFAULT_LOCK_WAIT_MS = 10_000;
const DEFAULT_STALE_MS = 10_000;

/** A held lock. `compromised` turns true when the lock was lost (taken over or removed) while held. */
export interface HeldLock {
  readonly file: string;
  readonly compromised: boolean;
  release(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The lock of `file` is the directory `file.lock` next to it. */
export function lockPathOf(file: string): string {
  return `${file}.lock`;
}

/**
 * Takes the lock of one file, waiting up to `waitMs` while another process (or another operation in this one)
 * holds it. Works whether or not the file exists yet; its folder must exist.
 */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<HeldLock> {
  const waitMs = opts.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const staleMs = Math.max(opts.staleMs ?? DEFAULT_STALE_MS, 2000);
  const deadline = Date.now() + waitMs;
  let delay = 5;
  let compromised = false;
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        realpath: false,
        lockfilePath: lockPathOf(file),
        stale: staleMs,
        update: Math.floor(staleMs / 2),
        retries: 0,
        onCompromised: () => {
          compromised = true;
        },
      });
      return {
        file,
        get compromised() {
          return compromised;
        },
        async release() {
          try {
            await release();
          } catch {
            // Already released or taken over: nothing left to undo.
          }
        },
      };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new SyncordError(`folder ${path.dirname(file)} does not exist`, 'not-found', { file: path.dirname(file) });
      }
      if (code !== 'ELOCKED') {
        throw new SyncordError(`could not lock ${file}: ${(e as Error).message}`, 'io', { file });
      }
      if (Date.now() >= deadline) {
        throw new SyncordError(
          `${path.basename(file)} is locked by another Syncord operation that has held it for over ${Math.round(waitMs / 100) / 10}s; ` +
            `try again, or remove ${lockPathOf(file)} if no Syncord process is running`,
          'lock-timeout',
          { file },
        );
      }
      await sleep(Math.min(delay, Math.max(1, deadline - Date.now())) + Math.random() * delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

/** Takes the locks of several files in a fixed order (so two callers can never wait on each other), or none. */
export async function acquireLocks(files: string[], opts: LockOptions = {}): Promise<HeldLock[]> {
  const sorted = [...new Set(files.map((f) => path.resolve(f)))].sort();
  const held: HeldLock[] = [];
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
