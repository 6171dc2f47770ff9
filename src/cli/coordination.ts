import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { SyncordError } from '../core/errors';
import {
  addOption,
  decide,
  giveInput,
  missingInput,
  proposeDecision,
  recordDecision,
  retireDecision,
} from '../core/coordination/decisions';
import { checkHealth, DEFAULT_RESPONSE_HOURS, DEFAULT_STALE_HOURS, hasProblems } from '../core/coordination/health';
import { getInbox, inboxCount } from '../core/coordination/inbox';
import { initCoordination } from '../core/coordination/init';
import {
  addInstance,
  CheckInInput,
  checkIn,
  checkOut,
  instanceEntries,
  openTasksOf,
  removeInstance,
  requireInstance,
  updateInstance,
} from '../core/coordination/instances';
import {
  acknowledgeMessage,
  closeThread,
  filterMessages,
  isRecipient,
  replyToMessage,
  requireMessage,
  sendMessage,
  threadOf,
  threadRoot,
} from '../core/coordination/messages';
import { Decision, Message, PendingDecision, ResponseEntry } from '../core/coordination/schemas';
import { PRIORITIES } from '../core/coordination/vocabulary';
import { CoordinationStore } from '../core/coordination/store';
import {
  acceptTask,
  addTask,
  assignTask,
  blockersOf,
  claimTask,
  completeTask,
  declineTask,
  filterTasks,
  releaseTask,
  findTask,
  requireTask,
  setTaskBlocked,
  startTask,
  suggestTasks,
  TaskEntry,
  TaskList,
  unmetDependencies,
} from '../core/coordination/tasks';
import { parseTimeInput } from '../core/coordination/time';
import { CliContext, contextFrom } from './context';
import { io } from './io';
import {
  decisionDetail,
  decisionsTable,
  healthText,
  inboxText,
  instanceDetail,
  instancesTable,
  messageBlock,
  messagesTable,
  taskDetail,
  tasksTable,
} from './coordinationFormat';
import { ExitCode } from './exit';
import { blockedFor, blockedTaskAdvice, blockedTaskCliText } from '../views/blocked';

/** Coordination verbs (seed 004): init, checkin, checkout, instance, task, msg, decision, inbox, health. */
export function registerCoordinationCommands(program: Command): void {
  registerInit(program);
  registerCheckInOut(program);
  registerInstance(program);
  registerTask(program);
  registerMessage(program);
  registerDecision(program);
  registerInbox(program);
  registerHealth(program);
}

// ---------------------------------------------------------------------------------------------- helpers

/** The action's Command is always its last argument. */
function cmdOf(args: unknown[]): Command {
  return args[args.length - 1] as Command;
}

export function storeOf(ctx: CliContext): CoordinationStore {
  const wait = Number(io().env.SYNCORD_LOCK_WAIT_MS);
  return new CoordinationStore(ctx.paths.coordinationDir, {
    logger: ctx.logger,
    lockWaitMs: Number.isFinite(wait) && wait >= 0 ? wait : undefined,
  });
}

/** The acting instance, required by verbs that act on someone's behalf. */
export function me(ctx: CliContext): string {
  if (!ctx.instance) {
    throw new SyncordError('this command acts as an instance: pass --as <instance> or set SYNCORD_INSTANCE', 'usage');
  }
  return ctx.instance;
}

/** Repeatable, comma-separated list option: `--depends a,b --depends c`. */
function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Repeatable option kept whole (texts that may contain commas). */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `-m <text>`; `-m -` reads the text from standard input. */
async function textArg(value: string | undefined): Promise<string | undefined> {
  if (value !== '-') return value;
  try {
    return await io().readStdin();
  } catch (e) {
    throw new SyncordError(`could not read standard input: ${(e as Error).message}`, 'io');
  }
}

/**
 * A message body: `-m <text>` (`-m -` reads standard input), else the words given as arguments, else standard
 * input when it is not a terminal.
 */
async function bodyArg(option: string | undefined, words: string[], what: string): Promise<string> {
  if (option !== undefined) return (await textArg(option)) ?? '';
  if (words.length) return words.join(' ');
  if (io().stdinIsTTY) throw new SyncordError(`give the ${what} as an argument, with -m <text>, or on standard input`, 'usage');
  return (await textArg('-')) ?? '';
}

function time(value: string | undefined, what: string): string | undefined {
  return value === undefined ? undefined : parseTimeInput(value, new Date(), what);
}

const priorityOption = () =>
  new Option('-p, --priority <priority>', 'priority').choices([...PRIORITIES]);

// ---------------------------------------------------------------------------------------------- reads shared with the MCP server

