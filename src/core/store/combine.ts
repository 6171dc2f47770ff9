import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { JsonFileSpec } from './jsonFile';
import { parseJsonc, stripBom, validateValue } from './jsonText';
import { ignoreStateDir, lockHolder, pidIsDead, SELF, stateDirOf, tryAcquireLock } from './lock';
import { detectFormatting, prettyJson, renderUpdate } from './render';

/**
 * Combined writes: many small changes to one file from many processes, each still "lock → re-read → change →
 * temp file → fsync → rename", but done in batches.
 *
 * An operation is a named, pure change (`operations[name](draft, input, ctx)`) that any Syncord process can
 * apply. The caller first writes it as an intent file in `.syncord/pending/<file>/` next to the data file, then
 * tries the file's lock. Whoever holds the lock drains every pending intent in order, applies them to the file
 * it re-read (or to its cached copy when the file's identity, size and times show nobody changed it since this
 * process wrote it), validates only what changed, renders appends as a text splice, writes one temp file,
 * fsyncs it and renames it over the file. Callers whose intent was done by another process take the result
 * without ever holding the lock.
 *
 * Each intent file is a short log: the intent line, then lines appended by lock holders. Before the rename the
 * holder appends a claim `{b: batch, t: temp, r|e: result}`; the claim counts once the temp file is gone (it
 * was renamed into place), or at once when the batch changed nothing (`t: null`). A holder that fails appends
 * `{a: batch}` (abort) before deleting its temp; a holder that dies leaves its temp, and the next lock holder
 * aborts those claims and applies the intents again. So a crash leaves the file old or new, and every intent is
 * applied exactly once or reported as not applied. A caller that gives up appends `{w: 1}` (withdraw); a claim
 * written after a withdraw is dropped by its holder before commit.
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

export interface SubmitOptions {
  /** How long to wait for a lock held by another process before giving up (default 10 s). */
  waitMs?: number;
}

const DEFAULT_WAIT_MS = 10_000;
/** A lock holder keeps combining while new intents arrive, for at most this long. */
const LEADER_MS = 300;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface IntentLine {
  op: string;
  input: unknown;
  now: string;
  pid: number;
  start: number;
}
interface ClaimLine {
  b: string;
  t: string | null;
  r?: unknown;
  e?: SerializedError;
}
interface SerializedError {
  syncord: boolean;
  code?: string;
  message: string;
  location?: { file: string; line?: number; column?: number };
}

function serializeError(e: unknown): SerializedError {
  if (e instanceof SyncordError) return { syncord: true, code: e.code, message: e.detail, location: e.location };
  return { syncord: false, message: e instanceof Error ? e.message : String(e) };
}

function deserializeError(s: SerializedError): Error {
  if (s.syncord) return new SyncordError(s.message, s.code as SyncordError['code'], s.location);
  return new Error(s.message);
}

export function spoolDirOf(file: string): string {
  return path.join(stateDirOf(file), 'pending', path.basename(file));
}

// ------------------------------------------------------------------------------------------ intent state

interface IntentState {
  /** The active claim: not aborted. */
  claim?: ClaimLine;
  /** Withdrawn while no claim was active. */
  withdrawn: boolean;
}

function parseLines(text: string): { intent?: IntentLine; rest: Record<string, unknown>[] } {
  const lines = text.split('\n');
  // Only complete lines (ending with a line break) count: a line being written is not read half.
  lines.pop();
  const out: Record<string, unknown>[] = [];
  let intent: IntentLine | undefined;
  for (let i = 0; i < lines.length; i++) {
    let v: unknown;
    try {
      v = JSON.parse(lines[i]);
    } catch {
      continue;
    }
    if (i === 0) intent = v as IntentLine;
    else out.push(v as Record<string, unknown>);
  }
  return { intent, rest: out };
}

