import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { removeDeadTemps } from './atomic';
import { CombinedFile, committedHere, runBatch } from './batch';
import { ClaimLine, deserializeError, evaluate, exists, IntentLine, parseLines } from './intents';
import { spoolDirOf, stateDirOf } from '../workspace';
import { ignoreStateDir, lockHolder, SELF, tryAcquireLock } from './lock';

export type { CombineContext, CombinedFile, CombinedOperation } from './batch';

/**
 * Combined writes: many small changes to one file from many processes, each still "lock → re-read → change →
 * temp file → fsync → rename", but done in batches.
 *
 * An operation is a named, pure change (`operations[name](draft, input, ctx)`) that any Syncord process can
 * apply. The caller first writes it as an intent file in `.syncord/pending/<file>/` next to the data file, then
 * tries the file's lock. Whoever holds the lock drains every pending intent in order, applies them to the file
 * it re-read (or to its cached copy when the file's identity, size and times show nobody changed it since this
 * process wrote it), validates only what changed, renders appends as a text splice, writes one temp file,
 * fsyncs it and renames it over the file unless someone changed the file since it was read (then the batch
 * runs again on the new content). Callers whose intent was done by another process take the result without
 * ever holding the lock. This file holds the submitting side and the lock holder's loop; one batch is in
 * batch.ts, the intent files' format in intents.ts.
 *
 * Each intent file is a short log: the intent line, then lines appended by lock holders. Before the rename the
 * holder appends a claim `{b: batch, t: temp, r|e: result}`; the claim counts once the temp file is gone (it
 * was renamed into place), or at once when the batch changed nothing (`t: null`). A holder that fails appends
 * `{a: batch}` (abort) before deleting its temp; a holder that dies leaves its temp, and the next lock holder
 * aborts those claims and applies the intents again. So a crash leaves the file old or new, and every intent is
 * applied exactly once or reported as not applied. A caller that gives up appends `{w: 1}` (withdraw); a claim
 * written after a withdraw is dropped by its holder before commit.
 */

export interface SubmitOptions {
  /** How long to wait for a lock held by another process before giving up (default 10 s). */
  waitMs?: number;
}

const DEFAULT_WAIT_MS = 10_000;
/** A lock holder keeps combining while new intents arrive, for at most this long. */
const LEADER_MS = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Files this process is currently applying batches to (it holds their locks), and who waits for a batch. */
const leading = new Map<string, Promise<void>>();
const batchWaiters = new Set<() => void>();

function wakeWaiters(): void {
  for (const w of [...batchWaiters]) w();
  batchWaiters.clear();
}

/**
 * Applies batches while intents keep arriving, then releases the lock. It runs beside the operation that took
 * the lock, so that operation (and the next ones of this process) go on while it works.
 */
function lead<T>(target: CombinedFile<T>, file: string, release: () => Promise<void>): void {
  const run = async () => {
    const started = Date.now();
    // Temporary files of a lock holder that died before renaming them.
    removeDeadTemps(path.dirname(file));
    let idle = 0;
    if (STATS) STATS.leads++;
    try {
      while (Date.now() - started < LEADER_MS) {
        let n = 0;
        const t0 = process.hrtime.bigint();
        try {
          n = await runBatch(target);
        } finally {
          if (STATS) {
            STATS.rounds++;
            if (n) {
              STATS.batches++;
              STATS.intents += n;
              STATS.ms += Number(process.hrtime.bigint() - t0) / 1e6;
            }
          }
          wakeWaiters();
        }
        if (n > 0) idle = 0;
        // Other processes queue their next change a few ms after seeing their result: wait that long for it.
        else if (++idle > IDLE_ROUNDS) break;
        await sleep(n > 0 ? 0 : 1);
      }
    } catch {
      // A failing batch records its error in every intent it took; nothing more to report here.
    } finally {
      for (const p of committedHere) if (path.dirname(p) === spoolDirOf(file)) committedHere.delete(p);
      await release();
      leading.delete(file);
      wakeWaiters();
    }
  };
  leading.set(file, run());
}

const IDLE_ROUNDS = 4;

/** SYNCORD_COMBINE_STATS=1: print how batches went when the process exits (for the benchmark). */
const STATS = process.env.SYNCORD_COMBINE_STATS ? { rounds: 0, batches: 0, intents: 0, ms: 0, leads: 0 } : undefined;
if (STATS) {
  process.on('exit', () => {
    if (STATS.batches) {
      process.stderr.write(
        `combine: ${STATS.leads} leads, ${STATS.batches} batches of ${(STATS.intents / STATS.batches).toFixed(1)} on average, ${(STATS.ms / STATS.batches).toFixed(1)} ms each\n`,
      );
    }
  });
}

// ------------------------------------------------------------------------------------------ submitting

let seq = 0;
const preparedSpools = new Set<string>();

