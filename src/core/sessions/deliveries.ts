import { SyncordError } from '../errors';
import { requireInstance } from '../coordination/instances';
import { appendMessage, BROADCAST, requireMessage } from '../coordination/messages';
import { CommunicationLog, Message } from '../coordination/schemas';
import { defineChange } from '../coordination/store';
import { ASSIGN_TASK, requireTask, TaskEntry } from '../coordination/tasks';
import { SessionContext, SYSTEM_SENDER } from './context';
import { DeliveryRecord, deliveriesOf, failQueued, HandOver, markDelivery, promptFor, unacknowledgedIn, WithDeliveries } from './deliveryLog';
import { headlessLauncher, Launcher } from './launch';
import { nudgePrompt, taskPrompt } from './prompts';
import { promptForSession } from './remotes';
import { RuntimeSpec, runnableRuntime, runtimeNames, runtimeSpec } from './runtimes';
import { Delivery, isLive, SessionRecord } from './schema';
import { reconcileSessions, remoteKindOf, startSupervisor } from './sessions';
import { defineSessionsChange, forgetProcesses, liveSessionOf, REST_IDLE } from './store';

/**
 * Deliveries: handing a message (a task assignment, or a nudge about a new message) to an agent session. Each is
 * recorded on its message in communication-log.json (`deliveries`) before anything is attempted, so a delivery
 * that never happens stays visible as pending or failed and can be sent again. Sessions queue the message ids
 * in sessions.json; who empties a queue depends on the session:
 * - a headless session's supervisor hands each queued prompt to the runtime's non-interactive form, one at a
 *   time (an idle session gets a supervisor started for it);
 * - a terminal session's prompts are typed into its terminal by the VS Code window that owns it.
 */


/** What a caller can do for deliveries beyond starting processes: type into terminals it owns. */
export interface DeliveryHooks {
  /** Starts a supervisor for an idle headless session (default: a detached process). */
  launch?: Launcher;
  /**
   * Empties a terminal session's queue into its terminal when this caller owns that terminal; returns false
   * when it does not (the prompt then waits, pending, for the window that does).
   */
  pumpTerminal?: (session: SessionRecord) => Promise<boolean>;
}

const viaOf = (s: Pick<SessionRecord, 'mode'>): Delivery['via'] => (s.mode === 'terminal' ? 'terminal' : 'prompt');


type QueueOutcome = 'launch' | 'queued' | 'terminal' | 'gone';

async function enqueue(ctx: SessionContext, session: SessionRecord, messageId: string): Promise<QueueOutcome> {
  return ctx.sessions.update(ENQUEUE, { sessionId: session.session_id, messageId, relayed: remoteKindOf(ctx.config, session) === 'ssh' });
}

/** Queues a message for a live session; claims an idle headless session for exactly one caller to start. */
const ENQUEUE = defineSessionsChange('session.enqueue', (file, input: { sessionId: string; messageId: string; relayed?: boolean }, now): QueueOutcome => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || !isLive(rec)) return 'gone';
  rec.queue = [...(rec.queue ?? []).filter((q) => q !== input.messageId), input.messageId];
  // A remote session's `updated` is its heartbeat: work queued for it must not make a silent one look alive.
  if (rec.mode !== 'remote') rec.updated = now;
  // A session over ssh: its relay takes the queue, idle or not.
  if (input.relayed) return 'queued';
  if (rec.mode === 'terminal') return 'terminal';
  if (rec.state === 'idle') {
    // Claimed under the lock: exactly one caller starts the supervisor of an idle session.
    rec.state = 'spawning';
    forgetProcesses(rec, false);
    return 'launch';
  }
  return 'queued';
});

