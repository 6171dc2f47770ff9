import { SyncordError } from '../errors';
import { SessionContext } from './context';
import { failQueued, markDelivery, promptFor } from './deliveryLog';
import { reportAgent } from './agentState';
import { OpencodeServer, ServerCallError, ServerEvent } from './remotes';
import { DEFAULT_HEARTBEAT_INTERVAL, SessionRecord } from './schema';
import { endSession, serverOf } from './sessions';
import { defineSessionsChange, REST_IDLE } from './store';

/**
 * The supervisor of a served session (`syncord session run <id>` for a session on an `opencode serve` remote): a
 * detached process on this machine that holds the server's event stream and pushes the session's work to it.
 * It hands over the first prompt, then the queued ones one at a time, each once the server's events say the
 * session is idle; records each delivery as local sessions do (pending, then delivered on a 2xx answer, or
 * failed with the server's words; a server that cannot be reached leaves it pending and is tried again); records
 * what the events say of the agent (busy, idle, waiting) and refreshes the heartbeat (`updated`) after each
 * successful call. It ends when the session is stopped (`stop_requested`, or exited), deleted on the server, or
 * its heartbeat times out.
 */

/** How long a served session may go without a successful call before it is ended (`heartbeat-timeout`). */
export const REMOTE_TIMEOUT_MS = 15 * 60_000;
/** How often the supervisor looks at its record (new work, a stop) when no event wakes it. */
const POLL_MS = 1_000;
/** A prompt the server took but whose turn did not show as busy by then: the server is asked directly. */
const BUSY_GRACE_MS = 10_000;
/** The longest wait before trying an unreachable server again. */
const MAX_BACKOFF_MS = 60_000;

/** This process supervises the served session, unless it exited or another supervisor keeps it alive. */
const CLAIM_SERVED = defineSessionsChange('session.superviseServed', (file, input: { sessionId: string }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec) return undefined;
  if (rec.mode !== 'remote') return { rec: structuredClone(rec), first: false, refused: 'it is not a remote session' };
  if (rec.state === 'exited') return { rec: structuredClone(rec), first: false, refused: 'the session has exited' };
  const fresh = Date.parse(now) - Date.parse(rec.updated) < 3 * 1000 * (rec.heartbeat_interval ?? DEFAULT_HEARTBEAT_INTERVAL);
  if (rec.state === 'running' && fresh) return { rec: structuredClone(rec), first: false, refused: 'it already has a supervisor' };
  const first = rec.state === 'spawning' && !rec.supervised_once;
  rec.state = 'running';
  rec.supervised_once = true;
  rec.updated = now;
  return { rec: structuredClone(rec), first, refused: undefined as string | undefined };
});

/** The oldest queued message of a live session (taken off the queue), if any. */
const TAKE_QUEUED = defineSessionsChange('session.takeQueued', (file, sessionId: string, now): string | undefined => {
  const rec = file.sessions.find((s) => s.session_id === sessionId);
  if (!rec || rec.state === 'exited' || !rec.queue?.length) return undefined;
  const [next, ...rest] = rec.queue;
  rec.queue = rest;
  rec.updated = now;
  return next;
});

/** Puts a message back at the head of the queue (its server could not be reached). */
const REQUEUE = defineSessionsChange('session.requeue', (file, input: { sessionId: string; messageId: string }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return false;
  rec.queue = [input.messageId, ...(rec.queue ?? []).filter((q) => q !== input.messageId)];
  rec.updated = now;
  return true;
});

/** The heartbeat: the server answered (for a session over ssh: its supervisor there did), stamped with this machine's clock. */
export const BEAT = defineSessionsChange('session.heartbeat', (file, sessionId: string, now) => {
  const rec = file.sessions.find((s) => s.session_id === sessionId);
  if (rec && rec.state !== 'exited') rec.updated = now;
});

/** What the event stream says of one session of the server. */
class SessionWatch {
  connected = false;
  busy = false;
  deleted = false;
  /** When a prompt was handed over and its turn has not shown as busy yet. */
  expecting: number | undefined;
  lastError: string | undefined;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;

  constructor(
    private readonly server: OpencodeServer,
    private readonly ses: string,
    private readonly on: { state(state: 'busy' | 'idle' | 'waiting'): void; error(message: string): void; say(line: string): void },
  ) {
    void this.follow();
  }

