import { parseTree } from 'jsonc-parser';
import { FileLocation } from '../errors';
import { JsonPath, locatePath } from '../store/jsonText';
import { missingInput } from './decisions';
import { conflictRecord, conflictsIn, conflictSummary } from './mergeConflicts';
import { DEFAULT_RESPONSE_HOURS, pendingResponses, responseDue, SYSTEM_SENDER } from './messages';
import { CoordinationKey, CoordinationStore, CoordinationValues } from './store';
import { findTask, TASK_LISTS, TaskList } from './tasks';
import { formatDuration, isoTime, timeOf } from './time';
import { plural } from '../plural';

export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  severity: Severity;
  /** A stable identifier of the kind of finding, e.g. `overdue-response`. */
  code: string;
  message: string;
  /** The id the finding is about (instance, task, message or decision). */
  subject?: string;
  location?: FileLocation;
}

/** The seed's rule: an active instance checks in at least once a day. */
export const DEFAULT_STALE_HOURS = 24;
export { DEFAULT_RESPONSE_HOURS };

export interface HealthOptions {
  /** Evaluate as of this time (default: the store's clock for `checkHealth`, the system clock for `healthOf`). */
  now?: Date;
  /** Active instances should check in within this many hours (default 24). */
  staleHours?: number;
  /** Messages should be answered within this many hours when no time is given (default 4). */
  responseHours?: number;
}

/** One coordination file as parsed: its path, its text (for line and column) and its value. */
export interface HealthDocument<T> {
  file: string;
  text: string;
  value: T;
}

/** The files to check; a file that is absent (missing or unreadable) is skipped, and so are the checks that need it. */
export type HealthDocuments = { [K in CoordinationKey]?: HealthDocument<CoordinationValues[K]> };

export interface HealthReport {
  checkedAt: string;
  findings: Finding[];
  counts: Record<Severity, number>;
  summary: {
    instances: Record<string, number>;
    tasks: Record<TaskList, number>;
    messagesAwaitingResponse: number;
    pendingDecisions: number;
  };
}

/** Problems are errors and warnings; infos are hints. */
export function hasProblems(r: HealthReport): boolean {
  return r.counts.error + r.counts.warning > 0;
}

const TASK_LIST_STATUSES: Record<TaskList, string[]> = {
  pending_tasks: ['pending_assignment', 'assigned', 'accepted'],
  active_tasks: ['in_progress', 'blocked'],
  completed_tasks: ['completed', 'cancelled'],
};

/**
 * Reads the four coordination files and checks them (see `healthOf`). A file that does not parse or match its
 * schema fails the whole check with its `file:line:col`, as every other command does.
 */
export async function checkHealth(store: CoordinationStore, opts: HealthOptions = {}): Promise<HealthReport> {
  const docs = await store.readDocuments('registry', 'tasks', 'messages', 'decisions');
  return healthOf(docs, { ...opts, now: opts.now ?? store.clock.now() });
}

/**
 * The "Coordination Health Checks" of seed 004, plus consistency checks across the four files: check-ins
 * within 24 hours, answers within 4 hours, tasks with deadlines and known dependencies (no cycles), decisions
 * that name the instances they affect, and ids that are unique and refer to things that exist.
 *
 * A pure function of already parsed files, so the editor checks the files it holds without reading them again.
 * Any of the four may be left out (a file that does not parse, say): the others are still checked, and a
 * reference into a file that is left out is taken as valid rather than reported.
 */
