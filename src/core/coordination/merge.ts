import { jsonEqual } from '../store/render';
import { JsonPath } from '../store/jsonText';
import { nextId } from './ids';
import { FieldConflict, MergeConflict } from './schemas';
import { TASK_LISTS, TaskList } from './tasks';

/**
 * Merging two versions of a coordination file by record, against the version they both started from (a
 * three-way merge, as git's merge driver gets it). Pure functions of parsed values:
 * - every record either side added is kept; an id both sides created since the base for different records
 *   (both wrote `msg_012`) is renumbered on *theirs* side to the next free id, and every reference to it in
 *   theirs' files is rewritten (`renumbering` + `applyRenames`, which the other files' merges share);
 * - a record both sides changed is merged field by field; lists of plain values (acknowledgements,
 *   dependencies) are merged as sets, lists of records (deliveries, decision input) record by record;
 * - what cannot be merged (the same field changed to two different values) keeps ours and is returned as a
 *   conflict, which the caller records in the file's `merge_conflicts` (see mergeConflicts.ts).
 * Order is kept as the store writes it: messages by time, tasks in the list their status belongs to.
 */

/** The files merged by record, by file name. */
export const MERGE_KINDS = {
  'instance-registry.json': 'registry',
  'task-queue.json': 'tasks',
  'communication-log.json': 'messages',
  'decisions.json': 'decisions',
  'sessions.json': 'sessions',
} as const;
export type MergeKind = (typeof MERGE_KINDS)[keyof typeof MERGE_KINDS];

export function mergeKindOf(fileName: string): MergeKind | undefined {
  return Object.prototype.hasOwnProperty.call(MERGE_KINDS, fileName) ? MERGE_KINDS[fileName as keyof typeof MERGE_KINDS] : undefined;
}

/** The id series each file numbers: tasks, messages, decisions. */
const SERIES: Partial<Record<MergeKind, string>> = { tasks: 'task', messages: 'msg', decisions: 'dec' };

// ------------------------------------------------------------------------------------------ helpers

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPlain = (v: unknown) => v === null || typeof v !== 'object';
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const timeOf = (v: unknown): number | undefined => {
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? undefined : t;
};

// ------------------------------------------------------------------------------------------ renumbering

/** The records of a file by id (the ids each file gives out). */
function recordsOf(kind: MergeKind, v: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isObj(v)) return out;
  const put = (list: unknown, key: string) => {
    for (const r of arr(list)) if (isObj(r) && typeof r[key] === 'string' && !out.has(r[key] as string)) out.set(r[key] as string, r);
  };
  if (kind === 'tasks') for (const l of TASK_LISTS) put(v[l], 'task_id');
  if (kind === 'messages') put(v.messages, 'message_id');
  if (kind === 'decisions') {
    put(v.decisions, 'decision_id');
    put(v.pending_decisions, 'decision_id');
  }
  return out;
}

/** The ids of the records `theirs` has and `base` has not. */
export function newRecordIds(kind: MergeKind, base: unknown, theirs: unknown): string[] {
  const b = recordsOf(kind, base);
  return [...recordsOf(kind, theirs).keys()].filter((id) => !b.has(id));
}

/** What stays the same in a record whatever happens to it: when it was made, and by whom or what. */
function fingerprint(kind: MergeKind, r: unknown): string | undefined {
  if (!isObj(r)) return undefined;
  const pick = (time: unknown, ...rest: unknown[]) => (typeof time === 'string' ? JSON.stringify([time, ...rest]) : undefined);
  if (kind === 'tasks') return pick(r.created, r.title);
  if (kind === 'messages') return pick(r.timestamp, r.from, r.subject);
  if (kind === 'decisions') return pick(r.created ?? r.date, r.title);
  return undefined;
}

/** How ids change on the way from the base and theirs to the merged file. */
export interface Renumbering {
  /**
   * Base records ours now keeps under another id (ours was renumbered by an earlier merge, as when a rebase
   * replays several commits): old → new, for the base and theirs alike.
   */
  base: Map<string, string>;
  /** Everything to rename in theirs: `base`, and theirs' new records whose id ours already uses. */
  theirs: Map<string, string>;
}

