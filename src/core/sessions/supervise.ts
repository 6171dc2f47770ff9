import { spawn } from 'child_process';
import * as z from 'zod';
import { SyncordError } from '../errors';
import { HOST_NAME, processStart } from '../store/lock';
import { SessionContext } from './context';
import { failQueued, markDelivery, promptFor } from './deliveryLog';
import { handedDefinition, SESSION_RUNTIME_ENV } from './launch';
import { startupPrompt } from './prompts';
import { OutcomeReader } from './agents';
import { reportAgent } from './agentState';
import { expandArgs, resolveCommand, RUNTIME_KINDS, RuntimeSpec, runnableRuntime } from './runtimes';
import { SessionRecord } from './schema';
import { runServedSupervisor } from './served';
import { defineSessionsChange, forgetProcesses, REST_IDLE } from './store';
import { endSession, placeholderValues, sessionCwd } from './sessions';

/**
 * The supervisor of one session (`syncord session run <id>`), started in the session's terminal or detached
 * with its output in the session log. It runs the agent with the terminal (or log) as its standard streams,
 * records the agent's process, and when the agent ends records how. A headless session then hands the agent
 * the prompts queued for it, one at a time through the runtime's non-interactive form, and finally goes idle
 * (resumable) or exited. The queue and the state change under the sessions file's lock, so a prompt queued
 * while the supervisor finishes is either taken by it or finds the session idle and starts a new supervisor.
 */
/** This process becomes the session's supervisor, unless the session exited or another live one has it. */
const CLAIM_SUPERVISION = defineSessionsChange('session.supervise', (file, input: { sessionId: string; pid: number; start: number }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec) return undefined;
  if (rec.state === 'exited') return { rec: structuredClone(rec), first: false, refused: 'the session has exited' };
  if (rec.pid != null && rec.pid !== input.pid && rec.state === 'running') {
    return { rec: structuredClone(rec), first: false, refused: `the session is already supervised by process ${rec.pid}` };
  }
  const first = rec.agent_pid == null && rec.state === 'spawning' && !rec.supervised_once;
  rec.pid = input.pid;
  rec.pid_start = input.start;
  rec.host = HOST_NAME;
  rec.state = 'running';
  rec.supervised_once = true;
  rec.updated = now;
  return { rec: structuredClone(rec), first, refused: undefined as string | undefined };
});

/**
 * The next queued message, or (nothing queued) the session's rest state: idle when the runtime can be handed
 * more work without a terminal, else `end`.
 */
const TAKE_NEXT = defineSessionsChange('session.takeNext', (file, input: { sessionId: string; canSend: boolean }, now): { next?: string; end: boolean } => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return { next: undefined, end: false };
  const q = rec.queue ?? [];
  if (q.length) {
    const next = q[0];
    rec.queue = q.slice(1);
    rec.updated = now;
    return { next, end: false };
  }
  if (!input.canSend) return { next: undefined, end: true };
  rec.state = 'idle';
  forgetProcesses(rec, true);
  rec.updated = now;
  return { next: undefined, end: false };
});

/** Records the agent's process. */
const RECORD_AGENT = defineSessionsChange('session.agent', (file, input: { sessionId: string; pid: number | null; start: number | null }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (rec && rec.state !== 'exited') {
    rec.agent_pid = input.pid;
    rec.agent_pid_start = input.start;
    rec.updated = now;
  }
});

