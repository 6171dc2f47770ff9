import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { ChangedOnDiskError, flushFile, parseTempName, prepareWrite } from './atomic';
import { conforms, JsonFileSpec, readCached, rememberWritten, StoredDocument } from './documents';
import { appendLine, evaluate, exists, IntentLine, openIntent, parseLines, readFrom, serializeError, SerializedError } from './intents';
import { spoolDirOf } from '../workspace';
import { pidIsDead } from './lock';
import { TopEntry, topLevelLayout } from './jsonText';
import { renderAppends, renderUpdate } from './render';

/**
 * One batch of combined writes, run by the lock holder: drain the pending intents, apply them to the file's
 * current content, refuse the ones whose result would not match the schema, claim them all, then replace the
 * file (identity checked right before the rename) — or abort the claims so the intents run again.
 */

export interface CombineContext {
  /** The operation's time as its caller gave it (ISO). */
  now: string;
  /** Another file's current value, read without its lock (files are replaced whole, so reads are consistent). */
  read(key: string): any;
}

export type CombinedOperation<T> = (draft: T, input: any, ctx: CombineContext) => unknown;

/** A file written through combined operations, and the operations any process may apply to it. */
export interface CombinedFile<T> {
  spec: JsonFileSpec<T>;
  /** Files operations read (not locked, not written). */
  reads?: Record<string, JsonFileSpec<any>>;
  operations: Record<string, CombinedOperation<T>>;
}

interface Pending {
  name: string;
  path: string;
  fd: number;
  /** Bytes of the intent file read before our claim was appended. */
  readSize: number;
  intent: IntentLine;
}

interface Outcome {
  result?: unknown;
  error?: SerializedError;
}

class FrozenWrite extends Error {}

/** Applies the batch to a draft. `fast`: the draft shares the cached value's frozen parts. */
function applyBatch<T>(
  target: CombinedFile<T>,
  doc: StoredDocument<unknown>,
  batch: Pending[],
  fast: boolean,
  readOther: (key: string) => any,
): { draft: any; outcomes: Outcome[] } {
  const fresh = () => {
    if (!fast) return structuredClone(doc.value) as any;
    const d: Record<string, unknown> = { ...(doc.value as Record<string, unknown>) };
    for (const k of Object.keys(d)) if (Array.isArray(d[k])) d[k] = (d[k] as unknown[]).slice();
    return d;
  };
  let draft = fresh();
  const outcomes: Outcome[] = [];
  const ok: number[] = [];
  const run = (i: number) => {
    const p = batch[i];
    const fn = target.operations[p.intent.op];
    const r = fn(draft, p.intent.input, { now: p.intent.now, read: readOther });
    // Results travel as JSON.
    return r === undefined ? null : JSON.parse(JSON.stringify(r));
  };
  for (let i = 0; i < batch.length; i++) {
    try {
      outcomes[i] = { result: run(i) };
      ok.push(i);
    } catch (e) {
      if (fast && !(e instanceof SyncordError)) throw new FrozenWrite();
      outcomes[i] = { error: serializeError(e) };
      // The failed operation may have changed the draft halfway: rebuild it from the successful ones.
      draft = fresh();
      for (const j of ok) run(j);
    }
  }
  return { draft, outcomes };
}

function schemaIssue(target: CombinedFile<unknown>, value: unknown): string | undefined {
  if (conforms(target.spec, value)) return undefined;
  const check = target.spec.schema.safeParse(value);
  return check.success ? undefined : (check.error.issues[0]?.message ?? 'invalid');
}

/** Whether `temp` is a temporary file the atomic writer made for `file` (beside it, named for it). */
function isTempOf(file: string, temp: unknown): temp is string {
  return typeof temp === 'string' && path.dirname(temp) === path.dirname(file) && parseTempName(path.basename(temp))?.target === path.basename(file);
}

