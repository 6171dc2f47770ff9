import * as path from 'path';
import { Command } from 'commander';
import { SyncordError } from '../core/errors';
import { timeOf, formatDuration } from '../core/coordination/time';
import { agentStateOf, remoteText, stateText } from '../views/sessions';
import { relativeTime } from '../views/time';
import {
  acknowledgeFromSession,
  claudeHookState,
  clearExited,
  DeliveryRecord,
  HandOver,
  headlessLauncher,
  listSessions,
  nudgeRecipients,
  isSafeId,
  readSessionLog,
  remoteKindOf,
  runRelay,
  runRemoteWorker,
  readWorkspaceSessionsConfig,
  reportAgent,
  requireSession,
  resendDeliveries,
  runSupervisor,
  SessionContext,
  sessionContext,
  SessionView,
  slingTask,
  spawnSession,
  stopSession,
  SyncordCli,
  undelivered,
} from '../core/sessions';
import { CliContext, contextFrom } from './context';
import { ExitCode, exitCodeFor } from './exit';
import { io } from './io';
import { selfCli } from './self';

export { selfCli };

/** Session verbs (seed 003): spawn, sling, agents, session list|stop|resend|log|clear (and the supervisor, run). */
export function registerSessionCommands(program: Command): void {
  program
    .command('spawn')
    .description('start an agent session for an instance, detached, its output logged (in VS Code: a terminal)')
    .argument('<instance>', 'the instance the agent works as (registered if new: give --role)')
    .option('--runtime <name>', 'claude, opencode or one from syncord.sessions.runtimes (default: from the name or role)')
    .option('--role <role>', 'the role (required for a new instance)')
    .option('--worktree', 'give the session its own git worktree, on branch syncord/<instance>')
    .option('--prompt <text>', 'more for the first prompt, after the startup checklist')
    .option('--remote <name>', 'run it on a remote of the setting syncord.sessions.remotes: another machine over ssh, or an opencode server (a session of its own there)')
    .option('--daemon', "also start the workspace's daemon when it is not running, so that the agents' coordination verbs run in it (syncord daemon --help)")
    .action(async (instance: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const o = cmd.opts<{ runtime?: string; role?: string; worktree?: boolean; prompt?: string; remote?: string; daemon?: boolean }>();
      if (o.daemon) {
        const d = await (await import('./daemon')).startDaemon(ctx.paths);
        if (d.started) io().err(`syncord: started the workspace's daemon (pid ${d.pid}); \`syncord daemon stop\` ends it\n`);
      }
      const sctx = sessionsOf(ctx);
      const r = await spawnSession(
        sctx,
        { instance, role: o.role, runtime: o.runtime, worktree: o.worktree, prompt: o.prompt, mode: o.remote !== undefined ? 'remote' : 'headless', remote: o.remote },
        headlessLauncher(sctx.paths),
      );
      const s = r.session;
      const overSsh = remoteKindOf(sctx.config, s) === 'ssh';
      const why =
        r.runtimeReason === 'explicit' || (s.mode === 'remote' && !overSsh) ? '' : r.runtimeReason === 'default' ? ' (the default runtime)' : ` (chosen by ${r.runtimeReason.replace(/^map /, 'the mapping ')})`;
      const where = s.mode === 'remote' ? `on remote ${s.remote} as ${s.endpoint}` : `process ${s.pid ?? '?'}`;
      const lines = [
        overSsh
          ? `Starting ${s.instance}${r.registered ? ' (newly registered)' : ''} with ${s.runtime}${why} on ${remoteText(s)}: session ${short(s.session_id)}.`
          : `Started ${s.instance}${r.registered ? ' (newly registered)' : ''} with ${s.runtime}${why}: session ${short(s.session_id)}, ${where}.`,
        s.mode !== 'remote' ? `  working folder: ${rel(s.cwd)}${s.worktree ? ' (its own worktree)' : ''}` : overSsh ? `  working folder: ${s.cwd} there` : '',
        s.log ? `  ${s.mode === 'remote' && !overSsh ? "its supervisor's output" : 'output'}: ${rel(s.log)}` : '',
        `  first prompt: ${r.prompt}`,
      ].filter(Boolean);
      ctx.print(lines.join('\n'), r);
    });

  program
    .command('sling')
    .description('assign a task to an instance and hand it to its live session; the hand-over is recorded in the message log')
    .argument('<task>')
    .argument('<instance>')
    .action(async (task: string, instance: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const r = await slingTask(sessionsOf(ctx), { task, instance }, { launch: headlessLauncher(ctx.paths) });
      const head = `Assigned ${r.task.task_id} to ${instance}`;
      ctx.print(`${head}; ${deliveryText(r.delivery)} (recorded as ${r.message.message_id}).`, r);
      if (r.delivery.status === 'failed') io().exitCode = ExitCode.problemsFound;
    });

  program
    .command('agents')
    .description("the agent sessions: state, what each agent reports (busy, idle, waiting for you), current task (live ones; --all adds exited), and the hand-overs their agents have not acknowledged")
    .option('--all', 'include exited sessions')
    .action(listAction);

  const session = program.command('session').description('agent sessions: list, stop, resend, log, clear');
  session.command('list').description('the same as `syncord agents`').option('--all', 'include exited sessions').action(listAction);

  session
    .command('stop')
    .description('stop a session (by session id or instance): its agent is ended, the instance checked out')
    .argument('<session>', 'a session id (or its first 8 characters) or an instance id')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const s = await stopSession(sessionsOf(ctx), id, { by: ctx.instance });
      const notes = s.notes.map((n) => `  ${n[0].toUpperCase()}${n.slice(1)}.`);
      ctx.print([`Session ${short(s.session_id)} of ${s.instance} is ${s.state}${s.end_reason ? ` (${s.end_reason})` : ''}.`, ...notes].join('\n'), s);
    });

  session
    .command('resend')
    .description("hand a message's hand-overs that no agent acknowledged to the recipients' live sessions again")
    .argument('<message>', 'the message id (see `syncord msg show`)')
    .option('--all', 'also the hand-overs their agents acknowledged')
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const ds = await resendDeliveries(sessionsOf(ctx), id, { launch: headlessLauncher(ctx.paths) }, { all: cmd.opts<{ all?: boolean }>().all });
      ctx.print(ds.map((d) => `${d.instance}: ${deliveryText(d)}`).join('\n'), ds);
      if (ds.some((d) => d.status === 'failed')) io().exitCode = ExitCode.problemsFound;
    });

  session
    .command('log')
    .description("print a headless session's output")
    .argument('<session>', 'a session id (or its first 8 characters) or an instance id')
    .option('--tail <lines>', 'only the last lines', (v) => Number(v))
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const s = requireSession(await sessionsOf(ctx).sessions.list(), id);
      if (s.mode === 'terminal') throw new SyncordError(`session ${short(s.session_id)} of ${s.instance} runs in a VS Code terminal (${s.terminal ?? 'no name'}); its output is there`, 'not-found');
      // Only the log Syncord derives from the session id, inside coordination/.syncord: never the record's `log` field.
      const log = readSessionLog(ctx.paths, s.session_id);
      if (log.text === undefined) throw new SyncordError(`session ${short(s.session_id)} of ${s.instance} has no output yet (${log.file})`, 'not-found', { file: log.file });
      let text = log.text;
      const tail = cmd.opts<{ tail?: number }>().tail;
      if (tail && Number.isFinite(tail)) text = text.split('\n').slice(-tail - 1).join('\n');
      ctx.print(text, { session: s.session_id, log: log.file, text });
    });

  session
    .command('clear')
    .description('remove exited sessions from sessions.json')
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      const n = await clearExited(sessionsOf(ctx));
      ctx.print(n ? `Removed ${n} exited session${n > 1 ? 's' : ''}.` : 'No exited session to remove.', { removed: n });
    });

  session
    .command('hook', { hidden: true })
    .description("what an agent's hooks run (Claude Code): reads the hook's JSON on standard input and records the agent's state on its session; always exits 0")
    .argument('<runtime>', 'the program whose hook this is: claude')
    .action(async (runtime: string, ...args: unknown[]) => {
      // A hook must never stop the agent: every problem is said on stderr and the exit code stays 0.
      try {
        const ctx = contextFrom(cmdOf(args));
        const sessionId = io().env.SYNCORD_SESSION;
        if (!sessionId) throw new SyncordError('not inside a Syncord session (SYNCORD_SESSION is not set)', 'usage');
        if (runtime !== 'claude') throw new SyncordError(`no hooks are known for ${JSON.stringify(runtime)}`, 'usage');
        const report = claudeHookState(parseHookInput(await readStdin(HOOK_INPUT_MAX)));
        if (report) await reportAgent(sessionsOf(ctx), sessionId, report);
      } catch (e) {
        io().err(`syncord: hook not recorded: ${e instanceof Error ? e.message : String(e)}\n`);
      }
      io().exitCode = ExitCode.ok;
    });

  session
    .command('state', { hidden: true })
    .description("what an agent's plugin runs (opencode): records the agent's own state on its session ($SYNCORD_SESSION)")
    .argument('<state>', 'busy, idle or waiting')
    .option('--agent-session <id>', "the runtime's own id of the conversation")
    .action(async (state: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      const sessionId = io().env.SYNCORD_SESSION;
      if (!sessionId) throw new SyncordError('not inside a Syncord session (SYNCORD_SESSION is not set)', 'usage');
      const rec = await reportAgent(sessionsOf(ctx), sessionId, { state, agentSession: cmd.opts<{ agentSession?: string }>().agentSession });
      ctx.print(rec ? `Session ${short(sessionId)}: ${rec.agent_state ?? '-'}.` : `Session ${short(sessionId)} is not live; nothing recorded.`, rec ?? null);
    });

  session
    .command('run', { hidden: true })
    .description("a session's supervisor: runs its agent and records how it ends (started by spawn)")
    .argument('<session>')
    .option('--remote-worker', "on another machine: the supervisor of a remote session, started over ssh; its standard streams are the session's connection")
    .action(async (id: string, ...args: unknown[]) => {
      const cmd = cmdOf(args);
      const ctx = contextFrom(cmd);
      if (cmd.opts<{ remoteWorker?: boolean }>().remoteWorker) {
        if (!isSafeId(id)) throw new SyncordError(`invalid session id ${JSON.stringify(id)}`, 'usage');
        io().exitCode = await runRemoteWorker(ctx.paths, selfCli(), id);
        return;
      }
      io().exitCode = await runSupervisor(sessionsOf(ctx), id);
    });

  session
    .command('relay', { hidden: true })
    .description("a remote session's connection (started by spawn --remote): runs its supervisor over ssh and carries its heartbeat, verbs and work")
    .argument('<session>')
    .action(async (id: string, ...args: unknown[]) => {
      const ctx = contextFrom(cmdOf(args));
      io().exitCode = await runRelay(sessionsOf(ctx), id, { exitCodeOf: (e) => exitCodeFor(e.code) });
    });
}

