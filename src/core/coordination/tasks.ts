import { SyncordError } from '../errors';
import { nextId, uniq } from './ids';
import { requireInstance } from './instances';
import { Registry, Task, TaskQueue } from './schemas';
import { Priority, PRIORITIES } from './vocabulary';
import { conflict, CoordinationStore, defineChange, usage } from './store';
import { timeOf } from './time';

export type TaskList = 'active_tasks' | 'pending_tasks' | 'completed_tasks';
export const TASK_LISTS: TaskList[] = ['active_tasks', 'pending_tasks', 'completed_tasks'];

/** A task with the list that holds it. */
export type TaskEntry = Task & { list: TaskList };

export interface TaskLocation {
  list: TaskList;
  index: number;
  task: Task;
}

export function findTask(queue: TaskQueue, id: string): TaskLocation | undefined {
  for (const list of TASK_LISTS) {
    const index = queue[list].findIndex((t) => t.task_id === id);
    if (index >= 0) return { list, index, task: queue[list][index] };
  }
  return undefined;
}

export function requireTask(queue: TaskQueue, id: string): TaskLocation {
  const found = findTask(queue, id);
  if (!found) throw new SyncordError(`task ${JSON.stringify(id)} does not exist`, 'not-found');
  return found;
}

export function allTasks(queue: TaskQueue): TaskEntry[] {
  return TASK_LISTS.flatMap((list) => queue[list].map((t) => ({ ...t, list })));
}

export function isDone(t: Task): boolean {
  return t.status === 'completed';
}

/** Dependencies of a task that are not completed yet (unknown ids count as not completed). */
export function unmetDependencies(queue: TaskQueue, task: Task): string[] {
  return (task.dependencies ?? []).filter((d) => {
    const dep = findTask(queue, d);
    return !dep || !isDone(dep.task);
  });
}

/** A dependency that is not completed yet, as the queue knows it (no title or status when it is not in the queue). */
export interface Blocker {
  task_id: string;
  title?: string;
  status?: string;
  assigned_to?: string | null;
}

/** The tasks that keep `task` from starting: its dependencies that are not completed, in its order. */
export function blockersOf(queue: TaskQueue, task: Task): Blocker[] {
  return unmetDependencies(queue, task).map((id) => {
    const dep = findTask(queue, id)?.task;
    return dep ? { task_id: id, title: dep.title, status: dep.status, assigned_to: dep.assigned_to } : { task_id: id };
  });
}

/** `task_003 "Handle tool calls" (in_progress, backend-claude)`, or `task_009 (not in the task queue)`. */
export function blockerText(b: Blocker): string {
  if (b.title === undefined) return `${b.task_id} (not in the task queue)`;
  return `${b.task_id} ${JSON.stringify(b.title)} (${[b.status, b.assigned_to].filter(Boolean).join(', ')})`;
}

export function priorityRank(p: string | undefined): number {
  const i = PRIORITIES.indexOf(p as Priority);
  return i < 0 ? PRIORITIES.length : i;
}

export function checkPriority(p: string): Priority {
  if (!PRIORITIES.includes(p as Priority)) throw usage(`invalid priority ${JSON.stringify(p)}: use ${PRIORITIES.join(', ')}`);
  return p as Priority;
}

function move(queue: TaskQueue, from: TaskLocation, to: TaskList): Task {
  queue[from.list].splice(from.index, 1);
  queue[to].push(from.task);
  return from.task;
}

function clearCurrentTask(registry: Registry, instance: string | null | undefined, taskId: string): void {
  const rec = instance ? registry.instances[instance] : undefined;
  if (rec && rec.current_task === taskId) rec.current_task = null;
}

export interface AddTaskInput {
  title: string;
  description?: string;
  priority?: string;
  due?: string | null;
  dependencies?: string[];
  requiredExpertise?: string[];
  suggestedAssignee?: string;
  deliverables?: string[];
  /** Who creates it (kept as `created_by`). */
  by?: string;
}

/**
 * The registered instance whose expertise overlaps most with `required` (case-insensitive), preferring instances
 * available for consultation, then active ones; undefined when nobody has any of it.
 */
