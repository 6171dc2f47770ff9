import { SyncordError } from '../errors';
import { nextId, uniq } from './ids';
import { requireInstance } from './instances';
import { Decision, DecisionLog, DecisionOption, PendingDecision } from './schemas';
import { conflict, CoordinationStore, defineChange, usage } from './store';
import { requireTask } from './tasks';

/** Input an instance gave on a pending decision (kept as `inputs` on the decision). */
export interface DecisionInput {
  from: string;
  option: string | null;
  comment: string;
  date: string;
}

function allDecisionIds(log: DecisionLog): string[] {
  return [...log.decisions, ...log.pending_decisions].map((d) => d.decision_id);
}

export function requirePending(log: DecisionLog, id: string): PendingDecision {
  const d = log.pending_decisions.find((x) => x.decision_id === id);
  if (d) return d;
  if (log.decisions.some((x) => x.decision_id === id)) throw conflict(`decision ${id} is already decided`);
  throw new SyncordError(`decision ${JSON.stringify(id)} does not exist`, 'not-found');
}

export function inputsOf(d: PendingDecision | Decision): DecisionInput[] {
  return Array.isArray(d.inputs) ? (d.inputs as DecisionInput[]) : [];
}

/** Instances asked for input that have not given it yet. */
export function missingInput(d: PendingDecision): string[] {
  const given = new Set(inputsOf(d).map((i) => i.from));
  return (d.input_needed_from ?? []).filter((i) => !given.has(i));
}

function findOption(d: PendingDecision, name: string): DecisionOption | undefined {
  const n = name.trim().toLowerCase();
  return d.options.find((o) => o.option.toLowerCase() === n);
}

async function checkTasks(store: CoordinationStore, ids: string[] | undefined): Promise<void> {
  if (!ids?.length) return;
  const { tasks } = await store.read('tasks');
  for (const t of ids) requireTask(tasks, t);
}

export interface ProposeInput {
  by: string;
  title: string;
  description?: string;
  options: string[];
  inputFrom?: string[];
  deadline?: string | null;
  relatedTasks?: string[];
}

/** Protocol 4, step 1: a decision that needs making, with its options and who should give input. */
export async function proposeDecision(store: CoordinationStore, input: ProposeInput): Promise<PendingDecision> {
  if (!input.title.trim()) throw usage('a decision needs a title');
  const options = uniq(input.options);
  if (options.length < 2) throw usage('a decision to make needs at least two options (--option A --option B)');
  return store.update(PROPOSE, { ...input, options });
}

// The task queue is read (through `files.tasks`) only when the decision names tasks.
const PROPOSE = defineChange('decision.propose', ['decisions'], (files, input: ProposeInput, now): PendingDecision => {
    const { decisions, registry } = files;
    const options = input.options;
    for (const t of input.relatedTasks ?? []) requireTask(files.tasks, t);
    requireInstance(registry, input.by);
    const from = uniq(input.inputFrom ?? []);
    for (const i of from) requireInstance(registry, i);
    const d: PendingDecision = {
      decision_id: nextId('dec', allDecisionIds(decisions)),
      title: input.title.trim(),
      description: input.description?.trim() ?? '',
      options: options.map((o) => ({ option: o, pros: [], cons: [] })),
      input_needed_from: from,
      deadline: input.deadline ?? null,
      proposed_by: input.by,
      created: now,
    };
    if (input.relatedTasks?.length) d.related_tasks = uniq(input.relatedTasks);
    decisions.pending_decisions.push(d);
    return structuredClone(d);
});

/** Adds an option to a pending decision, or pros and cons to an existing one. */
export async function addOption(
  store: CoordinationStore,
  input: { id: string; option: string; pros?: string[]; cons?: string[] },
): Promise<PendingDecision> {
  if (!input.option.trim()) throw usage('an option needs a name');
  return store.update(DECISION_ADDOPTION, input);
}

