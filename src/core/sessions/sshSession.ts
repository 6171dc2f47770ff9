import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as z from 'zod';
import { SyncordError } from '../errors';
import { SessionContext } from './context';
import { markDelivery, promptFor } from './deliveryLog';
import { OutcomeReader } from './agents';
import { reportAgent } from './agentState';
import { agentEnv, SESSION_RUNTIME_ENV, SyncordCli, writeAgentFiles } from './launch';
import { startupPrompt } from './prompts';
import { forwardedArgv, jsonLines, remoteWorkerArgv, sshArgv } from './ssh';
import { expandArgs, resolveCommand, RuntimeSpec, runnableRemote } from './runtimes';
import { AGENT_SESSION_ID, isSafeId } from './schema';
import { endSession, placeholderValues } from './sessions';
import { BEAT } from './served';
import { defineSessionsChange } from './store';
import { HandedRuntimeSchema, runAgent, supervisorRuntime } from './supervise';
import { WorkspacePaths } from '../workspace';

/**
 * Sessions over ssh. Two processes, one ssh connection between them:
 * - the relay (`syncord session relay <id>`, on the coordinating host, detached, its output in the session log)
 *   runs `ssh … syncord session run <id> --remote-worker` and is the only one that touches the files here;
 * - the worker (that command, on the other machine) runs the agent with the runtime found there, and its own
 *   `syncord` command, which forwards each verb to the relay through a private socket.
 * They speak JSON lines: the worker's standard output and the relay's input to ssh. The worker's standard error
 * (the agent's output too) comes back as ssh's, into the session log.
 */

// ------------------------------------------------------------------------------------------ the protocol

const ToWorker = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('start'),
    session_id: z.string().refine(isSafeId),
    instance: z.string().refine(isSafeId),
    role: z.string(),
    prompt: z.string(),
    runtime: HandedRuntimeSchema,
    first: z.boolean(),
    heartbeat: z.number().int().positive(),
  }),
  z.object({ t: z.literal('reply'), id: z.number().int(), code: z.number().int(), stdout: z.string(), stderr: z.string() }),
  z.object({ t: z.literal('work'), message: z.string(), prompt: z.string(), agent_session: z.string().nullable() }),
  z.object({ t: z.literal('stop'), reason: z.string() }),
]);
type ToWorker = z.infer<typeof ToWorker>;

const ToRelay = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), host: z.string() }),
  z.object({ t: z.literal('beat') }),
  z.object({ t: z.literal('call'), id: z.number().int(), argv: z.array(z.string()), stdin: z.string().optional() }),
  z.object({
    t: z.literal('ran'),
    message: z.string().optional(),
    code: z.number().int(),
    error: z.string().optional(),
    failure: z.string().optional(),
    runtimeError: z.string().optional(),
    agentSession: z.string().optional(),
  }),
  z.object({ t: z.literal('ready') }),
  z.object({ t: z.literal('bye'), reason: z.string() }),
]);
type ToRelay = z.infer<typeof ToRelay>;

/** The environment variable naming the socket through which a remote agent's `syncord` forwards its verbs. */
export const FORWARD_ENV = 'SYNCORD_FORWARD';

/** A host name as reported by the other machine, kept only when it reads as one. */
const HOST = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

// ------------------------------------------------------------------------------------------ the relay

/** The relay connected: the session runs there (unless it rests idle), on that host, supervised. */
const REMOTE_HELLO = defineSessionsChange('session.remoteHello', (file, input: { sessionId: string; host: string }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return undefined;
  if (rec.state === 'spawning') rec.state = 'running';
  rec.host = input.host;
  rec.supervised_once = true;
  rec.updated = now;
  return structuredClone(rec);
});

/** The oldest queued message for the agent (the session runs then); else idle, or the end when nothing can be sent. */
const REMOTE_TAKE = defineSessionsChange('session.remoteTake', (file, input: { sessionId: string; canSend: boolean }, now): { next?: string; end?: boolean; gone?: boolean } => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return { gone: true };
  rec.updated = now;
  const q = rec.queue ?? [];
  if (q.length) {
    rec.queue = q.slice(1);
    rec.state = 'running';
    return { next: q[0] };
  }
  if (!input.canSend) return { end: true };
  rec.state = 'idle';
  return {};
});

export interface RelayOptions {
  /** The exit code of a refused forwarded command (the CLI's, for a SyncordError code). */
  exitCodeOf: (e: SyncordError) => number;
  /** Where the relay says what happens (the session log). */
  say?: (line: string) => void;
  /** How often the record is read for queued work and a stop (ms). */
  pollMs?: number;
}

