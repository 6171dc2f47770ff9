/**
 * The Coordination tree: instances, tasks and decisions of the coordination files as last read, with a node for
 * each file that cannot be read. Built from the core's read model (core/coordination/snapshot.ts); the extension
 * only adapts it to the editor.
 */
import { inputsOf, missingInput } from '../core/coordination/decisions';
import { DEFAULT_STALE_HOURS } from '../core/coordination/health';
import { COORDINATION_FILES } from '../core/workspace';
import { isStale } from '../core/coordination/instances';
import type { DecisionLog, Registry, Task, TaskQueue } from '../core/coordination/schemas';
import { brokenFiles, CoordinationSnapshot, FileState } from '../core/coordination/snapshot';
import type { CoordinationKey } from '../core/coordination/store';
import { formatDuration, timeOf } from '../core/coordination/time';
import { ClickCommand, ContextValue as AllContextValues } from './ids';
import { relativeTime } from './time';
import { NodeIcon, TreeModel, ViewNode } from './tree';
import { plural } from './text';

const ContextValue = AllContextValues.coordination;

export interface ViewOptions {
  /** Milliseconds since the epoch; relative times and staleness are computed against it. */
  now: number;
  /** The instance the user acts as (`syncord.instanceId`), if any. */
  me?: string;
  /** An instance whose last check-in is older than this is marked stale (default 24 h, the seed's rule). */
  staleAfterMs?: number;
}

export type CoordinationNodeKind = 'group' | 'instance' | 'task' | 'dependency' | 'decision' | 'option' | 'detail' | 'error' | 'missing';

/** A node of the Coordination tree: the record it stands for, and where it lives for "reveal in file". */
export interface CoordinationNode extends ViewNode {
  kind: CoordinationNodeKind;
  tooltip?: () => string;
  file?: CoordinationKey;
  jsonPath?: (string | number)[];
  /** For error nodes: the position to open. */
  location?: { file: string; line: number; column: number };
  instanceId?: string;
  taskId?: string;
  decisionId?: string;
  /** For option nodes: the option's text. */
  option?: string;
}

export type CoordinationTree = TreeModel<CoordinationNode>;

export const GROUP_IDS = {
  instances: 'group:instances',
  tasks: 'group:tasks',
  active: 'group:tasks/active',
  pending: 'group:tasks/pending',
  completed: 'group:tasks/completed',
  decisions: 'group:decisions',
  pendingDecisions: 'group:decisions/pending',
  decided: 'group:decisions/decided',
  messages: 'group:messages',
} as const;

function problemNode(b: CoordinationTree, key: CoordinationKey, st: FileState<unknown>, parentId: string): void {
  if (st.state === 'invalid') {
    const line = st.line ?? 1;
    const column = st.column ?? 1;
    b.add({
      id: `error:${key}`,
      kind: 'error',
      parentId,
      label: `${COORDINATION_FILES[key]}:${line}:${column}`,
      description: st.message,
      tooltip: () => `${st.file}:${line}:${column}\n${st.message}\n\nThe file is left as it is. Fix it and the view refreshes.`,
      icon: { id: 'error', color: 'list.errorForeground' },
      contextValue: ContextValue.fileError,
      collapsible: 'none',
      click: { command: ClickCommand.openCoordinationFileAt, title: 'Open at Problem', with: 'node' },
      file: key,
      location: { file: st.file, line, column },
    });
  } else if (st.state === 'missing') {
    b.add({
      id: `missing:${key}`,
      kind: 'missing',
      parentId,
      label: `${COORDINATION_FILES[key]} is missing`,
      description: 'Initialize Coordination creates it',
      tooltip: () => `${st.file} does not exist. "Syncord: Initialize Coordination" creates the missing files and keeps existing ones.`,
      icon: { id: 'warning', color: 'list.warningForeground' },
      contextValue: ContextValue.fileMissing,
      collapsible: 'none',
      click: { command: ClickCommand.initCoordination, title: 'Initialize Coordination', with: 'nothing' },
      file: key,
    });
  }
}

const INSTANCE_ICONS: Record<string, NodeIcon> = {
  active: { id: 'circle-filled', color: 'charts.green' },
  idle: { id: 'circle-outline', color: 'charts.yellow' },
  pending: { id: 'clock' },
  offline: { id: 'circle-slash', color: 'disabledForeground' },
};

