import { SyncordError } from '../errors';
import { nextId } from '../coordination/ids';
import { requireInstance } from '../coordination/instances';
import { appendMessage, BROADCAST, SYSTEM_SENDER } from '../coordination/messages';
import { CommunicationLog, Message, Registry, SyncWorkflowStep, Task, TaskQueue } from '../coordination/schemas';
import { PRIORITIES, Priority, SYNC_STEPS, SyncAgent, SyncStep } from '../coordination/vocabulary';
import { conflict, defineChange } from '../coordination/store';
import { allTasks, findTask, TaskEntry, TaskList, unmetDependencies } from '../coordination/tasks';

/**
 * Seed 002's "Agent Coordination for Synchronization" on the task queue. A requested sync is a workflow: tasks
 * chained by dependencies, one per step of the seed's sequence diagram —
 *
 *   apply (Coding) → verify (Testing) → docs (Documentation) → report to the requester
 *                         ↳ on failure: debug (Debugging) → fix (Coding) → verify again
 *
 * — each carrying `sync_workflow` (its workflow, target and step; the first also the request: by whom, the commit
 * range, the categories and the checklist). The state of a workflow is read from those tasks and nothing else.
 * Every change here is one store transaction; each also hands over (as a message in the log) every step that has
 * become ready, and reports a finished workflow to its requester, so whichever verb moved it, the next agent hears.
 */

/** Which agent of the seed does each step. */
export const STEP_AGENT: Record<SyncStep, SyncAgent> = { apply: 'coding', verify: 'testing', debug: 'debugging', fix: 'coding', docs: 'documentation' };

export type WorkflowState = 'open' | 'done' | 'cancelled';

/** One step of a workflow as it stands. */
export interface WorkflowStepView {
  task_id: string;
  title: string;
  step: SyncStep;
  agent: SyncAgent;
  round: number;
  status: string;
  list: TaskList;
  assigned_to: string | null;
  /** Its dependencies are completed (it can be started), or it is under way or done. */
  ready: boolean;
}

/** A workflow read from the task queue. */
export interface WorkflowView {
  id: string;
  target: string;
  state: WorkflowState;
  requested_by: string | null;
  since: string | null;
  until: string | null;
  requested: string | null;
  categories: { category: string; priority: string; files: number }[];
  checklist: string[];
  /** Steps in the order they were created (apply, verify, docs, then a debug and a fix per failed verify). */
  steps: WorkflowStepView[];
  done: number;
  total: number;
  /** The verification round (1, plus one per failed verify). */
  round: number;
  /** The step being worked on or waiting to be: under way first, then ready, then the first open one. */
  current?: WorkflowStepView;
  /** The message that reported the finished workflow to its requester. */
  reported: string | null;
}

type WorkflowTask = TaskEntry & { sync_workflow: SyncWorkflowStep };

const seq = (id: string) => Number(/_(\d+)$/.exec(id)?.[1] ?? 0);

function workflowTasks(queue: TaskQueue): Map<string, WorkflowTask[]> {
  const by = new Map<string, WorkflowTask[]>();
  for (const t of allTasks(queue)) {
    const w = t.sync_workflow;
    if (!w) continue;
    const list = by.get(w.id) ?? [];
    list.push(t as WorkflowTask);
    by.set(w.id, list);
  }
  for (const list of by.values()) list.sort((a, b) => seq(a.task_id) - seq(b.task_id));
  return by;
}