export function suggestAssignee(registry: Registry, required: string[]): string | undefined {
  const want = new Set(required.map((e) => e.toLowerCase()));
  if (!want.size) return undefined;
  let best: { id: string; score: number } | undefined;
  for (const [id, rec] of Object.entries(registry.instances)) {
    const overlap = (rec.expertise_areas ?? []).filter((e) => want.has(e.toLowerCase())).length;
    if (!overlap) continue;
    const score = overlap * 4 + (rec.available_for_consultation ? 2 : 0) + (rec.status === 'active' ? 1 : 0);
    if (!best || score > best.score) best = { id, score };
  }
  return best?.id;
}

/** Whether following dependencies from `deps` leads back to `id`. */
function reaches(queue: TaskQueue, deps: string[], id: string): string[] | undefined {
  const seen = new Set<string>();
  const walk = (from: string, trail: string[]): string[] | undefined => {
    if (from === id) return trail;
    if (seen.has(from)) return undefined;
    seen.add(from);
    for (const d of findTask(queue, from)?.task.dependencies ?? []) {
      const r = walk(d, [...trail, d]);
      if (r) return r;
    }
    return undefined;
  };
  for (const d of deps) {
    const r = walk(d, [d]);
    if (r) return r;
  }
  return undefined;
}

/** Protocol 2, step 1–2: a new task in `pending_tasks`, waiting for assignment. */
export async function addTask(store: CoordinationStore, input: AddTaskInput): Promise<TaskEntry> {
  if (!input.title.trim()) throw usage('a task needs a title');
  checkPriority(input.priority ?? 'medium');
  return store.update(ADD_TASK, input);
}

const ADD_TASK = defineChange('task.add', ['tasks'], ({ tasks, registry }, input: AddTaskInput, now): TaskEntry => {
  const priority = checkPriority(input.priority ?? 'medium');
  const deps = uniq(input.dependencies ?? []);
  for (const d of deps) {
    if (!findTask(tasks, d)) throw new SyncordError(`unknown dependency ${JSON.stringify(d)}: no such task`, 'not-found');
  }
  if (input.suggestedAssignee) requireInstance(registry, input.suggestedAssignee);
  if (input.by) requireInstance(registry, input.by);
  const id = nextId('task', allTasks(tasks).map((t) => t.task_id));
  // Hand-written dependencies may already name the id this task gets.
  const loop = reaches(tasks, deps, id);
  if (loop) throw conflict(`dependency cycle: ${[id, ...loop].join(' → ')}`);
  const task: Task = {
    task_id: id,
    title: input.title.trim(),
    description: input.description?.trim() ?? '',
    assigned_to: null,
    status: 'pending_assignment',
    priority,
    created: now,
    due: input.due ?? null,
    dependencies: deps,
  };
  if (input.deliverables?.length) task.deliverables = uniq(input.deliverables);
  if (input.requiredExpertise?.length) task.required_expertise = uniq(input.requiredExpertise);
  const suggested = input.suggestedAssignee ?? suggestAssignee(registry, input.requiredExpertise ?? []);
  if (suggested) task.suggested_assignee = suggested;
  if (input.by) task.created_by = input.by;
  tasks.pending_tasks.push(task);
  return { ...structuredClone(task), list: 'pending_tasks' as const };
});

/** Protocol 2, step 3: offer a pending task to an instance, which then accepts (or claims) or declines it. */
export async function assignTask(store: CoordinationStore, input: { id: string; to: string }): Promise<TaskEntry> {
  return store.update(ASSIGN_TASK, input);
}

export const ASSIGN_TASK = defineChange('task.assign', ['tasks'], ({ tasks, registry }, input: { id: string; to: string }): TaskEntry => {
  requireInstance(registry, input.to);
  const at = requireTask(tasks, input.id);
  if (at.list === 'completed_tasks') throw conflict(`task ${input.id} is already ${at.task.status}`);
  if (at.list === 'active_tasks') {
    throw conflict(`task ${input.id} is already in progress by ${at.task.assigned_to ?? 'nobody'}; release it first`);
  }
  at.task.assigned_to = input.to;
  at.task.status = 'assigned';
  delete at.task.accepted_at;
  return { ...structuredClone(at.task), list: at.list };
});

