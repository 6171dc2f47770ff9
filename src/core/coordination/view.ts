/**
 * View models of the coordination files: the Coordination tree (instances, tasks, decisions) and the threads
 * of the Message Log. Pure functions over parsed files, so the editor, tests and benchmarks share them; the
 * extension maps these nodes to TreeItems and posts thread pages to the webview.
 */
import { inputsOf, missingInput } from './decisions';
import { BROADCAST, isRecipient } from './messages';
import type { MessageView, ThreadPage, ThreadView } from '../../shared/protocol';
import type { CommunicationLog, DecisionLog, Message, Registry, Task, TaskQueue } from './schemas';
import { formatDuration, timeOf } from './time';

export type FileKey = 'registry' | 'tasks' | 'messages' | 'decisions';

/** One coordination file as last read: parsed, broken (with where), or absent. */
export type FileState<T> =
  | { state: 'ok'; file: string; value: T; text: string }
  | { state: 'invalid'; file: string; message: string; line?: number; column?: number }
  | { state: 'missing'; file: string };

export interface CoordinationSnapshot {
  /** Whether the coordination folder exists at all (the view shows its welcome content when not). */
  exists: boolean;
  registry: FileState<Registry>;
  tasks: FileState<TaskQueue>;
  messages: FileState<CommunicationLog>;
  decisions: FileState<DecisionLog>;
}

export interface ViewOptions {
  /** Milliseconds since the epoch; relative times and staleness are computed against it. */
  now: number;
  /** The instance the user acts as (`syncord.instanceId`), if any. */
  me?: string;
  /** An instance whose last check-in is older than this is marked stale (default 24 h, the seed's rule). */
  staleAfterMs?: number;
}

export const DEFAULT_STALE_AFTER_MS = 24 * 3_600_000;

export type NodeKind = 'group' | 'instance' | 'task' | 'dependency' | 'decision' | 'option' | 'detail' | 'error' | 'missing';

/** Theme icon ids and theme colour ids (both resolved by the editor). */
export interface NodeIcon {
  id: string;
  color?: string;
}

/** `contextValue` of the nodes, matched by the `view/item/context` menus of package.json. */
export const ContextValue = {
  group: 'syncord.group',
  instance: 'syncord.instance',
  instanceMe: 'syncord.instance.me',
  /** Followed by `.<status>` and, when assigned to the user, `.mine`: `syncord.task.assigned.mine`. */
  task: 'syncord.task',
  dependency: 'syncord.dependency',
  pendingDecision: 'syncord.decision.pending',
  decided: 'syncord.decision.decided',
  option: 'syncord.decision.option',
  detail: 'syncord.detail',
  error: 'syncord.fileError',
  missing: 'syncord.fileMissing',
} as const;

export interface ViewNode {
  /** Stable across rebuilds: the same record keeps the same id, so expansion and selection survive. */
  id: string;
  kind: NodeKind;
  parentId?: string;
  label: string;
  description?: string;
  /** Plain text; built only when the editor asks for it (a tree of thousands of tasks shows few tooltips). */
  tooltip?: () => string;
  icon?: NodeIcon;
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** Where the record lives, for "reveal in file". */
  file?: FileKey;
  jsonPath?: (string | number)[];
  /** For error nodes: the position to open. */
  location?: { file: string; line: number; column: number };
  instanceId?: string;
  taskId?: string;
  decisionId?: string;
  /** For option nodes: the option's text. */
  option?: string;
}

export interface TreeModel {
  roots: ViewNode[];
  get(id: string): ViewNode | undefined;
  children(id: string): ViewNode[];
  parent(id: string): ViewNode | undefined;
  /** Count of nodes, for tests and benchmarks. */
  size: number;
}