const DECISION_ADDOPTION = defineChange('decision.addOption', ['decisions'], ({ decisions }, input: { id: string; option: string; pros?: string[]; cons?: string[] }): PendingDecision => {
  const d = requirePending(decisions, input.id);
  let o = findOption(d, input.option);
  if (!o) {
    o = { option: input.option.trim(), pros: [], cons: [] };
    d.options.push(o);
  }
  if (input.pros?.length) o.pros = uniq([...(o.pros ?? []), ...input.pros]);
  if (input.cons?.length) o.cons = uniq([...(o.cons ?? []), ...input.cons]);
  return structuredClone(d);
});

/** Protocol 4, step 2: an instance gives its input (a preferred option and/or a comment). A later input replaces its earlier one. */
export async function giveInput(
  store: CoordinationStore,
  input: { id: string; by: string; option?: string; comment?: string },
): Promise<PendingDecision> {
  if (!input.option?.trim() && !input.comment?.trim()) throw usage('give a preferred option (--option) or a comment (--text), or both');
  return store.update(GIVE_INPUT, input);
}

const GIVE_INPUT = defineChange(
  'decision.input',
  ['decisions'],
  ({ decisions, registry }, input: { id: string; by: string; option?: string; comment?: string }, now): PendingDecision => {
    requireInstance(registry, input.by);
    const d = requirePending(decisions, input.id);
    let option: string | null = null;
    if (input.option?.trim()) {
      const o = findOption(d, input.option);
      if (!o) throw usage(`decision ${input.id} has no option ${JSON.stringify(input.option)} (options: ${d.options.map((x) => x.option).join(', ')})`);
      option = o.option;
    }
    const entry: DecisionInput = { from: input.by, option, comment: input.comment?.trim() ?? '', date: now };
    d.inputs = [...inputsOf(d).filter((i) => i.from !== input.by), entry];
    return structuredClone(d);
  },
);

export interface DecideInput {
  id: string;
  by: string;
  /** The chosen option (must be one of the decision's options). */
  option?: string;
  /** The decision in words; defaults to the chosen option. */
  decision?: string;
  rationale: string;
  affects?: string[];
  relatedTasks?: string[];
}

export interface DecideResult {
  decision: Decision;
  /** Instances whose input was asked for but not given. */
  missingInput: string[];
}

/**
 * Protocol 4, steps 3–4: the decision maker makes the call. The pending decision moves to `decisions` with
 * the decision, rationale, who decided and who is affected; its options and inputs are kept for the record.
 */
export async function decide(store: CoordinationStore, input: DecideInput): Promise<DecideResult> {
  if (!input.rationale.trim()) throw usage('a decision needs a rationale (--rationale)');
  if (!input.option?.trim() && !input.decision?.trim()) throw usage('name the chosen option (--option) or state the decision (--decision)');
  return store.update(DECIDE, input);
}

const DECIDE = defineChange('decision.decide', ['decisions'], (files, input: DecideInput, now): DecideResult => {
    const { decisions, registry } = files;
    for (const t of input.relatedTasks ?? []) requireTask(files.tasks, t);
    requireInstance(registry, input.by);
    const p = requirePending(decisions, input.id);
    let chosen: string | undefined;
    if (input.option?.trim()) {
      const o = findOption(p, input.option);
      if (!o) throw usage(`decision ${input.id} has no option ${JSON.stringify(input.option)} (options: ${p.options.map((x) => x.option).join(', ')})`);
      chosen = o.option;
    }
    for (const a of input.affects ?? []) if (a !== 'all') requireInstance(registry, a);
    const missing = missingInput(p);
    const proposer = typeof p.proposed_by === 'string' ? [p.proposed_by] : [];
    const affected = input.affects?.length ? uniq(input.affects) : uniq([...proposer, ...(p.input_needed_from ?? []), input.by]);
    const related = uniq([...(Array.isArray(p.related_tasks) ? (p.related_tasks as string[]) : []), ...(input.relatedTasks ?? [])]);
    const { decision_id, title, description, options, input_needed_from, deadline, ...rest } = p;
    void input_needed_from;
    void deadline;
    delete rest.related_tasks;
    const d: Decision = {
      decision_id,
      title,
      description: description ?? '',
      decision: input.decision?.trim() || chosen!,
      rationale: input.rationale.trim(),
      decided_by: [input.by],
      date: now,
      status: 'active',
      affects_instances: affected,
      related_tasks: related,
      ...rest,
      options,
      ...(chosen ? { chosen_option: chosen } : {}),
    };
    decisions.pending_decisions.splice(decisions.pending_decisions.indexOf(p), 1);
    decisions.decisions.push(d);
    return { decision: structuredClone(d), missingInput: missing };
});

