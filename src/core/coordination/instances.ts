import { SyncordError } from '../errors';
import { checkInstanceId, uniq } from './ids';
import { Instance, Registry, TaskQueue } from './schemas';
import { conflict, CoordinationStore, defineChange, usage } from './store';
import { timeOf } from './time';

/** An instance with its id, as listed and returned by the operations. */
export type InstanceEntry = Instance & { id: string };

export function instanceEntries(registry: Registry): InstanceEntry[] {
  return Object.entries(registry.instances).map(([id, rec]) => ({ id, ...rec }));
}

/** An active instance that never checked in, or whose last check-in is older than `staleAfterMs`. */
export function isStale(rec: Instance, now: number, staleAfterMs: number): boolean {
  if (rec.status !== 'active') return false;
  const last = timeOf(rec.last_update);
  return last === undefined || now - last > staleAfterMs;
}

/** Throws not-found unless `id` is in the registry. */
export function requireInstance(registry: Registry, id: string): Instance {
  const rec = Object.prototype.hasOwnProperty.call(registry.instances, id) ? registry.instances[id] : undefined;
  if (!rec) {
    const known = Object.keys(registry.instances);
    const hint = known.length ? ` (known: ${known.join(', ')})` : ' (the registry is empty)';
    throw new SyncordError(`instance ${JSON.stringify(id)} is not registered${hint}`, 'not-found');
  }
  return rec;
}

export interface CheckInInput {
  instance: string;
  /** Needed when the instance is not in the registry yet; updates the role otherwise. */
  role?: string;
  /** What the instance works on now (a task id or a short description). */
  task?: string | null;
  session?: string;
  expertise?: string[];
  available?: boolean;
  /** The status to record (default `active`). */
  status?: string;
}

export interface CheckInResult {
  id: string;
  created: boolean;
  instance: Instance;
  /** `last_update` before this operation (null when never set): what changed since is news to the instance. */
  previousUpdate: string | null;
}

/**
 * Protocol 1 (instance check-in): marks the instance active, stamps `last_update`, starts a session and
 * makes it available for consultation. An instance not yet registered is added when a role is given.
 */
export async function checkIn(store: CoordinationStore, input: CheckInInput): Promise<CheckInResult> {
  return store.update(CHECK_IN, { ...input, instance: checkInstanceId(input.instance) });
}

const CHECK_IN = defineChange('instance.checkin', ['registry'], ({ registry }, input: CheckInInput, now): CheckInResult => {
    const id = input.instance;
    let created = false;
    let rec = registry.instances[id];
    const previousUpdate = rec?.last_update ?? null;
    if (!rec) {
      if (!input.role?.trim()) {
        throw usage(`instance ${JSON.stringify(id)} is not in the registry yet; give its role to register it (--role <role>)`);
      }
      rec = {
        role: input.role.trim(),
        status: 'pending',
        current_task: null,
        last_update: null,
        expertise_areas: [],
        available_for_consultation: false,
        current_session_id: null,
      };
      registry.instances[id] = rec;
      created = true;
    }
    if (input.role?.trim()) rec.role = input.role.trim();
    if (input.expertise) rec.expertise_areas = uniq([...(rec.expertise_areas ?? []), ...input.expertise]);
    if (input.task !== undefined) rec.current_task = input.task;
    else if (rec.current_task === undefined) rec.current_task = null;
    rec.status = input.status?.trim() || 'active';
    rec.last_update = now;
    rec.available_for_consultation = input.available ?? true;
    rec.current_session_id = input.session?.trim() || `session_${now.replace(/[-:]/g, '')}`;
    registry.last_registry_update = now;
    return { id, created, instance: structuredClone(rec), previousUpdate };
});

export interface CheckOutInput {
  instance: string;
  /** `offline` (default) when the instance stops working, `idle` when it pauses. */
  status?: 'offline' | 'idle';
}

/** Marks the instance as no longer working: not available, session ended. Its current task is kept. */
export async function checkOut(store: CoordinationStore, input: CheckOutInput): Promise<CheckInResult> {
  return store.update(CHECK_OUT, input);
}

const CHECK_OUT = defineChange('instance.checkout', ['registry'], ({ registry }, input: CheckOutInput, now): CheckInResult => {
    const rec = requireInstance(registry, input.instance);
    const previousUpdate = rec.last_update ?? null;
    rec.status = input.status ?? 'offline';
    rec.last_update = now;
    rec.available_for_consultation = false;
    rec.current_session_id = null;
    registry.last_registry_update = now;
    return { id: input.instance, created: false, instance: structuredClone(rec), previousUpdate };
});