/**
 * The local end of a remote session: connects with ssh, starts the supervisor there, then carries its heartbeat
 * (written with this machine's clock), its forwarded `syncord` verbs (run here as the session's instance, never
 * through a shell), the hand-overs queued for it and a stop. Returns the exit code for its process.
 */
export async function runRelay(ctx: SessionContext, sessionId: string, opts: RelayOptions): Promise<number> {
  const say = opts.say ?? ((line: string) => process.stderr.write(`[syncord ${new Date().toISOString().slice(11, 23)}] ${line}\n`));
  const rec = (await ctx.sessions.list()).find((s) => s.session_id === sessionId);
  if (!rec) throw new SyncordError(`no session ${sessionId} in ${ctx.sessions.file}`, 'not-found', { file: ctx.sessions.file });
  if (rec.mode !== 'remote' || !rec.remote) throw new SyncordError(`session ${sessionId.slice(0, 8)} is not a remote session`, 'usage');
  if (rec.state === 'exited') throw new SyncordError(`session ${sessionId.slice(0, 8)} has exited`, 'conflict');
  const remote = runnableRemote(ctx.config, rec.remote, ctx.paths);
  if (remote.kind !== 'ssh') throw new SyncordError(`session ${sessionId.slice(0, 8)}: remote ${remote.name} is of kind ${remote.kind}, not ssh`, 'conflict');
  const spec = supervisorRuntime(ctx, rec);
  const role = rec.role ?? '';
  const first = !rec.supervised_once;
  const argv = sshArgv(remote, remoteWorkerArgv(remote, sessionId));
  say(`connecting to ${remote.target}: ssh ${argv.join(' ')}`);

  const child = spawn('ssh', argv, { stdio: ['pipe', 'pipe', 'inherit'], windowsHide: true });
  let hello = false;
  let done = false;
  let waiting = false;
  let feeding = false;
  const send = (m: ToWorker) => {
    if (!child.stdin?.writable) return;
    child.stdin.write(`${JSON.stringify(m)}\n`);
  };
  const finish = (why: string) => {
    if (done) return;
    done = true;
    say(why);
    send({ t: 'stop', reason: why });
    child.stdin?.end();
    // The other end stops its agent and ends; ssh goes with it, or is ended here after a while.
    setTimeout(() => child.kill('SIGTERM'), 10_000).unref();
  };

  const feed = async (): Promise<void> => {
    if (feeding || done) return;
    feeding = true;
    waiting = false;
    try {
      for (;;) {
        const took = await ctx.sessions.update(REMOTE_TAKE, { sessionId, canSend: Boolean(spec.send) });
        if (took.gone) return finish('the session has ended here; stopping the agent');
        if (took.end) {
          await endSession(ctx, sessionId, { exitCode: 0, reason: 'the agent finished its prompt' });
          return finish(`${spec.name} has no way to be handed more work; the session ended`);
        }
        if (!took.next) {
          waiting = true;
          return;
        }
        const prompt = await promptFor(ctx, took.next, sessionId);
        if (prompt === undefined) {
          await markDelivery(ctx, took.next, sessionId, { status: 'failed', error: 'the message or its prompt is gone', attempt: true });
          continue;
        }
        const now = (await ctx.sessions.list()).find((s) => s.session_id === sessionId);
        // Pending while the agent works on it: delivered once the runtime took it without an error.
        await markDelivery(ctx, took.next, sessionId, { attempt: true });
        say(`handing ${took.next} to ${spec.name} on ${remote.target}`);
        send({ t: 'work', message: took.next, prompt, agent_session: now?.agent_session ?? null });
        return;
      }
    } finally {
      feeding = false;
    }
  };

  const onRan = async (m: Extract<ToRelay, { t: 'ran' }>) => {
    if (m.agentSession && AGENT_SESSION_ID.test(m.agentSession)) await reportAgent(ctx, sessionId, { agentSession: m.agentSession }).catch(() => undefined);
    const failure = m.error ? `could not start the agent: ${m.error}` : (m.failure ?? (m.code !== 0 ? `${spec.name} exited with code ${m.code}` : undefined));
    say(failure ? `${spec.name} exited with code ${m.code}: ${failure}` : `${spec.name} exited with code ${m.code}`);
    if (m.message) {
      await markDelivery(ctx, m.message, sessionId, failure ? { status: 'failed', error: failure } : { status: 'delivered', error: null });
    } else if (m.error || m.code !== 0 || m.runtimeError) {
      const reason = m.error ? `could not start the agent: ${m.error}` : `the first prompt failed: ${m.runtimeError ?? `exit code ${m.code}`}`;
      await endSession(ctx, sessionId, { exitCode: m.code, reason });
      finish(`the session ended: ${reason}`);
    }
  };

  const onCall = async (m: Extract<ToRelay, { t: 'call' }>) => {
    const reply = (code: number, stdout: string, stderr: string) => send({ t: 'reply', id: m.id, code, stdout, stderr });
    let args: string[];
    try {
      args = forwardedArgv(m.argv, rec.instance, sessionId);
    } catch (e) {
      const err = e instanceof SyncordError ? e : new SyncordError(String(e), 'usage');
      say(`refused a forwarded command: ${err.message}`);
      return reply(opts.exitCodeOf(err), '', `syncord: error: ${err.message}\n`);
    }
    const r = await runLocalCli(ctx.cli, ctx.paths, rec.instance, sessionId, args, m.stdin);
    reply(r.code, r.stdout, r.stderr);
  };

  const handle = async (value: unknown) => {
    const parsed = ToRelay.safeParse(value);
    if (!parsed.success) return say(`ignored a line from ${remote.target} that is not part of the protocol`);
    const m = parsed.data;
    switch (m.t) {
      case 'hello':
        hello = true;
        await ctx.sessions.update(REMOTE_HELLO, { sessionId, host: HOST.test(m.host) ? m.host : rec.host });
        say(`connected: the supervisor runs on ${m.host}`);
        if (!first) waiting = true;
        return;
      case 'beat':
        // Stamped with this machine's clock: no skew between the machines matters.
        return ctx.sessions.update(BEAT, sessionId);
      case 'call':
        return onCall(m);
      case 'ran':
        return onRan(m);
      case 'ready':
        return feed();
      case 'bye':
        say(`the other end stopped: ${m.reason}`);
        if (!done) {
          done = true;
          await endSession(ctx, sessionId, { exitCode: null, reason: m.reason });
        }
        return;
    }
  };

  // One at a time, in order, except the forwarded commands (which may take a while): those run side by side.
  let chain = Promise.resolve();
  const onValue = (value: unknown) => {
    const isCall = (value as { t?: unknown })?.t === 'call';
    const run = () => handle(value).catch((e: unknown) => say(`error: ${e instanceof Error ? e.message : String(e)}`));
    if (isCall) void run();
    else chain = chain.then(run);
  };
  child.stdout!.on('data', jsonLines(onValue, (why) => say(`ignored output from ${remote.target}: ${why}`)));
  child.stdin!.on('error', () => undefined);

  const started = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
    child.once('spawn', () => resolve({ ok: true }));
    child.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
  if (!started.ok) {
    await endSession(ctx, sessionId, { exitCode: null, reason: `spawn-failed: could not run ssh: ${started.error}` });
    throw new SyncordError(`could not run ssh: ${started.error}`, 'io');
  }
  send({
    t: 'start',
    session_id: sessionId,
    instance: rec.instance,
    role,
    prompt: rec.prompt ?? startupPrompt({ instance: rec.instance, role, coordinationDir: ctx.paths.coordinationDir }),
    runtime: { name: spec.name, kind: spec.kind, command: spec.command, headless: spec.headless, send: spec.send },
    first,
    heartbeat: rec.heartbeat_interval ?? 60,
  });

  const poll = setInterval(() => {
    if (done || !hello) return;
    void ctx.sessions.list().then(
      (all) => {
        const now = all.find((s) => s.session_id === sessionId);
        if (!now || now.state === 'exited') finish(`the session was ${now?.end_reason ?? 'removed'} here; stopping the agent`);
        else if (waiting && now.queue?.length) chain = chain.then(() => feed());
      },
      () => undefined,
    );
  }, opts.pollMs ?? 1000);

  const code = await new Promise<number>((resolve) => child.once('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  clearInterval(poll);
  await chain;
  if (!hello) {
    const reason = `spawn-failed: could not reach ${remote.target} over ssh (ssh exited with code ${code})`;
    await endSession(ctx, sessionId, { exitCode: code, reason });
    say(reason);
    return code || 1;
  }
  if (!done) {
    // The connection broke: no heartbeat any more. The session shows unreachable, then ends after the timeout;
    // what is queued for it stays pending, to be resent.
    say(`the connection to ${remote.target} closed (ssh exited with code ${code}); no heartbeat any more`);
    return code || 1;
  }
  return 0;
}

/** The largest output of a forwarded command sent back (each stream). */
const MAX_OUTPUT = 1024 * 1024;

/**
 * Runs this machine's syncord CLI with `args` as an argument list (no shell), as `instance` inside `session`
 * (so its hand-overs are acknowledged as for a local agent), and returns what it printed.
 */
function runLocalCli(cli: SyncordCli, paths: WorkspacePaths, instance: string, session: string, args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', SYNCORD_INSTANCE: instance, SYNCORD_SESSION: session };
  delete env[SESSION_RUNTIME_ENV];
  delete env[FORWARD_ENV];
  const argv = [cli.script, '--workspace', paths.root, '--coordination-dir', paths.coordinationDir, '--as', instance, ...args];
  return new Promise((resolve) => {
    const child = spawn(cli.node, argv, { cwd: paths.root, env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    const take = (which: 'out' | 'err') => (d: Buffer) => {
      if (which === 'out' && stdout.length < MAX_OUTPUT) stdout += d.toString('utf8');
      if (which === 'err' && stderr.length < MAX_OUTPUT) stderr += d.toString('utf8');
    };
    child.stdout.on('data', take('out'));
    child.stderr.on('data', take('err'));
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => resolve({ code: 127, stdout: '', stderr: `syncord: error: could not run syncord on the coordinating host: ${e.message}\n` }));
    child.once('close', (c) => resolve({ code: c ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

// ------------------------------------------------------------------------------------------ the worker

/**
 * The supervisor on the other machine (`syncord session run <id> --remote-worker`, started by the relay over
 * ssh in the remote's folder): runs the agent with the runtime found on this machine's PATH and its own
 * `syncord` command, which forwards every verb to the coordinating host; hands it the work the relay sends,
 * one at a time, while it is idle; sends a heartbeat. Writes nothing to this machine's coordination files.
 */
export async function runRemoteWorker(paths: WorkspacePaths, cli: SyncordCli, sessionId: string): Promise<number> {
  const say = (line: string) => process.stderr.write(`[syncord ${os.hostname()} ${new Date().toISOString().slice(11, 23)}] ${line}\n`);
  const out = (m: ToRelay) => {
    if (process.stdout.writable) process.stdout.write(`${JSON.stringify(m)}\n`);
  };
  const inbox: ToWorker[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  const pendingCalls = new Map<number, (r: { code: number; stdout: string; stderr: string }) => void>();
  let agent: number | undefined;
  const stopAgent = () => {
    if (typeof agent === 'number') {
      try {
        process.kill(agent, 'SIGTERM');
      } catch {
        // gone
      }
    }
  };
  const onMessage = (value: unknown) => {
    const parsed = ToWorker.safeParse(value);
    if (!parsed.success) return say('ignored a line from the coordinating host that is not part of the protocol');
    const m = parsed.data;
    if (m.t === 'reply') {
      pendingCalls.get(m.id)?.({ code: m.code, stdout: m.stdout, stderr: m.stderr });
      pendingCalls.delete(m.id);
      return;
    }
    if (m.t === 'stop') stopAgent();
    inbox.push(m);
    wake?.();
  };
  process.stdin.on('data', jsonLines(onMessage, (why) => say(`ignored input: ${why}`)));
  process.stdin.on('end', () => {
    closed = true;
    stopAgent();
    for (const [, r] of pendingCalls) r({ code: 7, stdout: '', stderr: 'syncord: error: the connection to the coordinating host is gone\n' });
    pendingCalls.clear();
    wake?.();
  });
  const next = async (): Promise<ToWorker | undefined> => {
    for (;;) {
      const m = inbox.shift();
      if (m) return m;
      if (closed) return undefined;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  };

  const start = await next();
  if (!start || start.t !== 'start') {
    say('the coordinating host sent no start');
    return 2;
  }
  if (start.session_id !== sessionId) {
    out({ t: 'bye', reason: `spawn-failed: the supervisor was started for session ${sessionId} but told about ${start.session_id}` });
    return 2;
  }
  const spec: RuntimeSpec = start.runtime;

  // The socket of the agent's `syncord`: in a private folder of this user's (only they can connect).
  const sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-fwd-'));
  fs.chmodSync(sockDir, 0o700);
  const sock = path.join(sockDir, 's');
  let callIds = 0;
  const server = net.createServer((conn) => {
    const fail = (text: string) => conn.end(`${JSON.stringify({ code: 2, stdout: '', stderr: `syncord: error: ${text}\n` })}\n`);
    const reader = jsonLines(
      (value) => {
        const r = z.object({ argv: z.array(z.string()), stdin: z.string().optional() }).safeParse(value);
        if (!r.success) return fail('not a forwarded command');
        if (closed) return conn.end(`${JSON.stringify({ code: 7, stdout: '', stderr: 'syncord: error: the connection to the coordinating host is gone\n' })}\n`);
        const id = ++callIds;
        pendingCalls.set(id, (res) => conn.end(`${JSON.stringify(res)}\n`));
        out({ t: 'call', id, argv: r.data.argv, stdin: r.data.stdin });
      },
      (why) => fail(why),
    );
    conn.on('data', reader);
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(sock, () => resolve());
  });

  const cleanup = () => {
    server.close();
    fs.rmSync(sockDir, { recursive: true, force: true });
  };
  let beat: NodeJS.Timeout | undefined;
  try {
    const files = writeAgentFiles(paths, cli, { instance: start.instance, session: sessionId });
    const env = agentEnv(process.env, { paths, instance: start.instance, session: sessionId, files, kind: spec.kind });
    env[FORWARD_ENV] = sock;
    delete env[SESSION_RUNTIME_ENV];
    const cwd = paths.root;
    const rec = { session_id: sessionId, instance: start.instance, cwd, role: start.role, agent_session: null as string | null };
    const argvOf = (form: string[], prompt: string) => [
      resolveCommand({ ...spec, command: form }, env, cwd),
      ...expandArgs(form.slice(1), placeholderValues(paths, spec, rec, prompt)),
    ];

    say(`the agent's syncord forwards through ${sock}`);
    out({ t: 'hello', host: os.hostname() });
    beat = setInterval(() => out({ t: 'beat' }), start.heartbeat * 1000);

    const run = async (argv: string[], message?: string) => {
      const reader = spec.kind ? new OutcomeReader(spec.kind) : undefined;
      const r = await runAgent(argv, cwd, {
        reader,
        env,
        out: process.stderr,
        stdin: 'ignore',
        onStart: async (pid) => {
          agent = pid ?? undefined;
        },
      });
      agent = undefined;
      const outcome = reader?.finish(r.code);
      if (outcome?.agentSession) rec.agent_session = outcome.agentSession;
      out({ t: 'ran', message, code: r.code, error: r.error, failure: outcome?.error, runtimeError: outcome?.runtimeError, agentSession: outcome?.agentSession });
    };

    if (start.first) {
      const form = spec.headless;
      if (!form) throw new SyncordError(`runtime ${spec.name} has no way to run without a terminal (no "headless" form)`, 'usage');
      say(`starting ${spec.name} for ${start.instance} (session ${sessionId})`);
      await run(argvOf(form, start.prompt));
    }
    for (;;) {
      out({ t: 'ready' });
      const m = await next();
      if (!m || m.t === 'stop') {
        say(m ? `stopping: ${m.reason}` : 'the connection to the coordinating host closed; stopping');
        return 0;
      }
      if (m.t !== 'work') continue;
      if (m.agent_session && AGENT_SESSION_ID.test(m.agent_session)) rec.agent_session = m.agent_session;
      let argv: string[];
      try {
        if (!spec.send) throw new SyncordError(`runtime ${spec.name} has no non-interactive form`, 'conflict');
        if (spec.send.some((a) => a.includes('{agent_session}')) && !placeholderValues(paths, spec, rec, '').agent_session) {
          throw new SyncordError(`${spec.name} has not reported the id of this session's conversation, so the work cannot be handed to it`, 'conflict');
        }
        argv = argvOf(spec.send, m.prompt);
      } catch (e) {
        out({ t: 'ran', message: m.message, code: 1, failure: e instanceof Error ? e.message : String(e) });
        continue;
      }
      say(`handing ${m.message} to ${spec.name}${rec.agent_session ? ` (conversation ${rec.agent_session})` : ''}`);
      await run(argv, m.message);
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    say(`not running the agent: ${why}`);
    out({ t: 'bye', reason: `could not start the agent on ${os.hostname()}: ${why}` });
    return 1;
  } finally {
    if (beat) clearInterval(beat);
    stopAgent();
    cleanup();
  }
}