function viewOf(queue: TaskQueue, id: string, tasks: WorkflowTask[]): WorkflowView {
  const head = tasks.find((t) => t.sync_workflow.step === 'apply') ?? tasks[0];
  const h = head.sync_workflow;
  const steps: WorkflowStepView[] = tasks.map((t) => ({
    task_id: t.task_id,
    title: t.title,
    step: t.sync_workflow.step,
    agent: t.sync_workflow.agent,
    round: t.sync_workflow.round,
    status: t.status,
    list: t.list,
    assigned_to: t.assigned_to,
    ready: t.list !== 'pending_tasks' || unmetDependencies(queue, t).length === 0,
  }));
  const docs = tasks.find((t) => t.sync_workflow.step === 'docs');
  const state: WorkflowState = tasks.some((t) => t.status === 'cancelled') ? 'cancelled' : docs && docs.status === 'completed' ? 'done' : 'open';
  const open = steps.filter((s) => s.list !== 'completed_tasks');
  const current = open.find((s) => s.list === 'active_tasks') ?? open.find((s) => s.ready) ?? open[0];
  return {
    id,
    target: h.target,
    state,
    requested_by: h.requested_by ?? null,
    since: h.since ?? null,
    until: h.until ?? null,
    requested: head.created ?? null,
    categories: h.categories ?? [],
    checklist: h.checklist ?? [],
    steps,
    done: steps.filter((s) => s.status === 'completed').length,
    total: steps.length,
    round: Math.max(...tasks.map((t) => t.sync_workflow.round)),
    ...(current && state === 'open' ? { current } : {}),
    reported: docs?.sync_workflow.reported ?? null,
  };
}

/** Every workflow in the task queue, oldest first. */
export function workflowsIn(queue: TaskQueue): WorkflowView[] {
  return [...workflowTasks(queue)].map(([id, tasks]) => viewOf(queue, id, tasks)).sort((a, b) => seq(a.id) - seq(b.id));
}

/** The open workflow of a target, if any (there is at most one). */
export function openWorkflowFor(queue: TaskQueue, target: string): WorkflowView | undefined {
  return workflowsIn(queue).find((w) => w.target === target && w.state === 'open');
}

/** The workflow of a target to show: the open one, else the latest. */
export function workflowToShow(queue: TaskQueue, target: string): WorkflowView | undefined {
  const all = workflowsIn(queue).filter((w) => w.target === target);
  return all.find((w) => w.state === 'open') ?? all[all.length - 1];
}

// ------------------------------------------------------------------------------------------ what agents are told

const c = (s: string) => '`' + s + '`';
const short = (commit: string | null | undefined) => (commit ? commit.slice(0, 12) : null);

function rangeText(h: SyncWorkflowStep): string {
  const since = short(h.since);
  const until = short(h.until);
  return since ? `${since}..${until ?? 'the working tree'}` : `every file up to ${until ?? 'the working tree'}`;
}

function categoriesText(h: SyncWorkflowStep): string {
  const cats = h.categories ?? [];
  return cats.length ? cats.map((x) => `${x.category} (${x.priority}) ${x.files}`).join(', ') : 'no categorized changes';
}

const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** What the agent of a step is asked to do (one line: it may be typed into a terminal). */
export function stepPrompt(t: Task & { sync_workflow: SyncWorkflowStep }, head: SyncWorkflowStep, extra: { suggestion?: string; requester?: string | null } = {}): string {
  const w = t.sync_workflow;
  const id = t.task_id;
  const start = `Run ${c(`syncord task start ${id}`)}`;
  const intro = `Syncord: sync ${w.id} of target ${w.target}, step ${w.step} (task ${id}) is yours, as the ${w.agent[0].toUpperCase()}${w.agent.slice(1)} agent.`;
  switch (w.step) {
    case 'apply':
      return oneLine(
        `${intro} Changes ${rangeText(head)}: ${categoriesText(head)}. ${start}, read the checklist (${c(`syncord task show ${id}`)}, ${c(`syncord sync checklist --target ${w.target}`)}), ` +
          `apply the changes (${c(`syncord sync run --target ${w.target}`)} and what the checklist asks beyond the synced files), then ${c(`syncord task complete ${id}`)}: that requests the verification.`,
      );
    case 'verify':
      return oneLine(
        `${intro}${w.round > 1 ? ` The fixes of round ${w.round - 1} are applied: verify again.` : ''} ${start}, then ${c(`syncord sync verify --target ${w.target}`)}: ` +
          'a passing verification completes this task and starts the documentation step; a failing one hands the failures to the Debugging agent and brings this task back to you after the fix.',
      );
    case 'debug': {
      const failures = (w.failures ?? []).map((f) => `${f.check}: ${f.detail}${f.problems.length ? ` (${f.problems.slice(0, 3).join('; ')}${f.problems.length > 3 ? '; …' : ''})` : ''}`);
      return oneLine(
        `${intro} The verification of ${w.target} failed: ${failures.join(' | ') || 'see the last verification'}. ${start}, diagnose (${c(`syncord task show ${id}`)} lists every failure), ` +
          `then ${c(`syncord task complete ${id} --note "<the fix you suggest>"`)}: your note goes to the Coding agent.`,
      );
    }
    case 'fix':
      return oneLine(
        `${intro} ${extra.suggestion ? `The Debugging agent suggests: "${extra.suggestion}". ` : ''}${start}, apply the fixes in ${w.target} (or in the main project and ${c(`syncord sync run --target ${w.target}`)}), ` +
          `then ${c(`syncord task complete ${id}`)}: that requests the verification again.`,
      );
    case 'docs':
      return oneLine(
        `${intro} The verification passed. ${start}, bring the documentation of ${w.target} up to date (${c(`syncord sync docs ${w.target} --complete`)}, ${c(`syncord sync plans ${w.target} --complete`)} where the rules have them), ` +
          `then ${c(`syncord task complete ${id}`)}: that reports the sync to ${extra.requester ?? 'whoever requested it'}.`,
      );
  }
}