/** The largest hook input read (Claude Code sends a small JSON object). */
const HOOK_INPUT_MAX = 1024 * 1024;

function readStdin(max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        process.stdin.destroy();
        reject(new SyncordError(`the hook input is larger than ${max} bytes`, 'usage'));
      } else chunks.push(c);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function parseHookInput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new SyncordError('the hook input is not JSON', 'usage');
  }
}

/**
 * The hand-overs an agent's verb acknowledges: every `syncord task <verb> <id>` and `syncord msg show|reply|ack
 * <id>` run inside a session (SYNCORD_SESSION) as its instance. Runs after the verb succeeded; a failure here
 * only warns (the verb itself is done).
 */
export async function acknowledgeAfterVerb(actionCommand: Command): Promise<void> {
  if (!io().env.SYNCORD_SESSION) return;
  const id = actionCommand.processedArgs[0];
  if (typeof id !== 'string' || (typeof io().exitCode === 'number' && io().exitCode !== ExitCode.ok)) return;
  await acknowledgeHandOver(contextFrom(actionCommand), actionCommand.parent?.name(), actionCommand.name(), id);
}

/**
 * After `<area> <verb> <id>` succeeded as the acting instance (`task claim task_004`, `msg reply msg_012`, from the
 * CLI or the MCP server): inside a session (SYNCORD_SESSION), marks the hand-overs it acted on acknowledged.
 * A failure here only warns (the verb itself is done).
 */