/**
 * Protocol 2, step 3: the instance accepts a task offered to it (or an unassigned one, which it takes). The task
 * stays in `pending_tasks` with status `accepted` until the instance starts it.
 */
export async function acceptTask(store: CoordinationStore, input: { id: string; by: string }): Promise<TaskEntry> {
  return store.update(ACCEPT_TASK, input);
}

const ACCEPT_TASK = defineChange('task.accept', ['tasks'], ({ tasks, registry }, input: { id: string; by: string }, now): TaskEntry => {
  requireInstance(registry, input.by);
  const at = requireTask(tasks, input.id);
  const t = at.task;
  if (at.list === 'completed_tasks') throw conflict(`task ${input.id} is already ${t.status}`);
  if (at.list === 'active_tasks') throw conflict(`task ${input.id} is already in progress by ${t.assigned_to ?? 'nobody'}`);
  if (t.assigned_to && t.assigned_to !== input.by) throw conflict(`task ${input.id} is assigned to ${t.assigned_to}, not ${input.by}`);
  if (t.status !== 'accepted') {
    t.assigned_to = input.by;
    t.status = 'accepted';
    t.accepted_at = now;
  }
  return { ...structuredClone(t), list: at.list };
});

export interface ClaimResult {
  task: TaskEntry;
  /** The task was already in progress by the same instance: nothing changed. */
  alreadyClaimed: boolean;
}

/**
 * Protocol 2, step 3–4: the instance accepts a task. The task moves to `active_tasks` as in progress, and the
 * registry records it as the instance's current task. Refused when another instance holds the task, or when
 * a dependency is not completed (unless `force`).
 */
export async function claimTask(
  store: CoordinationStore,
  input: { id: string; by: string; force?: boolean },
): Promise<ClaimResult> {
  return store.update(TASK_CLAIM, input);
}

const TASK_CLAIM = defineChange('task.claim', ['tasks', 'registry'], ({ tasks, registry }, input: { id: string; by: string; force?: boolean }, now): ClaimResult => {
  const me = requireInstance(registry, input.by);
  const at = requireTask(tasks, input.id);
  const t = at.task;
  if (at.list === 'completed_tasks') throw conflict(`task ${input.id} is already ${t.status}`);
  if (at.list === 'active_tasks') {
    if (t.assigned_to === input.by) return { task: { ...structuredClone(t), list: at.list }, alreadyClaimed: true };
    throw conflict(`task ${input.id} is already claimed by ${t.assigned_to ?? 'another instance'}`);
  }
  if (t.assigned_to && t.assigned_to !== input.by && !input.force) {
    throw conflict(`task ${input.id} is assigned to ${t.assigned_to}; only that instance can claim it (or use --force)`);
  }
  const blockers = blockersOf(tasks, t);
  if (blockers.length && !input.force) {
    throw conflict(`task ${input.id} waits for ${blockers.map(blockerText).join(', ')}: not completed yet`);
  }
  t.assigned_to = input.by;
  t.status = 'in_progress';
  t.claimed_at = now;
  delete t.accepted_at;
  move(tasks, at, 'active_tasks');
  me.current_task = t.task_id;
  me.status = 'active';
  me.last_update = now;
  registry.last_registry_update = now;
  return { task: { ...structuredClone(t), list: 'active_tasks' as const }, alreadyClaimed: false };
});

/** Protocol 2, step 3: the instance a task was offered to turns it down; it returns to the queue unassigned. */
export async function declineTask(
  store: CoordinationStore,
  input: { id: string; by: string; reason?: string },
): Promise<TaskEntry> {
  return store.update(DECLINE_TASK, input);
}