// ------------------------------------------------------------------------------------------ hand-overs

interface Files {
  tasks: TaskQueue;
  messages: CommunicationLog;
  registry: Registry;
}

function completedAt(t: Task): number {
  const v = typeof t.completed_at === 'string' ? Date.parse(t.completed_at) : NaN;
  return Number.isNaN(v) ? 0 : v;
}

/** Who hands a step over: the holder of the step it waited for (the last one finished), else the requester. */
function handerOf(queue: TaskQueue, tasks: WorkflowTask[], t: WorkflowTask, head: SyncWorkflowStep): string {
  const deps = (t.dependencies ?? []).map((d) => findTask(queue, d)?.task).filter((x): x is Task => !!x && x.status === 'completed');
  deps.sort((a, b) => completedAt(b) - completedAt(a));
  if (deps[0]?.assigned_to) return deps[0].assigned_to;
  if (t.sync_workflow.step === 'debug') {
    const verify = tasks.find((x) => x.sync_workflow.step === 'verify');
    if (verify?.assigned_to) return verify.assigned_to;
  }
  return head.requested_by ?? SYSTEM_SENDER;
}

function draftTask(queue: TaskQueue, id: string): (Task & { sync_workflow: SyncWorkflowStep }) | undefined {
  const t = findTask(queue, id)?.task;
  return t?.sync_workflow ? (t as Task & { sync_workflow: SyncWorkflowStep }) : undefined;
}

/**
 * Writes the hand-over of every workflow step that has become ready and was not handed over for its round, and the
 * report of every finished workflow not reported yet (drafts of the task queue and the log). Returns the new
 * messages.
 */