/** Hands a message (already recorded with a pending delivery for `session`) to the session. */
async function handOver(ctx: SessionContext, session: SessionRecord, messageId: string, hooks: DeliveryHooks): Promise<void> {
  const outcome = await enqueue(ctx, session, messageId);
  if (outcome === 'gone') {
    await markDelivery(ctx, messageId, session.session_id, { status: 'failed', error: 'the session ended before it was handed over' });
  } else if (outcome === 'launch') {
    const launch = hooks.launch ?? headlessLauncher(ctx.paths);
    try {
      // The runtime named in the record, as the user defines it (and trusts it): its send form is what runs.
      let spec: RuntimeSpec;
      try {
        spec = runnableRuntime(ctx.config, session.runtime, ctx.paths);
      } catch (e) {
        if (e instanceof SyncordError && e.code === 'usage') {
          throw new SyncordError(`session ${session.session_id.slice(0, 8)} of ${session.instance}: ${e.detail}; not handed over`, 'not-found', e.location);
        }
        throw e;
      }
      if (!spec.send) throw new SyncordError(`runtime ${spec.name} has no non-interactive form ("send"), so nothing can be handed to its idle session`, 'conflict');
      await startSupervisor(ctx, session, launch, session.instance, spec);
    } catch (e) {
      const error = `could not start the session's process: ${e instanceof Error ? e.message : String(e)}`;
      const queued = await ctx.sessions.update(REST_IDLE, session.session_id);
      await failQueued(ctx, session, queued, error);
      // A command the user has not trusted is refused loudly (its own exit code), not only recorded.
      if (e instanceof SyncordError && e.code === 'untrusted') throw e;
    }
  } else if (outcome === 'terminal' && hooks.pumpTerminal) {
    await hooks.pumpTerminal(session);
  }
}

/** How long a prompt typed into an agent's terminal may wait for the agent to take it before it counts as not taken. */
export const TYPED_PROMPT_TIMEOUT_MS = 60_000;
/**
 * A typed prompt the agent has not taken after this long, while it still reports itself idle, most likely waits
 * in its input (a TUI under load can take the Enter as part of pasted text): Enter is pressed again, at most twice.
 * Enter in an empty input does nothing, and an agent that took the prompt reports itself busy first.
 */
export const ENTER_AGAIN_AFTER_MS = 15_000;

interface Taken {
  /** What to type now. */
  messages: string[];
  /** A prompt typed earlier that the agent never took (reported as failed). */
  expired?: string;
  /** Whether the session's agent reports its state (then a typed prompt is delivered when it takes it). */
  reports: boolean;
  /** The prompt typed before still waits, the agent idle: press Enter again. */
  enterAgain?: boolean;
}

/**
 * Takes from a live terminal session's queue what its window is to type now. An agent that reports its state
 * gets one prompt, and only while it is idle and has taken the one typed before (typing into an agent in the
 * middle of a turn interrupts it); the prompt is `typing` until the agent reports itself busy with it. An agent
 * that reports nothing gets the whole queue.
 */
const TAKE_TERMINAL_QUEUE = defineSessionsChange('session.takeTerminalQueue', (file, input: { sessionId: string; reporting: string[] }, now): Taken => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || !isLive(rec) || rec.mode !== 'terminal') return { messages: [], reports: false };
  const reports = input.reporting.includes(rec.runtime);
  let expired: string | undefined;
  if (reports && rec.typing) {
    const age = Date.parse(now) - Date.parse(rec.typing.at);
    if (age < TYPED_PROMPT_TIMEOUT_MS) {
      const again = rec.typing.enter_again ?? 0;
      if (rec.agent_state !== 'idle' || again >= 2 || age < (again + 1) * ENTER_AGAIN_AFTER_MS) return { messages: [], reports };
      rec.typing = { ...rec.typing, enter_again: again + 1 };
      return { messages: [], reports, enterAgain: true };
    }
    expired = rec.typing.message;
    rec.typing = null;
    rec.updated = now;
  }
  if (!rec.queue?.length) return { messages: [], expired, reports };
  if (reports) {
    if (rec.agent_state !== 'idle') return { messages: [], expired, reports };
    const [first, ...rest] = rec.queue;
    rec.queue = rest;
    rec.typing = { message: first, at: now };
    rec.updated = now;
    return { messages: [first], expired, reports };
  }
  const q = rec.queue;
  rec.queue = [];
  rec.updated = now;
  return { messages: q, reports };
});