/** One batch under the lock: drain, apply, write, claim, commit. */
export async function runBatch<T>(target: CombinedFile<T>): Promise<number> {
  const file = path.resolve(target.spec.file);
  const spool = spoolDirOf(file);
  let names: string[];
  try {
    names = fs.readdirSync(spool).sort();
  } catch {
    return 0;
  }
  const pending: Pending[] = [];
  const staleTemps: string[] = [];
  const seenCommitted = new Set<string>();
  const isDead = (pid: number, start = 0) => {
    if (pid === process.pid) return false;
    const known = liveness.get(pid);
    if (known && Date.now() - known.at < 200) return known.dead;
    const dead = pidIsDead(pid, start);
    liveness.set(pid, { dead, at: Date.now() });
    return dead;
  };
  const close = (ps: Pending[]) => ps.forEach((p) => fs.closeSync(p.fd));
  for (const name of names) {
    const p = path.join(spool, name);
    if (!name.endsWith('.op')) continue;
    // Done by this process in an earlier batch and not yet collected by its caller: nothing to read.
    if (committedHere.has(p)) {
      seenCommitted.add(p);
      continue;
    }
    const fd = openIntent(p);
    if (fd === undefined) continue;
    const text = readFrom(fd, 0);
    const { intent, rest } = parseLines(text);
    if (!intent) {
      fs.closeSync(fd);
      continue;
    }
    let state = evaluate(rest);
    if (state.claim && state.claim.t !== null && exists(state.claim.t)) {
      // A claim whose temp file was never renamed: its holder died (we hold the lock now). Not applied.
      appendLine(fd, { a: state.claim.b });
      // The path comes from a file anyone can write: only a temporary file made for this very file is removed.
      if (isTempOf(file, state.claim.t)) staleTemps.push(state.claim.t);
      state = { withdrawn: false };
    }
    const dead = isDead(intent.pid, intent.start);
    if (state.claim || state.withdrawn || dead || !target.operations[intent.op]) {
      fs.closeSync(fd);
      // Done or given up, and nobody left to read it.
      if (dead) fs.rmSync(p, { force: true });
      continue;
    }
    pending.push({ name, path: p, fd, readSize: Buffer.byteLength(text), intent });
  }
  for (const t of staleTemps) fs.rmSync(t, { force: true });
  for (const p of committedHere) if (!seenCommitted.has(p)) committedHere.delete(p);
  if (!pending.length) return 0;

  try {
    if (await commitBatch(target, file, pending)) for (const p of pending) committedHere.add(p.path);
  } finally {
    close(pending);
  }
  return pending.length;
}

/** Intents this process committed while holding the lock (it still holds it: nobody else changed them since). */
export const committedHere = new Set<string>();
/** Recent answers to "is this process gone?", for a short while. */
const liveness = new Map<number, { dead: boolean; at: number }>();