const DECLINE_TASK = defineChange('task.decline', ['tasks'], ({ tasks, registry }, input: { id: string; by: string; reason?: string }, now): TaskEntry => {
    requireInstance(registry, input.by);
    const at = requireTask(tasks, input.id);
    const t = at.task;
    if (at.list !== 'pending_tasks' || t.assigned_to !== input.by) {
      throw conflict(`task ${input.id} is not offered to ${input.by} (${t.assigned_to ? `assigned to ${t.assigned_to}` : 'unassigned'}, ${t.status})`);
    }
    t.assigned_to = null;
    t.status = 'pending_assignment';
    const declined = Array.isArray(t.declined_by) ? (t.declined_by as unknown[]).filter((x): x is string => typeof x === 'string') : [];
    t.declined_by = uniq([...declined, input.by]);
    if (input.reason?.trim()) {
      const notes = Array.isArray(t.decline_notes) ? (t.decline_notes as unknown[]) : [];
      t.decline_notes = [...notes, { from: input.by, date: now, reason: input.reason.trim() }];
    }
    delete t.accepted_at;
    return { ...structuredClone(t), list: at.list };
});

/** Protocol 2, step 4: the assignee starts its task (as `claimTask`, without `force`). */
export async function startTask(store: CoordinationStore, input: { id: string; by: string }): Promise<ClaimResult> {
  return claimTask(store, { id: input.id, by: input.by });
}

/** Gives an in-progress task back to the queue, unassigned. Only its assignee may, unless `force`. */
export async function releaseTask(
  store: CoordinationStore,
  input: { id: string; by: string; force?: boolean },
): Promise<TaskEntry> {
  return store.update(TASK_RELEASE, input);
}

const TASK_RELEASE = defineChange('task.release', ['tasks', 'registry'], ({ tasks, registry }, input: { id: string; by: string; force?: boolean }, now): TaskEntry => {
  requireInstance(registry, input.by);
  const at = requireTask(tasks, input.id);
  const t = at.task;
  if (at.list !== 'active_tasks') throw conflict(`task ${input.id} is not in progress (${t.status})`);
  if (t.assigned_to !== input.by && !input.force) {
    throw conflict(`task ${input.id} is held by ${t.assigned_to ?? 'nobody'}, not ${input.by} (use --force to release it anyway)`);
  }
  clearCurrentTask(registry, t.assigned_to, t.task_id);
  t.assigned_to = null;
  t.status = 'pending_assignment';
  delete t.claimed_at;
  move(tasks, at, 'pending_tasks');
  registry.last_registry_update = now;
  return { ...structuredClone(t), list: 'pending_tasks' as const };
});

/** Marks a task blocked (still held) or back in progress. */
export async function setTaskBlocked(
  store: CoordinationStore,
  input: { id: string; by: string; blocked: boolean; reason?: string },
): Promise<TaskEntry> {
  return store.update(TASK_BLOCK, input);
}

const TASK_BLOCK = defineChange('task.block', ['tasks'], ({ tasks, registry }, input: { id: string; by: string; blocked: boolean; reason?: string }): TaskEntry => {
  requireInstance(registry, input.by);
  const at = requireTask(tasks, input.id);
  const t = at.task;
  if (at.list !== 'active_tasks') throw conflict(`task ${input.id} is not in progress (${t.status}); claim it first`);
  t.status = input.blocked ? 'blocked' : 'in_progress';
  if (input.blocked && input.reason?.trim()) t.blocked_reason = input.reason.trim();
  if (!input.blocked) delete t.blocked_reason;
  return { ...structuredClone(t), list: at.list };
});

/**
 * Finishes a task: it moves to `completed_tasks` (status `completed`, or `cancelled` when `cancel`), delivered
 * files are added, and the assignee's current task is cleared. Only the assignee may complete it, unless
 * `force`; anyone may cancel a task nobody holds.
 */
export async function completeTask(
  store: CoordinationStore,
  input: { id: string; by: string; force?: boolean; deliverables?: string[]; cancel?: boolean; note?: string },
): Promise<TaskEntry> {
  return store.update(TASK_COMPLETE, input);
}