/**
 * Theirs' ids to renumber: ids both sides created since the base for different records. Each gets the next id
 * of its series that neither side uses, in theirs' order. Empty for files that number nothing.
 */
export function renumbering(kind: MergeKind, base: unknown, ours: unknown, theirs: unknown): Renumbering {
  const prefix = SERIES[kind];
  const out: Renumbering = { base: new Map(), theirs: new Map() };
  if (!prefix) return out;
  const b = recordsOf(kind, base);
  const o = recordsOf(kind, ours);
  const t = recordsOf(kind, theirs);
  // Base records that ours holds under another id (same fingerprint).
  const oursByPrint = new Map<string, string>();
  for (const [id, rec] of o) {
    const fp = fingerprint(kind, rec);
    if (fp !== undefined && !oursByPrint.has(fp)) oursByPrint.set(fp, id);
  }
  for (const [id, rec] of b) {
    const fp = fingerprint(kind, rec);
    if (fp === undefined || fingerprint(kind, o.get(id)) === fp) continue;
    const moved = oursByPrint.get(fp);
    if (moved !== undefined && moved !== id) out.base.set(id, moved);
  }
  const taken = new Set(out.base.values());
  const same = (x: unknown, y: unknown) => jsonEqual(x, y) || (fingerprint(kind, x) !== undefined && fingerprint(kind, x) === fingerprint(kind, y));
  const fresh: string[] = [];
  for (const [id, rec] of t) {
    if (b.has(id)) {
      const moved = out.base.get(id);
      if (moved) out.theirs.set(id, moved);
    } else if (taken.has(id) || (o.has(id) && !same(o.get(id), rec))) fresh.push(id);
  }
  if (!fresh.length) return out;
  // From theirs' first colliding id on, theirs' new records follow ours' in their own order (a reply stays after
  // its question), each with the next id neither side uses.
  const series = new RegExp(`^${prefix}_(\\d+)$`);
  const num = (id: string) => Number(series.exec(id)?.[1] ?? NaN);
  const from = Math.min(...fresh.map(num).filter((n) => !Number.isNaN(n)));
  const freshSet = new Set(fresh);
  const moving = [...t.keys()].filter((id) => !b.has(id) && (freshSet.has(id) || num(id) >= from));
  moving.sort((x, y) => (num(x) || 0) - (num(y) || 0));
  const movingSet = new Set(moving);
  const used = new Set([...b.keys(), ...o.keys(), ...[...t.keys()].filter((id) => !movingSet.has(id))]);
  for (const id of moving) {
    const next = nextId(prefix, used);
    used.add(next);
    out.theirs.set(id, next);
  }
  return out;
}

/** Fields of prose that may name an id ("see task_007"): rewritten in records theirs created. */
const PROSE = new Set(['subject', 'message', 'title', 'description', 'rationale', 'decision', 'notes', 'completion_note', 'blocked_reason', 'comment', 'reason']);

function wordRegex(renames: Map<string, string>): RegExp | undefined {
  if (!renames.size) return undefined;
  const alts = [...renames.keys()].sort((a, b) => b.length - a.length).map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`(?<![A-Za-z0-9_])(${alts.join('|')})(?![A-Za-z0-9_])`, 'g');
}

/**
 * Theirs' value with every renumbered id replaced: every string that is exactly a renamed id (task_id,
 * dependencies, in_reply_to, related_task, response_id, superseded_by, current_task, a session's queue...), and
 * ids named in the prose of records that are not in the base (`newIds`).
 */
export function applyRenames(value: unknown, renames: Map<string, string>, newIds: ReadonlySet<string> = new Set()): unknown {
  if (!renames.size) return value;
  const re = wordRegex(renames)!;
  const walk = (v: unknown, prose: boolean, key?: string): unknown => {
    if (typeof v === 'string') {
      const exact = renames.get(v);
      if (exact) return exact;
      return prose && key !== undefined && PROSE.has(key) ? v.replace(re, (m) => renames.get(m) ?? m) : v;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, prose, key));
    if (isObj(v)) {
      const id = str(v.task_id) ?? str(v.message_id) ?? str(v.decision_id);
      const p = prose || (id !== undefined && newIds.has(id));
      const out: Obj = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, p, k);
      return out;
    }
    return v;
  };
  return walk(value, false);
}