export async function runSupervisor(ctx: SessionContext, sessionId: string): Promise<number> {
  // A served session's agent runs on its server: this process only pushes its work there.
  if ((await ctx.sessions.list()).find((s) => s.session_id === sessionId)?.mode === 'remote') return runServedSupervisor(ctx, sessionId);
  const self = { pid: process.pid, start: processStart('self') };
  const claimed = await ctx.sessions.update(CLAIM_SUPERVISION, { sessionId, pid: self.pid, start: self.start });
  if (!claimed) throw new SyncordError(`no session ${sessionId} in ${ctx.sessions.file}`, 'not-found', { file: ctx.sessions.file });
  if (claimed.refused) throw new SyncordError(`session ${sessionId}: ${claimed.refused}`, 'conflict');
  const session = claimed.rec;
  const say = (line: string) => process.stderr.write(`[syncord] ${line}\n`);

  // What runs is rebuilt from the runtime's definition, never taken from the record's command lines.
  let run: AgentRuns;
  let firstArgv: string[] | undefined;
  try {
    run = await agentRuns(ctx, session);
    if (claimed.first) firstArgv = run.first();
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    say(`not running the agent: ${error}`);
    if (claimed.first) {
      await endSession(ctx, sessionId, { exitCode: null, reason: `could not start the agent: ${error}` });
    } else {
      const queued = await ctx.sessions.update(REST_IDLE, sessionId);
      await failQueued(ctx, session, queued, `not handed over: ${error}`);
    }
    throw e;
  }

  let current: { argv: string[]; message?: string } | undefined = firstArgv ? { argv: firstArgv } : undefined;
  let lastCode = 0;
  for (;;) {
    if (!current) {
      const next = await takeNext(ctx, session, lastCode, Boolean(run.spec.send));
      if (!next) return lastCode;
      const prompt = await promptFor(ctx, next, sessionId);
      if (prompt === undefined || !run.spec.send) {
        await markDelivery(ctx, next, sessionId, { status: 'failed', error: run.spec.send ? 'the message or its prompt is gone' : `runtime ${run.spec.name} has no non-interactive form`, attempt: true });
        continue;
      }
      let argv: string[];
      try {
        argv = run.send(prompt, (await ctx.sessions.list()).find((x) => x.session_id === sessionId) ?? session);
      } catch (e) {
        await markDelivery(ctx, next, sessionId, { status: 'failed', error: e instanceof Error ? e.message : String(e), attempt: true });
        continue;
      }
      current = { argv, message: next };
      // Pending while the runtime works on it: delivered only once the runtime took it without an error.
      await markDelivery(ctx, next, sessionId, { attempt: true });
      say(`handing ${next} to ${session.runtime}`);
    } else {
      say(`starting ${session.runtime} for ${session.instance} (session ${sessionId})`);
    }
    const reader = session.mode === 'headless' && run.spec.kind ? new OutcomeReader(run.spec.kind) : undefined;
    const { code, error } = await runAgent(current.argv, run.cwd, {
      reader,
      onStart: (pid) => ctx.sessions.update(RECORD_AGENT, { sessionId, pid, start: pid ? processStart(pid) : null }),
    });
    lastCode = code;
    const outcome = reader?.finish(code);
    if (outcome?.agentSession) await reportAgent(ctx, sessionId, { agentSession: outcome.agentSession }).catch(() => undefined);
    // What went wrong, in the runtime's own words when it said: a start failure, a reported error or denial, an exit code.
    const failure = error ? `could not start the agent: ${error}` : (outcome?.error ?? (code !== 0 ? `${session.runtime} exited with code ${code}` : undefined));
    say(failure ? `${session.runtime} exited with code ${code}: ${failure}` : `${session.runtime} exited with code ${code}`);
    if (current.message) {
      await markDelivery(ctx, current.message, sessionId, failure ? { status: 'failed', error: failure } : { status: 'delivered', error: null });
    }
    const wasFirst = !current.message;
    current = undefined;
    // A first prompt the runtime could not take ends the session (nothing can continue it); one that ran but
    // was denied something leaves it ready for more work.
    const firstFailed = wasFirst && (code !== 0 || Boolean(outcome?.runtimeError));
    if (session.mode === 'terminal' || firstFailed || error) {
      const endReason = error
        ? `could not start the agent: ${error}`
        : session.mode === 'terminal'
          ? `the agent exited with code ${code}`
          : `the first prompt failed: ${outcome?.runtimeError ?? `exit code ${code}`}`;
      await endSession(ctx, sessionId, { exitCode: code, reason: endReason });
      return code;
    }
  }
}

interface AgentRuns {
  spec: RuntimeSpec;
  cwd: string;
  /** The first run: the runtime's interactive (terminal) or headless form with the first prompt. */
  first(): string[];
  /** A hand-over: the runtime's non-interactive form with this prompt, for the session as recorded now. */
  send(prompt: string, now: SessionRecord): string[];
}

/**
 * The runtime this supervisor runs: the definition handed over by whoever started it (already checked against
 * that caller's settings and the user's trust), else the runtime of this name in the workspace settings (which
 * must then be trusted). The runtime named in the record must exist in those definitions; the record's
 * `command` and `send_command` are never used.
 */
export function supervisorRuntime(ctx: SessionContext, session: SessionRecord, env: NodeJS.ProcessEnv = process.env): RuntimeSpec {
  const handed = handedDefinition(env, SESSION_RUNTIME_ENV, HandedRuntimeSchema, 'runtime', session, session.runtime);
  if (handed) return handed;
  try {
    return runnableRuntime(ctx.config, session.runtime, ctx.paths);
  } catch (e) {
    if (e instanceof SyncordError && e.code === 'usage') {
      throw new SyncordError(`session ${session.session_id.slice(0, 8)} of ${session.instance}: ${e.detail}`, 'not-found', e.location);
    }
    throw e;
  }
}