export async function acknowledgeHandOver(ctx: CliContext, area: string | undefined, verb: string, id: string): Promise<void> {
  const sessionId = io().env.SYNCORD_SESSION;
  if (!sessionId || !ctx.instance) return;
  const about = area === 'task' && TASK_VERBS.has(verb) ? { task: id } : area === 'msg' && MESSAGE_VERBS.has(verb) ? { message: id } : undefined;
  if (!about) return;
  try {
    await acknowledgeFromSession(sessionsOf(ctx), sessionId, ctx.instance, about);
  } catch (e) {
    ctx.logger.warn(`done, but the hand-over could not be marked acknowledged: ${(e as Error).message}`);
  }
}

const TASK_VERBS = new Set(['show', 'claim', 'accept', 'start', 'decline', 'release', 'block', 'unblock', 'complete', 'cancel']);
const MESSAGE_VERBS = new Set(['show', 'reply', 'ack']);

async function listAction(...args: unknown[]): Promise<void> {
  const cmd = cmdOf(args);
  const ctx = contextFrom(cmd);
  const sctx = sessionsOf(ctx);
  const list = await listSessions(sctx, { all: cmd.opts<{ all?: boolean }>().all });
  // A broken message log must not hide the sessions: they are listed, and the log's problem is said.
  const handOvers = await undelivered(sctx).catch((e: unknown) => {
    ctx.logger.warn(`the hand-overs cannot be listed: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  });
  const now = Date.now();
  ctx.print([sessionsTable(list, now), handOversText(handOvers, now)].filter(Boolean).join('\n\n'), {
    sessions: list,
    unacknowledged: handOvers.map((h) => ({ message_id: h.message.message_id, subject: h.message.subject, ...h.delivery })),
  });
}

/**
 * After a message is sent: nudges the recipients' live sessions. Returns a sentence for the output ('' when no
 * recipient has a live session). The message itself is already written; a failed nudge only warns.
 */
export async function nudgeSessions(ctx: CliContext, messageId: string): Promise<string> {
  try {
    const ds = await nudgeRecipients(sessionsOf(ctx), messageId, { launch: headlessLauncher(ctx.paths) });
    return ds.length ? `\n${ds.map((d) => `Nudged ${d.instance}: ${deliveryText(d)}.`).join('\n')}` : '';
  } catch (e) {
    ctx.logger.warn(`the message was sent, but its recipients' sessions could not be nudged: ${(e as Error).message}`);
    return '';
  }
}

function cmdOf(args: unknown[]): Command {
  return args[args.length - 1] as Command;
}


export function sessionsOf(ctx: CliContext): SessionContext {
  const wait = Number(io().env.SYNCORD_LOCK_WAIT_MS);
  return sessionContext(ctx.paths, {
    config: readWorkspaceSessionsConfig(ctx.paths.root),
    cli: selfCli(),
    actor: ctx.instance,
    logger: ctx.logger,
    lockWaitMs: Number.isFinite(wait) && wait >= 0 ? wait : undefined,
  });
}

const short = (id: string) => id.slice(0, 8);
const rel = (p: string) => path.relative(io().cwd, p) || '.';

export function deliveryText(d: DeliveryRecord): string {
  const where = d.session ? `session ${short(d.session)}` : 'no session';
  const how = d.via === 'terminal' ? 'typed into its terminal' : d.via === 'prompt' ? 'as a prompt' : '';
  switch (d.status) {
    case 'delivered':
      return `handed to ${where} ${how}`.trim();
    case 'acknowledged':
      return `handed to ${where} ${how}, acknowledged by its agent`.replace(/ +,/, ',');
    case 'pending':
      if (d.via === 'terminal') {
        return d.attempts > 0
          ? `typed into the terminal of ${where}, waiting for its agent to take it`
          : `waiting for the agent of ${where} to be idle and for the VS Code window of its terminal to type it`;
      }
      return `queued for ${where}; its agent gets it as its next prompt`;
    default:
      return `NOT delivered: ${d.error ?? 'unknown reason'}`;
  }
}

/** Text from a file on one line, without control characters (a subject or an error written by anyone). */
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\s]+/g, ' ').trim();