function evaluate(rest: Record<string, unknown>[]): IntentState {
  let claim: ClaimLine | undefined;
  let withdrawn = false;
  for (const l of rest) {
    if (typeof l.a === 'string') {
      if (claim && claim.b === l.a) claim = undefined;
    } else if (typeof l.b === 'string') {
      if (!withdrawn) claim = l as unknown as ClaimLine;
    } else if (l.w) {
      if (!claim) withdrawn = true;
    }
  }
  return { claim, withdrawn };
}

const exists = (p: string) => {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
};

// ------------------------------------------------------------------------------------------ cached documents

interface Signature {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  mode: number;
}
const sameSig = (a: Signature, b: Signature) => a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;

interface TopEntry {
  key: string;
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

interface CachedDoc {
  sig: Signature;
  bom: boolean;
  text: string;
  /** Deep-frozen: drafts share its unchanged parts. */
  value: any;
  /** Where each top-level property is in `text`; undefined when the text is not plain JSON. */
  layout?: TopEntry[];
}

const docCache = new Map<string, CachedDoc>();

function statSig(file: string): Signature | undefined {
  try {
    const s = fs.statSync(file);
    return { ino: s.ino, size: s.size, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs, mode: s.mode & 0o7777 };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  if (Array.isArray(v)) for (const x of v) deepFreeze(x);
  else for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

/** The file's current content, from this process's cache when the file has not changed since. */
function loadDoc(spec: JsonFileSpec<unknown>, missingHint?: string): CachedDoc {
  const file = path.resolve(spec.file);
  const sig = statSig(file);
  if (!sig) {
    const hint = missingHint ?? spec.missingHint;
    throw new SyncordError(`${spec.file} does not exist${hint ? `; ${hint}` : ''}`, 'not-found', { file: spec.file });
  }
  const cached = docCache.get(file);
  if (cached && sameSig(cached.sig, sig)) return cached;
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new SyncordError(`could not read ${spec.file}: ${(e as Error).message}`, 'io', { file: spec.file });
  }
  // The signature after reading: a write in between shows up as a mismatch on the next batch, never as a stale cache.
  const after = statSig(file) ?? sig;
  const text = stripBom(raw);
  let value: unknown;
  let strict = true;
  try {
    value = JSON.parse(text);
  } catch {
    strict = false;
    value = parseJsonc(spec.file, text);
  }
  validateValue(spec.file, text, value, spec.schema);
  deepFreeze(value);
  const doc: CachedDoc = { sig: after, bom: raw.length !== text.length, text, value, layout: strict ? topLevelLayout(text) : undefined };
  if (sameSig(after, sig)) docCache.set(file, doc);
  else docCache.delete(file);
  return doc;
}

/** Drops this process's cached copies (tests; or after writing a file by other means). */
export function forgetCachedDocuments(): void {
  docCache.clear();
}

// ------------------------------------------------------------------------------------------ text layout

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

function skipWs(t: string, i: number): number {
  while (i < t.length && WS.has(t.charCodeAt(i))) i++;
  return i;
}

function endOfString(t: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const k = t.indexOf('"', j);
    if (k < 0) return -1;
    let bs = 0;
    for (let m = k - 1; t.charCodeAt(m) === 0x5c; m--) bs++;
    if (bs % 2 === 0) return k + 1;
    j = k + 1;
  }
}

function endOfValue(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return endOfString(t, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < t.length; j++) {
      const d = t.charCodeAt(j);
      if (d === 0x22) {
        j = endOfString(t, j) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < t.length && !WS.has(t.charCodeAt(j)) && !',}]'.includes(t[j])) j++;
  return j;
}

/** The top-level properties of a plain JSON object text, with offsets; undefined for anything else. */
export function topLevelLayout(t: string): TopEntry[] | undefined {
  let i = skipWs(t, 0);
  if (t[i] !== '{') return undefined;
  i = skipWs(t, i + 1);
  const out: TopEntry[] = [];
  if (t[i] === '}') return out;
  for (;;) {
    if (t[i] !== '"') return undefined;
    const keyEnd = endOfString(t, i);
    if (keyEnd < 0) return undefined;
    const key = JSON.parse(t.slice(i, keyEnd)) as string;
    const keyStart = i;
    i = skipWs(t, keyEnd);
    if (t[i] !== ':') return undefined;
    const valueStart = skipWs(t, i + 1);
    const valueEnd = endOfValue(t, valueStart);
    if (valueEnd < 0) return undefined;
    out.push({ key, keyStart, valueStart, valueEnd });
    i = skipWs(t, valueEnd);
    if (t[i] === ',') {
      i = skipWs(t, i + 1);
      continue;
    }
    if (t[i] === '}') return out;
    return undefined;
  }
}

function lineIndentAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, start + 64))![0];
}