const TASK_ICONS: Record<string, NodeIcon> = {
  pending_assignment: { id: 'circle-large-outline' },
  assigned: { id: 'account' },
  accepted: { id: 'thumbsup', color: 'charts.blue' },
  in_progress: { id: 'sync', color: 'charts.blue' },
  blocked: { id: 'debug-pause', color: 'charts.orange' },
  completed: { id: 'pass', color: 'charts.green' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
};

/** The group row of one coordination file, with a problem row under it when the file cannot be shown. */
function fileGroup(
  b: CoordinationTree,
  st: FileState<unknown>,
  g: { id: string; label: string; icon: string; kind: string; file: CoordinationKey; jsonPath?: (string | number)[] },
) {
  const group = b.add({
    id: g.id,
    kind: 'group',
    label: g.label,
    icon: { id: g.icon },
    contextValue: `${ContextValue.group}.${g.kind}`,
    collapsible: 'expanded',
    file: g.file,
    ...(g.jsonPath ? { jsonPath: g.jsonPath } : {}),
  });
  if (st.state !== 'ok') problemNode(b, g.file, st, group.id);
  return group;
}

function addInstances(b: CoordinationTree, st: FileState<Registry>, o: Required<Pick<ViewOptions, 'now' | 'staleAfterMs'>> & ViewOptions): number {
  const group = fileGroup(b, st, { id: GROUP_IDS.instances, label: 'Instances', icon: 'organization', kind: 'instances', file: 'registry', jsonPath: ['instances'] });
  if (st.state !== 'ok') return 0;
  let count = 0;
  let stale = 0;
  for (const [id, rec] of Object.entries(st.value.instances)) {
    count++;
    const staleCheckIn = isStale(rec, o.now, o.staleAfterMs);
    if (staleCheckIn) stale++;
    const since = timeOf(rec.last_update) === undefined ? undefined : relativeTime(rec.last_update, o.now);
    const parts = [rec.role];
    if (rec.current_task) parts.push(rec.current_task);
    parts.push(since ? `checked in ${since}` : 'never checked in');
    if (rec.available_for_consultation) parts.push('available');
    const mine = o.me === id;
    b.add({
      id: `instance:${id}`,
      kind: 'instance',
      parentId: group.id,
      label: staleCheckIn ? `${id} (stale)` : mine ? `${id} (you)` : id,
      description: parts.join(' · '),
      tooltip: () => [
        `${id} — ${rec.role}`,
        `Status: ${rec.status}${staleCheckIn ? ` — no check-in for over ${formatDuration(o.staleAfterMs)}` : ''}`,
        `Current task: ${rec.current_task ?? 'none'}`,
        `Last check-in: ${rec.last_update ?? 'never'}${since ? ` (${since})` : ''}`,
        `Expertise: ${(rec.expertise_areas ?? []).join(', ') || 'none listed'}`,
        `Available for consultation: ${rec.available_for_consultation ? 'yes' : 'no'}`,
        `Session: ${rec.current_session_id ?? 'none'}`,
      ].join('\n'),
      icon: staleCheckIn ? { id: 'warning', color: 'list.warningForeground' } : (INSTANCE_ICONS[rec.status] ?? { id: 'circle-outline' }),
      contextValue: mine ? ContextValue.instanceMe : ContextValue.instance,
      collapsible: 'none',
      file: 'registry',
      jsonPath: ['instances', id],
      instanceId: id,
    });
  }
  group.description = stale ? `${count} · ${stale} stale` : String(count);
  return count;
}

type Located = { task: Task; list: 'active_tasks' | 'pending_tasks' | 'completed_tasks'; index: number };

function dueText(task: Task, now: number): { text?: string; overdue: boolean } {
  const due = timeOf(task.due);
  if (due === undefined) return { overdue: false };
  const done = task.status === 'completed' || task.status === 'cancelled';
  const overdue = !done && due < now;
  return { text: overdue ? `overdue ${formatDuration(now - due)}` : `due ${relativeTime(task.due, now)}`, overdue };
}

function addTasks(b: CoordinationTree, st: FileState<TaskQueue>, o: ViewOptions): void {
  const group = fileGroup(b, st, { id: GROUP_IDS.tasks, label: 'Tasks', icon: 'tasklist', kind: 'tasks', file: 'tasks' });
  if (st.state !== 'ok') return;
  const q = st.value;
  const byId = new Map<string, Located>();
  for (const list of ['active_tasks', 'pending_tasks', 'completed_tasks'] as const) {
    q[list].forEach((task, index) => {
      if (!byId.has(task.task_id)) byId.set(task.task_id, { task, list, index });
    });
  }
  const sections = [
    { id: GROUP_IDS.active, label: 'Active', list: 'active_tasks' as const, icon: 'play-circle', expanded: true },
    { id: GROUP_IDS.pending, label: 'Pending', list: 'pending_tasks' as const, icon: 'inbox', expanded: true },
    { id: GROUP_IDS.completed, label: 'Completed', list: 'completed_tasks' as const, icon: 'check-all', expanded: false },
  ];
  group.description = `${q.active_tasks.length} active · ${q.pending_tasks.length} pending`;
  for (const s of sections) {
    const tasks = q[s.list];
    const sec = b.add({
      id: s.id,
      kind: 'group',
      parentId: group.id,
      label: s.label,
      description: String(tasks.length),
      icon: { id: s.icon },
      contextValue: `${ContextValue.group}.${s.list}`,
      collapsible: tasks.length === 0 ? 'none' : s.expanded ? 'expanded' : 'collapsed',
      file: 'tasks',
      jsonPath: [s.list],
    });
    tasks.forEach((task, index) => {
      const deps = task.dependencies ?? [];
      const blocking = deps.filter((d) => byId.get(d)?.task.status !== 'completed');
      const due = dueText(task, o.now);
      const parts: string[] = [task.assigned_to ?? (task.suggested_assignee ? `unassigned (suggested ${task.suggested_assignee})` : 'unassigned')];
      parts.push(task.priority);
      if (due.text) parts.push(due.text);
      if (blocking.length && s.list !== 'completed_tasks') parts.push(`blocked by ${blocking.join(', ')}`);
      const mine = o.me !== undefined && task.assigned_to === o.me;
      const isBlocked = blocking.length > 0 && s.list !== 'completed_tasks';
      const icon = due.overdue
        ? { id: TASK_ICONS[task.status]?.id ?? 'circle-large-outline', color: 'list.warningForeground' }
        : (TASK_ICONS[task.status] ?? { id: 'circle-large-outline' });
      const t = b.add({
        id: `task:${task.task_id}`,
        kind: 'task',
        parentId: sec.id,
        label: `${task.task_id} ${task.title}`,
        description: parts.join(' · '),
        tooltip: () => [
          `${task.task_id}: ${task.title}`,
          task.description ?? '',
          '',
          `Status: ${task.status}`,
          `Assigned to: ${task.assigned_to ?? 'nobody'}${task.suggested_assignee ? ` (suggested: ${task.suggested_assignee})` : ''}`,
          `Priority: ${task.priority}`,
          `Due: ${task.due ?? 'no due date'}${due.text ? ` (${due.text})` : ''}`,
          `Depends on: ${deps.join(', ') || 'nothing'}${isBlocked ? ` — waiting for ${blocking.join(', ')}` : ''}`,
          `Expertise: ${(task.required_expertise ?? []).join(', ') || 'any'}`,
          `Deliverables: ${(task.deliverables ?? []).join(', ') || 'none listed'}`,
        ].join('\n'),
        icon,
        contextValue: `${ContextValue.task}.${task.status}${mine ? '.mine' : ''}${task.assigned_to ? '' : '.unassigned'}${isBlocked ? '.blocked' : ''}`,
        collapsible: isBlocked ? 'collapsed' : 'none',
        file: 'tasks',
        jsonPath: [s.list, index],
        taskId: task.task_id,
        instanceId: task.assigned_to ?? undefined,
      });
      if (!isBlocked) return;
      for (const dep of blocking) {
        const found = byId.get(dep);
        b.add({
          id: `dep:${task.task_id}/${dep}`,
          kind: 'dependency',
          parentId: t.id,
          label: found ? `${dep} ${found.task.title}` : dep,
          description: found ? `blocks · ${found.task.status} · ${found.task.assigned_to ?? 'unassigned'}` : 'unknown task',
          tooltip: () => found ? `${task.task_id} waits for ${dep} (${found.task.status})` : `${task.task_id} depends on ${dep}, which is not in the task queue`,
          icon: found ? { id: 'debug-breakpoint-conditional-unverified', color: 'charts.orange' } : { id: 'error', color: 'list.errorForeground' },
          contextValue: ContextValue.dependency,
          collapsible: 'none',
          file: 'tasks',
          jsonPath: found ? [found.list, found.index] : [s.list, index, 'dependencies'],
          taskId: dep,
        });
      }
    });
  }
}

function addDecisions(b: CoordinationTree, st: FileState<DecisionLog>, o: ViewOptions): void {
  const group = fileGroup(b, st, { id: GROUP_IDS.decisions, label: 'Decisions', icon: 'law', kind: 'decisions', file: 'decisions' });
  if (st.state !== 'ok') return;
  const log = st.value;
  group.description = `${log.pending_decisions.length} pending · ${log.decisions.length} decided`;
  const pending = b.add({
    id: GROUP_IDS.pendingDecisions,
    kind: 'group',
    parentId: group.id,
    label: 'Pending',
    description: String(log.pending_decisions.length),
    icon: { id: 'question' },
    contextValue: `${ContextValue.group}.pending_decisions`,
    collapsible: log.pending_decisions.length ? 'expanded' : 'none',
    file: 'decisions',
    jsonPath: ['pending_decisions'],
  });
  const detail = (parentId: string, key: string, label: string, description: string | undefined, icon: string, path: (string | number)[], decisionId: string, color?: string) =>
    b.add({
      id: `${parentId}/${key}`,
      kind: 'detail',
      parentId,
      label,
      description,
      tooltip: () => description ? `${label} ${description}` : label,
      icon: { id: icon, color },
      contextValue: ContextValue.detail,
      collapsible: 'none',
      file: 'decisions',
      jsonPath: path,
      decisionId,
    });

  log.pending_decisions.forEach((d, index) => {
    const needed = missingInput(d);
    const inputs = inputsOf(d);
    const deadline = timeOf(d.deadline) === undefined ? undefined : relativeTime(d.deadline, o.now);
    const overdue = (timeOf(d.deadline) ?? Infinity) < o.now;
    const parts = [plural(d.options.length, 'option')];
    if (needed.length) parts.push(`input needed from ${needed.join(', ')}`);
    if (deadline) parts.push(overdue ? `deadline passed ${deadline}` : `deadline ${deadline}`);
    const base: (string | number)[] = ['pending_decisions', index];
    const node = b.add({
      id: `decision:${d.decision_id}`,
      kind: 'decision',
      parentId: pending.id,
      label: `${d.decision_id} ${d.title}`,
      description: parts.join(' · '),
      tooltip: () => [
        `${d.decision_id}: ${d.title}`,
        d.description ?? '',
        '',
        `Input asked from: ${(d.input_needed_from ?? []).join(', ') || 'nobody'}`,
        `Input still needed from: ${needed.join(', ') || 'nobody'}`,
        `Deadline: ${d.deadline ?? 'none'}`,
      ].join('\n'),
      icon: overdue ? { id: 'question', color: 'list.warningForeground' } : { id: 'question', color: 'charts.yellow' },
      contextValue: `${ContextValue.pendingDecision}${o.me && needed.includes(o.me) ? '.needsMyInput' : ''}`,
      collapsible: 'expanded',
      file: 'decisions',
      jsonPath: base,
      decisionId: d.decision_id,
    });
    d.options.forEach((opt, oi) => {
      const optNode = b.add({
        id: `${node.id}/option:${oi}`,
        kind: 'option',
        parentId: node.id,
        label: opt.option,
        description: `${(opt.pros ?? []).length} pros · ${(opt.cons ?? []).length} cons`,
        tooltip: () => [opt.option, ...(opt.pros ?? []).map((p) => `+ ${p}`), ...(opt.cons ?? []).map((c) => `− ${c}`)].join('\n'),
        icon: { id: 'symbol-enum-member' },
        contextValue: ContextValue.option,
        collapsible: (opt.pros ?? []).length + (opt.cons ?? []).length ? 'collapsed' : 'none',
        file: 'decisions',
        jsonPath: [...base, 'options', oi],
        decisionId: d.decision_id,
        option: opt.option,
      });
      (opt.pros ?? []).forEach((p, pi) => detail(optNode.id, `pro:${pi}`, p, 'pro', 'add', [...base, 'options', oi, 'pros', pi], d.decision_id, 'charts.green'));
      (opt.cons ?? []).forEach((c, ci) => detail(optNode.id, `con:${ci}`, c, 'con', 'remove', [...base, 'options', oi, 'cons', ci], d.decision_id, 'charts.red'));
    });
    if (needed.length) detail(node.id, 'needed', 'Input still needed from', needed.join(', '), 'person', [...base, 'input_needed_from'], d.decision_id, 'list.warningForeground');
    inputs.forEach((inp, ii) =>
      detail(node.id, `input:${ii}`, `${inp.from}${inp.option ? ` prefers ${inp.option}` : ' commented'}`, inp.comment || undefined, 'comment', [...base, 'inputs', ii], d.decision_id),
    );
  });

  const decided = b.add({
    id: GROUP_IDS.decided,
    kind: 'group',
    parentId: group.id,
    label: 'Decided',
    description: String(log.decisions.length),
    icon: { id: 'pass' },
    contextValue: `${ContextValue.group}.decisions`,
    collapsible: log.decisions.length ? 'collapsed' : 'none',
    file: 'decisions',
    jsonPath: ['decisions'],
  });
  log.decisions.forEach((d, index) => {
    const base: (string | number)[] = ['decisions', index];
    const node = b.add({
      id: `decided:${d.decision_id}`,
      kind: 'decision',
      parentId: decided.id,
      label: `${d.decision_id} ${d.title}`,
      description: `${d.decision} · by ${d.decided_by.join(', ')} · ${relativeTime(d.date, o.now)}`,
      tooltip: () => [
        `${d.decision_id}: ${d.title}`,
        d.description ?? '',
        '',
        `Decision: ${d.decision}`,
        `Rationale: ${d.rationale ?? 'none given'}`,
        `Decided by: ${d.decided_by.join(', ')} on ${d.date}`,
        `Status: ${d.status}`,
        `Affects: ${(d.affects_instances ?? []).join(', ') || 'nobody listed'}`,
      ].join('\n'),
      icon: d.status === 'active' ? { id: 'pass-filled', color: 'charts.green' } : { id: 'history', color: 'disabledForeground' },
      contextValue: ContextValue.decided,
      collapsible: 'collapsed',
      file: 'decisions',
      jsonPath: base,
      decisionId: d.decision_id,
    });
    detail(node.id, 'decision', 'Decision:', d.decision, 'law', [...base, 'decision'], d.decision_id);
    detail(node.id, 'rationale', 'Rationale:', d.rationale ?? 'none given', 'note', [...base, 'rationale'], d.decision_id);
    detail(node.id, 'affects', 'Affects:', (d.affects_instances ?? []).join(', ') || 'nobody listed', 'person', [...base, 'affects_instances'], d.decision_id);
  });
}

/** Builds the whole Coordination tree from the files as last read. Without a coordination folder: no nodes. */
export function buildTreeModel(snap: CoordinationSnapshot, options: ViewOptions): CoordinationTree {
  const b: CoordinationTree = new TreeModel();
  if (!snap.exists) return b;
  const o = { ...options, staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_HOURS * 3_600_000 };
  addInstances(b, snap.registry, o);
  addTasks(b, snap.tasks, o);
  addDecisions(b, snap.decisions, o);
  if (snap.messages.state !== 'ok') {
    const group = b.add({
      id: GROUP_IDS.messages,
      kind: 'group',
      label: 'Message Log',
      icon: { id: 'comment-discussion' },
      contextValue: `${ContextValue.group}.messages`,
      collapsible: 'expanded',
      file: 'messages',
    });
    problemNode(b, 'messages', snap.messages, group.id);
  }
  return b;
}


/** The line above the tree: how many coordination files cannot be read (their nodes say where). */
export function coordinationTreeMessage(snap: CoordinationSnapshot | undefined): string | undefined {
  const broken = brokenFiles(snap);
  return broken.length ? `${broken.length} coordination file${broken.length > 1 ? 's' : ''} cannot be read; see below.` : undefined;
}