export function advanceIn(files: Files, now: string): Message[] {
  const out: Message[] = [];
  for (const [id, tasks] of workflowTasks(files.tasks)) {
    if (tasks.some((t) => t.status === 'cancelled')) continue;
    const headTask = tasks.find((t) => t.sync_workflow.step === 'apply') ?? tasks[0];
    const head = headTask.sync_workflow;
    for (const t of tasks) {
      if (t.list === 'completed_tasks' || t.sync_workflow.handed_over) continue;
      if (unmetDependencies(files.tasks, t).length) continue;
      const draft = draftTask(files.tasks, t.task_id)!;
      const from = handerOf(files.tasks, tasks, t, head);
      const to = t.assigned_to ?? t.suggested_assignee ?? BROADCAST;
      const debug = t.sync_workflow.step === 'fix' ? tasks.find((x) => (t.dependencies ?? []).includes(x.task_id) && x.sync_workflow.step === 'debug') : undefined;
      const suggestion = debug && typeof debug.completion_note === 'string' ? debug.completion_note : undefined;
      const m = appendMessage(
        files.messages,
        {
          from,
          to,
          type: 'handoff',
          subject: `Sync ${id} of ${head.target}: ${t.sync_workflow.step}${t.sync_workflow.round > 1 ? ` (round ${t.sync_workflow.round})` : ''} — task ${t.task_id}`,
          body: stepPrompt(draft, head, { suggestion, requester: head.requested_by }),
          priority: t.priority,
          requiresResponse: false,
          relatedTask: t.task_id,
          relatedFiles: [],
          extra: { sync_workflow: id },
        },
        now,
      );
      draft.sync_workflow.handed_over = m.message_id;
      out.push(m);
    }
    const docs = tasks.find((t) => t.sync_workflow.step === 'docs');
    if (docs && docs.status === 'completed' && !docs.sync_workflow.reported) {
      const m = appendMessage(
        files.messages,
        {
          from: docs.assigned_to ?? SYSTEM_SENDER,
          to: head.requested_by ?? BROADCAST,
          type: 'info',
          subject: `Sync ${id} of ${head.target} is done`,
          body: reportText(files.tasks, id, tasks),
          priority: docs.priority,
          requiresResponse: false,
          relatedTask: headTask.task_id,
          relatedFiles: [],
          extra: { sync_workflow: id },
        },
        now,
      );
      draftTask(files.tasks, docs.task_id)!.sync_workflow.reported = m.message_id;
      out.push(m);
    }
  }
  return out;
}

function reportText(queue: TaskQueue, id: string, tasks: WorkflowTask[]): string {
  const w = viewOf(queue, id, tasks);
  const head = (tasks.find((t) => t.sync_workflow.step === 'apply') ?? tasks[0]).sync_workflow;
  const by = (step: SyncStep) => {
    const s = tasks.filter((t) => t.sync_workflow.step === step);
    return [...new Set(s.map((t) => t.assigned_to ?? 'nobody'))].join(', ');
  };
  const failed = tasks.filter((t) => t.sync_workflow.step === 'debug');
  const verify = tasks.find((t) => t.sync_workflow.step === 'verify');
  const L = [
    `The sync of ${head.target} requested ${w.requested ?? ''}${head.requested_by ? ` by ${head.requested_by}` : ''} is done (changes ${rangeText(head)}: ${categoriesText(head)}).`,
    `Applied by ${by('apply')}; verified by ${by('verify')}${verify?.sync_workflow.verify ? ` (passed at ${verify.sync_workflow.verify.at})` : ''}` +
      (failed.length ? `, after ${failed.length} failed verification${failed.length === 1 ? '' : 's'} diagnosed by ${by('debug')} and fixed by ${by('fix')}` : '') +
      `; documentation synced by ${by('docs')}.`,
    `Steps: ${w.steps.map((s) => `${s.task_id} ${s.step}${s.round > 1 ? ` (round ${s.round})` : ''} ${s.status}`).join(', ')}.`,
  ];
  return L.join(' ').replace(/ +/g, ' ');
}

// ------------------------------------------------------------------------------------------ the request

export interface RequestInput {
  target: string;
  requestedBy: string | null;
  since: string | null;
  until: string | null;
  categories: { category: string; priority: string; files: number }[];
  checklist: string[];
  /** The instance that acts as each agent (null: nobody's role fits; the step then waits for whoever takes it). */
  assignees: Record<SyncAgent, string | null>;
}

export interface RequestResult {
  workflow: WorkflowView;
  tasks: TaskEntry[];
  /** The hand-overs and messages written with it. */
  messages: Message[];
}

/** The highest priority among the categories detected (medium when none). */
export function priorityOf(categories: { priority: string }[]): Priority {
  let best: Priority = 'medium';
  for (const x of categories) {
    const p = x.priority as Priority;
    if (PRIORITIES.includes(p) && PRIORITIES.indexOf(p) < PRIORITIES.indexOf(best)) best = p;
  }
  return best;
}