/** `checkin`: marks the acting instance active, then reads what waits for it since its previous check-in. */
export async function checkInWithInbox(ctx: CliContext, input: Omit<CheckInInput, 'instance'>) {
  const store = storeOf(ctx);
  const r = await checkIn(store, { ...input, instance: me(ctx), session: input.session ?? (io().env.SYNCORD_SESSION || undefined) });
  const inbox = await getInbox(store, r.id, { since: r.previousUpdate });
  return { ...r, inbox };
}

export function checkInText(r: Awaited<ReturnType<typeof checkInWithInbox>>): string {
  const head = `${r.id} checked in${r.created ? ' (newly registered)' : ''}: ${r.instance.role}, session ${r.instance.current_session_id}.`;
  return `${head}\n\n${inboxText(r.inbox)}`;
}

export interface TaskQuery {
  /** One list only: active, pending or completed. */
  list?: 'active' | 'pending' | 'completed';
  status?: string;
  assignee?: string;
  /** Only tasks assigned to the acting instance. */
  mine?: boolean;
  ready?: boolean;
}

export async function listTasks(ctx: CliContext, q: TaskQuery): Promise<TaskEntry[]> {
  const { tasks } = await storeOf(ctx).read('tasks');
  return filterTasks(tasks, {
    list: q.list ? (`${q.list}_tasks` as TaskList) : undefined,
    status: q.status,
    assignee: q.mine ? me(ctx) : q.assignee,
    ready: q.ready,
  });
}

export async function showTask(ctx: CliContext, id: string): Promise<TaskEntry & { unmet_dependencies: string[] }> {
  const { tasks } = await storeOf(ctx).read('tasks');
  const at = requireTask(tasks, id);
  return { ...at.task, list: at.list, unmet_dependencies: unmetDependencies(tasks, at.task) };
}

/**
 * Runs a claim or start. When it is refused and the task waits for dependencies that are not completed, the
 * refusal names the tasks that block it and the commands that help (the editor offers the same options); the
 * core's own refusal says less. The queue is read again only then, so a claim reads it once.
 */
async function explainIfBlocked<R>(ctx: CliContext, id: string, by: string, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof SyncordError && e.code === 'conflict') {
      const { tasks } = await storeOf(ctx).read('tasks');
      const task = findTask(tasks, id)?.task;
      const blockers = task ? blockersOf(tasks, task) : [];
      if (task && blockedFor(task, blockers, by)) throw new SyncordError(blockedTaskCliText(blockedTaskAdvice(task, blockers, by)), 'conflict');
    }
    throw e;
  }
}

export interface MessageQuery {
  to?: string;
  from?: string;
  status?: string;
  task?: string;
  /** From or to the acting instance. */
  mine?: boolean;
  /** Addressed to the acting instance (or to all). */
  toMe?: boolean;
  /** Only messages waiting for a response. */
  pending?: boolean;
}

export async function listMessages(ctx: CliContext, q: MessageQuery): Promise<Message[]> {
  if (q.pending && q.status) throw new SyncordError('--pending and --status exclude each other', 'usage');
  const { messages } = await storeOf(ctx).read('messages');
  const recipient = q.toMe ? me(ctx) : undefined;
  return filterMessages(messages, {
    to: q.to,
    from: q.from,
    status: q.pending ? 'pending_response' : q.status,
    task: q.task,
    involving: q.mine ? me(ctx) : undefined,
  }).filter((m) => !recipient || isRecipient(m, recipient));
}

/** A message with its whole thread and the answers still awaited in it. */
export async function showThread(ctx: CliContext, id: string): Promise<{ thread: Message[]; pending_responses: ResponseEntry[] }> {
  const { messages } = await storeOf(ctx).read('messages');
  const root = threadRoot(messages, requireMessage(messages, id));
  const thread = threadOf(messages, root.message_id);
  const pending = messages.response_queue.filter((r) => thread.some((m) => m.message_id === r.responding_to) && r.status === 'pending');
  return { thread, pending_responses: pending };
}

export function threadText(r: { thread: Message[]; pending_responses: ResponseEntry[] }): string {
  const waiting = r.pending_responses.map((p) => `Waiting for ${p.from} to answer ${p.responding_to}${p.expected_response_time ? ` by ${p.expected_response_time}` : ''}.`);
  return [...r.thread.map(messageBlock), ...waiting].join('\n\n');
}

export async function listDecisions(
  ctx: CliContext,
  q: { pending?: boolean; decided?: boolean; all?: boolean },
): Promise<{ decisions: Decision[]; pending_decisions: PendingDecision[] }> {
  const { decisions } = await storeOf(ctx).read('decisions');
  return {
    decisions: q.pending ? [] : decisions.decisions.filter((d) => q.all || d.status === 'active'),
    pending_decisions: q.decided ? [] : decisions.pending_decisions,
  };
}