/**
 * Types a terminal session's queued prompts: takes them under the lock (so two windows never type the same
 * prompt), calls `type` for each and records the outcome: delivered once typed for an agent that reports
 * nothing of itself; for one that does, delivered when it reports itself busy with it (see `reportAgent`), or
 * failed when it did not take it in time. Returns how many were typed.
 */
export async function pumpTerminalQueue(
  ctx: SessionContext,
  sessionId: string,
  type: (prompt: string) => Promise<void> | void,
  enter?: () => Promise<void> | void,
): Promise<number> {
  const taken = await ctx.sessions.update(TAKE_TERMINAL_QUEUE, { sessionId, reporting: reportingRuntimes(ctx) });
  const reports = taken.reports;
  if (taken.enterAgain && enter) await enter();
  if (taken.expired) {
    await markDelivery(ctx, taken.expired, sessionId, {
      status: 'failed',
      error: `typed into its terminal, but the agent did not take it within ${TYPED_PROMPT_TIMEOUT_MS / 1000} s`,
    });
  }
  let handed = 0;
  for (const id of taken.messages) {
    const prompt = await promptFor(ctx, id, sessionId);
    if (prompt === undefined) continue;
    try {
      await type(prompt);
      await markDelivery(ctx, id, sessionId, reports ? { attempt: true } : { status: 'delivered', error: null, attempt: true });
      handed++;
    } catch (e) {
      if (reports) await ctx.sessions.update(CLEAR_TYPING, { sessionId, message: id });
      await markDelivery(ctx, id, sessionId, { status: 'failed', error: `could not type into the terminal: ${(e as Error).message}`, attempt: true });
    }
  }
  return handed;
}

const CLEAR_TYPING = defineSessionsChange('session.clearTyping', (file, input: { sessionId: string; message: string }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (rec?.typing?.message === input.message) {
    rec.typing = null;
    rec.updated = now;
  }
});

/** The runtimes whose agents report their state to Syncord (those of a kind Syncord knows), as configured here. */
function reportingRuntimes(ctx: SessionContext): string[] {
  return runtimeNames(ctx.config).filter((n) => Boolean(runtimeSpec(ctx.config, n).kind));
}

interface HandoffInput {
  from: string;
  to: string;
  subject: string;
  body: string;
  type: string;
  priority?: string;
  relatedTask?: string;
  deliveries: DeliveryRecord[];
}

/** Appends a message written by Syncord (a hand-over) with its deliveries to the log (a draft). */
function appendHandoff(messages: CommunicationLog, input: HandoffInput, now: string): Message {
  return appendMessage(
    messages,
    {
      from: input.from,
      to: input.to,
      type: input.type,
      subject: input.subject,
      body: input.body,
      priority: input.priority ?? 'medium',
      requiresResponse: false,
      relatedTask: input.relatedTask ?? null,
      relatedFiles: [],
      extra: { deliveries: input.deliveries.map((d) => ({ ...d, updated: now })) },
    },
    now,
  );
}

function pendingFor(session: Pick<SessionRecord, 'session_id' | 'instance' | 'mode'> & Partial<Pick<SessionRecord, 'endpoint'>>, prompt: string): DeliveryRecord {
  return {
    session: session.session_id,
    instance: session.instance,
    via: viaOf(session),
    status: 'pending',
    attempts: 0,
    updated: '',
    error: null,
    prompt: promptForSession(prompt, session),
  };
}