  /** Resolves on the next event about the session, or after `ms`. */
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(t);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }

  close(): void {
    this.abort.abort();
    this.wake?.();
  }

  /** A prompt was just taken by the server: the session counts as busy until its turn has been seen to end. */
  handedOver(at: number): void {
    this.busy = true;
    this.expecting = at;
  }

  /** What the server says when asked directly, after a handed-over prompt's turn never showed. */
  settle(busy: boolean): void {
    this.expecting = undefined;
    this.busy = busy;
    this.on.state(busy ? 'busy' : 'idle');
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async follow(): Promise<void> {
    let backoff = 1_000;
    while (!this.abort.signal.aborted) {
      try {
        for await (const ev of this.server.events(this.abort.signal)) {
          if (!this.connected) {
            this.connected = true;
            this.lastError = undefined;
            backoff = 1_000;
            // What happened while the stream was closed: asked once, then the events tell.
            this.busy = this.expecting !== undefined || (await this.server.isBusy(this.ses).catch(() => true));
            this.on.state(this.busy ? 'busy' : 'idle');
            this.poke();
          }
          this.handle(ev);
        }
        if (!this.abort.signal.aborted) this.lastError = 'the server ended the event stream';
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
      }
      if (this.abort.signal.aborted) break;
      if (this.connected) this.on.say(`event stream closed (${this.lastError ?? 'ended'}); reconnecting`);
      this.connected = false;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 30_000);
    }
  }

  private handle(ev: ServerEvent): void {
    if (ev.sessionID !== this.ses) return;
    switch (ev.type) {
      case 'session.status':
        if (ev.status === 'idle') this.idle();
        else this.active('busy');
        break;
      case 'session.idle':
        this.idle();
        break;
      case 'permission.asked':
      case 'permission.updated':
        this.active('waiting');
        break;
      case 'permission.replied':
        this.active('busy');
        break;
      case 'session.error':
        this.on.error(ev.error ?? 'the session reported an error');
        break;
      case 'session.deleted':
        this.deleted = true;
        break;
      default:
        return;
    }
    this.poke();
  }

  private active(state: 'busy' | 'waiting'): void {
    this.busy = true;
    this.expecting = undefined;
    this.on.state(state);
  }

  private idle(): void {
    // An idle event from before the handed-over prompt's turn began says nothing about that turn.
    if (this.expecting !== undefined) return;
    this.busy = false;
    this.on.state('idle');
  }
}