// ---------------------------------------------------------------------------------------------- init

function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the coordination folder and any missing coordination file (existing files are kept)')
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      let r;
      try {
        r = await initCoordination(ctx.paths.coordinationDir);
      } catch (e) {
        throw new SyncordError(`could not initialize ${ctx.paths.coordinationDir}: ${(e as Error).message}`, 'io', {
          file: ctx.paths.coordinationDir,
        });
      }
      const rel = path.relative(io().cwd, r.dir) || '.';
      ctx.print(
        r.created.length
          ? `Initialized ${rel}: created ${r.created.join(', ')}${r.existing.length ? `; kept ${r.existing.join(', ')}` : ''}.`
          : `${rel} already holds all coordination files; nothing was changed.`,
        r,
      );
    });
}

// ---------------------------------------------------------------------------------------------- check-in

function registerCheckInOut(program: Command): void {
  program
    .command('checkin')
    .description('start work as the acting instance: mark it active and show what waits for it')
    .option('--role <role>', 'role (required the first time; registers the instance)')
    .option('--task <task>', 'what you are working on now')
    .option('--session <id>', 'session id (default: $SYNCORD_SESSION, else a new one)')
    .option('--expertise <areas>', 'expertise areas to add (comma-separated, repeatable)', list)
    .option('--unavailable', 'not available for consultation')
    .option('--status <status>', 'status to record (default: active)')
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ role?: string; task?: string; session?: string; expertise?: string[]; unavailable?: boolean; status?: string }>();
      const r = await checkInWithInbox(ctx, {
        role: o.role,
        task: o.task,
        session: o.session,
        expertise: o.expertise,
        available: !o.unavailable,
        status: o.status,
      });
      ctx.print(checkInText(r), r);
    });

  program
    .command('checkout')
    .description('stop work as the acting instance: not available, session ended')
    .addOption(new Option('--status <status>', 'status to leave').choices(['offline', 'idle']).default('offline'))
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const r = await checkOut(storeOf(ctx), { instance: me(ctx), status: cmd.opts<{ status: 'offline' | 'idle' }>().status });
      ctx.print(`${r.id} checked out (${r.instance.status}).`, r);
    });
}

// ---------------------------------------------------------------------------------------------- instance

function registerInstance(program: Command): void {
  const inst = program.command('instance').description('the instance registry');

  inst
    .command('list')
    .description('list registered instances')
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const { registry } = await storeOf(ctx).read('registry');
      const entries = instanceEntries(registry);
      ctx.print(() => instancesTable(entries), entries);
    });

  inst
    .command('show')
    .description('show one instance')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const { registry, tasks } = await storeOf(ctx).read('registry', 'tasks');
      const rec = requireInstance(registry, id);
      const open = openTasksOf(tasks, id);
      ctx.print(instanceDetail({ id, ...rec }, open), { id, ...rec, open_tasks: open });
    });

  inst
    .command('add')
    .description('register an instance that has not started yet (status pending)')
    .argument('<id>')
    .requiredOption('--role <role>', 'its role')
    .option('--expertise <areas>', 'expertise areas (comma-separated, repeatable)', list)
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ role: string; expertise?: string[] }>();
      const r = await addInstance(storeOf(ctx), { id, role: o.role, expertise: o.expertise });
      ctx.print(`Registered ${r.id} (${r.role}).`, r);
    });

  inst
    .command('set')
    .description('change fields of an instance')
    .argument('<id>')
    .option('--role <role>')
    .option('--status <status>')
    .option('--task <task>', 'current task')
    .option('--no-task', 'clear the current task')
    .option('--expertise <areas>', 'expertise areas to add (comma-separated, repeatable)', list)
    .option('--replace-expertise', 'replace the expertise list instead of adding to it')
    .option('--available', 'available for consultation')
    .option('--unavailable', 'not available for consultation')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{
        role?: string;
        status?: string;
        task?: string | false;
        expertise?: string[];
        replaceExpertise?: boolean;
        available?: boolean;
        unavailable?: boolean;
      }>();
      if (o.available && o.unavailable) throw new SyncordError('--available and --unavailable exclude each other', 'usage');
      const task = o.task === false ? null : cmd.getOptionValueSource('task') === 'cli' ? o.task : undefined;
      const r = await updateInstance(storeOf(ctx), {
        id,
        role: o.role,
        status: o.status,
        task,
        expertise: o.expertise,
        replaceExpertise: o.replaceExpertise,
        available: o.available ? true : o.unavailable ? false : undefined,
      });
      ctx.print(`Updated ${r.id}.`, r);
    });

  inst
    .command('remove')
    .description('remove an instance from the registry')
    .argument('<id>')
    .option('--force', 'remove it even with tasks assigned (they return to the queue)')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const r = await removeInstance(storeOf(ctx), { id, force: cmd.opts<{ force?: boolean }>().force });
      ctx.print(`Removed ${r.id}.${r.unassigned.length ? ` Returned to the queue: ${r.unassigned.join(', ')}.` : ''}`, r);
    });
}