function noSession(instance: string, prompt: string): DeliveryRecord {
  return {
    session: null,
    instance,
    via: null,
    status: 'failed',
    attempts: 0,
    updated: '',
    error: `${instance} has no live session; start one (\`syncord spawn ${instance}\`), then resend`,
    prompt,
  };
}

export interface SlingResult {
  task: TaskEntry;
  message: Message;
  delivery: DeliveryRecord;
  session?: SessionRecord;
}

/**
 * Assigns a task to an instance and hands it to the instance's live session (`gt sling`). The hand-over is
 * recorded in the message log as a `handoff` message about the task; without a live session it is recorded
 * as failed, to be resent once a session runs.
 */
export async function slingTask(ctx: SessionContext, input: { task: string; instance: string }, hooks: DeliveryHooks = {}): Promise<SlingResult> {
  await reconcileSessions(ctx);
  const live = liveSessionOf(await ctx.sessions.list(), input.instance);
  const session = live ? { session_id: live.session_id, instance: live.instance, mode: live.mode, endpoint: live.endpoint ?? null } : null;
  const { task, message } = await ctx.store.update(SLING, { task: input.task, instance: input.instance, from: ctx.actor ?? SYSTEM_SENDER, session });
  if (live) await handOver(ctx, live, message.message_id, hooks);
  const after = await messageById(ctx, message.message_id);
  const delivery = deliveriesOf(after).pop() as DeliveryRecord;
  return { task, message: after, delivery, session: live };
}

/**
 * Sling as one transaction: the assignment (unless the task is already the instance's) and the hand-over message
 * with its delivery record are written together, so a task is never assigned without its hand-over on record.
 */
const SLING = defineChange(
  'task.sling',
  ['tasks', 'messages'],
  (files, input: { task: string; instance: string; from: string; session: Pick<SessionRecord, 'session_id' | 'instance' | 'mode'> | null }, now) => {
    requireInstance(files.registry, input.instance);
    const at = requireTask(files.tasks, input.task);
    const alreadyTheirs = at.task.assigned_to === input.instance && at.list !== 'completed_tasks';
    const task: TaskEntry = alreadyTheirs ? { ...structuredClone(at.task), list: at.list } : ASSIGN_TASK.apply(files, { id: input.task, to: input.instance }, now);
    const prompt = taskPrompt(task);
    const message = appendHandoff(
      files.messages,
      {
        from: input.from,
        to: input.instance,
        type: 'handoff',
        subject: `Task ${task.task_id}: ${task.title}`,
        body: prompt,
        priority: task.priority,
        relatedTask: task.task_id,
        deliveries: [input.session ? pendingFor(input.session, prompt) : noSession(input.instance, prompt)],
      },
      now,
    );
    return { task, message };
  },
);

async function messageById(ctx: SessionContext, id: string): Promise<Message> {
  const { messages } = await ctx.store.read('messages');
  return requireMessage(messages, id);
}

/**
 * Tells the live sessions among a message's recipients that it arrived (one line pointing at `syncord msg show`,
 * or `opts.prompt`: the words of a hand-over written with the message). Recipients without a live session read it
 * in their inbox when they next start; nothing is recorded for them.
 */
export async function nudgeRecipients(ctx: SessionContext, messageId: string, hooks: DeliveryHooks = {}, opts: { prompt?: string } = {}): Promise<DeliveryRecord[]> {
  // With no live session there is no one to nudge: the message log (which may be large) is not read.
  const sessions = (await ctx.sessions.list()).filter(isLive);
  if (!sessions.length) return [];
  const m = await messageById(ctx, messageId);
  const targets =
    m.to === BROADCAST
      ? [...new Set(sessions.map((s) => s.instance))].filter((i) => i !== m.from)
      : [m.to];
  const live = targets.map((i) => liveSessionOf(sessions, i)).filter((s): s is SessionRecord => Boolean(s));
  if (!live.length) return [];
  const prompt = opts.prompt ?? nudgePrompt(m);
  await ctx.store.update(ADD_DELIVERIES, { messageId, deliveries: live.map((s) => pendingFor(s, prompt)) });
  for (const s of live) await handOver(ctx, s, messageId, hooks);
  return deliveriesOf(await messageById(ctx, messageId));
}