/**
 * The AGENT column: what a live session's agent last reported of itself and how long ago (`busy 2m`, `idle 1h 5m`,
 * `WAITING for your input 30s`, in capitals so it stands out); `-` when it never reported or the session
 * exited, `?` for a state Syncord does not know.
 */
export function agentColumn(s: SessionView, now: number): string {
  if (s.state === 'exited' || s.agent_state == null) return '-';
  const state = agentStateOf(s);
  if (!state) return '?';
  const at = s.agent_state_at ? timeOf(s.agent_state_at) : undefined;
  const words = state === 'waiting' ? 'WAITING for your input' : state;
  return at === undefined ? words : `${words} ${formatDuration(now - at)}`;
}

/** Where a hand-over its agent has not acknowledged stands: `pending: …`, `delivered 5m ago, not acknowledged`, `FAILED: …`. */
export function handOverStatus(d: DeliveryRecord, now: number): string {
  switch (d.status) {
    case 'pending':
      return `pending: ${deliveryText(d)}`;
    case 'delivered':
      return `delivered ${relativeTime(d.updated, now)}, not acknowledged`;
    case 'failed':
      return `FAILED: ${oneLine(d.error ?? 'unknown reason')}`;
    default:
      return oneLine(String(d.status));
  }
}

/** The section below the sessions table: each hand-over its agent has not acknowledged, newest first ('' when none). */
export function handOversText(list: readonly HandOver[], now: number): string {
  if (!list.length) return '';
  const rows = list.map((h) => [h.message.message_id, h.delivery.instance, clip(oneLine(h.message.subject), 60), handOverStatus(h.delivery, now)]);
  return ['Hand-overs not acknowledged:', ...columns(rows).map((l) => `  ${l}`)].join('\n');
}

