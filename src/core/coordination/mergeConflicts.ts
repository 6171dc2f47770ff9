import * as path from 'path';
import { SyncordError } from '../errors';
import { JsonPath } from '../store/jsonText';
import { COORDINATION_FILES } from '../workspace';
import { applyRenames } from './merge';
import { MergeConflict } from './schemas';
import { ALL_KEYS, CoordinationKey, CoordinationStore, CoordinationValues, defineChange, usage } from './store';
import { findTask, TaskList } from './tasks';

/**
 * The conflicts a git merge of the coordination files left (see merge.ts): each file keeps them in its
 * `merge_conflicts` until they are resolved. `syncord health` (and so VS Code's Problems panel) reports them,
 * `syncord merge-driver conflicts` lists them and `syncord merge-driver resolve` settles them through the store.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A conflict with the file that holds it. */
export interface FileConflict {
  key: CoordinationKey;
  /** The file's name, e.g. task-queue.json. */
  file: string;
  index: number;
  conflict: MergeConflict;
}

/** The conflicts recorded in the given files, file by file. */
export function conflictsIn(values: Partial<CoordinationValues>): FileConflict[] {
  const out: FileConflict[] = [];
  for (const key of ALL_KEYS) {
    const list = (values[key] as { merge_conflicts?: MergeConflict[] } | undefined)?.merge_conflicts ?? [];
    list.forEach((conflict, index) => out.push({ key, file: COORDINATION_FILES[key], index, conflict }));
  }
  return out;
}

/** The record a conflict is about in its file's value, and its path from the file's root. */
export function conflictRecord(key: CoordinationKey, value: unknown, c: MergeConflict): { record: Obj; path: JsonPath } | undefined {
  if (c.kind !== 'fields' || !isObj(value)) return undefined;
  const id = c.record ?? c.id;
  const find = (list: string, field: string): { record: Obj; path: JsonPath } | undefined => {
    const items = Array.isArray(value[list]) ? (value[list] as unknown[]) : [];
    const i = items.findIndex((x) => isObj(x) && x[field] === id);
    return i >= 0 ? { record: items[i] as Obj, path: [list, i] } : undefined;
  };
  switch (c.collection) {
    case 'file':
      return { record: value, path: [] };
    case 'tasks': {
      const at = key === 'tasks' ? findTask(value as never, id) : undefined;
      return at ? { record: at.task as Obj, path: [at.list, at.index] } : undefined;
    }
    case 'messages':
      return find('messages', 'message_id');
    case 'response_queue': {
      const items = Array.isArray(value.response_queue) ? (value.response_queue as unknown[]) : [];
      const i = items.findIndex((x) => isObj(x) && `${String(x.responding_to)}@${String(x.from)}` === id);
      return i >= 0 ? { record: items[i] as Obj, path: ['response_queue', i] } : undefined;
    }
    case 'decisions':
      return find('decisions', 'decision_id') ?? find('pending_decisions', 'decision_id');
    case 'instances': {
      const inst = isObj(value.instances) ? value.instances[id] : undefined;
      return isObj(inst) ? { record: inst, path: ['instances', id] } : undefined;
    }
    default:
      return undefined;
  }
}

const show = (v: unknown) => (v === undefined ? '(removed)' : JSON.stringify(v));

/** One line about a conflict: what differs, and how to settle it. */
export function conflictSummary(c: MergeConflict): string {
  if (c.kind === 'references') {
    const renames = Object.entries(c.renames ?? {}).map(([a, b]) => `${a} → ${b}`).join(', ');
    return `${c.file} came from the other side as it was and still names renumbered ids (${renames}); \`syncord merge-driver resolve ${c.id}\` rewrites them`;
  }
  const fields = (c.fields ?? []).map((f) => `${f.path.join('.')} is ${show(f.ours)} here, ${show(f.theirs)} on the other side`);
  return `merge conflict in ${c.record ?? c.id}: ${fields.join('; ')}; keep one with \`syncord merge-driver resolve ${c.id} --ours\` or \`--theirs\``;
}

function setPath(target: Obj, p: readonly (string | number)[], value: unknown): void {
  let cur: unknown = target;
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i];
    const next = (cur as Record<string | number, unknown>)[k];
    if (typeof next !== 'object' || next === null) {
      if (value === undefined) return;
      (cur as Record<string | number, unknown>)[k] = typeof p[i + 1] === 'number' ? [] : {};
    }
    cur = (cur as Record<string | number, unknown>)[k];
  }
  const last = p[p.length - 1];
  if (value === undefined) {
    if (Array.isArray(cur) && typeof last === 'number') cur.splice(last, 1);
    else delete (cur as Record<string | number, unknown>)[last];
  } else (cur as Record<string | number, unknown>)[last] = value;
}