const ADD_DELIVERIES = defineChange('delivery.add', ['messages'], ({ messages }, input: { messageId: string; deliveries: DeliveryRecord[] }, now) => {
  const msg = messages.messages.find((x) => x.message_id === input.messageId) as WithDeliveries | undefined;
  if (!msg) throw new SyncordError(`message ${input.messageId} vanished from the log`, 'conflict');
  msg.deliveries = [...deliveriesOf(msg), ...input.deliveries.map((d) => ({ ...d, updated: now }))];
});

/**
 * Sends a message's hand-overs that no agent acknowledged again (all of them with `all`), each to its instance's live session
 * now, which may be a newer session than the first attempt's.
 */
export async function resendDeliveries(
  ctx: SessionContext,
  messageId: string,
  hooks: DeliveryHooks = {},
  opts: { all?: boolean } = {},
): Promise<DeliveryRecord[]> {
  await reconcileSessions(ctx);
  const m = await messageById(ctx, messageId);
  const current = deliveriesOf(m);
  const latest = new Map<string, DeliveryRecord>();
  for (const d of current) latest.set(d.instance, d);
  const todo = [...latest.values()].filter((d) => opts.all || d.status !== 'acknowledged');
  if (!todo.length) {
    throw new SyncordError(
      current.length
        ? `every hand-over of ${messageId} was acknowledged by its agent; pass --all to send it again anyway`
        : `${messageId} was never handed to a session (only hand-overs and nudges are); see \`syncord sling\``,
      'conflict',
    );
  }
  const sessions = await ctx.sessions.list();
  const plan = todo.map((d) => ({ d, session: liveSessionOf(sessions, d.instance) }));
  await ctx.store.update(REDIRECT_DELIVERIES, {
    messageId,
    plan: plan.map(({ d, session }) => ({
      instance: d.instance,
      prompt: d.prompt,
      session: session ? { session_id: session.session_id, mode: session.mode, endpoint: session.endpoint ?? null } : null,
    })),
  });
  for (const { session } of plan) if (session) await handOver(ctx, session, messageId, hooks);
  return deliveriesOf(await messageById(ctx, messageId));
}

/** Points each planned hand-over at the instance's live session now, or marks it failed when there is none. */
const REDIRECT_DELIVERIES = defineChange(
  'delivery.redirect',
  ['messages'],
  ({ messages }, input: { messageId: string; plan: { instance: string; prompt: string; session: Pick<SessionRecord, 'session_id' | 'mode'> | null }[] }, now) => {
    const msg = messages.messages.find((x) => x.message_id === input.messageId) as WithDeliveries | undefined;
    if (!msg) throw new SyncordError(`message ${input.messageId} vanished from the log`, 'conflict');
    const list = deliveriesOf(msg);
    for (const { instance, prompt, session } of input.plan) {
      const entry = list.filter((x) => x.instance === instance).pop();
      if (!entry) continue;
      if (session) {
        entry.session = session.session_id;
        entry.via = viaOf(session);
        // The words of the new session: a served session's name its instance and session in every command.
        entry.prompt = promptForSession(entry.prompt, { ...session, instance });
        entry.status = 'pending';
        entry.error = null;
      } else {
        entry.status = 'failed';
        entry.error = noSession(instance, prompt).error;
      }
      entry.updated = now;
    }
    msg.deliveries = list;
  },
);

/** The hand-overs not acknowledged by their agent (pending, failed, delivered but not acted on), newest first. */
export async function undelivered(ctx: SessionContext): Promise<HandOver[]> {
  return unacknowledgedIn((await ctx.store.read('messages')).messages.messages);
}