export async function runServedSupervisor(ctx: SessionContext, sessionId: string): Promise<number> {
  const claimed = await ctx.sessions.update(CLAIM_SERVED, { sessionId });
  if (!claimed) throw new SyncordError(`no session ${sessionId} in ${ctx.sessions.file}`, 'not-found', { file: ctx.sessions.file });
  if (claimed.refused) throw new SyncordError(`session ${sessionId}: ${claimed.refused}`, 'conflict');
  const session = claimed.rec;
  const say = (line: string) => process.stderr.write(`[syncord] ${new Date().toISOString()} ${line}\n`);

  let server: OpencodeServer;
  const ses = session.agent_session;
  try {
    if (!ses) throw new SyncordError('no session on the server is recorded for it', 'conflict');
    server = serverOf(ctx, session, process.env);
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    say(`not supervising: ${error}`);
    if (claimed.first) await endSession(ctx, sessionId, { exitCode: null, reason: `spawn-failed: ${error}` });
    else await restIdle(ctx, session, `not handed over: ${error}`);
    throw e;
  }
  const interval = 1000 * (session.heartbeat_interval ?? DEFAULT_HEARTBEAT_INTERVAL);
  say(`supervising ${session.instance}'s session ${ses} on ${server.base}`);

  let current: string | undefined;
  let reported = '';
  const watch = new SessionWatch(server, ses, {
    state: (state) => {
      if (state === reported) return;
      reported = state;
      void reportAgent(ctx, sessionId, { state }).catch(() => undefined);
    },
    error: (message) => {
      say(`the session reported: ${message}`);
      if (current) void markDelivery(ctx, current, sessionId, { status: 'failed', error: message }).catch(() => undefined);
    },
    say,
  });
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    watch.close();
  };
  for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.on(sig, onSignal);

  let lastOk = Date.now();
  let lastBeat = Date.now();
  let retryAt = 0;
  let failures = 0;
  const beat = async () => {
    lastOk = Date.now();
    await ctx.sessions.update(BEAT, sessionId);
  };
  const end = async (reason: string, code: number | null = null) => {
    say(`ending: ${reason}`);
    await endSession(ctx, sessionId, { exitCode: code, reason });
  };

  try {
    if (claimed.first) {
      try {
        await server.prompt(ses, session.prompt ?? '');
        watch.handedOver(Date.now());
        await beat();
        say('handed over the first prompt');
      } catch (e) {
        await end(`the first prompt failed: ${e instanceof Error ? e.message : String(e)}`);
        return 1;
      }
    }
    for (;;) {
      if (stopping) {
        await restIdle(ctx, session, 'not handed over: its supervisor was stopped');
        return 0;
      }
      const rec = (await ctx.sessions.list()).find((s) => s.session_id === sessionId);
      if (!rec || rec.state === 'exited') return 0;
      if (rec.stop_requested) {
        // The stopping command deletes the server's session; should it not get there, this does.
        await server.abort(ses).catch(() => undefined);
        await server.remove(ses).catch(() => undefined);
        await end('stopped');
        return 0;
      }
      if (watch.deleted) {
        await end(`its session ${ses} was deleted on the opencode server`);
        return 0;
      }
      const now = Date.now();
      if (now - lastBeat >= interval) {
        lastBeat = now;
        try {
          if (!(await server.exists(ses))) {
            await end(`its session ${ses} is gone from the opencode server`);
            return 0;
          }
          await beat();
        } catch (e) {
          say(`heartbeat: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      if (Date.now() - lastOk > REMOTE_TIMEOUT_MS) {
        await end(`heartbeat-timeout: no answer from ${server.base} for ${Math.round(REMOTE_TIMEOUT_MS / 60_000)} minutes (${watch.lastError ?? 'no error'})`);
        return 0;
      }
      if (watch.connected && watch.expecting !== undefined && Date.now() - watch.expecting > BUSY_GRACE_MS) {
        // The turn never showed as busy (it may have ended at once): the server says whether it still works.
        const busy = await server.isBusy(ses).catch(() => undefined);
        if (busy !== undefined) watch.settle(busy);
      }
      if (watch.connected && !watch.busy && Date.now() >= retryAt) {
        current = undefined;
        const next = await ctx.sessions.update(TAKE_QUEUED, sessionId);
        if (next) {
          const prompt = await promptFor(ctx, next, sessionId);
          if (prompt === undefined) {
            await markDelivery(ctx, next, sessionId, { status: 'failed', error: 'the message or its prompt is gone', attempt: true });
            continue;
          }
          await markDelivery(ctx, next, sessionId, { attempt: true });
          try {
            await server.prompt(ses, prompt);
            watch.handedOver(Date.now());
            current = next;
            failures = 0;
            await markDelivery(ctx, next, sessionId, { status: 'delivered', error: null });
            await beat();
            say(`handed ${next} over`);
          } catch (e) {
            const error = e instanceof Error ? e.message : String(e);
            if (e instanceof ServerCallError && e.transient) {
              // Not reached: it stays pending, first in the queue, and is tried again later.
              failures++;
              retryAt = Date.now() + Math.min(1000 * 2 ** failures, MAX_BACKOFF_MS);
              await markDelivery(ctx, next, sessionId, { error });
              await ctx.sessions.update(REQUEUE, { sessionId, messageId: next });
              say(`could not hand ${next} over (tried again later): ${error}`);
            } else {
              await markDelivery(ctx, next, sessionId, { status: 'failed', error });
              say(`could not hand ${next} over: ${error}`);
            }
          }
          continue;
        }
      }
      await watch.wait(POLL_MS);
    }
  } finally {
    watch.close();
    for (const sig of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) process.off(sig, onSignal);
  }
}

/** The supervisor is leaving a live session: it rests idle (the next hand-over starts a supervisor again). */
async function restIdle(ctx: SessionContext, session: SessionRecord, error: string): Promise<void> {
  const queued = await ctx.sessions.update(REST_IDLE, session.session_id);
  await failQueued(ctx, session, queued, error);
}