/** Applies and commits one batch; true when every intent got its final result (false: aborted, to run again). */
async function commitBatch<T>(target: CombinedFile<T>, file: string, pending: Pending[]): Promise<boolean> {
  const batchId = `${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const claimBytes: number[] = [];
  const claimAll = (t: string | null, outcomes: Outcome[]) =>
    pending.forEach((p, i) => {
      claimBytes[i] = appendLine(p.fd, { b: batchId, t, ...(outcomes[i].error ? { e: outcomes[i].error } : { r: outcomes[i].result }) });
    });
  const abortAll = () => pending.forEach((p) => appendLine(p.fd, { a: batchId }));

  let doc: StoredDocument<unknown>;
  try {
    doc = readCached(target.spec);
  } catch (e) {
    // The file is missing or broken: every operation fails with that error and nothing is written.
    claimAll(
      null,
      pending.map(() => ({ error: serializeError(e) })),
    );
    return true;
  }
  const otherCache = new Map<string, unknown>();
  const readOther = (key: string) => {
    if (!otherCache.has(key)) {
      const spec = target.reads?.[key];
      if (!spec) throw new Error(`no file "${key}" is declared for reading`);
      otherCache.set(key, readCached(spec).value);
    }
    return otherCache.get(key);
  };

  let applied: { draft: any; outcomes: Outcome[] };
  let fast = true;
  try {
    applied = applyBatch(target, doc, pending, true, readOther);
  } catch (e) {
    if (!(e instanceof FrozenWrite)) throw e;
    fast = false;
    applied = applyBatch(target, doc, pending, false, readOther);
  }
  let { draft, outcomes } = applied;

  // What changed: in the fast case, elements appended to top-level arrays are recognized by identity.
  let appends: Map<string, unknown[]> | undefined;
  let changed = true;
  if (fast) {
    appends = new Map();
    const base = doc.value as Record<string, unknown>;
    const keys = new Set([...Object.keys(base), ...Object.keys(draft)]);
    let onlyAppends = Object.keys(base).join('\u0000') === Object.keys(draft).join('\u0000');
    for (const k of keys) {
      const a = base[k];
      const b = draft[k];
      if (a === b) continue;
      if (Array.isArray(a) && Array.isArray(b)) {
        let same = a.length <= b.length;
        for (let i = 0; same && i < a.length; i++) if (a[i] !== b[i]) same = false;
        if (same) {
          if (b.length > a.length) appends.set(k, b.slice(a.length));
          continue;
        }
      }
      onlyAppends = false;
    }
    if (!onlyAppends) appends = undefined;
    else changed = appends.size > 0;
  }

  // Validate: the new elements only when they are all that changed (the rest was validated when read).
  if (changed) {
    let subject = draft;
    if (appends) {
      subject = { ...draft };
      for (const k of Object.keys(subject)) if (Array.isArray(subject[k])) subject[k] = appends.get(k) ?? [];
    }
    if (schemaIssue(target as CombinedFile<unknown>, subject) !== undefined) {
      // Find the operations at fault, one by one, and refuse only those.
      const good: Pending[] = [];
      const refused = new Map<Pending, Outcome>();
      for (const p of pending) {
        const trial = applyBatch(target, doc, [...good, p], false, readOther);
        const issue = trial.outcomes[good.length].error ? undefined : schemaIssue(target as CombinedFile<unknown>, trial.draft);
        if (issue === undefined) good.push(p);
        else refused.set(p, { error: serializeError(new Error(`refusing to write ${target.spec.file}: the change would not match its schema (${issue})`)) });
      }
      const redo = applyBatch(target, doc, good, false, readOther);
      draft = redo.draft;
      outcomes = pending.map((p) => refused.get(p) ?? redo.outcomes[good.indexOf(p)]);
      appends = undefined;
      changed = true;
    }
  }

  let text: string | undefined;
  let layout: TopEntry[] | undefined;
  if (changed) {
    const spliced = appends ? renderAppends(doc, appends) : undefined;
    if (spliced) {
      text = spliced.text;
      layout = spliced.layout;
    } else {
      text = renderUpdate(doc.text, doc.value, draft);
      if (text === doc.text) text = undefined;
    }
  }
  if (text === undefined) {
    claimAll(null, outcomes);
    return true;
  }

  let write;
  try {
    // Flushed on the thread pool: meanwhile this process takes further changes, which the next batch combines.
    write = prepareWrite(file, doc.bom ? '\ufeff' + text : text, { expect: doc.identity, fsync: false });
    try {
      await flushFile(write.temp);
    } catch (e) {
      write.abort();
      throw new SyncordError(`could not write ${file}: ${(e as Error).message}; the file was not changed`, 'io', { file });
    }
  } catch (e) {
    claimAll(
      null,
      pending.map(() => ({ error: serializeError(e) })),
    );
    return true;
  }
  claimAll(write.temp, outcomes);
  // A caller may have withdrawn just before our claim: then nothing of this batch is committed; the others
  // are applied again in the next batch.
  const withdrawnMeanwhile = pending.some((p, i) => {
    // Usually nothing but our claim was appended since we read the intent: its size tells.
    if (fs.fstatSync(p.fd).size === p.readSize + claimBytes[i]) return false;
    const { rest } = parseLines('x\n' + readFrom(p.fd, p.readSize));
    for (const l of rest) {
      if (l.w) return true;
      if (l.b === batchId) return false;
    }
    return false;
  });
  if (withdrawnMeanwhile) {
    abortAll();
    write.abort();
    return false;
  }
  let identity;
  try {
    identity = write.commit();
  } catch (e) {
    abortAll();
    // Someone edited the file without the lock while we worked: apply everything again to the new content.
    if (e instanceof ChangedOnDiskError) return false;
    claimAll(
      null,
      pending.map(() => ({ error: serializeError(e) })),
    );
    return true;
  }
  rememberWritten({ file: doc.file, text, value: draft, identity, bom: doc.bom, layout: layout ?? (doc.layout ? topLevelLayout(file, text) : undefined) });
  return true;
}