/**
 * The new text when the only changes are elements appended to top-level arrays: each insertion is spliced in,
 * in the file's own indentation. Undefined when the change is anything else (the caller then renders in full).
 */
function renderAppends(doc: CachedDoc, appends: Map<string, unknown[]>): { text: string; layout: TopEntry[] } | undefined {
  const layout = doc.layout;
  if (!layout) return undefined;
  const text = doc.text;
  const fmt = detectFormatting(text.slice(0, 4096));
  const eol = fmt.eol ?? '\n';
  const unit = fmt.insertSpaces ? ' '.repeat(fmt.tabSize ?? 2) : '\t';
  const edits: { at: number; end: number; insert: string }[] = [];
  for (const [key, added] of appends) {
    // Arrays of plain values may print on one line: leave those to the full renderer.
    if (added.some((v) => v === null || typeof v !== 'object')) return undefined;
    const e = layout.find((x) => x.key === key);
    if (!e || text[e.valueStart] !== '[') return undefined;
    const close = e.valueEnd - 1;
    let j = close - 1;
    while (j > e.valueStart && WS.has(text.charCodeAt(j))) j--;
    const keyIndent = lineIndentAt(text, e.keyStart);
    if (j === e.valueStart) {
      const inner = keyIndent + unit;
      const body = added.map((v) => inner + prettyJson(v, unit, inner, eol)).join(`,${eol}`);
      edits.push({ at: e.valueStart, end: e.valueEnd, insert: `[${eol}${body}${eol}${keyIndent}]` });
    } else {
      if (!text.slice(e.valueStart, close).includes('\n')) return undefined;
      const inner = lineIndentAt(text, j);
      if (inner.length <= keyIndent.length) return undefined;
      edits.push({ at: j + 1, end: j + 1, insert: added.map((v) => `,${eol}${inner}${prettyJson(v, unit, inner, eol)}`).join('') });
    }
  }
  edits.sort((a, b) => a.at - b.at);
  let out = '';
  let pos = 0;
  for (const ed of edits) {
    out += text.slice(pos, ed.at) + ed.insert;
    pos = ed.end;
  }
  out += text.slice(pos);
  const shifted = layout.map((x) => {
    let delta = 0;
    let deltaEnd = 0;
    for (const ed of edits) {
      const d = ed.insert.length - (ed.end - ed.at);
      if (ed.at < x.keyStart) delta += d;
      if (ed.at < x.valueEnd) deltaEnd += d;
    }
    return { key: x.key, keyStart: x.keyStart + delta, valueStart: x.valueStart + delta, valueEnd: x.valueEnd + deltaEnd };
  });
  return { text: out, layout: shifted };
}