// ---------------------------------------------------------------------------------------------- task

function registerTask(program: Command): void {
  const task = program.command('task').description('the task queue: add, offer, accept, claim, start, complete tasks');

  task
    .command('list')
    .description('list tasks (all lists unless one is chosen)')
    .option('--active', 'only active_tasks')
    .option('--pending', 'only pending_tasks')
    .option('--completed', 'only completed_tasks')
    .option('--status <status>', 'only this status')
    .option('--assignee <instance>', 'only tasks assigned to this instance')
    .option('--mine', 'only tasks assigned to the acting instance')
    .option('--ready', 'only pending tasks whose dependencies are completed')
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ active?: boolean; pending?: boolean; completed?: boolean; status?: string; assignee?: string; mine?: boolean; ready?: boolean }>();
      const lists = (['active', 'pending', 'completed'] as const).filter((k) => o[k]);
      if (lists.length > 1) throw new SyncordError('choose at most one of --active, --pending, --completed', 'usage');
      const result = await listTasks(ctx, { list: lists[0], status: o.status, assignee: o.assignee, mine: o.mine, ready: o.ready });
      ctx.print(() => tasksTable(result), result);
    });

  task
    .command('show')
    .description('show one task')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const r = await showTask(ctx, id);
      ctx.print(taskDetail(r, r.unmet_dependencies), r);
    });

  task
    .command('add')
    .description('add a task to pending_tasks')
    .argument('[title]', 'the title (or --title)')
    .option('--title <text>', 'the title')
    .option('-d, --description <text>', 'what to do ("-" reads standard input)')
    .addOption(priorityOption().default('medium'))
    .option('--due <time>', 'deadline: ISO date/time or a delay like +4h, +2d')
    .option('--depends-on <ids>', 'tasks this one depends on (comma-separated, repeatable)', list)
    .addOption(new Option('--depends <ids>').argParser(list).hideHelp())
    .option('--expertise <areas>', 'required expertise (comma-separated, repeatable)', list)
    .option('--suggest <instance>', 'suggested assignee (default: the instance whose expertise matches best)')
    .option('--deliverable <path>', 'expected deliverable (repeatable)', collect)
    .action(async (titleArg: string | undefined, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{
        title?: string;
        description?: string;
        priority: string;
        due?: string;
        dependsOn?: string[];
        depends?: string[];
        expertise?: string[];
        suggest?: string;
        deliverable?: string[];
      }>();
      if (titleArg !== undefined && o.title !== undefined) throw new SyncordError('give the title once: as an argument or with --title', 'usage');
      const title = o.title ?? titleArg;
      if (!title) throw new SyncordError('a task needs a title (--title <text>)', 'usage');
      const deps = [...(o.dependsOn ?? []), ...(o.depends ?? [])];
      const t = await addTask(storeOf(ctx), {
        title,
        description: await textArg(o.description),
        priority: o.priority,
        due: time(o.due, 'due time'),
        dependencies: deps.length ? deps : undefined,
        requiredExpertise: o.expertise,
        suggestedAssignee: o.suggest,
        deliverables: o.deliverable,
        by: ctx.instance,
      });
      ctx.print(`Added ${t.task_id}: ${t.title}${t.suggested_assignee ? ` (suggested for ${t.suggested_assignee})` : ''}`, t);
    });

  task
    .command('assign')
    .description('offer a pending task to an instance, which then claims or declines it')
    .argument('<id>')
    .argument('<instance>')
    .action(async (id: string, to: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const t = await assignTask(storeOf(ctx), { id, to });
      ctx.print(`Assigned ${t.task_id} to ${to}; it can now claim or decline it.`, t);
    });

  task
    .command('claim')
    .description('accept a task as the acting instance: it moves to active_tasks, in progress')
    .argument('<id>')
    .option('--force', 'claim even with dependencies open or when assigned to another instance')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const by = me(ctx);
      const force = cmd.opts<{ force?: boolean }>().force;
      const claim = () => claimTask(storeOf(ctx), { id, by, force });
      const r = force ? await claim() : await explainIfBlocked(ctx, id, by, claim);
      ctx.print(r.alreadyClaimed ? `${by} already has ${id} in progress.` : `${by} claimed ${id}: ${r.task.title}`, r);
    });

  task
    .command('accept')
    .description('accept a task assigned to the acting instance (or an unassigned one); start it later with `task start`')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const by = me(ctx);
      const t = await acceptTask(storeOf(ctx), { id, by });
      ctx.print(`${by} accepted ${t.task_id}: ${t.title}`, t);
    });

  task
    .command('start')
    .description('start a task assigned to the acting instance: it moves to active_tasks, in progress (its dependencies must be completed)')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const by = me(ctx);
      const r = await explainIfBlocked(ctx, id, by, () => startTask(storeOf(ctx), { id, by }));
      ctx.print(r.alreadyClaimed ? `${by} already has ${id} in progress.` : `${by} started ${id}: ${r.task.title}`, r);
    });

  task
    .command('decline')
    .description('turn down a task assigned to the acting instance; it returns to the queue')
    .argument('<id>')
    .option('--reason <text>', 'why')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const t = await declineTask(storeOf(ctx), { id, by: me(ctx), reason: cmd.opts<{ reason?: string }>().reason });
      ctx.print(`Declined ${t.task_id}; it is unassigned again.`, t);
    });

  task
    .command('release')
    .description('give an in-progress task back to the queue')
    .argument('<id>')
    .option('--force', 'release a task held by another instance')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const t = await releaseTask(storeOf(ctx), { id, by: me(ctx), force: cmd.opts<{ force?: boolean }>().force });
      ctx.print(`Released ${t.task_id}; it is pending again.`, t);
    });

  for (const blocked of [true, false]) {
    task
      .command(blocked ? 'block' : 'unblock')
      .description(blocked ? 'mark an in-progress task blocked' : 'mark a blocked task in progress again')
      .argument('<id>')
      .option('--reason <text>', 'what blocks it')
      .action(async (id: string, ...args: unknown[]) => {
        const cmd = cmdOf(args);
        const ctx = contextFrom(cmd);
        const t = await setTaskBlocked(storeOf(ctx), { id, by: me(ctx), blocked, reason: cmd.opts<{ reason?: string }>().reason });
        ctx.print(`${t.task_id} is ${t.status}.`, t);
      });
  }

  for (const cancel of [false, true]) {
    task
      .command(cancel ? 'cancel' : 'complete')
      .description(cancel ? 'cancel a task: it moves to completed_tasks as cancelled' : 'finish a task held by the acting instance: it moves to completed_tasks')
      .argument('<id>')
      .option('--deliverable <path>', 'a delivered file or folder (repeatable)', collect)
      .option('--note <text>', 'a closing note')
      .option('--force', cancel ? 'cancel a task another instance holds' : 'complete a task not held by the acting instance')
      .action(async (id: string, ...args: unknown[]) => {
        const cmd = cmdOf(args);
        const ctx = contextFrom(cmd);
        const o = cmd.opts<{ deliverable?: string[]; note?: string; force?: boolean }>();
        const t = await completeTask(storeOf(ctx), { id, by: me(ctx), cancel, deliverables: o.deliverable, note: o.note, force: o.force });
        ctx.print(`${t.task_id} is ${t.status}.`, t);
      });
  }

  task
    .command('next')
    .description('pending tasks the acting instance could take next, best first')
    .option('--all', 'list every candidate, not only the best')
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const id = me(ctx);
      const { tasks, registry } = await storeOf(ctx).read('tasks', 'registry');
      requireInstance(registry, id);
      const all = suggestTasks(tasks, registry, id);
      const shown = cmd.opts<{ all?: boolean }>().all ? all : all.slice(0, 1);
      const human = shown.length
        ? shown.map((s) => `${s.task.task_id}  ${s.task.title}\n  (${s.reasons.join('; ')})`).join('\n')
        : `No pending task is ready for ${id}.`;
      ctx.print(human, shown);
    });
}