function newStep(
  tasks: TaskQueue,
  input: { title: string; description: string; priority: string; dependencies: string[]; assignee: string | null; agent: SyncAgent; by: string | null },
  wf: SyncWorkflowStep,
  now: string,
): Task {
  const id = nextId('task', allTasks(tasks).map((t) => t.task_id));
  const task: Task = {
    task_id: id,
    title: input.title,
    description: input.description,
    assigned_to: input.assignee,
    status: input.assignee ? 'assigned' : 'pending_assignment',
    priority: input.priority,
    created: now,
    due: null,
    dependencies: input.dependencies,
    required_expertise: [input.agent],
  };
  if (input.assignee) task.suggested_assignee = input.assignee;
  if (input.by) task.created_by = input.by;
  task.sync_workflow = wf;
  tasks.pending_tasks.push(task);
  return task;
}

const STEP_TITLE: Record<SyncStep, (target: string, round: number) => string> = {
  apply: (t) => `Apply the changes to ${t}`,
  verify: (t, r) => (r > 1 ? `Verify ${t} again (round ${r})` : `Verify ${t}`),
  debug: (t, r) => `Diagnose the failed verification of ${t} (round ${r})`,
  fix: (t, r) => `Apply the fixes to ${t} (round ${r})`,
  docs: (t) => `Sync the documentation of ${t} and report`,
};

/** Requests a sync of one target by the agents: the workflow's tasks, and the hand-over of its first step. */
export const REQUEST = defineChange('agentsync.request', ['tasks', 'messages'], (files, input: RequestInput, now): RequestResult => {
  const open = openWorkflowFor(files.tasks, input.target);
  if (open) {
    throw conflict(`${input.target} already has a sync by agents under way: ${open.id} (${open.done}/${open.total} steps done); finish it or cancel its tasks first`);
  }
  if (input.requestedBy) requireInstance(files.registry, input.requestedBy);
  for (const a of Object.values(input.assignees)) if (a) requireInstance(files.registry, a);
  const id = nextId('wf', workflowsIn(files.tasks).map((w) => w.id));
  const priority = priorityOf(input.categories);
  const base = (step: SyncStep): Pick<SyncWorkflowStep, 'id' | 'target' | 'step' | 'agent' | 'round'> => ({ id, target: input.target, step, agent: STEP_AGENT[step], round: 1 });
  const head: SyncWorkflowStep = {
    ...base('apply'),
    handed_over: null,
    requested_by: input.requestedBy,
    since: input.since,
    until: input.until,
    categories: input.categories,
    checklist: input.checklist,
  };
  const range = rangeText(head);
  const cats = categoriesText(head);
  const by = input.requestedBy;
  const apply = newStep(
    files.tasks,
    {
      title: STEP_TITLE.apply(input.target, 1),
      description: `Sync ${id}, requested${by ? ` by ${by}` : ''}: apply the main project's changes ${range} (${cats}) to ${input.target}, following its checklist (sync_workflow.checklist; \`syncord sync checklist --target ${input.target}\`).`,
      priority,
      dependencies: [],
      assignee: input.assignees.coding,
      agent: 'coding',
      by,
    },
    head,
    now,
  );
  const verify = newStep(
    files.tasks,
    {
      title: STEP_TITLE.verify(input.target, 1),
      description: `Sync ${id}: run \`syncord sync verify --target ${input.target}\` once the changes are applied; a failure goes to the Debugging agent.`,
      priority,
      dependencies: [apply.task_id],
      assignee: input.assignees.testing,
      agent: 'testing',
      by,
    },
    { ...base('verify'), handed_over: null, verify: null },
    now,
  );
  const docs = newStep(
    files.tasks,
    {
      title: STEP_TITLE.docs(input.target, 1),
      description: `Sync ${id}: once ${input.target} is verified, bring its documentation up to date (\`syncord sync docs ${input.target} --complete\`); completing this task reports the sync${by ? ` to ${by}` : ''}.`,
      priority,
      dependencies: [verify.task_id],
      assignee: input.assignees.documentation,
      agent: 'documentation',
      by,
    },
    { ...base('docs'), handed_over: null, reported: null },
    now,
  );
  const messages = advanceIn(files, now);
  const tasks = [apply, verify, docs].map((t) => ({ ...structuredClone(findTask(files.tasks, t.task_id)!.task), list: 'pending_tasks' as const }));
  return { workflow: viewOf(files.tasks, id, workflowTasks(files.tasks).get(id)!), tasks, messages };
});