// ------------------------------------------------------------------------------------------ applying a batch

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
  doc: CachedDoc,
  batch: Pending[],
  fast: boolean,
  readOther: (key: string) => any,
): { draft: any; outcomes: Outcome[] } {
  const fresh = () => {
    if (!fast) return structuredClone(doc.value) as any;
    const d: Record<string, unknown> = { ...doc.value };
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
  const check = target.spec.schema.safeParse(value);
  return check.success ? undefined : (check.error.issues[0]?.message ?? 'invalid');
}

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
    let idle = 0;
    if (STATS) STATS.leads++;
    try {
      while (Date.now() - started < LEADER_MS) {
        let n = 0;
        const t0 = process.hrtime.bigint();
        try {
          n = runBatch(target);
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

function openIntent(p: string): number | undefined {
  try {
    return fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_APPEND);
  } catch {
    return undefined;
  }
}

function readFrom(fd: number, from: number): string {
  const size = fs.fstatSync(fd).size;
  if (size <= from) return '';
  const buf = Buffer.alloc(size - from);
  const n = fs.readSync(fd, buf, 0, buf.length, from);
  return buf.toString('utf8', 0, n);
}

/** Appends one line; returns its length in bytes. */
function append(fd: number, line: object): number {
  return fs.writeSync(fd, JSON.stringify(line) + '\n');
}

/** One batch under the lock: drain, apply, write, claim, commit. */
function runBatch<T>(target: CombinedFile<T>): number {
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
    if (name.endsWith('.tmp')) {
      const pid = Number(name.split('-')[0]);
      if (isDead(pid)) staleTemps.push(p);
      continue;
    }
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
      append(fd, { a: state.claim.b });
      staleTemps.push(state.claim.t);
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
    if (commitBatch(target, file, spool, pending)) for (const p of pending) committedHere.add(p.path);
  } finally {
    close(pending);
  }
  return pending.length;
}

/** Intents this process committed while holding the lock (it still holds it: nobody else changed them since). */
const committedHere = new Set<string>();
/** Recent answers to "is this process gone?", for a short while. */
const liveness = new Map<number, { dead: boolean; at: number }>();

/** Applies and commits one batch; true when every intent got its final result (false: aborted, to run again). */
function commitBatch<T>(target: CombinedFile<T>, file: string, spool: string, pending: Pending[]): boolean {
  const batchId = `${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const claimBytes: number[] = [];
  const claimAll = (t: string | null, outcomes: Outcome[]) =>
    pending.forEach((p, i) => {
      claimBytes[i] = append(p.fd, { b: batchId, t, ...(outcomes[i].error ? { e: outcomes[i].error } : { r: outcomes[i].result }) });
    });
  const abortAll = () => pending.forEach((p) => append(p.fd, { a: batchId }));

  let doc: CachedDoc;
  try {
    doc = loadDoc(target.spec);
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
      otherCache.set(key, loadDoc(spec).value);
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

  const temp = path.join(spool, `${process.pid}-${batchId}.tmp`);
  try {
    const fd = fs.openSync(temp, 'wx', doc.sig.mode);
    try {
      fs.writeSync(fd, doc.bom ? '\ufeff' + text : text);
      fs.fsyncSync(fd);
      if ((fs.fstatSync(fd).mode & 0o7777) !== doc.sig.mode) fs.fchmodSync(fd, doc.sig.mode);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    fs.rmSync(temp, { force: true });
    const err = new SyncordError(`could not write ${target.spec.file}: ${(e as Error).message}; the file was not changed`, 'io', { file: target.spec.file });
    claimAll(
      null,
      pending.map(() => ({ error: serializeError(err) })),
    );
    return true;
  }
  claimAll(temp, outcomes);
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
  // Someone edited the file without the lock while we worked: apply everything again to the new content.
  const now = statSig(file);
  if (withdrawnMeanwhile || !now || !sameSig(now, doc.sig)) {
    abortAll();
    fs.rmSync(temp, { force: true });
    return false;
  }
  try {
    fs.renameSync(temp, file);
  } catch (e) {
    abortAll();
    fs.rmSync(temp, { force: true });
    const err = new SyncordError(`could not replace ${target.spec.file}: ${(e as Error).message}; the file was not changed`, 'io', { file: target.spec.file });
    claimAll(
      null,
      pending.map(() => ({ error: serializeError(err) })),
    );
    return true;
  }
  const sig = statSig(file);
  if (sig) {
    deepFreeze(draft);
    docCache.set(file, { sig, bom: doc.bom, text, value: draft, layout: layout ?? (doc.layout ? topLevelLayout(text) : undefined) });
  } else docCache.delete(file);
  return true;
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