export function healthOf(docs: HealthDocuments, opts: HealthOptions = {}): HealthReport {
  const registry = docs.registry?.value;
  const queue = docs.tasks?.value;
  const log = docs.messages?.value;
  const dlog = docs.decisions?.value;
  const now = (opts.now ?? new Date()).getTime();
  const staleMs = (opts.staleHours ?? DEFAULT_STALE_HOURS) * 3_600_000;
  const responseMs = (opts.responseHours ?? DEFAULT_RESPONSE_HOURS) * 3_600_000;
  const findings: Finding[] = [];

  const trees = new Map<CoordinationKey, ReturnType<typeof parseTree>>();
  const at = (key: CoordinationKey, p: JsonPath): FileLocation => {
    const doc = docs[key]!;
    if (!trees.has(key)) trees.set(key, parseTree(doc.text, undefined, { allowTrailingComma: true, disallowComments: false }));
    return locatePath(doc.file, doc.text, p, trees.get(key));
  };
  const add = (severity: Severity, code: string, message: string, subject: string | undefined, location: FileLocation) =>
    findings.push({ severity, code, message, subject, location });
  /** Whether an instance id may stand where it stands (unknown when the registry is left out). */
  const known = (id: string | null | undefined) =>
    !id || id === 'all' || !registry || Object.prototype.hasOwnProperty.call(registry.instances, id);
  /** Senders also include Syncord itself (the hand-overs it writes). */
  const knownSender = (id: string) => id === SYSTEM_SENDER || known(id);
  const ago = (t: number) => formatDuration(now - t);

  const taskIds = new Map<string, number>();
  if (queue) for (const list of TASK_LISTS) for (const t of queue[list]) taskIds.set(t.task_id, (taskIds.get(t.task_id) ?? 0) + 1);
  /** Whether a task id refers to a task (unknown when the task queue is left out). */
  const taskExists = (id: string) => !queue || taskIds.has(id);

  // Instances
  if (registry) {
    for (const [id, inst] of Object.entries(registry.instances)) {
      const last = timeOf(inst.last_update);
      if (inst.status === 'active') {
        if (last === undefined) add('warning', 'no-checkin-time', `${id} is active but has no last_update`, id, at('registry', ['instances', id, 'last_update']));
        else if (now - last > staleMs) {
          add('warning', 'stale-checkin', `${id} is active but last checked in ${ago(last)} ago (more than ${formatDuration(staleMs)})`, id, at('registry', ['instances', id, 'last_update']));
        }
      } else if (inst.status === 'pending' && last === undefined) {
        add('info', 'never-checked-in', `${id} (${inst.role}) has not checked in yet`, id, at('registry', ['instances', id]));
      }
      const cur = inst.current_task;
      if (queue && cur && /^task_\d+$/.test(cur)) {
        const t = findTask(queue, cur);
        if (!t) add('warning', 'unknown-task', `${id}'s current task ${cur} does not exist`, id, at('registry', ['instances', id, 'current_task']));
        else if (t.list !== 'active_tasks' || t.task.assigned_to !== id) {
          add('warning', 'current-task-mismatch', `${id}'s current task ${cur} is not in progress by ${id} (${t.task.status}, ${t.task.assigned_to ?? 'unassigned'})`, id, at('registry', ['instances', id, 'current_task']));
        }
      }
    }
  }

  // Tasks
  if (queue) {
    for (const list of TASK_LISTS) {
      queue[list].forEach((t, i) => {
        const p: JsonPath = [list, i];
        const id = t.task_id;
        if ((taskIds.get(id) ?? 0) > 1) add('error', 'duplicate-id', `task id ${id} is used more than once`, id, at('tasks', [...p, 'task_id']));
        if (!TASK_LIST_STATUSES[list].includes(t.status)) {
          add('warning', 'misplaced-task', `${id} has status ${t.status} but is in ${list} (expected ${TASK_LIST_STATUSES[list].join(' or ')})`, id, at('tasks', [...p, 'status']));
        }
        if (!known(t.assigned_to)) add('warning', 'unknown-instance', `${id} is assigned to ${t.assigned_to}, which is not registered`, id, at('tasks', [...p, 'assigned_to']));
        if (list === 'active_tasks' && !t.assigned_to) add('warning', 'unassigned-active-task', `${id} is in progress but assigned to nobody`, id, at('tasks', [...p, 'assigned_to']));
        if (!known(t.suggested_assignee)) {
          add('warning', 'unknown-instance', `${id} suggests ${t.suggested_assignee}, which is not registered`, id, at('tasks', [...p, 'suggested_assignee']));
        }
        (t.dependencies ?? []).forEach((d, j) => {
          if (!taskIds.has(d)) add('error', 'unknown-dependency', `${id} depends on ${d}, which does not exist`, id, at('tasks', [...p, 'dependencies', j]));
          else if (d === id) add('error', 'dependency-cycle', `${id} depends on itself`, id, at('tasks', [...p, 'dependencies', j]));
        });
        if (list !== 'completed_tasks') {
          const due = timeOf(t.due);
          if (!t.due) add('info', 'no-due-date', `${id} has no due date`, id, at('tasks', [...p, 'due']));
          else if (due !== undefined && due < now) add('warning', 'overdue-task', `${id} "${t.title}" was due ${ago(due)} ago`, id, at('tasks', [...p, 'due']));
          if (list === 'active_tasks') {
            const unmet = (t.dependencies ?? []).filter((d) => {
              const dep = findTask(queue, d);
              return dep && dep.task.status !== 'completed';
            });
            if (unmet.length) add('warning', 'started-before-dependencies', `${id} is in progress but ${unmet.join(', ')} ${unmet.length > 1 ? 'are' : 'is'} not completed`, id, at('tasks', [...p, 'dependencies']));
          }
        }
      });
    }
    for (const cycle of dependencyCycles(queue)) {
      const first = findTask(queue, cycle[0])!;
      add('error', 'dependency-cycle', `tasks depend on each other in a cycle: ${[...cycle, cycle[0]].join(' → ')}`, cycle[0], at('tasks', [first.list, first.index, 'dependencies']));
    }
  }

  // Messages
  if (log) {
    const msgIds = new Map<string, number>();
    for (const m of log.messages) msgIds.set(m.message_id, (msgIds.get(m.message_id) ?? 0) + 1);
    const pending = pendingResponses(log);
    log.messages.forEach((m, i) => {
      const p: JsonPath = ['messages', i];
      const id = m.message_id;
      if ((msgIds.get(id) ?? 0) > 1) add('error', 'duplicate-id', `message id ${id} is used more than once`, id, at('messages', [...p, 'message_id']));
      if (!knownSender(m.from)) add('warning', 'unknown-instance', `${id} is from ${m.from}, which is not registered`, id, at('messages', [...p, 'from']));
      if (!known(m.to)) add('warning', 'unknown-instance', `${id} is addressed to ${m.to}, which is not registered`, id, at('messages', [...p, 'to']));
      if (typeof m.in_reply_to === 'string' && !msgIds.has(m.in_reply_to)) {
        add('warning', 'unknown-message', `${id} replies to ${m.in_reply_to}, which does not exist`, id, at('messages', [...p, 'in_reply_to']));
      }
      const rel = m.context?.related_task;
      if (rel && !taskExists(rel)) add('warning', 'unknown-task', `${id} refers to task ${rel}, which does not exist`, id, at('messages', [...p, 'context', 'related_task']));
      if (m.status === 'pending_response') {
        const due = pending.has(id) ? responseDue(log, m, pending) : (timeOf(m.timestamp) ?? now) + responseMs;
        if (due !== undefined && due < now) {
          add('warning', 'overdue-response', `${m.to} has not answered ${id} "${m.subject}" from ${m.from} (due ${ago(due)} ago)`, id, at('messages', [...p, 'status']));
        }
      } else if (m.status === 'responded') {
        const sent = timeOf(m.timestamp);
        if (sent !== undefined && now - sent > staleMs) {
          add('info', 'thread-not-closed', `${m.from} has not closed the answered thread ${id} "${m.subject}"`, id, at('messages', [...p, 'status']));
        }
      }
    });
    log.response_queue.forEach((r, i) => {
      if (!msgIds.has(r.responding_to)) {
        add('warning', 'unknown-message', `the response queue waits on ${r.responding_to}, which does not exist`, r.responding_to, at('messages', ['response_queue', i, 'responding_to']));
      }
      if (!known(r.from)) add('warning', 'unknown-instance', `the response queue waits on ${r.from}, which is not registered`, r.from, at('messages', ['response_queue', i, 'from']));
    });
  }

  // Decisions
  if (dlog) {
    const decIds = new Map<string, number>();
    for (const d of [...dlog.decisions, ...dlog.pending_decisions]) decIds.set(d.decision_id, (decIds.get(d.decision_id) ?? 0) + 1);
    dlog.decisions.forEach((d, i) => {
      const p: JsonPath = ['decisions', i];
      const id = d.decision_id;
      if ((decIds.get(id) ?? 0) > 1) add('error', 'duplicate-id', `decision id ${id} is used more than once`, id, at('decisions', [...p, 'decision_id']));
      if (!(d.affects_instances ?? []).length) {
        add('warning', 'no-affected-instances', `decision ${id} "${d.title}" does not say which instances it affects`, id, at('decisions', [...p, 'affects_instances']));
      }
      (d.affects_instances ?? []).forEach((a, j) => {
        if (!known(a)) add('warning', 'unknown-instance', `decision ${id} affects ${a}, which is not registered`, id, at('decisions', [...p, 'affects_instances', j]));
      });
      d.decided_by.forEach((a, j) => {
        if (!known(a)) add('warning', 'unknown-instance', `decision ${id} was decided by ${a}, which is not registered`, id, at('decisions', [...p, 'decided_by', j]));
      });
      (d.related_tasks ?? []).forEach((t, j) => {
        if (!taskExists(t)) add('warning', 'unknown-task', `decision ${id} refers to task ${t}, which does not exist`, id, at('decisions', [...p, 'related_tasks', j]));
      });
    });
    dlog.pending_decisions.forEach((d, i) => {
      const p: JsonPath = ['pending_decisions', i];
      const id = d.decision_id;
      if ((decIds.get(id) ?? 0) > 1) add('error', 'duplicate-id', `decision id ${id} is used more than once`, id, at('decisions', [...p, 'decision_id']));
      if (d.options.length < 2) add('info', 'few-options', `pending decision ${id} "${d.title}" has ${plural(d.options.length, 'option')}`, id, at('decisions', [...p, 'options']));
      (d.input_needed_from ?? []).forEach((a, j) => {
        if (!known(a)) add('warning', 'unknown-instance', `decision ${id} needs input from ${a}, which is not registered`, id, at('decisions', [...p, 'input_needed_from', j]));
      });
      const missing = missingInput(d);
      const deadline = timeOf(d.deadline);
      if (deadline !== undefined && deadline < now) {
        const waiting = missing.length ? `; still waiting for input from ${missing.join(', ')}` : '; all input is in';
        add('warning', 'decision-overdue', `decision ${id} "${d.title}" passed its deadline ${ago(deadline)} ago${waiting}`, id, at('decisions', [...p, 'deadline']));
      } else if (missing.length) {
        add('info', 'awaiting-input', `decision ${id} "${d.title}" waits for input from ${missing.join(', ')}`, id, at('decisions', [...p, 'input_needed_from']));
      }
    });
  }

  // Conflicts a git merge of the files left (merge-driver.ts): at the record's first conflicting field.
  const values: Partial<CoordinationValues> = {};
  for (const k of ['registry', 'tasks', 'messages', 'decisions'] as const) if (docs[k]) (values as Record<string, unknown>)[k] = docs[k]!.value;
  for (const c of conflictsIn(values)) {
    const rec = conflictRecord(c.key, docs[c.key]!.value, c.conflict);
    const field = c.conflict.fields?.[0]?.path ?? [];
    const where: JsonPath = rec ? [...rec.path, ...field] : ['merge_conflicts', c.index];
    add('error', 'merge-conflict', conflictSummary(c.conflict), c.conflict.id, at(c.key, where));
  }

  const order: Record<Severity, number> = { error: 0, warning: 1, info: 2 };
  findings.sort((a, b) => order[a.severity] - order[b.severity]);
  const counts = { error: 0, warning: 0, info: 0 };
  for (const f of findings) counts[f.severity]++;
  const instances: Record<string, number> = {};
  for (const i of Object.values(registry?.instances ?? {})) instances[i.status] = (instances[i.status] ?? 0) + 1;
  return {
    checkedAt: isoTime(new Date(now)),
    findings,
    counts,
    summary: {
      instances,
      tasks: { active_tasks: queue?.active_tasks.length ?? 0, pending_tasks: queue?.pending_tasks.length ?? 0, completed_tasks: queue?.completed_tasks.length ?? 0 },
      messagesAwaitingResponse: log?.messages.filter((m) => m.status === 'pending_response').length ?? 0,
      pendingDecisions: dlog?.pending_decisions.length ?? 0,
    },
  };
}

/** Each dependency cycle among tasks once (self-dependencies are reported apart). */
export function dependencyCycles(queue: { [K in TaskList]: { task_id: string; dependencies?: string[] }[] }): string[][] {
  const deps = new Map<string, string[]>();
  for (const list of TASK_LISTS) for (const t of queue[list]) if (!deps.has(t.task_id)) deps.set(t.task_id, (t.dependencies ?? []).filter((d) => d !== t.task_id));
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (id: string) => {
    state.set(id, 1);
    stack.push(id);
    for (const d of deps.get(id) ?? []) {
      if (!deps.has(d)) continue;
      const s = state.get(d);
      if (s === 1) cycles.push(stack.slice(stack.indexOf(d)));
      else if (s === undefined) visit(d);
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const id of deps.keys()) if (!state.has(id)) visit(id);
  return cycles;
}