/** Whether a value holds a string that is exactly one of `ids`. */
export function mentionsAny(value: unknown, ids: ReadonlySet<string>): boolean {
  if (typeof value === 'string') return ids.has(value);
  if (Array.isArray(value)) return value.some((x) => mentionsAny(x, ids));
  if (isObj(value)) return Object.values(value).some((x) => mentionsAny(x, ids));
  return false;
}

// ------------------------------------------------------------------------------------------ three-way merge of values

type Side = 'ours' | 'theirs';

/** How the records of one collection merge. */
interface Policy {
  /** Fields whose value is one thing even when it is a list: a change on both sides is a conflict. */
  atomic?: ReadonlySet<string>;
  /** Lists of records inside a record, by field name, and the field that names each element. */
  keys?: Readonly<Record<string, string>>;
  /** Elements of these lists (field name → time field) that both sides changed: the newer one wins whole. */
  newer?: Readonly<Record<string, string>>;
  /** A field both sides changed that can be settled without asking (a status that moves one way, a time). */
  settle?: (field: string, ours: unknown, theirs: unknown) => { value: unknown } | undefined;
}

/** Times of incidental events (`claimed_at`, `date`): they follow the record's other fields. */
const isSoft = (field: string) => /_at$/.test(field) || field === 'date' || field === 'updated' || field === 'created';

interface MergeState {
  policy: Policy;
  /** Settles every conflict in the current element (the newer side of a timed element). */
  winner?: Side;
  real: FieldConflict[];
  soft: FieldConflict[];
}

function conflictOf(path: JsonPath, b: unknown, o: unknown, t: unknown): FieldConflict {
  const c: FieldConflict = { path: [...path] };
  if (b !== undefined) c.base = b;
  if (o !== undefined) c.ours = o;
  if (t !== undefined) c.theirs = t;
  return c;
}

function merge3(b: unknown, o: unknown, t: unknown, path: JsonPath, st: MergeState): unknown {
  if (jsonEqual(o, t)) return o;
  if (jsonEqual(b, o)) return t;
  if (jsonEqual(b, t)) return o;
  const field = [...path].reverse().find((k): k is string => typeof k === 'string') ?? '';
  if (!st.policy.atomic?.has(field)) {
    if (isObj(o) && isObj(t) && (b === undefined || isObj(b))) return mergeObjects(b, o, t, path, st);
    if (Array.isArray(o) && Array.isArray(t) && (b === undefined || Array.isArray(b))) return mergeArrays(arr(b), o, t, path, field, st);
  }
  if (st.winner) return st.winner === 'ours' ? o : t;
  const settled = st.policy.settle?.(field, o, t);
  if (settled) return settled.value;
  (isSoft(field) ? st.soft : st.real).push(conflictOf(path, b, o, t));
  return o;
}