// ------------------------------------------------------------------------------------------ moving on

/** Hands over the steps that became ready and reports finished workflows (after any change to the task queue). */
export const ADVANCE = defineChange('agentsync.advance', ['tasks', 'messages'], (files, _input: Record<string, never>, now): Message[] => advanceIn(files, now));

/** Whether `advanceIn` would write anything: a ready step not handed over, or a finished workflow not reported. */
export function needsAdvance(queue: TaskQueue): boolean {
  for (const tasks of workflowTasks(queue).values()) {
    if (tasks.some((t) => t.status === 'cancelled')) continue;
    for (const t of tasks) if (t.list !== 'completed_tasks' && !t.sync_workflow.handed_over && !unmetDependencies(queue, t).length) return true;
    if (tasks.some((t) => t.sync_workflow.step === 'docs' && t.status === 'completed' && !t.sync_workflow.reported)) return true;
  }
  return false;
}

export interface VerifyFailure {
  check: string;
  detail: string;
  /** `file:line:col: message` where known. */
  problems: string[];
}

export interface VerifyInput {
  target: string;
  passed: boolean;
  /** When the verification ran (ISO). */
  at: string;
  /** Who ran it (the acting instance), if known. */
  by: string | null;
  failures: VerifyFailure[];
  /** The instances for the steps a failure opens (null: nobody's role fits). */
  assignees: Pick<Record<SyncAgent, string | null>, 'debugging' | 'coding'>;
}

export type VerifyReaction =
  | { reaction: 'none'; reason: string; workflow?: string }
  | { reaction: 'passed'; workflow: string; verifyTask: string; next?: string; messages: Message[] }
  | { reaction: 'failed'; workflow: string; verifyTask: string; debugTask: string; fixTask: string; round: number; messages: Message[] };

function clearCurrent(registry: Registry, instance: string | null | undefined, taskId: string, now: string): void {
  const rec = instance ? registry.instances[instance] : undefined;
  if (rec && rec.current_task === taskId) {
    rec.current_task = null;
    registry.last_registry_update = now;
  }
}

function moveTo(queue: TaskQueue, id: string, to: TaskList): Task {
  const at = findTask(queue, id)!;
  queue[at.list].splice(at.index, 1);
  queue[to].push(at.task);
  return at.task;
}

/**
 * A verification of a target was recorded: when the target's open workflow waits for it (its verify step is ready),
 * a pass completes that step (so the documentation step can start) and a failure opens a debugging step with the
 * failing checks, a fix step after it, and makes the verify step wait for the fix (one more round).
 */