async function agentRuns(ctx: SessionContext, session: SessionRecord): Promise<AgentRuns> {
  const spec = supervisorRuntime(ctx, session);
  const cwd = await sessionCwd(ctx.paths.root, session);
  let role = session.role;
  if (role === undefined) {
    const registry = await ctx.store.read('registry').then((f) => f.registry, () => undefined);
    role = (registry && Object.prototype.hasOwnProperty.call(registry.instances, session.instance) ? registry.instances[session.instance].role : undefined) ?? '';
  }
  const argv = (form: string[], rec: SessionRecord, prompt: string) => [
    resolveCommand({ ...spec, command: form }, process.env, ctx.paths.root),
    ...expandArgs(form.slice(1), placeholderValues(ctx.paths, spec, { ...rec, cwd, role: role ?? '' }, prompt)),
  ];
  return {
    spec,
    cwd,
    first: () => {
      const form = session.mode === 'terminal' ? spec.command : spec.headless;
      if (!form) throw new SyncordError(`runtime ${spec.name} has no way to run without a terminal (no "headless" form)`, 'usage');
      return argv(form, session, session.prompt ?? startupPrompt({ instance: session.instance, role: role ?? '', coordinationDir: ctx.paths.coordinationDir }));
    },
    send: (prompt, now) => {
      const form = spec.send!;
      if (form.some((a) => a.includes('{agent_session}')) && !placeholderValues(ctx.paths, spec, now, '').agent_session) {
        throw new SyncordError(
          `${spec.name} has not reported the id of this session's conversation (its first run printed none), so the work cannot be handed to that conversation and no other; stop the session and spawn it again`,
          'conflict',
        );
      }
      return argv(form, now, prompt);
    },
  };
}

export const HandedRuntimeSchema = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(RUNTIME_KINDS).optional(),
  command: z.array(z.string()).min(1),
  headless: z.array(z.string()).min(1).optional(),
  send: z.array(z.string()).min(1).optional(),
});

/**
 * Under the lock: the next queued message, or (nothing queued) the session's rest state: idle when the runtime
 * can be handed more work without a terminal, else exited.
 */
async function takeNext(ctx: SessionContext, session: SessionRecord, lastCode: number, canSend: boolean): Promise<string | undefined> {
  const outcome = await ctx.sessions.update(TAKE_NEXT, { sessionId: session.session_id, canSend });
  if (outcome.end) await endSession(ctx, session.session_id, { exitCode: lastCode, reason: 'the agent finished its prompt' });
  return outcome.next;
}

/**
 * Runs the agent in its working folder (PWD too: some runtimes take their project from it) with this process's
 * standard streams, and passes termination signals on to it. With a reader, the agent's standard output is
 * also read as it is written through, for the outcome of the run.
 */
export async function runAgent(
  argv: string[],
  cwd: string,
  opts: { reader?: OutcomeReader; onStart?: (pid: number | null) => Promise<unknown>; out?: NodeJS.WritableStream; env?: NodeJS.ProcessEnv; stdin?: 'inherit' | 'ignore' } = {},
): Promise<{ code: number; error?: string }> {
  const reader = opts.reader;
  const out = opts.out ?? process.stdout;
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), PWD: cwd };
  delete env.ELECTRON_RUN_AS_NODE;
  delete env[SESSION_RUNTIME_ENV];
  const piped = Boolean(reader) || out !== process.stdout;
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: [opts.stdin ?? 'inherit', piped ? 'pipe' : 'inherit', 'inherit'] });
  if (piped && child.stdout) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out.write(chunk);
      reader?.push(chunk);
    });
  }
  const started = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
    child.once('spawn', () => resolve({ ok: true }));
    child.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
  if (!started.ok) return { code: 127, error: started.error };
  await opts.onStart?.(child.pid ?? null);
  const forward = (sig: NodeJS.Signals) => () => {
    try {
      child.kill(sig);
    } catch {
      // gone
    }
  };
  // Ctrl+C in a terminal reaches the agent directly (same process group); the supervisor stays to record the end.
  const handlers: [NodeJS.Signals, () => void][] = [
    ['SIGTERM', forward('SIGTERM')],
    ['SIGHUP', forward('SIGHUP')],
    ['SIGINT', () => undefined],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    const ended = piped && child.stdout ? new Promise<void>((resolve) => child.stdout!.once('close', () => resolve())) : Promise.resolve();
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    // The output read to its end, unless a process the agent left behind keeps it open.
    await Promise.race([ended, sleep(OUTPUT_DRAIN_MS)]);
    return { code };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

/** How long the output of an ended agent is read on while something it left behind keeps it open. */
const OUTPUT_DRAIN_MS = 3_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

function signalNumber(s: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[s] ?? 0;
}