function mergeObjects(b: Obj | undefined, o: Obj, t: Obj, path: JsonPath, st: MergeState): Obj {
  const out: Obj = {};
  const keys = [...Object.keys(o), ...Object.keys(t).filter((k) => !Object.prototype.hasOwnProperty.call(o, k))];
  for (const k of keys) {
    const v = merge3(b?.[k], o[k], t[k], [...path, k], st);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const has = (list: unknown[], x: unknown) => list.some((y) => jsonEqual(x, y));

/** Lists as sets: what theirs removed goes, what theirs added comes, in ours' order then theirs'. */
function mergeSets(b: unknown[], o: unknown[], t: unknown[]): unknown[] {
  const removed = b.filter((x) => !has(t, x));
  const out = o.filter((x) => !has(removed, x));
  for (const x of t) if (!has(b, x) && !has(out, x)) out.push(x);
  return out;
}

/** The newer of two timed elements (ours when equal or unknown). */
function newerSide(o: unknown, t: unknown, timeField: string): Side {
  const a = isObj(o) ? timeOf(o[timeField]) : undefined;
  const c = isObj(t) ? timeOf(t[timeField]) : undefined;
  return c !== undefined && (a === undefined || c > a) ? 'theirs' : 'ours';
}

function mergeArrays(b: unknown[], o: unknown[], t: unknown[], path: JsonPath, field: string, st: MergeState): unknown[] {
  if (b.every(isPlain) && o.every(isPlain) && t.every(isPlain)) return mergeSets(b, o, t);
  const timeField = st.policy.newer?.[field];
  const element = (eb: unknown, eo: unknown, et: unknown, at: JsonPath) =>
    timeField ? merge3(eb, eo, et, at, { ...st, winner: newerSide(eo, et, timeField) }) : merge3(eb, eo, et, at, st);
  const keyField = st.policy.keys?.[field];
  if (keyField && [b, o, t].every((l) => l.every((x) => isObj(x) && typeof x[keyField] === 'string'))) {
    const key = (x: unknown) => (x as Obj)[keyField] as string;
    const byB = new Map(b.map((x) => [key(x), x]));
    const byT = new Map(t.map((x) => [key(x), x]));
    const byO = new Map(o.map((x) => [key(x), x]));
    const out: unknown[] = [];
    for (const x of o) {
      const k = key(x);
      const eb = byB.get(k);
      if (!byT.has(k)) {
        if (eb === undefined || !jsonEqual(eb, x)) out.push(x); // theirs removed it: gone unless ours changed it
        continue;
      }
      out.push(element(eb, x, byT.get(k), [...path, out.length]));
    }
    for (const x of t) {
      const k = key(x);
      if (byO.has(k)) continue;
      const eb = byB.get(k);
      if (eb === undefined || !jsonEqual(eb, x)) out.push(x); // ours removed it: gone unless theirs changed it
    }
    return out.filter((x) => x !== undefined);
  }
  // Lists that only grow (deliveries, notes): the elements of the base merged in place, then both sides' new ones.
  if (o.length >= b.length && t.length >= b.length) {
    const out: unknown[] = [];
    for (let i = 0; i < b.length; i++) {
      const v = element(b[i], o[i], t[i], [...path, i]);
      if (v !== undefined) out.push(v);
    }
    const oursNew = o.slice(b.length);
    return [...out, ...oursNew, ...t.slice(b.length).filter((x) => !has(oursNew, x))];
  }
  return mergeSets(b, o, t);
}

/** One record merged: the value to write (ours where they conflict) and its conflicts. */
interface RecordMerge {
  value: unknown;
  conflicts: FieldConflict[];
}

function mergeRecord(b: unknown, o: unknown, t: unknown, policy: Policy, winnerBy?: string): RecordMerge {
  const st: MergeState = { policy, real: [], soft: [] };
  if (winnerBy) {
    const a = isObj(o) ? timeOf(o[winnerBy]) : undefined;
    const c = isObj(t) ? timeOf(t[winnerBy]) : undefined;
    if (a !== undefined && c !== undefined && a !== c) st.winner = c > a ? 'theirs' : 'ours';
  }
  const value = merge3(b, o, t, [], st);
  return { value, conflicts: st.real.length ? [...st.real, ...st.soft] : [] };
}

// ------------------------------------------------------------------------------------------ the files

export interface MergeResult {
  value: Obj;
  /** New conflicts of this merge (also written into the value's `merge_conflicts`). */
  conflicts: MergeConflict[];
}

export interface MergeOptions {
  /** The merge's time (ISO), written on its conflicts. */
  now: string;
  /** Theirs' commit, when known, written on its conflicts. */
  theirsCommit?: string;
  /**
   * Renumbered ids of theirs in every file (this file's own are computed here and added): references to them
   * in theirs' version of this file are rewritten.
   */
  renames?: Map<string, string>;
  /** Base records of the other files that ours keeps under another id (`Renumbering.base`). */
  baseRenames?: Map<string, string>;
}

const TASK_POLICY: Policy = {};
const MESSAGE_RANK: Record<string, number> = { sent: 0, pending_response: 0, responded: 1, acknowledged: 2, closed: 3 };
const RESPONSE_RANK: Record<string, number> = { pending: 0, cancelled: 1, completed: 2 };
const byRank = (rank: Record<string, number>) => (field: string, o: unknown, t: unknown) => {
  if (field !== 'status' || typeof o !== 'string' || typeof t !== 'string') return undefined;
  const a = rank[o];
  const c = rank[t];
  if (a === undefined || c === undefined || a === c) return undefined;
  return { value: c > a ? t : o };
};
const MESSAGE_POLICY: Policy = { newer: { deliveries: 'updated' }, settle: byRank(MESSAGE_RANK) };
const RESPONSE_POLICY: Policy = { settle: byRank(RESPONSE_RANK) };
const DECISION_POLICY: Policy = {
  atomic: new Set(['decided_by', 'affects_instances']),
  keys: { options: 'option', inputs: 'from' },
  newer: { inputs: 'date' },
};
const INSTANCE_POLICY: Policy = {};
const SESSION_POLICY: Policy = {};
const FILE_POLICY: Policy = {
  settle: (field, o, t) => {
    if (field !== 'last_registry_update' && field !== 'updated') return undefined;
    const a = timeOf(o);
    const c = timeOf(t);
    return a !== undefined && c !== undefined ? { value: c > a ? t : o } : undefined;
  },
};

interface Collector {
  conflicts: MergeConflict[];
  opts: MergeOptions;
}

function record(col: Collector, collection: string, id: string, fields: FieldConflict[]): void {
  if (!fields.length) return;
  col.conflicts.push({
    id,
    kind: 'fields',
    collection,
    record: id,
    fields,
    theirs_commit: col.opts.theirsCommit ?? null,
    merged_at: col.opts.now,
  });
}

interface Keyed {
  id: string;
  value: unknown;
  /** Which list of the file holds it (tasks, decisions). */
  list: string;
}

/** Every record of some lists, by id, with the list that holds it; records without an id or with an id used before go in `odd`. */
function keyed(v: Obj | undefined, lists: readonly string[], key: string, odd: Keyed[] = []): Map<string, Keyed> {
  const out = new Map<string, Keyed>();
  for (const list of lists) {
    for (const r of arr(v?.[list])) {
      const id = isObj(r) && typeof r[key] === 'string' ? (r[key] as string) : undefined;
      if (id !== undefined && !out.has(id)) out.set(id, { id, value: r, list });
      else odd.push({ id: id ?? '', value: r, list });
    }
  }
  return out;
}

/**
 * Records of some lists merged by id: each record of either side, merged against the base when both have it;
 * a record one side removed goes unless the other changed it. Returns the merged records in ours' order, then
 * theirs' new ones, each with the list ours (else theirs) kept it in.
 */
function mergeKeyed(b: Obj | undefined, o: Obj, t: Obj, lists: readonly string[], key: string, policy: Policy, collection: string, col: Collector, winnerBy?: string): Keyed[] {
  const B = keyed(b, lists, key);
  const oddOurs: Keyed[] = [];
  const oddTheirs: Keyed[] = [];
  const O = keyed(o, lists, key, oddOurs);
  const T = keyed(t, lists, key, oddTheirs);
  const out: Keyed[] = [];
  for (const r of O.values()) {
    const base = B.get(r.id);
    const their = T.get(r.id);
    if (!their) {
      if (!base || !jsonEqual(base.value, r.value)) out.push(r);
      continue;
    }
    const m = mergeRecord(base?.value, r.value, their.value, policy, winnerBy);
    record(col, collection, r.id, m.conflicts);
    // A record that moved lists on one side only follows it.
    const list = base && r.list === base.list ? their.list : r.list;
    out.push({ id: r.id, value: m.value, list });
  }
  for (const r of T.values()) {
    if (O.has(r.id)) continue;
    const base = B.get(r.id);
    if (!base || !jsonEqual(base.value, r.value)) out.push(r);
  }
  // Records a hand edit left without an id, or with an id used twice: kept as they are (health reports them).
  out.push(...oddOurs);
  for (const r of oddTheirs) if (!oddOurs.some((x) => jsonEqual(x.value, r.value))) out.push(r);
  return out;
}

/** The list a task belongs in by its status (undefined for a status Syncord does not know). */
function listOfStatus(status: unknown): TaskList | undefined {
  switch (status) {
    case 'in_progress':
    case 'blocked':
      return 'active_tasks';
    case 'completed':
    case 'cancelled':
      return 'completed_tasks';
    case 'pending_assignment':
    case 'assigned':
    case 'accepted':
      return 'pending_tasks';
    default:
      return undefined;
  }
}

/** Records into their lists: those ours held in a list first, in ours' order, then the others in merged order. */
function intoLists(o: Obj, records: Keyed[], lists: readonly string[], key: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = Object.fromEntries(lists.map((l) => [l, []]));
  const later: Keyed[] = [];
  const oursList = keyed(o, lists, key);
  for (const r of records) {
    if (oursList.get(r.id)?.list === r.list || arr(o[r.list]).includes(r.value)) out[r.list].push(r.value);
    else later.push(r);
  }
  // Keep each list in ours' order (a merged record stands where ours had it).
  for (const l of lists) {
    const order = new Map<unknown, number>();
    arr(o[l]).forEach((x, i) => {
      order.set(x, i);
      if (isObj(x) && typeof x[key] === 'string' && !order.has(x[key])) order.set(x[key], i);
    });
    const at = (x: unknown) => order.get(x) ?? (isObj(x) ? order.get(x[key]) : undefined) ?? 0;
    out[l].sort((x, y) => at(x) - at(y));
  }
  for (const r of later) out[r.list].push(r.value);
  return out;
}

/** The other top-level fields of a file, merged as values (conflicts on them are the file's). */
function mergeRest(b: Obj | undefined, o: Obj, t: Obj, skip: readonly string[], col: Collector, fileName: string): Obj {
  const strip = (v: Obj | undefined) => (v ? Object.fromEntries(Object.entries(v).filter(([k]) => !skip.includes(k))) : undefined);
  const m = mergeRecord(strip(b), strip(o), strip(t), FILE_POLICY);
  record(col, 'file', fileName, m.conflicts);
  return m.value as Obj;
}

/** Puts the merged collections back in ours' key order (new top-level keys last). */
function assemble(o: Obj, rest: Obj, collections: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o)) {
    if (k in collections) out[k] = collections[k];
    else if (k in rest) out[k] = rest[k];
  }
  for (const [k, v] of Object.entries(collections)) if (!(k in out)) out[k] = v;
  for (const [k, v] of Object.entries(rest)) if (!(k in out)) out[k] = v;
  return out;
}