// ---------------------------------------------------------------------------------------------- msg

function registerMessage(program: Command): void {
  const msg = program.command('msg').description('the message log: send, reply, acknowledge, close');

  msg
    .command('send')
    .description('send a message from the acting instance to another instance, or to "all"')
    .usage('--to <instance> --subject <text> [options] [body...]  (or: <to> <subject> -m <text>)')
    .argument('[words...]', 'the body (without --to/--subject: the recipient and subject first); default: -m or standard input')
    .option('--to <instance>', 'the recipient: a registered instance, or "all"')
    .option('--subject <text>', 'the subject')
    .option('-m, --message <text>', 'the message ("-" reads standard input)')
    .option('--type <type>', 'consultation_request (default), question, info, handoff, ...', 'consultation_request')
    .addOption(priorityOption().default('medium'))
    .option('--requires-response', 'the recipient must answer (default for consultation requests and questions)')
    .option('--no-requires-response', 'no answer needed')
    .addOption(new Option('--require-response').hideHelp())
    .addOption(new Option('--no-require-response').hideHelp())
    .option('--task <id>', 'related task')
    .option('--file <path>', 'related file (repeatable)', collect)
    .option('--expect-by <time>', 'when the answer is expected (default: in 4 hours)')
    .action(async (words: string[], ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{
        to?: string;
        subject?: string;
        message?: string;
        type: string;
        priority: string;
        requiresResponse?: boolean;
        requireResponse?: boolean;
        task?: string;
        file?: string[];
        expectBy?: string;
      }>();
      const rest = [...words];
      const to = o.to ?? rest.shift();
      const subject = o.subject ?? rest.shift();
      if (!to) throw new SyncordError('name the recipient: --to <instance> (or "all")', 'usage');
      if (!subject) throw new SyncordError('give a subject: --subject <text>', 'usage');
      const explicit = (k: string) => cmd.getOptionValueSource(k) === 'cli';
      const requires = explicit('requiresResponse') ? o.requiresResponse : explicit('requireResponse') ? o.requireResponse : undefined;
      const r = await sendMessage(storeOf(ctx), {
        from: me(ctx),
        to,
        subject,
        body: await bodyArg(o.message, rest, 'message'),
        type: o.type,
        priority: o.priority,
        requiresResponse: requires,
        relatedTask: o.task,
        relatedFiles: o.file,
        expectBy: time(o.expectBy, 'response time'),
      });
      const nudged = await (await import('./sessions')).nudgeSessions(ctx, r.message.message_id);
      ctx.print(
        `Sent ${r.message.message_id} to ${to}${r.awaiting ? `; response expected by ${r.awaiting.expected_response_time}` : ''}.${nudged}`,
        r,
      );
    });

  msg
    .command('reply')
    .description('answer a message sent to the acting instance')
    .argument('<id>')
    .argument('[words...]', 'the answer (default: -m or standard input)')
    .option('-m, --message <text>', 'the answer ("-" reads standard input)')
    .option('--subject <text>', 'subject (default: Re: ...)')
    .option('--requires-response', 'ask for an answer back')
    .addOption(new Option('--require-response').hideHelp())
    .action(async (id: string, words: string[], ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ message?: string; subject?: string; requiresResponse?: boolean; requireResponse?: boolean }>();
      const r = await replyToMessage(storeOf(ctx), {
        id,
        from: me(ctx),
        body: await bodyArg(o.message, words, 'answer'),
        subject: o.subject,
        requiresResponse: o.requiresResponse || o.requireResponse || undefined,
      });
      const nudged = await (await import('./sessions')).nudgeSessions(ctx, r.message.message_id);
      ctx.print(`Sent ${r.message.message_id} in reply to ${id}.${nudged}`, r);
    });

  msg
    .command('close')
    .description('acknowledge the answers to your request and close its thread')
    .argument('<id>')
    .option('--force', 'close a thread another instance started')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const r = await closeThread(storeOf(ctx), { id, by: me(ctx), force: cmd.opts<{ force?: boolean }>().force });
      ctx.print(r.closed.length ? `Closed the thread ${r.closed.join(', ')}.` : `The thread of ${id} was already closed.`, r);
    });

  msg
    .command('ack')
    .description('mark a message that needs no answer as read')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const r = await acknowledgeMessage(storeOf(ctx), { id, by: me(ctx) });
      ctx.print(r.changed ? `Acknowledged ${id}.` : `${id} was already acknowledged.`, r);
    });

  msg
    .command('list')
    .description('list messages')
    .option('--to <instance>')
    .option('--from <instance>')
    .option('--status <status>')
    .option('--task <id>', 'related to this task')
    .option('--mine', 'from or to the acting instance')
    .option('--to-me', 'addressed to the acting instance (or to all)')
    .option('--pending', 'only messages waiting for a response')
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ to?: string; from?: string; status?: string; task?: string; mine?: boolean; toMe?: boolean; pending?: boolean }>();
      const result = await listMessages(ctx, o);
      ctx.print(() => messagesTable(result), result);
    });

  msg
    .command('show')
    .description('show a message with its whole thread')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const r = await showThread(ctx, id);
      ctx.print(threadText(r), r);
    });
}