export const GROUP_IDS = {
  instances: 'group:instances',
  tasks: 'group:tasks',
  active: 'group:tasks/active',
  pending: 'group:tasks/pending',
  completed: 'group:tasks/completed',
  decisions: 'group:decisions',
  pendingDecisions: 'group:decisions/pending',
  decided: 'group:decisions/decided',
} as const;

const FILE_NAMES: Record<FileKey, string> = {
  registry: 'instance-registry.json',
  tasks: 'task-queue.json',
  messages: 'communication-log.json',
  decisions: 'decisions.json',
};

class ModelBuilder {
  private readonly nodes = new Map<string, ViewNode>();
  private readonly kids = new Map<string, ViewNode[]>();
  readonly roots: ViewNode[] = [];

  add(node: ViewNode): ViewNode {
    let id = node.id;
    // Hand-edited files can repeat an id; keep ids unique so the tree does not refuse to render.
    for (let n = 2; this.nodes.has(id); n++) id = `${node.id}#${n}`;
    node.id = id;
    this.nodes.set(id, node);
    if (node.parentId === undefined) this.roots.push(node);
    else {
      let list = this.kids.get(node.parentId);
      if (!list) this.kids.set(node.parentId, (list = []));
      list.push(node);
    }
    return node;
  }

  build(): TreeModel {
    const { nodes, kids, roots } = this;
    return {
      roots,
      size: nodes.size,
      get: (id) => nodes.get(id),
      children: (id) => kids.get(id) ?? [],
      parent: (id) => {
        const p = nodes.get(id)?.parentId;
        return p === undefined ? undefined : nodes.get(p);
      },
    };
  }
}

/** "3h ago", "in 2d", "just now". */
export function relativeTime(iso: string | null | undefined, now: number): string | undefined {
  const t = timeOf(iso);
  if (t === undefined) return undefined;
  const d = now - t;
  if (Math.abs(d) < 60_000) return 'just now';
  return d > 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}