export interface AddInstanceInput {
  id: string;
  role: string;
  expertise?: string[];
}

/** Registers an instance that has not started yet (status `pending`, as in the seed). */
export async function addInstance(store: CoordinationStore, input: AddInstanceInput): Promise<InstanceEntry> {
  const id = checkInstanceId(input.id);
  if (!input.role.trim()) throw usage('an instance needs a role');
  return store.update(INSTANCE_ADD, { ...input, id });
}

const INSTANCE_ADD = defineChange('instance.add', ['registry'], ({ registry }, input: AddInstanceInput, now): InstanceEntry => {
  const id = input.id;
  if (registry.instances[id]) throw conflict(`instance ${JSON.stringify(id)} is already registered (role ${registry.instances[id].role})`);
  const rec: Instance = {
    role: input.role.trim(),
    status: 'pending',
    current_task: null,
    last_update: null,
    expertise_areas: uniq(input.expertise ?? []),
    available_for_consultation: false,
    current_session_id: null,
  };
  registry.instances[id] = rec;
  registry.last_registry_update = now;
  return { id, ...structuredClone(rec) };
});

export interface UpdateInstanceInput {
  id: string;
  role?: string;
  status?: string;
  task?: string | null;
  expertise?: string[];
  /** Replace the expertise list instead of adding to it. */
  replaceExpertise?: boolean;
  available?: boolean;
}

/** Changes fields of a registered instance; `last_update` is stamped. */
export async function updateInstance(store: CoordinationStore, input: UpdateInstanceInput): Promise<InstanceEntry> {
  return store.update(INSTANCE_UPDATE, input);
}

const INSTANCE_UPDATE = defineChange('instance.update', ['registry'], ({ registry }, input: UpdateInstanceInput, now): InstanceEntry => {
  const rec = requireInstance(registry, input.id);
  if (input.role !== undefined) {
    if (!input.role.trim()) throw usage('an instance needs a role');
    rec.role = input.role.trim();
  }
  if (input.status !== undefined) rec.status = input.status;
  if (input.task !== undefined) rec.current_task = input.task;
  if (input.expertise) {
    rec.expertise_areas = uniq(input.replaceExpertise ? input.expertise : [...(rec.expertise_areas ?? []), ...input.expertise]);
  }
  if (input.available !== undefined) rec.available_for_consultation = input.available;
  rec.last_update = now;
  registry.last_registry_update = now;
  return { id: input.id, ...structuredClone(rec) };
});

/** Tasks (not completed) that name this instance as assignee. */
export function openTasksOf(queue: TaskQueue, id: string): string[] {
  return [...queue.active_tasks, ...queue.pending_tasks].filter((t) => t.assigned_to === id).map((t) => t.task_id);
}

/**
 * Removes an instance from the registry. Refused while tasks are assigned to it, unless `force`, which also
 * returns those tasks to the queue (unassigned, pending).
 */
export async function removeInstance(
  store: CoordinationStore,
  input: { id: string; force?: boolean },
): Promise<{ id: string; unassigned: string[] }> {
  return store.update(INSTANCE_REMOVE, input);
}

const INSTANCE_REMOVE = defineChange('instance.remove', ['registry', 'tasks'], ({ registry, tasks }, input: { id: string; force?: boolean }, now): { id: string; unassigned: string[] } => {
  requireInstance(registry, input.id);
  const open = openTasksOf(tasks, input.id);
  if (open.length && !input.force) {
    throw conflict(`instance ${JSON.stringify(input.id)} still has tasks assigned (${open.join(', ')}); reassign them first or use --force`);
  }
  for (const t of tasks.pending_tasks) {
    if (t.assigned_to === input.id) {
      t.assigned_to = null;
      t.status = 'pending_assignment';
    }
  }
  const moved = tasks.active_tasks.filter((t) => t.assigned_to === input.id);
  tasks.active_tasks = tasks.active_tasks.filter((t) => t.assigned_to !== input.id);
  for (const t of moved) {
    t.assigned_to = null;
    t.status = 'pending_assignment';
    tasks.pending_tasks.push(t);
  }
  delete registry.instances[input.id];
  registry.last_registry_update = now;
  return { id: input.id, unassigned: open };
});