/** Messages in time order: ours' in their order, theirs' new ones placed among them by timestamp. */
function byTime(ours: unknown[], added: unknown[]): unknown[] {
  const t = (x: unknown) => (isObj(x) ? (timeOf(x.timestamp) ?? 0) : 0);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < ours.length && j < added.length) out.push(t(added[j]) < t(ours[i]) ? added[j++] : ours[i++]);
  return [...out, ...ours.slice(i), ...added.slice(j)];
}

/** Merge conflicts already in the files: ours', and theirs' not in ours; this merge's replace those with their id. */
function mergeConflictLists(o: Obj, t: Obj, fresh: MergeConflict[]): MergeConflict[] {
  const out = arr(o.merge_conflicts).filter(isObj) as MergeConflict[];
  for (const c of arr(t.merge_conflicts).filter(isObj) as MergeConflict[]) if (!out.some((x) => x.id === c.id)) out.push(c);
  for (const c of fresh) {
    const i = out.findIndex((x) => x.id === c.id);
    if (i >= 0) out[i] = c;
    else out.push(c);
  }
  return out;
}

/**
 * Merges one coordination file. `theirs` is renumbered first (its own colliding ids, and `opts.renames` of the
 * other files); the result keeps ours' order and key order, with theirs' additions placed where the store
 * would have put them.
 */