function problemNode(b: ModelBuilder, key: FileKey, st: FileState<unknown>, parentId: string): void {
  if (st.state === 'invalid') {
    const line = st.line ?? 1;
    const column = st.column ?? 1;
    b.add({
      id: `error:${key}`,
      kind: 'error',
      parentId,
      label: `${FILE_NAMES[key]}:${line}:${column}`,
      description: st.message,
      tooltip: () => `${st.file}:${line}:${column}\n${st.message}\n\nThe file is left as it is. Fix it and the view refreshes.`,
      icon: { id: 'error', color: 'list.errorForeground' },
      contextValue: ContextValue.error,
      collapsible: 'none',
      file: key,
      location: { file: st.file, line, column },
    });
  } else if (st.state === 'missing') {
    b.add({
      id: `missing:${key}`,
      kind: 'missing',
      parentId,
      label: `${FILE_NAMES[key]} is missing`,
      description: 'Initialize Coordination creates it',
      tooltip: () => `${st.file} does not exist. "Syncord: Initialize Coordination" creates the missing files and keeps existing ones.`,
      icon: { id: 'warning', color: 'list.warningForeground' },
      contextValue: ContextValue.missing,
      collapsible: 'none',
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

function addInstances(b: ModelBuilder, st: FileState<Registry>, o: Required<Pick<ViewOptions, 'now' | 'staleAfterMs'>> & ViewOptions): number {
  const group = b.add({
    id: GROUP_IDS.instances,
    kind: 'group',
    label: 'Instances',
    icon: { id: 'organization' },
    contextValue: `${ContextValue.group}.instances`,
    collapsible: 'expanded',
    file: 'registry',
    jsonPath: ['instances'],
  });
  if (st.state !== 'ok') {
    problemNode(b, 'registry', st, group.id);
    return 0;
  }
  let count = 0;
  let stale = 0;
  for (const [id, rec] of Object.entries(st.value.instances)) {
    count++;
    const last = timeOf(rec.last_update);
    const isStale = rec.status === 'active' && (last === undefined || o.now - last > o.staleAfterMs);
    if (isStale) stale++;
    const since = relativeTime(rec.last_update, o.now);
    const parts = [rec.role];
    if (rec.current_task) parts.push(rec.current_task);
    parts.push(since ? `checked in ${since}` : 'never checked in');
    if (rec.available_for_consultation) parts.push('available');
    const mine = o.me === id;
    b.add({
      id: `instance:${id}`,
      kind: 'instance',
      parentId: group.id,
      label: isStale ? `${id} (stale)` : mine ? `${id} (you)` : id,
      description: parts.join(' · '),
      tooltip: () => [
        `${id} — ${rec.role}`,
        `Status: ${rec.status}${isStale ? ` — no check-in for over ${formatDuration(o.staleAfterMs)}` : ''}`,
        `Current task: ${rec.current_task ?? 'none'}`,
        `Last check-in: ${rec.last_update ?? 'never'}${since ? ` (${since})` : ''}`,
        `Expertise: ${(rec.expertise_areas ?? []).join(', ') || 'none listed'}`,
        `Available for consultation: ${rec.available_for_consultation ? 'yes' : 'no'}`,
        `Session: ${rec.current_session_id ?? 'none'}`,
      ].join('\n'),
      icon: isStale ? { id: 'warning', color: 'list.warningForeground' } : (INSTANCE_ICONS[rec.status] ?? { id: 'circle-outline' }),
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

function addTasks(b: ModelBuilder, st: FileState<TaskQueue>, o: ViewOptions): void {
  const group = b.add({
    id: GROUP_IDS.tasks,
    kind: 'group',
    label: 'Tasks',
    icon: { id: 'tasklist' },
    contextValue: `${ContextValue.group}.tasks`,
    collapsible: 'expanded',
    file: 'tasks',
  });
  if (st.state !== 'ok') {
    problemNode(b, 'tasks', st, group.id);
    return;
  }
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

function addDecisions(b: ModelBuilder, st: FileState<DecisionLog>, o: ViewOptions): void {
  const group = b.add({
    id: GROUP_IDS.decisions,
    kind: 'group',
    label: 'Decisions',
    icon: { id: 'law' },
    contextValue: `${ContextValue.group}.decisions`,
    collapsible: 'expanded',
    file: 'decisions',
  });
  if (st.state !== 'ok') {
    problemNode(b, 'decisions', st, group.id);
    return;
  }
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
    const deadline = relativeTime(d.deadline, o.now);
    const overdue = (timeOf(d.deadline) ?? Infinity) < o.now;
    const parts = [`${d.options.length} option${d.options.length === 1 ? '' : 's'}`];
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
      description: `${d.decision} · by ${d.decided_by.join(', ')} · ${relativeTime(d.date, o.now) ?? d.date}`,
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
export function buildTreeModel(snap: CoordinationSnapshot, options: ViewOptions): TreeModel {
  const b = new ModelBuilder();
  if (!snap.exists) return b.build();
  const o = { ...options, staleAfterMs: options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS };
  addInstances(b, snap.registry, o);
  addTasks(b, snap.tasks, o);
  addDecisions(b, snap.decisions, o);
  if (snap.messages.state !== 'ok') {
    const group = b.add({
      id: 'group:messages',
      kind: 'group',
      label: 'Message Log',
      icon: { id: 'comment-discussion' },
      contextValue: `${ContextValue.group}.messages`,
      collapsible: 'expanded',
      file: 'messages',
    });
    problemNode(b, 'messages', snap.messages, group.id);
  }
  return b.build();
}

// ---------------------------------------------------------------------------------------------------------
// Message Log threads

/** The message a reply answers (`in_reply_to`, as the core writes replies). */
export function replyTarget(m: Message): string | undefined {
  return typeof m.in_reply_to === 'string' && m.in_reply_to ? m.in_reply_to : undefined;
}

/** A message is waiting when it asks for a response that has not come yet. */
export function isWaiting(m: Message): boolean {
  return m.status === 'pending_response';
}

/** Open: neither acknowledged by its reader nor closed. */
export function isOpen(m: Message): boolean {
  return m.status !== 'closed' && m.status !== 'acknowledged';
}

export interface Thread {
  root: Message;
  /** Replies (and replies to replies), oldest first. */
  replies: Message[];
  /** Index of the root in the log, for a stable order among equal times. */
  index: number;
  /** Latest timestamp in the thread (ms). */
  last: number;
  participants: Set<string>;
}

/** Groups the log into threads: each message without a known parent starts one; replies join their root's. */
export function buildThreads(log: CommunicationLog): Thread[] {
  const byId = new Map<string, number>();
  const msgs = log.messages;
  for (let i = 0; i < msgs.length; i++) if (!byId.has(msgs[i].message_id)) byId.set(msgs[i].message_id, i);
  const rootOf = new Int32Array(msgs.length).fill(-1);
  const findRoot = (i: number): number => {
    // Walk up the reply chain; a cycle or a missing parent makes the message its own root.
    let cur = i;
    const seen: number[] = [];
    for (let steps = 0; steps < msgs.length; steps++) {
      if (rootOf[cur] >= 0) {
        cur = rootOf[cur];
        break;
      }
      seen.push(cur);
      const p = replyTarget(msgs[cur]);
      const pi = p === undefined ? undefined : byId.get(p);
      if (pi === undefined || pi === cur || seen.includes(pi)) break;
      cur = pi;
    }
    for (const s of seen) rootOf[s] = cur;
    return cur;
  };
  const threads = new Map<number, Thread>();
  for (let i = 0; i < msgs.length; i++) {
    const r = findRoot(i);
    let t = threads.get(r);
    if (!t) {
      t = { root: msgs[r], replies: [], index: r, last: timeOf(msgs[r].timestamp) ?? 0, participants: new Set([msgs[r].from, msgs[r].to]) };
      threads.set(r, t);
    }
    if (r !== i) {
      const m = msgs[i];
      t.replies.push(m);
      t.last = Math.max(t.last, timeOf(m.timestamp) ?? 0);
      t.participants.add(m.from);
      t.participants.add(m.to);
    }
  }
  const out = [...threads.values()];
  for (const t of out) if (t.replies.length > 1) t.replies.sort((a, b) => (timeOf(a.timestamp) ?? 0) - (timeOf(b.timestamp) ?? 0));
  return out;
}

/** Status filter of the Message Log. */
export type ThreadStatusFilter = 'all' | 'waiting' | 'open' | 'closed';

export interface ThreadFilter {
  /** Only threads this instance takes part in (sender or recipient; messages to "all" count for everyone). */
  instance?: string;
  status?: ThreadStatusFilter;
  /** Case-insensitive text in subject, body, sender or recipient. */
  text?: string;
}

export function threadWaiting(t: Thread): boolean {
  return isWaiting(t.root) || t.replies.some(isWaiting);
}

export function matchesFilter(t: Thread, f: ThreadFilter): boolean {
  if (f.instance && !t.participants.has(f.instance) && !t.participants.has('all')) return false;
  switch (f.status ?? 'all') {
    case 'waiting':
      if (!threadWaiting(t)) return false;
      break;
    case 'open':
      if (!isOpen(t.root)) return false;
      break;
    case 'closed':
      if (isOpen(t.root)) return false;
      break;
  }
  const q = f.text?.trim().toLowerCase();
  if (q) {
    const hit = (m: Message) =>
      m.subject.toLowerCase().includes(q) || m.message.toLowerCase().includes(q) || m.from.toLowerCase().includes(q) || m.to.toLowerCase().includes(q) || m.message_id.toLowerCase() === q;
    if (!hit(t.root) && !t.replies.some(hit)) return false;
  }
  return true;
}

/** Threads matching the filter, newest activity first (log order breaks ties, later first). */
export function filterThreads(threads: readonly Thread[], f: ThreadFilter): Thread[] {
  const out = threads.filter((t) => matchesFilter(t, f));
  out.sort((a, b) => b.last - a.last || b.index - a.index);
  return out;
}

/**
 * Messages that wait for `me`: addressed to me and waiting for my answer, or sent to me (or to all) and not yet
 * acknowledged by me. The same rule as `syncord inbox`.
 */
export function unreadFor(log: CommunicationLog, me: string | undefined): Message[] {
  if (!me) return [];
  return log.messages.filter((m) => {
    if (!isRecipient(m, me)) return false;
    if (m.status === 'pending_response') return m.to === me;
    if (m.status !== 'sent') return false;
    return m.to !== BROADCAST || !(Array.isArray(m.acknowledged_by) && (m.acknowledged_by as unknown[]).includes(me));
  });
}

/** Ids used in the log, for offering recipients that are not (yet) in the registry. */
export function instanceIdsOf(snap: CoordinationSnapshot): string[] {
  return snap.registry.state === 'ok' ? Object.keys(snap.registry.value.instances) : [];
}

export { FILE_NAMES as COORDINATION_FILE_NAMES };

// ---------------------------------------------------------------------------------------------------------
// Message Log pages (what the webview is sent)

function messageView(m: Message, now: number, me: string | undefined, threadOpen: boolean): MessageView {
  const waiting = isWaiting(m);
  const toMe = me !== undefined && isRecipient(m, me);
  const acked = m.to === BROADCAST && me !== undefined && Array.isArray(m.acknowledged_by) && (m.acknowledged_by as unknown[]).includes(me);
  return {
    id: m.message_id,
    from: m.from,
    to: m.to,
    type: m.type,
    subject: m.subject,
    body: m.message,
    timestamp: m.timestamp,
    age: relativeTime(m.timestamp, now) ?? m.timestamp,
    priority: m.priority,
    status: m.status,
    requiresResponse: m.requires_response === true,
    waiting,
    relatedTask: m.context?.related_task ?? undefined,
    relatedFiles: m.context?.related_files ?? [],
    canReply: threadOpen && toMe && m.from !== me,
    canAck: toMe && m.status === 'sent' && !acked,
  };
}

export function threadView(t: Thread, now: number, me: string | undefined): ThreadView {
  const open = t.root.status !== 'closed';
  const all = [t.root, ...t.replies];
  const oldestWaiting = all.filter(isWaiting).reduce<number | undefined>((min, m) => {
    const ts = timeOf(m.timestamp);
    return ts === undefined ? min : min === undefined ? ts : Math.min(min, ts);
  }, undefined);
  return {
    id: t.root.message_id,
    root: messageView(t.root, now, me, open),
    replies: t.replies.map((m) => messageView(m, now, me, open)),
    waiting: threadWaiting(t),
    open,
    waitingAge: oldestWaiting === undefined ? undefined : formatDuration(Math.max(0, now - oldestWaiting)),
    canClose: open && me !== undefined && t.root.from === me,
  };
}

/**
 * One page of the Message Log: the threads matching `filter`, newest first, from `offset`, at most `limit`.
 * Only the threads of the page are converted, so a page of a 10,000-message log stays small.
 */
export function threadPage(
  threads: readonly Thread[],
  filter: ThreadFilter,
  offset: number,
  limit: number,
  opts: { now: number; me?: string; totalMessages: number; replace: boolean },
): ThreadPage {
  const matching = filterThreads(threads, filter);
  const start = Math.max(0, Math.min(offset, matching.length));
  return {
    total: matching.length,
    totalMessages: opts.totalMessages,
    offset: start,
    threads: matching.slice(start, start + limit).map((t) => threadView(t, opts.now, opts.me)),
    replace: opts.replace,
  };
}