const LIST_OF_STATUS: Record<string, TaskList> = {
  in_progress: 'active_tasks',
  blocked: 'active_tasks',
  completed: 'completed_tasks',
  cancelled: 'completed_tasks',
  pending_assignment: 'pending_tasks',
  assigned: 'pending_tasks',
  accepted: 'pending_tasks',
};

export interface ResolveInput {
  id: string;
  /** ours: keep what the file holds; theirs: take the other side's values (for references: rewrite them). */
  side: 'ours' | 'theirs';
  /** Which file, when the id names conflicts in more than one. */
  file?: string;
}

export interface ResolveResult {
  resolved: FileConflict;
  /** What was written beside removing the conflict. */
  changed: string[];
  /** Conflicts still left in the four files. */
  remaining: number;
}

const RESOLVE = defineChange('merge.resolve', ALL_KEYS, (files, input: ResolveInput): ResolveResult => {
  const wanted = input.file ? path.basename(input.file) : undefined;
  const matches = conflictsIn(files).filter((c) => c.conflict.id === input.id && (!wanted || c.file === wanted));
  if (!matches.length) {
    const all = conflictsIn(files).map((c) => c.conflict.id);
    throw new SyncordError(
      `no merge conflict ${JSON.stringify(input.id)}${wanted ? ` in ${wanted}` : ''}${all.length ? ` (conflicts: ${all.join(', ')})` : ' (there are none)'}`,
      'not-found',
    );
  }
  if (matches.length > 1) throw usage(`${input.id} names conflicts in ${matches.map((m) => m.file).join(' and ')}; add --file <name>`);
  const found = matches[0];
  const { key, conflict: c } = found;
  const changed: string[] = [];
  if (c.kind === 'references' && input.side === 'theirs') {
    const target = ALL_KEYS.find((k) => COORDINATION_FILES[k] === c.file);
    if (!target) throw usage(`${c.file} is not one of the coordination files Syncord rewrites; replace ${Object.keys(c.renames ?? {}).join(', ')} in it by hand, then resolve with --ours`);
    const renamed = applyRenames(files[target], new Map(Object.entries(c.renames ?? {})), new Set(c.records ?? [])) as Obj;
    const draft = files[target] as unknown as Obj;
    for (const k of Object.keys(draft)) if (!(k in renamed)) delete draft[k];
    Object.assign(draft, renamed);
    for (const [a, b] of Object.entries(c.renames ?? {})) changed.push(`${a} → ${b}`);
  } else if (c.kind === 'fields' && input.side === 'theirs') {
    const value = files[key] as unknown as Obj;
    const at = conflictRecord(key, value, c);
    if (!at) throw new SyncordError(`${c.record ?? c.id} is no longer in ${found.file}; resolve with --ours to drop the conflict`, 'conflict');
    for (const f of c.fields ?? []) {
      setPath(at.record, f.path, f.theirs);
      changed.push(`${f.path.join('.')} = ${show(f.theirs)}`);
    }
    // A task whose status changed moves to the list of its status.
    if (key === 'tasks' && c.collection === 'tasks') {
      const loc = findTask(files.tasks, c.record ?? c.id);
      const list = loc && LIST_OF_STATUS[loc.task.status];
      if (loc && list && list !== loc.list) {
        files.tasks[loc.list].splice(loc.index, 1);
        files.tasks[list].push(loc.task);
      }
    }
  }
  const holder = files[key] as unknown as { merge_conflicts?: MergeConflict[] };
  const rest = (holder.merge_conflicts ?? []).filter((x) => x.id !== c.id);
  if (rest.length) holder.merge_conflicts = rest;
  else delete holder.merge_conflicts;
  return { resolved: found, changed, remaining: conflictsIn(files).length };
});

/** Settles one merge conflict (see ResolveInput). */
export async function resolveMergeConflict(store: CoordinationStore, input: ResolveInput): Promise<ResolveResult> {
  return store.update(RESOLVE, input);
}

/** The merge conflicts recorded in the coordination files. */
export async function listMergeConflicts(store: CoordinationStore): Promise<FileConflict[]> {
  return conflictsIn(await store.read());
}