export const VERIFIED = defineChange('agentsync.verified', ['tasks', 'messages', 'registry'], (files, input: VerifyInput, now): VerifyReaction => {
  const w = openWorkflowFor(files.tasks, input.target);
  if (!w) return { reaction: 'none', reason: `no sync by agents is under way for ${input.target}` };
  const step = w.steps.find((s) => s.step === 'verify' && s.list !== 'completed_tasks');
  if (!step) return { reaction: 'none', reason: `${w.id} has no verification open`, workflow: w.id };
  const t = draftTask(files.tasks, step.task_id)!;
  const unmet = unmetDependencies(files.tasks, t);
  if (unmet.length) return { reaction: 'none', reason: `${w.id} verifies after ${unmet.join(', ')}`, workflow: w.id };
  if (input.by && files.registry.instances[input.by] === undefined) throw new SyncordError(`instance ${JSON.stringify(input.by)} does not exist`, 'not-found');
  const result = { passed: input.passed, at: input.at };
  if (input.passed) {
    const holder = t.assigned_to ?? input.by;
    clearCurrent(files.registry, t.assigned_to, t.task_id, now);
    t.assigned_to = holder;
    t.status = 'completed';
    t.completed_at = now;
    t.completion_note = `verification passed at ${input.at}`;
    t.sync_workflow.verify = result;
    delete t.accepted_at;
    moveTo(files.tasks, t.task_id, 'completed_tasks');
    const messages = advanceIn(files, now);
    const next = w.steps.find((s) => s.step === 'docs')?.task_id;
    return { reaction: 'passed', workflow: w.id, verifyTask: t.task_id, ...(next ? { next } : {}), messages };
  }
  const round = t.sync_workflow.round;
  const by = t.assigned_to ?? input.by;
  const apply = w.steps.find((s) => s.step === 'apply');
  const base = (step: SyncStep) => ({ id: w.id, target: w.target, step, agent: STEP_AGENT[step], round });
  const debug = newStep(
    files.tasks,
    {
      title: STEP_TITLE.debug(w.target, round),
      description:
        `Sync ${w.id}: the verification of ${w.target} failed at ${input.at}. Failing checks:\n` +
        input.failures.map((f) => `- ${f.check}: ${f.detail}${f.problems.map((p) => `\n  - ${p}`).join('')}`).join('\n') +
        `\nDiagnose, then complete this task with the fix you suggest as its note (\`--note\`): it goes to the Coding agent.`,
      priority: t.priority,
      dependencies: [],
      assignee: input.assignees.debugging,
      agent: 'debugging',
      by,
    },
    { ...base('debug'), handed_over: null, failures: input.failures.map((f) => ({ ...f })) },
    now,
  );
  const fix = newStep(
    files.tasks,
    {
      title: STEP_TITLE.fix(w.target, round),
      description: `Sync ${w.id}: apply the fixes the Debugging agent suggests (${debug.task_id}'s note) to ${w.target}; completing this task requests the verification again.`,
      priority: t.priority,
      dependencies: [debug.task_id],
      assignee: apply?.assigned_to ?? input.assignees.coding,
      agent: 'coding',
      by,
    },
    { ...base('fix'), handed_over: null },
    now,
  );
  // The verification waits for the fix, and goes back to its tester for the next round.
  clearCurrent(files.registry, t.assigned_to, t.task_id, now);
  if (findTask(files.tasks, t.task_id)!.list !== 'pending_tasks') moveTo(files.tasks, t.task_id, 'pending_tasks');
  t.status = t.assigned_to ? 'assigned' : 'pending_assignment';
  delete t.claimed_at;
  delete t.accepted_at;
  t.dependencies = [...(t.dependencies ?? []), fix.task_id];
  t.title = STEP_TITLE.verify(w.target, round + 1);
  t.sync_workflow.round = round + 1;
  t.sync_workflow.handed_over = null;
  t.sync_workflow.verify = result;
  const messages = advanceIn(files, now);
  // The requester hears of the failure too (the hand-over itself goes to the Debugging agent).
  const requester = w.requested_by;
  if (requester && requester !== debug.assigned_to) {
    messages.push(
      appendMessage(
        files.messages,
        {
          from: by ?? SYSTEM_SENDER,
          to: requester,
          type: 'info',
          subject: `Sync ${w.id} of ${w.target}: verification failed (round ${round})`,
          body: `The verification of ${w.target} failed: ${input.failures.map((f) => `${f.check} (${f.detail})`).join('; ')}. ${debug.assigned_to ?? 'The Debugging agent'} diagnoses it in ${debug.task_id}; ${fix.assigned_to ?? 'the Coding agent'} applies the fix in ${fix.task_id}; then ${t.task_id} verifies again.`,
          priority: t.priority,
          requiresResponse: false,
          relatedTask: debug.task_id,
          relatedFiles: [],
          extra: { sync_workflow: w.id },
        },
        now,
      ),
    );
  }
  return { reaction: 'failed', workflow: w.id, verifyTask: t.task_id, debugTask: debug.task_id, fixTask: fix.task_id, round, messages };
});

export { SYNC_STEPS };