/**
 * The STATE column: `exited (0)`, the state, or for a remote session whose heartbeat is older than 3 intervals
 * `UNREACHABLE (no heartbeat for 5m)`.
 */
export function stateColumn(s: SessionView, now: number): string {
  if (s.state === 'exited') return `exited${s.exit_code != null ? ` (${s.exit_code})` : ''}`;
  if (stateText(s) === 'unreachable') return `UNREACHABLE (no heartbeat for ${formatDuration(now - (timeOf(s.updated) ?? now))})`;
  return s.state;
}

export function sessionsTable(list: SessionView[], now: number = Date.now()): string {
  if (!list.length) return 'No agent session. Start one with `syncord spawn <instance> --role <role>`.';
  const rows = list.map((s) => [
    s.instance,
    s.runtime,
    stateColumn(s, now),
    agentColumn(s, now),
    s.current_task ?? '-',
    short(s.session_id),
    s.mode === 'terminal' ? `terminal${s.terminal ? ` "${s.terminal}"` : ''}` : s.mode === 'remote' ? remoteText(s) : `pid ${s.pid ?? '-'}`,
    relativeTime(s.started, now),
  ]);
  return columns([['INSTANCE', 'RUNTIME', 'STATE', 'AGENT', 'TASK', 'SESSION', 'WHERE', 'STARTED'], ...rows]).join('\n');
}

/** Rows as aligned columns, two spaces apart (the last column is not padded). */
function columns(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '));
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
