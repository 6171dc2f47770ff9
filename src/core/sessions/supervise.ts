import { spawn } from 'child_process';
import { SyncordError } from '../errors';
import { HOST_NAME, processStart } from '../store/lock';
import { SessionContext } from './context';
import { markDelivery, promptFor } from './deliveries';
import { SessionRecord } from './schema';
import { endSession } from './sessions';

/**
 * The supervisor of one session (`syncord session run <id>`), started in the session's terminal or detached
 * with its output in the session log. It runs the agent with the terminal (or log) as its standard streams,
 * records the agent's process, and when the agent ends records how. A headless session then hands the agent
 * the prompts queued for it, one at a time through the runtime's non-interactive form, and finally goes idle
 * (resumable) or exited. The queue and the state change under the sessions file's lock, so a prompt queued
 * while the supervisor finishes is either taken by it or finds the session idle and starts a new supervisor.
 */
export async function runSupervisor(ctx: SessionContext, sessionId: string): Promise<number> {
  const self = { pid: process.pid, start: processStart('self') };
  const claimed = await ctx.sessions.update((file, now) => {
    const rec = file.sessions.find((s) => s.session_id === sessionId);
    if (!rec) return undefined;
    if (rec.state === 'exited') return { rec: structuredClone(rec), first: false, refused: 'the session has exited' };
    if (rec.pid != null && rec.pid !== self.pid && rec.state === 'running') {
      return { rec: structuredClone(rec), first: false, refused: `the session is already supervised by process ${rec.pid}` };
    }
    const first = rec.agent_pid == null && rec.state === 'spawning' && !rec.supervised_once;
    rec.pid = self.pid;
    rec.pid_start = self.start;
    rec.host = HOST_NAME;
    rec.state = 'running';
    rec.supervised_once = true;
    rec.updated = now;
    return { rec: structuredClone(rec), first, refused: undefined as string | undefined };
  });
  if (!claimed) throw new SyncordError(`no session ${sessionId} in ${ctx.sessions.file}`, 'not-found', { file: ctx.sessions.file });
  if (claimed.refused) throw new SyncordError(`session ${sessionId}: ${claimed.refused}`, 'conflict');
  const session = claimed.rec;
  const say = (line: string) => process.stderr.write(`[syncord] ${line}\n`);

  let current: { argv: string[]; message?: string } | undefined = claimed.first ? { argv: session.command } : undefined;
  let lastCode = 0;
  let endReason = 'the agent ended';
  for (;;) {
    if (!current) {
      const next = await takeNext(ctx, session, lastCode);
      if (!next) return lastCode;
      const prompt = await promptFor(ctx, next, sessionId);
      if (prompt === undefined || !session.send_command) {
        await markDelivery(ctx, next, sessionId, { status: 'failed', error: session.send_command ? 'the message or its prompt is gone' : `runtime ${session.runtime} has no non-interactive form`, attempt: true });
        continue;
      }
      current = { argv: session.send_command.map((a) => a.split('{prompt}').join(prompt)), message: next };
      await markDelivery(ctx, next, sessionId, { status: 'delivered', error: null, attempt: true });
      say(`handing ${next} to ${session.runtime}`);
    } else {
      say(`starting ${session.runtime} for ${session.instance} (session ${sessionId})`);
    }
    const { code, error } = await runAgent(ctx, sessionId, current.argv, session.cwd);
    lastCode = code;
    say(error ? `could not start the agent: ${error}` : `${session.runtime} exited with code ${code}`);
    if (current.message && code !== 0) {
      await markDelivery(ctx, current.message, sessionId, { status: 'failed', error: error ?? `${session.runtime} exited with code ${code}` });
    }
    const wasFirst = !current.message;
    current = undefined;
    if (session.mode === 'terminal' || (wasFirst && code !== 0) || error) {
      endReason = error ? `could not start the agent: ${error}` : session.mode === 'terminal' ? `the agent exited with code ${code}` : `the first prompt failed (exit code ${code})`;
      await endSession(ctx, sessionId, { exitCode: code, reason: endReason });
      return code;
    }
  }
}

/**
 * Under the lock: the next queued message, or (nothing queued) the session's rest state: idle when the runtime
 * can be handed more work without a terminal, else exited.
 */
async function takeNext(ctx: SessionContext, session: SessionRecord, lastCode: number): Promise<string | undefined> {
  const outcome = await ctx.sessions.update((file, now) => {
    const rec = file.sessions.find((s) => s.session_id === session.session_id);
    if (!rec || rec.state === 'exited') return { next: undefined, end: false };
    const q = rec.queue ?? [];
    if (q.length) {
      const next = q[0];
      rec.queue = q.slice(1);
      rec.updated = now;
      return { next, end: false };
    }
    if (!rec.send_command) return { next: undefined, end: true };
    rec.state = 'idle';
    rec.pid = null;
    rec.pid_start = null;
    rec.agent_pid = null;
    rec.updated = now;
    return { next: undefined, end: false };
  });
  if (outcome.end) await endSession(ctx, session.session_id, { exitCode: lastCode, reason: 'the agent finished its prompt' });
  return outcome.next;
}

/** Runs the agent with this process's standard streams and passes termination signals on to it. */
async function runAgent(ctx: SessionContext, sessionId: string, argv: string[], cwd: string): Promise<{ code: number; error?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE;
  const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: 'inherit' });
  const started = await new Promise<{ ok: true } | { ok: false; error: string }>((resolve) => {
    child.once('spawn', () => resolve({ ok: true }));
    child.once('error', (e) => resolve({ ok: false, error: e.message }));
  });
  if (!started.ok) return { code: 127, error: started.error };
  await ctx.sessions.update((file, now) => {
    const rec = file.sessions.find((s) => s.session_id === sessionId);
    if (rec && rec.state !== 'exited') {
      rec.agent_pid = child.pid ?? null;
      rec.updated = now;
    }
  });
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
    const code = await new Promise<number>((resolve) => {
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 + signalNumber(signal) : 1)));
    });
    return { code };
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

function signalNumber(s: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[s] ?? 0;
}