function prepareSpool(file: string): string {
  const spool = spoolDirOf(file);
  if (preparedSpools.has(spool)) return spool;
  const state = stateDirOf(file);
  try {
    fs.mkdirSync(state);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SyncordError(`folder ${path.dirname(file)} does not exist`, 'not-found', { file: path.dirname(file) });
    if (code !== 'EEXIST') throw new SyncordError(`could not create ${state}: ${(e as Error).message}`, 'io', { file: state });
  }
  ignoreStateDir(state);
  fs.mkdirSync(spool, { recursive: true });
  preparedSpools.add(spool);
  return spool;
}

/**
 * Applies operation `op` with `input` to the file, combined with whatever other processes submit at the same
 * time, and returns its result (or throws its error). `now` is the operation's time as written into the file.
 */
export async function submitOperation<T>(target: CombinedFile<T>, op: string, input: unknown, now: string, opts: SubmitOptions = {}): Promise<unknown> {
  if (!target.operations[op]) throw new Error(`unknown operation ${op}`);
  const file = path.resolve(target.spec.file);
  const spool = prepareSpool(file);
  const name = `${Date.now().toString().padStart(15, '0')}-${String(seq++).padStart(6, '0')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.op`;
  const intentPath = path.join(spool, name);
  const line: IntentLine = { op, input, now, pid: SELF.pid, start: SELF.start };
  try {
    fs.writeFileSync(intentPath, JSON.stringify(line) + '\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      preparedSpools.delete(spool);
      return submitOperation(target, op, input, now, opts);
    }
    throw new SyncordError(`could not queue the change to ${target.spec.file}: ${(e as Error).message}`, 'io', { file: target.spec.file });
  }
  const waitMs = opts.waitMs ?? DEFAULT_WAIT_MS;
  let deadline = Date.now() + waitMs;
  let withdrawing = false;
  let lastSize = -1;
  let delay = 0.5;
  const finish = (c: ClaimLine): unknown => {
    fs.rmSync(intentPath, { force: true });
    if (c.e) throw deserializeError(c.e);
    return c.r;
  };
  for (;;) {
    // 1. Has a lock holder done it?
    let size = -1;
    try {
      size = fs.statSync(intentPath).size;
    } catch {
      throw new SyncordError(`the queued change to ${target.spec.file} was removed by someone else; it may or may not have been applied`, 'conflict', {
        file: target.spec.file,
      });
    }
    if (size !== lastSize) {
      lastSize = size;
      const state = evaluate(parseLines(fs.readFileSync(intentPath, 'utf8')).rest);
      if (state.claim) {
        const c = state.claim;
        if (c.t === null || !exists(c.t)) {
          // Renamed into place, unless an abort was appended just before the temp was removed: read again.
          const again = evaluate(parseLines(fs.readFileSync(intentPath, 'utf8')).rest);
          if (again.claim && again.claim.b === c.b) return finish(c);
          lastSize = -1;
          continue;
        }
        // Claimed, not yet renamed into place: the file's size will not tell when it is, so look again next time.
        lastSize = -1;
      } else if (state.withdrawn) {
        fs.rmSync(intentPath, { force: true });
        throw lockTimeout(target as CombinedFile<unknown>, waitMs);
      } else if (withdrawing) {
        // Our withdraw came while a claim was active, which was then aborted: withdraw again.
        fs.appendFileSync(intentPath, JSON.stringify({ w: 1 }) + '\n');
        lastSize = -1;
        continue;
      }
    }
    // 2. Try to become the one who applies pending intents (unless this process already is).
    if (!withdrawing) {
      const lock = leading.has(file) ? undefined : await tryAcquireLock(file);
      if (lock) {
        lead(target, file, () => lock.release());
        lastSize = -1;
        delay = 0.5;
        await waitForBatch(0);
        continue;
      }
      if (Date.now() > deadline && !leading.has(file)) {
        withdrawing = true;
        fs.appendFileSync(intentPath, JSON.stringify({ w: 1 }) + '\n');
        lastSize = -1;
        // A claim made before the withdraw is still awaited, for one more bounded wait.
        deadline = Date.now() + waitMs;
        continue;
      }
    } else if (Date.now() > deadline) {
      throw new SyncordError(
        `gave up waiting for the change to ${target.spec.file}: it was taken up by another process that has not finished; check the file before retrying`,
        'lock-timeout',
        { file: target.spec.file },
      );
    }
    // Results come within milliseconds: poll quickly (woken at once when this process applied the batch).
    await waitForBatch(delay);
    delay = Math.min(delay * 1.5, 2);
  }
}

/** Sleeps `ms`, or less when a batch of this process finishes first. */
function waitForBatch(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      batchWaiters.delete(done);
      resolve();
    };
    const t = setTimeout(done, ms);
    batchWaiters.add(done);
  });
}

function lockTimeout(target: CombinedFile<unknown>, waitMs: number): SyncordError {
  const h = lockHolder(target.spec.file);
  const who = h ? ` (process ${h.pid}${h.host !== SELF.host ? ` on ${h.host}` : ''})` : '';
  return new SyncordError(
    `${path.basename(target.spec.file)} is locked by another Syncord operation${who} that has held it for over ${Math.round(waitMs / 100) / 10}s; ` +
      `try again, or remove ${target.spec.file}.lock if that process is no longer running`,
    'lock-timeout',
    { file: target.spec.file },
  );
}

