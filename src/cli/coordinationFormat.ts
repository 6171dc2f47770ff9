import * as path from 'path';
import { formatLocation } from '../core/errors';
import { Finding, HealthReport } from '../core/coordination/health';
import { Inbox } from '../core/coordination/inbox';
import { InstanceEntry } from '../core/coordination/instances';
import { Decision, Message, PendingDecision, Task } from '../core/coordination/schemas';
import { TaskEntry } from '../core/coordination/tasks';
import { plural } from '../core/plural';

/** Human text for the coordination verbs. Every string from a file is printed as given, on its own. */

export function table(headers: string[], rows: string[][]): string {
  if (!rows.length) return '';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const dash = (v: unknown) => (v === null || v === undefined || v === '' ? '-' : String(v));
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

export function instancesTable(list: InstanceEntry[]): string {
  if (!list.length) return 'No instances are registered.';
  return table(
    ['ID', 'ROLE', 'STATUS', 'AVAILABLE', 'LAST UPDATE', 'CURRENT TASK'],
    list.map((i) => [i.id, i.role, i.status, i.available_for_consultation ? 'yes' : 'no', dash(i.last_update), dash(i.current_task)]),
  );
}

export function instanceDetail(i: InstanceEntry, openTasks: string[]): string {
  return [
    `${i.id}  (${i.role})`,
    `  status:        ${i.status}${i.available_for_consultation ? ', available for consultation' : ''}`,
    `  current task:  ${dash(i.current_task)}`,
    `  last update:   ${dash(i.last_update)}`,
    `  session:       ${dash(i.current_session_id)}`,
    `  expertise:     ${i.expertise_areas?.length ? i.expertise_areas.join(', ') : '-'}`,
    `  open tasks:    ${openTasks.length ? openTasks.join(', ') : '-'}`,
  ].join('\n');
}

export function tasksTable(list: TaskEntry[]): string {
  if (!list.length) return 'No tasks match.';
  return table(
    ['ID', 'STATUS', 'PRIORITY', 'ASSIGNEE', 'DUE', 'TITLE'],
    list.map((t) => [t.task_id, t.status, t.priority, dash(t.assigned_to ?? (t.suggested_assignee ? `(${t.suggested_assignee}?)` : null)), dash(t.due), oneLine(t.title)]),
  );
}

export function taskDetail(t: TaskEntry, unmet: string[]): string {
  const lines = [
    `${t.task_id}: ${t.title}`,
    `  status:       ${t.status} (in ${t.list})`,
    `  priority:     ${t.priority}`,
    `  assigned to:  ${dash(t.assigned_to)}${t.suggested_assignee ? ` (suggested: ${t.suggested_assignee})` : ''}`,
    `  created:      ${dash(t.created)}`,
    `  due:          ${dash(t.due)}`,
    `  depends on:   ${t.dependencies?.length ? t.dependencies.join(', ') : '-'}${unmet.length ? `  (not completed: ${unmet.join(', ')})` : ''}`,
  ];
  if (t.required_expertise?.length) lines.push(`  expertise:    ${t.required_expertise.join(', ')}`);
  if (t.deliverables?.length) lines.push(`  deliverables: ${t.deliverables.join(', ')}`);
  if (t.description) lines.push('', indent(t.description));
  return lines.join('\n');
}

function indent(text: string, by = '  '): string {
  return text
    .split(/\r?\n/)
    .map((l) => by + l)
    .join('\n');
}

export function messagesTable(list: Message[]): string {
  if (!list.length) return 'No messages match.';
  return table(
    ['ID', 'FROM', 'TO', 'STATUS', 'TIME', 'SUBJECT'],
    list.map((m) => [m.message_id, m.from, m.to, m.status, m.timestamp, oneLine(m.subject)]),
  );
}

export function messageBlock(m: Message): string {
  const meta = [m.type, m.priority ? `${m.priority} priority` : '', m.status].filter(Boolean).join(', ');
  const ctx: string[] = [];
  if (m.context?.related_task) ctx.push(`task ${m.context.related_task}`);
  if (m.context?.related_files?.length) ctx.push(`files ${m.context.related_files.join(', ')}`);
  return [
    `${m.message_id}  ${m.from} → ${m.to}  ${m.timestamp}`,
    `  ${m.subject}  (${meta})${typeof m.in_reply_to === 'string' ? `  in reply to ${m.in_reply_to}` : ''}`,
    ...(ctx.length ? [`  re: ${ctx.join('; ')}`] : []),
    '',
    indent(m.message, '    '),
  ].join('\n');
}

export function decisionsTable(decided: Decision[], pending: PendingDecision[]): string {
  const rows = [
    ...pending.map((d) => [d.decision_id, 'pending', dash(d.deadline), d.options.map((o) => o.option).join(' | '), oneLine(d.title)]),
    ...decided.map((d) => [d.decision_id, d.status, d.date, oneLine(d.decision), oneLine(d.title)]),
  ];
  if (!rows.length) return 'No decisions match.';
  return table(['ID', 'STATUS', 'DATE/DEADLINE', 'DECISION/OPTIONS', 'TITLE'], rows);
}

export function decisionDetail(d: Decision | PendingDecision, pending: boolean): string {
  const lines = [`${d.decision_id}: ${d.title}${pending ? '  (pending)' : ''}`];
  if (d.description) lines.push(indent(d.description));
  if ('decision' in d && !pending) {
    const dd = d as Decision;
    lines.push(
      `  decision:   ${dd.decision}`,
      `  rationale:  ${dash(dd.rationale)}`,
      `  decided by: ${dd.decided_by.join(', ')} on ${dd.date}`,
      `  status:     ${dd.status}${typeof dd.superseded_by === 'string' ? ` by ${dd.superseded_by}` : ''}`,
      `  affects:    ${dd.affects_instances?.length ? dd.affects_instances.join(', ') : '-'}`,
      `  tasks:      ${dd.related_tasks?.length ? dd.related_tasks.join(', ') : '-'}`,
    );
  } else {
    const pd = d as PendingDecision;
    lines.push(`  deadline:   ${dash(pd.deadline)}`, `  input from: ${pd.input_needed_from?.length ? pd.input_needed_from.join(', ') : '-'}`);
  }
  const options = Array.isArray(d.options) ? (d.options as PendingDecision['options']) : [];
  if (options.length) {
    lines.push('  options:');
    for (const o of options) {
      lines.push(`    - ${o.option}`);
      if (o.pros?.length) lines.push(`        pros: ${o.pros.join('; ')}`);
      if (o.cons?.length) lines.push(`        cons: ${o.cons.join('; ')}`);
    }
  }
  const inputs = Array.isArray(d.inputs) ? (d.inputs as { from: string; option: string | null; comment: string; date: string }[]) : [];
  if (inputs.length) {
    lines.push('  input:');
    for (const i of inputs) lines.push(`    - ${i.from}${i.option ? ` prefers ${i.option}` : ''}${i.comment ? `: ${oneLine(i.comment)}` : ''}`);
  }
  return lines.join('\n');
}

const taskLine = (t: Task) => `  ${t.task_id}  [${t.priority}]  ${oneLine(t.title)}${t.due ? `  (due ${t.due})` : ''}`;

export function inboxText(i: Inbox): string {
  const out: string[] = [];
  const section = (title: string, lines: string[]) => {
    if (lines.length) out.push(`${title}:`, ...lines, '');
  };
  section(
    'Messages awaiting your response',
    i.awaitingResponse.map(
      (a) => `  ${a.message.message_id}  from ${a.message.from}: ${oneLine(a.message.subject)}${a.due ? `  (${a.overdue ? 'OVERDUE, was due' : 'due'} ${a.due})` : ''}`,
    ),
  );
  section('Unread messages', i.unread.map((m) => `  ${m.message_id}  from ${m.from}${m.to === 'all' ? ' to all' : ''}: ${oneLine(m.subject)}`));
  section(
    'Answers to your requests (read, then `syncord msg close <id>`)',
    i.answered.map((a) => `  ${a.request.message_id}  ${oneLine(a.request.subject)}  ← ${a.replies.map((r) => `${r.message_id} from ${r.from}`).join(', ') || 'answered'}`),
  );
  section('Your tasks in progress', i.activeTasks.map(taskLine));
  section(
    'Tasks assigned to you',
    i.offeredTasks.map((t) => {
      const waits = i.waitingFor[t.task_id] ?? [];
      const state = t.status === 'accepted' ? 'accepted' : 'claim, accept or decline';
      return `${taskLine(t)}  — ${state}; ${waits.length ? `waits for ${waits.join(', ')}` : 'ready to start'}`;
    }),
  );
  section('Tasks suggested for you', i.suggestedTasks.map(taskLine));
  section(
    'Decisions waiting for your input',
    i.decisionsAwaitingInput.map((d) => `  ${d.decision_id}  ${oneLine(d.title)}${d.deadline ? `  (deadline ${d.deadline})` : ''}`),
  );
  section('Decisions affecting you', i.recentDecisions.map((d) => `  ${d.decision_id}  ${oneLine(d.title)}: ${oneLine(d.decision)}`));
  if (!out.length) return `Nothing waiting for ${i.instance}.`;
  return out.join('\n').trimEnd();
}

export function findingLine(f: Finding, cwd: string): string {
  const where = f.location ? `${formatLocation({ ...f.location, file: relative(f.location.file, cwd) })}: ` : '';
  return `${where}${f.severity}: ${f.message} [${f.code}]`;
}

function relative(file: string, cwd: string): string {
  const r = path.relative(cwd, file);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : file;
}

export function healthText(r: HealthReport, cwd: string): string {
  const lines = r.findings.map((f) => findingLine(f, cwd));
  const s = r.summary;
  const inst = Object.entries(s.instances)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  lines.push(
    '',
    `Instances: ${inst || 'none'}. Tasks: ${s.tasks.active_tasks} active, ${s.tasks.pending_tasks} pending, ${s.tasks.completed_tasks} completed. ` +
      `Messages awaiting response: ${s.messagesAwaitingResponse}. Pending decisions: ${s.pendingDecisions}.`,
    r.counts.error + r.counts.warning + r.counts.info
      ? `${plural(r.counts.error, 'error')}, ${plural(r.counts.warning, 'warning')}, ${plural(r.counts.info, 'note')} (as of ${r.checkedAt}).`
      : `Coordination is healthy (as of ${r.checkedAt}).`,
  );
  return lines.join('\n').replace(/^\n/, '');
}