// ---------------------------------------------------------------------------------------------- decision

function registerDecision(program: Command): void {
  const dec = program.command('decision').description('the decision log: propose, give input, decide');

  dec
    .command('list')
    .description('list decisions, pending first')
    .option('--pending', 'only pending decisions')
    .option('--decided', 'only decisions made')
    .option('--all', 'include superseded and revoked decisions')
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const r = await listDecisions(ctx, cmd.opts<{ pending?: boolean; decided?: boolean; all?: boolean }>());
      ctx.print(() => decisionsTable(r.decisions, r.pending_decisions), r);
    });

  dec
    .command('show')
    .description('show one decision')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const { decisions } = await storeOf(ctx).read('decisions');
      const p = decisions.pending_decisions.find((d) => d.decision_id === id);
      const d = decisions.decisions.find((x) => x.decision_id === id);
      if (!p && !d) throw new SyncordError(`decision ${JSON.stringify(id)} does not exist`, 'not-found');
      if (p) ctx.print(decisionDetail(p, true), { pending: true, decision: p, missing_input: missingInput(p) });
      else ctx.print(decisionDetail(d!, false), { pending: false, decision: d });
    });

  dec
    .command('propose')
    .description('propose a decision with options and ask instances for input')
    .argument('[title]', 'the title (or --title)')
    .option('--title <text>', 'the title')
    .requiredOption('--option <name>', 'an option (repeat for each; at least two)', collect)
    .option('-d, --description <text>', 'what is to be decided ("-" reads standard input)')
    .option('--input-from <instances>', 'instances whose input is needed (comma-separated, repeatable)', list)
    .option('--deadline <time>', 'ISO date/time or a delay like +4h')
    .option('--task <ids>', 'related tasks (comma-separated, repeatable)', list)
    .action(async (titleArg: string | undefined, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ title?: string; option: string[]; description?: string; inputFrom?: string[]; deadline?: string; task?: string[] }>();
      if (titleArg !== undefined && o.title !== undefined) throw new SyncordError('give the title once: as an argument or with --title', 'usage');
      const title = o.title ?? titleArg;
      if (!title) throw new SyncordError('a decision needs a title (--title <text>)', 'usage');
      const d = await proposeDecision(storeOf(ctx), {
        by: me(ctx),
        title,
        description: await textArg(o.description),
        options: o.option,
        inputFrom: o.inputFrom,
        deadline: time(o.deadline, 'deadline'),
        relatedTasks: o.task,
      });
      ctx.print(`Proposed ${d.decision_id}: ${d.title}${d.input_needed_from?.length ? ` (input needed from ${d.input_needed_from.join(', ')})` : ''}.`, d);
    });

  dec
    .command('option')
    .description('add an option to a pending decision, or pros and cons to one')
    .argument('<id>')
    .argument('<option>')
    .option('--pro <text>', 'an advantage (repeatable)', collect)
    .option('--con <text>', 'a drawback (repeatable)', collect)
    .action(async (id: string, option: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ pro?: string[]; con?: string[] }>();
      const d = await addOption(storeOf(ctx), { id, option, pros: o.pro, cons: o.con });
      ctx.print(`Updated the options of ${d.decision_id}.`, d);
    });

  dec
    .command('input')
    .description('give the acting instance\'s input on a pending decision')
    .argument('<id>')
    .option('--option <name>', 'the option you prefer')
    .option('--text <text>', 'your input ("-" reads standard input)')
    .option('-m, --message <text>', 'same as --text')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ option?: string; text?: string; message?: string }>();
      if (o.text !== undefined && o.message !== undefined) throw new SyncordError('give the input once: --text or -m', 'usage');
      const d = await giveInput(storeOf(ctx), { id, by: me(ctx), option: o.option, comment: await textArg(o.text ?? o.message) });
      const missing = missingInput(d);
      ctx.print(`Recorded input on ${id}.${missing.length ? ` Still waiting for ${missing.join(', ')}.` : ' All requested input is in.'}`, d);
    });

  dec
    .command('decide')
    .description('make the call on a pending decision and log it with its rationale')
    .argument('<id>')
    .option('--option <name>', 'the chosen option')
    .option('--decision <text>', 'the decision in words (default: the chosen option)')
    .requiredOption('--rationale <text>', 'why')
    .option('--affects <instances>', 'affected instances, or "all" (default: proposer, those asked for input, and you)', list)
    .option('--task <ids>', 'related tasks (comma-separated, repeatable)', list)
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ option?: string; decision?: string; rationale: string; affects?: string[]; task?: string[] }>();
      const r = await decide(storeOf(ctx), {
        id,
        by: me(ctx),
        option: o.option,
        decision: o.decision,
        rationale: o.rationale,
        affects: o.affects,
        relatedTasks: o.task,
      });
      if (r.missingInput.length && !ctx.json) ctx.logger.warn(`decided without input from ${r.missingInput.join(', ')}`);
      ctx.print(`Decided ${r.decision.decision_id}: ${r.decision.decision}`, r);
    });

  dec
    .command('record')
    .description('log a decision already made')
    .argument('<title>')
    .requiredOption('--decision <text>', 'what was decided')
    .requiredOption('--rationale <text>', 'why')
    .option('-d, --description <text>')
    .option('--affects <instances>', 'affected instances, or "all" (default)', list)
    .option('--task <ids>', 'related tasks (comma-separated, repeatable)', list)
    .option('--decided-by <instances>', 'who decided (default: the acting instance)', list)
    .action(async (title: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ decision: string; rationale: string; description?: string; affects?: string[]; task?: string[]; decidedBy?: string[] }>();
      const d = await recordDecision(storeOf(ctx), {
        by: me(ctx),
        title,
        decision: o.decision,
        rationale: o.rationale,
        description: await textArg(o.description),
        affects: o.affects,
        relatedTasks: o.task,
        decidedBy: o.decidedBy,
      });
      ctx.print(`Recorded ${d.decision_id}: ${d.title}`, d);
    });

  dec
    .command('supersede')
    .description('mark an active decision superseded')
    .argument('<id>')
    .option('--with <id>', 'the decision that replaces it')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const d = await retireDecision(storeOf(ctx), { id, by: me(ctx), status: 'superseded', supersededBy: cmd.opts<{ with?: string }>().with });
      ctx.print(`${d.decision_id} is superseded${typeof d.superseded_by === 'string' ? ` by ${d.superseded_by}` : ''}.`, d);
    });

  dec
    .command('revoke')
    .description('mark an active decision revoked')
    .argument('<id>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const d = await retireDecision(storeOf(ctx), { id, by: me(ctx), status: 'revoked' });
      ctx.print(`${d.decision_id} is revoked.`, d);
    });
}