export function mergeCoordinationFile(kind: MergeKind, base: unknown, ours: unknown, theirs: unknown, opts: MergeOptions): MergeResult & { renames: Map<string, string> } {
  const own = renumbering(kind, base, ours, theirs);
  const renames = new Map([...(opts.renames ?? []), ...own.theirs]);
  const baseRenames = new Map([...(opts.baseRenames ?? []), ...own.base]);
  const baseIds = new Set(recordsOf(kind, base).keys());
  const newIds = new Set([...recordsOf(kind, theirs).keys()].filter((id) => !baseIds.has(id)));
  const b = isObj(base) ? (applyRenames(base, baseRenames) as Obj) : undefined;
  const o = isObj(ours) ? ours : {};
  const t = (isObj(theirs) ? applyRenames(theirs, renames, newIds) : {}) as Obj;
  const col: Collector = { conflicts: [], opts };
  let collections: Obj;
  let skip: string[];
  switch (kind) {
    case 'tasks': {
      skip = [...TASK_LISTS, 'merge_conflicts'];
      const merged = mergeKeyed(b, o, t, TASK_LISTS, 'task_id', TASK_POLICY, 'tasks', col).map((r) => ({
        ...r,
        list: listOfStatus((r.value as Obj).status) ?? r.list,
      }));
      collections = intoLists(o, merged, TASK_LISTS, 'task_id');
      break;
    }
    case 'messages': {
      skip = ['messages', 'response_queue', 'merge_conflicts'];
      const merged = mergeKeyed(b, o, t, ['messages'], 'message_id', MESSAGE_POLICY, 'messages', col);
      const oursIds = new Set(keyed(o, ['messages'], 'message_id').keys());
      const kept = merged.filter((r) => oursIds.has(r.id)).map((r) => r.value);
      const added = merged.filter((r) => !oursIds.has(r.id)).map((r) => r.value);
      const rq = (v: Obj | undefined) => ({ response_queue: arr(v?.response_queue).map((r) => (isObj(r) ? { ...r, _key: `${str(r.responding_to)}@${str(r.from)}` } : r)) });
      const queue = mergeKeyed(rq(b), rq(o), rq(t), ['response_queue'], '_key', RESPONSE_POLICY, 'response_queue', col).map((r) => {
        const { _key, ...rest } = r.value as Obj;
        void _key;
        return rest;
      });
      collections = { messages: byTime(kept, added), response_queue: queue };
      break;
    }
    case 'decisions': {
      skip = ['decisions', 'pending_decisions', 'merge_conflicts'];
      const lists = ['decisions', 'pending_decisions'] as const;
      const T = keyed(t, lists, 'decision_id');
      const O = keyed(o, lists, 'decision_id');
      // Decided on either side: decided.
      const merged = mergeKeyed(b, o, t, lists, 'decision_id', DECISION_POLICY, 'decisions', col).map((r) => ({
        ...r,
        list: O.get(r.id)?.list === 'decisions' || T.get(r.id)?.list === 'decisions' ? 'decisions' : 'pending_decisions',
      }));
      collections = intoLists(o, merged, lists, 'decision_id');
      break;
    }
    case 'registry': {
      skip = ['instances', 'merge_conflicts'];
      const wrap = (v: Obj | undefined) => ({
        instances: Object.entries(isObj(v?.instances) ? (v!.instances as Obj) : {}).map(([id, r]) => ({ _id: id, r })),
      });
      const merged = mergeKeyed(wrap(b), wrap(o), wrap(t), ['instances'], '_id', INSTANCE_POLICY, 'instances', col);
      // Each instance's own record: where both sides changed it, its latest check-in wins.
      const instances: Obj = {};
      const B = isObj(b?.instances) ? (b!.instances as Obj) : {};
      const Oi = isObj(o.instances) ? (o.instances as Obj) : {};
      const Ti = isObj(t.instances) ? (t.instances as Obj) : {};
      col.conflicts = col.conflicts.filter((c) => c.collection !== 'instances');
      for (const r of merged) {
        const id = (r.value as Obj)._id as string;
        if (id in Oi && id in Ti) {
          const m = mergeRecord(B[id], Oi[id], Ti[id], INSTANCE_POLICY, 'last_update');
          record(col, 'instances', id, m.conflicts);
          instances[id] = m.value;
        } else instances[id] = (r.value as Obj).r;
      }
      collections = { instances };
      break;
    }
    case 'sessions': {
      skip = ['sessions', 'merge_conflicts'];
      const merged = mergeKeyed(b, o, t, ['sessions'], 'session_id', SESSION_POLICY, 'sessions', col, 'updated');
      collections = { sessions: merged.map((r) => r.value) };
      break;
    }
  }
  const rest = mergeRest(b, o, t, skip, col, fileNameOf(kind));
  // Sessions are what each machine saw of its own processes: where two values carry the same time, ours stays.
  if (kind === 'sessions') col.conflicts = [];
  const conflicts = mergeConflictLists(o, t, col.conflicts);
  if (conflicts.length) collections.merge_conflicts = conflicts;
  return { value: assemble(o, rest, collections), conflicts: col.conflicts, renames: own.theirs };
}

export function fileNameOf(kind: MergeKind): string {
  return Object.entries(MERGE_KINDS).find(([, k]) => k === kind)![0];
}