const TASK_COMPLETE = defineChange('task.complete', ['tasks', 'registry'], ({ tasks, registry }, input: { id: string; by: string; force?: boolean; deliverables?: string[]; cancel?: boolean; note?: string }, now): TaskEntry => {
  requireInstance(registry, input.by);
  const at = requireTask(tasks, input.id);
  const t = at.task;
  if (at.list === 'completed_tasks') throw conflict(`task ${input.id} is already ${t.status}`);
  const holder = at.list === 'active_tasks' ? t.assigned_to : null;
  if (!input.cancel && at.list !== 'active_tasks' && !input.force) {
    throw conflict(`task ${input.id} is not in progress (${t.status}); claim it before completing it (or use --force)`);
  }
  if (holder && holder !== input.by && !input.force) {
    throw conflict(`task ${input.id} is held by ${holder}, not ${input.by} (use --force to ${input.cancel ? 'cancel' : 'complete'} it anyway)`);
  }
  if (!input.cancel && !t.assigned_to) t.assigned_to = input.by;
  clearCurrentTask(registry, t.assigned_to, t.task_id);
  t.status = input.cancel ? 'cancelled' : 'completed';
  if (input.cancel) t.cancelled_at = now;
  else t.completed_at = now;
  if (input.deliverables?.length) t.deliverables = uniq([...(t.deliverables ?? []), ...input.deliverables]);
  if (input.note?.trim()) t.completion_note = input.note.trim();
  move(tasks, at, 'completed_tasks');
  registry.last_registry_update = now;
  return { ...structuredClone(t), list: 'completed_tasks' as const };
});

export interface TaskFilter {
  list?: TaskList;
  status?: string;
  assignee?: string;
  /** Only pending tasks whose dependencies are all completed. */
  ready?: boolean;
}

export function filterTasks(queue: TaskQueue, f: TaskFilter = {}): TaskEntry[] {
  return allTasks(queue).filter(
    (t) =>
      (!f.list || t.list === f.list) &&
      (!f.status || t.status === f.status) &&
      (!f.assignee || t.assigned_to === f.assignee) &&
      (!f.ready || (t.list === 'pending_tasks' && unmetDependencies(queue, t).length === 0)),
  );
}

export interface TaskSuggestion {
  task: TaskEntry;
  reasons: string[];
}

/**
 * Pending tasks an instance could take next, best first: those offered to it, then those suggested for it, then
 * by how much of the required expertise it has, priority, due date and age. Tasks offered to someone else
 * and tasks with unmet dependencies are left out.
 */
export function suggestTasks(queue: TaskQueue, registry: Registry, instance: string): TaskSuggestion[] {
  const rec = registry.instances[instance];
  const expertise = new Set((rec?.expertise_areas ?? []).map((e) => e.toLowerCase()));
  const scored = queue.pending_tasks
    .filter((t) => (!t.assigned_to || t.assigned_to === instance) && unmetDependencies(queue, t).length === 0)
    .filter((t) => !(Array.isArray(t.declined_by) && (t.declined_by as unknown[]).includes(instance)) || t.assigned_to === instance)
    .map((t) => {
      const reasons: string[] = [];
      const offered = t.assigned_to === instance;
      const suggested = t.suggested_assignee === instance;
      const matches = (t.required_expertise ?? []).filter((e) => expertise.has(e.toLowerCase()));
      if (offered) reasons.push('assigned to you');
      if (suggested) reasons.push('suggested for you');
      if (matches.length) reasons.push(`matches your expertise: ${matches.join(', ')}`);
      reasons.push(`${t.priority} priority`);
      return { task: { ...structuredClone(t), list: 'pending_tasks' as const }, reasons, offered, suggested, matches: matches.length };
    });
  scored.sort(
    (a, b) =>
      Number(b.offered) - Number(a.offered) ||
      Number(b.suggested) - Number(a.suggested) ||
      b.matches - a.matches ||
      priorityRank(a.task.priority) - priorityRank(b.task.priority) ||
      (timeOf(a.task.due) ?? Infinity) - (timeOf(b.task.due) ?? Infinity) ||
      (timeOf(a.task.created) ?? 0) - (timeOf(b.task.created) ?? 0),
  );
  return scored.map(({ task, reasons }) => ({ task, reasons }));
}