// ---------------------------------------------------------------------------------------------- inbox, health

function registerInbox(program: Command): void {
  program
    .command('inbox')
    .description('what waits for the acting instance: messages, answers, tasks, decisions')
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const inbox = await getInbox(storeOf(ctx), me(ctx));
      ctx.print(() => inboxText(inbox), { ...inbox, count: inboxCount(inbox) });
    });
}

function registerHealth(program: Command): void {
  program
    .command('health')
    .description('check the coordination files (stale check-ins, overdue tasks, answers and decisions, broken references); exits 1 when there are warnings or errors')
    .option('--now <time>', 'evaluate as of this ISO time instead of now')
    .addOption(
      new Option('--stale-hours <n>', 'active instances should check in within this many hours')
        .env('SYNCORD_STALE_HOURS')
        .default(String(DEFAULT_STALE_HOURS)),
    )
    .addOption(
      new Option('--response-hours <n>', 'messages should be answered within this many hours')
        .env('SYNCORD_RESPONSE_HOURS')
        .default(String(DEFAULT_RESPONSE_HOURS)),
    )
    .action(async (...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ now?: string; staleHours: string; responseHours: string }>();
      // A flag wins over the environment variable, which wins over the seed's default.
      const hours = (key: 'staleHours' | 'responseHours', flag: string, env: string) => {
        const v = o[key];
        const n = Number(v);
        const from = cmd.getOptionValueSource(key) === 'env' ? env : flag;
        if (!Number.isFinite(n) || n <= 0) throw new SyncordError(`${from} needs a positive number of hours, not ${JSON.stringify(v)}`, 'usage');
        return n;
      };
      const report = await checkHealth(storeOf(ctx), {
        now: o.now ? new Date(parseTimeInput(o.now, new Date(), '--now time')) : undefined,
        staleHours: hours('staleHours', '--stale-hours', 'SYNCORD_STALE_HOURS'),
        responseHours: hours('responseHours', '--response-hours', 'SYNCORD_RESPONSE_HOURS'),
      });
      // Remote agent sessions that stopped sending heartbeats (sessions.json), beside the coordination files' checks.
      const sessions = await import('../core/sessions/health');
      const { readWorkspaceSessionsConfig } = await import('../core/sessions/runtimes');
      const config = (() => {
        try {
          return readWorkspaceSessionsConfig(ctx.paths.root);
        } catch {
          return {};
        }
      })();
      // The clock itself, not checkedAt (whole seconds): a heartbeat just past its limit is missed otherwise.
      const full = sessions.withFindings(report, await sessions.sessionFindings(ctx.paths.coordinationDir, config, Date.now()));
      ctx.print(healthText(full, io().cwd), full);
      if (hasProblems(full)) io().exitCode = ExitCode.problemsFound;
    });
}