export interface RecordInput {
  by: string;
  title: string;
  decision: string;
  rationale: string;
  description?: string;
  affects?: string[];
  relatedTasks?: string[];
  decidedBy?: string[];
}

/** Logs a decision already made (like dec_001 in the seed), without a pending phase. */
export async function recordDecision(store: CoordinationStore, input: RecordInput): Promise<Decision> {
  if (!input.title.trim()) throw usage('a decision needs a title');
  if (!input.decision.trim()) throw usage('state the decision (--decision)');
  if (!input.rationale.trim()) throw usage('a decision needs a rationale (--rationale)');
  await checkTasks(store, input.relatedTasks);
  return store.update(DECISION_RECORD, input);
}

const DECISION_RECORD = defineChange('decision.record', ['decisions', 'registry'], ({ decisions, registry }, input: RecordInput, now): Decision => {
  requireInstance(registry, input.by);
  const deciders = uniq(input.decidedBy?.length ? input.decidedBy : [input.by]);
  for (const i of deciders) requireInstance(registry, i);
  for (const a of input.affects ?? []) if (a !== 'all') requireInstance(registry, a);
  const d: Decision = {
    decision_id: nextId('dec', allDecisionIds(decisions)),
    title: input.title.trim(),
    description: input.description?.trim() ?? '',
    decision: input.decision.trim(),
    rationale: input.rationale.trim(),
    decided_by: deciders,
    date: now,
    status: 'active',
    affects_instances: uniq(input.affects?.length ? input.affects : ['all']),
    related_tasks: uniq(input.relatedTasks ?? []),
  };
  decisions.decisions.push(d);
  return structuredClone(d);
});

/** Marks an active decision superseded (optionally by a newer one) or revoked. */
export async function retireDecision(
  store: CoordinationStore,
  input: { id: string; by: string; status: 'superseded' | 'revoked'; supersededBy?: string },
): Promise<Decision> {
  return store.update(DECISION_RETIRE, input);
}

const DECISION_RETIRE = defineChange('decision.retire', ['decisions', 'registry'], ({ decisions, registry }, input: { id: string; by: string; status: 'superseded' | 'revoked'; supersededBy?: string }, now): Decision => {
  requireInstance(registry, input.by);
  const d = decisions.decisions.find((x) => x.decision_id === input.id);
  if (!d) {
    if (decisions.pending_decisions.some((x) => x.decision_id === input.id)) throw conflict(`decision ${input.id} is still pending`);
    throw new SyncordError(`decision ${JSON.stringify(input.id)} does not exist`, 'not-found');
  }
  if (d.status !== 'active') throw conflict(`decision ${input.id} is already ${d.status}`);
  if (input.supersededBy) {
    if (input.supersededBy === input.id) throw usage('a decision cannot supersede itself');
    if (!decisions.decisions.some((x) => x.decision_id === input.supersededBy)) {
      throw new SyncordError(`decision ${JSON.stringify(input.supersededBy)} does not exist`, 'not-found');
    }
    d.superseded_by = input.supersededBy;
  }
  d.status = input.status;
  d.status_changed = { by: input.by, date: now };
  return structuredClone(d);
});

/** Whether a decision concerns an instance (named in affects_instances, or "all"). */
export function affects(d: Decision, instance: string): boolean {
  const a = d.affects_instances ?? [];
  return a.includes('all') || a.includes(instance);
}
