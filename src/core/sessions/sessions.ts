import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { checkInstanceId } from '../coordination/ids';
import { checkIn, checkOut } from '../coordination/instances';
import { Registry } from '../coordination/schemas';
import { gitResult } from '../targets/git';
import { HOST_NAME, pidIsDead, processStart } from '../store/lock';
import { WorkspacePaths } from '../workspace';
import { SessionContext } from './context';
import { failQueued } from './deliveryLog';
import { agentEnv, agentFilesOf, claudeMcpConfigFile, handedDefinition, Launcher, SESSION_REMOTE_ENV, supervisorCommand, writeAgentFiles } from './launch';
import { startupPrompt } from './prompts';
import { HandedRemoteSchema, OpencodeServer, promptForSession, RemoteSpec, servedRemote } from './remotes';
import { chooseRuntime, expandArgs, PlaceholderValues, resolveCommand, RuntimeSpec, runnableRemote, runnableRuntime, SessionsConfig } from './runtimes';
import { DEFAULT_REMOTE_HEARTBEAT, DEFAULT_REMOTE_TIMEOUT_S, SshRemote, sshHost } from './ssh';
import { DEFAULT_HEARTBEAT_INTERVAL, Heartbeat, heartbeatOf, isLive, SessionMode, SessionRecord } from './schema';
import { defineSessionsChange, forgetProcesses, liveSessionOf, requireSession } from './store';
import { ensureWorktree } from './worktree';

export interface SpawnInput {
  instance: string;
  /** Registers the instance when it is new; required then. */
  role?: string;
  /** A runtime name; default: from the mapping, else the default runtime. */
  runtime?: string;
  /** Give the session its own git worktree (branch `syncord/<instance>`). */
  worktree?: boolean;
  /** More words for the first prompt, after the startup checklist. */
  prompt?: string;
  mode: SessionMode;
  /**
   * A remote of the setting syncord.sessions.remotes to run the agent on (mode `remote`): for `opencode-serve`,
   * a session of its own on that server; for `ssh`, a supervisor on that machine, with the runtime found on its PATH.
   */
  remote?: string;
}

export interface SpawnResult {
  session: SessionRecord;
  /** Why this runtime was chosen: `explicit`, `map <glob>` or `default`. */
  runtimeReason: string;
  prompt: string;
  registered: boolean;
}

/** A session that is spawning but has not recorded a process after this long never started. */
export const SPAWN_GRACE_MS = 60_000;

/**
 * Starts an agent session: chooses the runtime, checks its command is installed, makes the worktree, registers
 * (or checks in) the instance with the new session id, records the session and starts its supervisor through
 * `launch` (a terminal in VS Code, a detached process from the CLI). The agent's first prompt is the startup
 * checklist, which begins with `syncord inbox`.
 */
export async function spawnSession(ctx: SessionContext, input: SpawnInput, launch: Launcher): Promise<SpawnResult> {
  const instance = checkInstanceId(input.instance);
  const { registry } = await ctx.store.read('registry');
  const known = Object.prototype.hasOwnProperty.call(registry.instances, instance) ? registry.instances[instance] : undefined;
  const role = input.role?.trim() || known?.role;
  if (!role) {
    throw new SyncordError(`instance ${JSON.stringify(instance)} is not registered yet; give its role to register it (--role <role>)`, 'usage');
  }
  const remoteSpec = input.remote === undefined ? undefined : runnableRemote(ctx.config, input.remote, ctx.paths);
  if (input.remote !== undefined && remoteSpec?.kind !== 'ssh') return spawnServed(ctx, { ...input, instance, role, remote: input.remote }, launch);
  // On another machine over ssh: the ordinary supervisor runs there (see sshSession.ts).
  const remote: SshRemote | undefined = remoteSpec?.kind === 'ssh' ? remoteSpec : undefined;
  const choice = chooseRuntime(ctx.config, { instance, role, explicit: input.runtime });
  const spec = runnableRuntime(ctx.config, choice.runtime, ctx.paths);
  const mode: SessionMode = remote ? 'remote' : input.mode;
  if (remote && input.worktree) throw new SyncordError('--worktree is for sessions on this machine; a remote session works in the folder its remote names', 'usage');
  const form = mode === 'terminal' ? spec.command : spec.headless;
  if (!form) {
    throw new SyncordError(
      `runtime ${spec.name} has no way to run without a terminal (no "headless" form); start it from VS Code, or add one in the setting syncord.sessions.runtimes`,
      'usage',
    );
  }
  // A remote session's runtime is looked for on the other machine, by its supervisor there.
  const executable = remote ? form[0] : resolveCommand({ ...spec, command: form }, ctx.env, ctx.paths.root);

  await reconcileSessions(ctx);
  const live = liveSessionOf(await ctx.sessions.list(), instance);
  if (live) throw alreadyLive(live);

  let cwd = remote ? remote.folder : ctx.paths.root;
  let worktree: string | null = null;
  if (input.worktree) {
    worktree = (await ensureWorktree(ctx.paths.root, instance, ctx.config.worktreeFolder)).path;
    cwd = worktree;
  }

  const sessionId = randomUUID();
  const prompt = startupPrompt({ instance, role, coordinationDir: ctx.paths.coordinationDir, extra: input.prompt });
  const values = (p: string) => placeholderValues(ctx.paths, spec, { session_id: sessionId, instance, cwd, role }, p);
  const command = [executable, ...expandArgs(form.slice(1), values(prompt))];
  const send = spec.send ? expandArgs(spec.send, { ...values('{prompt}'), agent_session: '{agent_session}' }) : null;
  if (send && !remote) send[0] = resolveSendCommand(send[0], ctx.env, ctx.paths.root) ?? send[0];

  const record = await ctx.sessions.update(ADD_SESSION, {
    session_id: sessionId,
    instance,
    runtime: spec.name,
    mode,
    cwd,
    worktree,
    role,
    prompt,
    command,
    send_command: send,
    ...(remote
      ? { remote: input.remote, endpoint: remote.target, host: sshHost(remote.target), heartbeat_interval: remote.heartbeatInterval ?? DEFAULT_REMOTE_HEARTBEAT }
      : {}),
  });

  let registered = false;
  try {
    const r = await checkIn(ctx.store, { instance, role, session: sessionId, status: 'pending', available: false });
    registered = r.created;
    const session = await startSupervisor(ctx, record, launch, `${instance} (${spec.name})`, spec);
    if (!session) throw new SyncordError(`session ${sessionId} vanished from ${ctx.sessions.file}`, 'conflict', { file: ctx.sessions.file });
    return { session, runtimeReason: choice.reason, prompt, registered };
  } catch (e) {
    await endSession(ctx, sessionId, { exitCode: null, reason: `could not start: ${e instanceof Error ? e.message : String(e)}` }).catch(() => undefined);
    throw e;
  }
}

/**
 * Starts a session on a remote of kind `opencode-serve`: records it (mode `remote`, spawning), creates the
 * instance's own session on the server (title `<instance> <session>`), records its id (`agent_session`) and
 * address (`endpoint`), checks the instance in and starts the local supervisor that hands the session its
 * prompts over HTTP (`syncord session run`). A failure ends the record with end_reason `spawn-failed: …`.
 */
async function spawnServed(ctx: SessionContext, input: SpawnInput & { role: string; remote: string }, launch: Launcher): Promise<SpawnResult> {
  const remote = servedRemote(runnableRemote(ctx.config, input.remote, ctx.paths));
  if (input.worktree) {
    throw new SyncordError(`--worktree cannot be combined with --remote: the agents of remote ${remote.name} work in the folder its server was started in`, 'usage');
  }
  if (input.runtime && input.runtime !== 'opencode') {
    throw new SyncordError(`remote ${remote.name} is an opencode server: its sessions run opencode, not ${JSON.stringify(input.runtime)}`, 'usage');
  }
  // Checked before anything is recorded: a password variable that is not set is said at once.
  const server = new OpencodeServer(remote, ctx.env);
  const spec = runnableRuntime(ctx.config, 'opencode', ctx.paths);

  await reconcileSessions(ctx);
  const live = liveSessionOf(await ctx.sessions.list(), input.instance);
  if (live) throw alreadyLive(live);

  const sessionId = randomUUID();
  const self = { mode: 'remote' as const, instance: input.instance, session_id: sessionId };
  const note = 'This opencode server runs other agents too, so always run Syncord exactly as `syncord <verb> …`.';
  const prompt = promptForSession(startupPrompt({ instance: input.instance, role: input.role, coordinationDir: ctx.paths.coordinationDir, extra: [note, input.prompt].filter(Boolean).join(' ') }), self);
  const record = await ctx.sessions.update(ADD_SESSION, {
    session_id: sessionId,
    instance: input.instance,
    runtime: spec.name,
    mode: 'remote',
    cwd: ctx.paths.root,
    worktree: null,
    role: input.role,
    prompt,
    command: [],
    send_command: null,
    remote: remote.name,
    host: new URL(server.base).hostname,
    heartbeat_interval: remote.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
  });

  let registered = false;
  let created: string | undefined;
  try {
    created = await server.createSession(`${input.instance} ${sessionId}`);
    const withServer = await ctx.sessions.update(RECORD_SERVED, { id: sessionId, agentSession: created, endpoint: server.sessionUrl(created) });
    if (!withServer) throw new SyncordError(`session ${sessionId} vanished from ${ctx.sessions.file}`, 'conflict', { file: ctx.sessions.file });
    const r = await checkIn(ctx.store, { instance: input.instance, role: input.role, session: sessionId, status: 'pending', available: false });
    registered = r.created;
    const session = await startSupervisor(ctx, withServer, launch, `${input.instance} (${remote.name})`, spec, remote);
    if (!session) throw new SyncordError(`session ${sessionId} vanished from ${ctx.sessions.file}`, 'conflict', { file: ctx.sessions.file });
    return { session, runtimeReason: `remote ${remote.name}`, prompt, registered };
  } catch (e) {
    if (created) await server.remove(created).catch(() => undefined);
    await endSession(ctx, sessionId, { exitCode: null, reason: `spawn-failed: ${e instanceof Error ? e.message : String(e)}` }).catch(() => undefined);
    throw e;
  }
}

/** Records the server's session of a served session: its id and address, and that the server answered. */
const RECORD_SERVED = defineSessionsChange('session.served', (file, input: { id: string; agentSession: string; endpoint: string }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.id);
  if (!rec || rec.state === 'exited') return undefined;
  rec.agent_session = input.agentSession;
  rec.endpoint = input.endpoint;
  rec.updated = now;
  return structuredClone(rec);
});

/**
 * The server of a served session: the remote's definition handed over by whoever started this supervisor (checked
 * against that caller's settings and trust, as a runtime's is), else as the settings define it now (and the user
 * trusts it).
 */
export function serverOf(ctx: SessionContext, s: SessionRecord, env: NodeJS.ProcessEnv = {}): OpencodeServer {
  if (!s.remote) throw new SyncordError(`session ${s.session_id.slice(0, 8)} of ${s.instance} names no remote`, 'invalid-file', { file: ctx.sessions.file });
  const handed = handedDefinition(env, SESSION_REMOTE_ENV, HandedRemoteSchema, 'remote', s, s.remote);
  if (handed) return new OpencodeServer(handed, ctx.env);
  let remote: RemoteSpec;
  try {
    remote = runnableRemote(ctx.config, s.remote, ctx.paths);
  } catch (e) {
    if (e instanceof SyncordError && e.code === 'usage') throw new SyncordError(`session ${s.session_id.slice(0, 8)} of ${s.instance}: ${e.detail}`, 'not-found', e.location);
    throw e;
  }
  return new OpencodeServer(servedRemote(remote), ctx.env);
}

/**
 * The kind of a remote session's remote: as the settings define it now, else as its record reads (an opencode
 * server's session has an http address); undefined for a session on this machine.
 */
export function remoteKindOf(config: Pick<SessionsConfig, 'remotes'>, s: Pick<SessionRecord, 'mode' | 'remote' | 'endpoint'>): 'ssh' | 'opencode-serve' | undefined {
  if (s.mode !== 'remote') return undefined;
  const all = config.remotes ?? {};
  const defined = s.remote && Object.prototype.hasOwnProperty.call(all, s.remote) ? all[s.remote].kind : undefined;
  return defined ?? (/^https?:\/\//.test(s.endpoint ?? '') ? 'opencode-serve' : 'ssh');
}

/**
 * Starts a session's supervisor through `launch` (with the agent's environment and the `syncord` shim) and
 * records what the launcher reports: the process (unless the supervisor recorded itself already), the terminal,
 * the log. Returns the record, or undefined when it is no longer in the file.
 */
export async function startSupervisor(
  ctx: SessionContext,
  session: SessionRecord,
  launch: Launcher,
  title: string,
  runtime?: RuntimeSpec,
  remote?: RemoteSpec,
): Promise<SessionRecord | undefined> {
  const id = session.session_id;
  // What the supervisor will run: the runtime as this caller's settings define it (and the user trusts), by name.
  const spec = runtime ?? runnableRuntime(ctx.config, session.runtime, ctx.paths);
  const cwd = session.mode === 'remote' ? ctx.paths.root : await sessionCwd(ctx.paths.root, session);
  const files = writeAgentFiles(ctx.paths, ctx.cli, { instance: session.instance, session: id });
  const env = agentEnv(ctx.env, { paths: ctx.paths, instance: session.instance, session: id, files, kind: spec.kind });
  // A session over ssh has a relay here, which starts its supervisor there; a served one its supervisor here.
  const sup = supervisorCommand(ctx.cli, ctx.paths, id, env, spec, remote, remoteKindOf(ctx.config, session) === 'ssh' ? 'relay' : 'run');
  const launched = await launch({ session, file: sup.file, args: sup.args, cwd, env: sup.env, title });
  // A remote session's local process is only its connection: its liveness is the heartbeat, not a process id.
  const pid = session.mode === 'remote' ? null : (launched.pid ?? null);
  return ctx.sessions.update(RECORD_LAUNCH, {
    id,
    pid,
    pidStart: pid ? processStart(pid) : null,
    terminal: launched.terminal ?? null,
    log: launched.log ?? null,
  });
}

/** Records what a launcher reported: the supervisor's process (unless it recorded itself), terminal, log. */
const RECORD_LAUNCH = defineSessionsChange(
  'session.launched',
  (file, input: { id: string; pid: number | null; pidStart: number | null; terminal: string | null; log: string | null }, now) => {
    const rec = file.sessions.find((s) => s.session_id === input.id);
    if (!rec) return undefined;
    // A remote session's supervisor is only this machine's messenger: process ids mean nothing on its host.
    if (rec.pid == null && input.pid && rec.mode !== 'remote') {
      rec.pid = input.pid;
      rec.pid_start = input.pidStart;
    }
    if (input.terminal) rec.terminal = input.terminal;
    if (input.log) rec.log = input.log;
    rec.updated = now;
    return structuredClone(rec);
  },
);

/**
 * The working folder of a session, as recorded: used only when it is the workspace itself or one of the git
 * worktrees of its repository (where `--worktree` puts them); anything else in the record is refused.
 */
export async function sessionCwd(root: string, session: SessionRecord): Promise<string> {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const cwd = path.resolve(session.cwd);
  if (real(cwd) === real(root)) return cwd;
  const list = await gitResult(root, ['worktree', 'list', '--porcelain']).catch(() => undefined);
  const known = (list?.code === 0 ? list.stdout : '').split('\n').filter((l) => l.startsWith('worktree ')).map((l) => real(l.slice(9)));
  if (known.includes(real(cwd))) return cwd;
  throw new SyncordError(
    `session ${session.session_id.slice(0, 8)} of ${session.instance}: its working folder ${cwd} is neither the workspace nor one of its git worktrees; refusing to run an agent there`,
    'invalid-file',
  );
}

/**
 * The placeholder values of a session's command forms. `{agent_session}` is the conversation id the agent
 * reported (Claude Code's is the session id Syncord gave it); empty until then, which `requireAgentSession`
 * refuses before a form needing it runs.
 */
export function placeholderValues(
  paths: WorkspacePaths,
  spec: Pick<RuntimeSpec, 'kind'>,
  s: Pick<SessionRecord, 'session_id' | 'instance' | 'cwd' | 'role' | 'agent_session'>,
  prompt: string,
): PlaceholderValues {
  return {
    prompt,
    instance: s.instance,
    cwd: s.cwd,
    session: s.session_id,
    role: s.role ?? '',
    agent_session: s.agent_session ?? (spec.kind === 'claude' ? s.session_id : ''),
    settings: agentFilesOf(paths).claudeSettings,
    mcp_config: claudeMcpConfigFile(paths, s.instance),
  };
}

function resolveSendCommand(cmd: string, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  try {
    return resolveCommand({ name: cmd, command: [cmd] }, env, cwd);
  } catch {
    return undefined;
  }
}

type NewSession = Pick<SessionRecord, 'session_id' | 'instance' | 'runtime' | 'mode' | 'cwd' | 'worktree' | 'role' | 'prompt' | 'command' | 'send_command'> &
  Partial<Pick<SessionRecord, 'remote' | 'endpoint' | 'host' | 'heartbeat_interval'>>;

/** Records a new session, spawning; refused while the instance has another live one. */
const ADD_SESSION = defineSessionsChange('session.add', (file, input: NewSession, now): SessionRecord => {
  const racing = file.sessions.find((s) => s.instance === input.instance && isLive(s));
  if (racing && !isGone(racing, Date.parse(now))) throw alreadyLive(racing);
  const rec: SessionRecord = {
    session_id: input.session_id,
    instance: input.instance,
    runtime: input.runtime,
    mode: input.mode,
    state: 'spawning',
    host: input.host ?? HOST_NAME,
    pid: null,
    pid_start: null,
    agent_pid: null,
    terminal: null,
    cwd: input.cwd,
    worktree: input.worktree,
    role: input.role,
    prompt: input.prompt,
    log: null,
    command: input.command,
    send_command: input.send_command,
    started: now,
    updated: now,
    ended: null,
    exit_code: null,
    end_reason: null,
    queue: [],
    ...(input.remote ? { remote: input.remote, endpoint: null, heartbeat_interval: input.heartbeat_interval, stop_requested: null } : {}),
  };
  if (input.mode === 'remote') {
    rec.host = input.host ?? rec.host;
    rec.remote = input.remote ?? null;
    rec.endpoint = input.endpoint ?? null;
    rec.heartbeat_interval = input.heartbeat_interval ?? DEFAULT_HEARTBEAT_INTERVAL;
    rec.stop_requested = null;
  }
  file.sessions.push(rec);
  return structuredClone(rec);
});

function alreadyLive(s: SessionRecord): SyncordError {
  return new SyncordError(
    `${s.instance} already has a live session ${s.session_id.slice(0, 8)} (${s.state}, ${s.runtime}); stop it first (\`syncord session stop ${s.instance}\`)`,
    'conflict',
  );
}

/** Whether a live record's process is certainly gone (on this host), or it never started. */
function isGone(s: SessionRecord, nowMs: number): boolean {
  // A remote session lives as long as its heartbeat, not a process of this machine.
  if (s.state === 'exited' || s.host !== HOST_NAME || s.mode === 'remote') return false;
  if (s.state === 'idle') return false;
  if (s.pid == null) return nowMs - Date.parse(s.updated) > SPAWN_GRACE_MS;
  // The agent may outlive a killed supervisor: the session lasts as long as either process.
  return pidIsDead(s.pid, s.pid_start ?? 0) && (s.agent_pid == null || pidIsDead(s.agent_pid, s.agent_pid_start ?? 0));
}

export interface EndInput {
  exitCode: number | null;
  reason: string;
  /** Only end it when it is still in this state (a supervisor racing a stop). */
  onlyIfLive?: boolean;
  /** Leave what was queued for it pending (to be resent to another session) instead of failing it. */
  keepPending?: boolean;
  /** Only end it when its heartbeat (`updated`) is older than this time (it may have come back meanwhile). */
  staleBefore?: string;
  /** Also record that a stop was requested (a remote session's relay then stops its agent). */
  stopRequested?: boolean;
}

/**
 * Marks a session exited, fails the deliveries still queued for it and checks its instance out when this was
 * the instance's current session. Ending an exited session changes nothing.
 */
export async function endSession(ctx: SessionContext, sessionId: string, input: EndInput): Promise<SessionRecord | undefined> {
  const ended = await ctx.sessions.update(END_SESSION, {
    sessionId,
    exitCode: input.exitCode,
    reason: input.reason,
    staleBefore: input.staleBefore,
    stopRequested: input.stopRequested,
  });
  if (!ended) return undefined;
  if (ended.queued.length && !input.keepPending) await failQueued(ctx, ended.rec, ended.queued, `the session ended before it was handed over (${input.reason})`);
  await checkOutIfCurrent(ctx, ended.rec);
  return ended.rec;
}

/** Marks a session exited and takes its queue; an exited session is left as it is. */
const END_SESSION = defineSessionsChange(
  'session.end',
  (file, input: { sessionId: string; exitCode: number | null; reason: string; staleBefore?: string; stopRequested?: boolean }, now) => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return undefined;
  if (input.staleBefore !== undefined && !(Date.parse(rec.updated) < Date.parse(input.staleBefore))) return undefined;
  if (input.stopRequested) rec.stop_requested = now;
  const queued = rec.queue ?? [];
  rec.state = 'exited';
  forgetProcesses(rec, true);
  rec.ended = now;
  rec.updated = now;
  rec.exit_code = input.exitCode;
  rec.end_reason = input.reason;
  rec.queue = [];
  return { rec: structuredClone(rec), queued };
  },
);

async function checkOutIfCurrent(ctx: SessionContext, s: SessionRecord): Promise<void> {
  const { registry } = await ctx.store.read('registry');
  const rec = (registry as Registry).instances[s.instance];
  if (rec && rec.current_session_id === s.session_id) await checkOut(ctx.store, { instance: s.instance, status: 'offline' });
}

/**
 * Finds sessions whose process is gone (killed, crashed, machine restarted) and marks them exited. Sessions of
 * other hosts are left as they are: their processes cannot be checked from here.
 */
export async function reconcileSessions(ctx: SessionContext): Promise<SessionRecord[]> {
  const nowMs = Date.now();
  const all = await ctx.sessions.list();
  const gone = all.filter((s) => isLive(s) && isGone(s, nowMs));
  const ended: SessionRecord[] = [];
  for (const s of gone) {
    const reason = s.pid == null ? 'never started' : 'its process ended without recording an exit (killed or crashed)';
    const r = await endSession(ctx, s.session_id, { exitCode: null, reason, onlyIfLive: true });
    if (r) ended.push(r);
  }
  // Remote sessions silent for longer than the timeout: ended, what was queued for them left pending to resend.
  const timeoutMs = remoteTimeoutMs(ctx.config);
  for (const s of all.filter((x) => heartbeatOf(x, nowMs, timeoutMs) === 'timed-out')) {
    const staleBefore = new Date(nowMs - timeoutMs).toISOString();
    const r = await endSession(ctx, s.session_id, { exitCode: null, reason: HEARTBEAT_TIMEOUT, keepPending: true, staleBefore });
    if (r) ended.push(r);
  }
  return ended;
}

/** A session as listed: the record with its instance's status and current task. */
export interface SessionView extends SessionRecord {
  instance_status: string | null;
  current_task: string | null;
  /** A remote session's heartbeat as of the listing: `unreachable` when it is older than 3 intervals (missing: fresh). */
  heartbeat?: Heartbeat;
}

/** The end reason of a remote session whose heartbeat stopped for longer than the timeout. */
export const HEARTBEAT_TIMEOUT = 'heartbeat-timeout';

/** How long a remote session may go without a heartbeat (setting syncord.sessions.remoteTimeout, seconds). */
export function remoteTimeoutMs(config: Pick<SessionsConfig, 'remoteTimeout'>): number {
  return (config.remoteTimeout ?? DEFAULT_REMOTE_TIMEOUT_S) * 1000;
}

/** The sessions, live first then newest first; exited ones only with `all`. Dead processes are noticed first. */
export async function listSessions(ctx: SessionContext, opts: { all?: boolean } = {}): Promise<SessionView[]> {
  await reconcileSessions(ctx);
  const sessions = await ctx.sessions.list();
  // A broken coordination file must not hide the sessions: they are listed without status and task then.
  const registry = await ctx.store.read('registry').then((f) => f.registry, () => undefined);
  const queue = await ctx.store.read('tasks').then((f) => f.tasks, () => undefined);
  const rank = (s: SessionRecord) => (isLive(s) ? 0 : 1);
  const now = Date.now();
  const timeoutMs = remoteTimeoutMs(ctx.config);
  return sessions
    .filter((s) => opts.all || isLive(s))
    .map((s) => {
      const inst = registry?.instances[s.instance];
      const working = queue?.active_tasks.find((t) => t.assigned_to === s.instance && t.status === 'in_progress')?.task_id;
      return { ...s, instance_status: inst?.status ?? null, current_task: inst?.current_task ?? working ?? null, heartbeat: heartbeatOf(s, now, timeoutMs) };
    })
    .sort((a, b) => rank(a) - rank(b) || b.started.localeCompare(a.started));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A stopped session, with what was said about processes that were left alone. */
export type StopResult = SessionRecord & { notes: string[] };

/**
 * Stops a session: its supervisor gets SIGTERM (and passes it to the agent), then SIGKILL if it is still there
 * after `graceMs`. A recorded process is signalled only while its start time still matches the one recorded for
 * it: a record without a start time, or a process id now used by another program, is never signalled (the note
 * says so). The session is marked exited and its instance checked out. A session on another machine cannot be
 * stopped from here.
 */
export async function stopSession(
  ctx: SessionContext,
  idOrInstance: string,
  opts: { graceMs?: number; by?: string } = {},
): Promise<StopResult> {
  await reconcileSessions(ctx);
  const s = requireSession(await ctx.sessions.list(), idOrInstance);
  if (!isLive(s)) return { ...s, notes: [] };
  if (s.mode === 'remote') return remoteKindOf(ctx.config, s) === 'ssh' ? stopSsh(ctx, s, opts) : stopServed(ctx, s, opts);
  if (s.host !== HOST_NAME) {
    throw new SyncordError(`session ${s.session_id.slice(0, 8)} of ${s.instance} runs on ${s.host}; stop it there`, 'conflict');
  }
  const recorded = [
    { pid: s.pid, start: s.pid_start, what: 'supervisor', group: s.mode === 'headless' },
    { pid: s.agent_pid, start: s.agent_pid_start, what: 'agent', group: false },
  ].filter((p): p is { pid: number; start: number | null | undefined; what: string; group: boolean } => typeof p.pid === 'number' && p.pid > 0);
  const isOurs = (p: { pid: number; start: number | null | undefined }) => typeof p.start === 'number' && p.start > 0 && processStart(p.pid) === p.start;
  const ours = recorded.filter(isOurs);
  const notes = recorded
    .filter((p) => !ours.includes(p) && !pidIsDead(p.pid))
    .map((p) => `process ${p.pid} is not the session's ${p.what} any more${p.start ? '' : ' (no start time recorded for it)'}; not signalled`);
  // Recorded first, so the supervisor seeing its agent die does not record it as a crash.
  const ended = await endSession(ctx, s.session_id, { exitCode: null, reason: `stopped${opts.by ? ` by ${opts.by}` : ''}` });
  const signal = (sig: NodeJS.Signals) => {
    for (const p of ours) {
      // Checked again right before each signal: the process may have ended and its id been reused since.
      if (!isOurs(p)) continue;
      // Headless supervisors lead their own process group: signal the group so the agent's children go too.
      for (const target of p.group ? [-p.pid, p.pid] : [p.pid]) {
        try {
          process.kill(target, sig);
        } catch {
          // already gone
        }
      }
    }
  };
  if (ours.length) {
    signal('SIGTERM');
    const deadline = Date.now() + (opts.graceMs ?? 3_000);
    while (Date.now() < deadline && ours.some(isOurs)) await sleep(50);
    if (ours.some(isOurs)) signal('SIGKILL');
  }
  const after = (await ctx.sessions.list()).find((x) => x.session_id === s.session_id);
  return { ...(after ?? ended ?? s), notes };
}

/**
 * Stops a session over ssh: marks it exited and its stop requested; its relay, while connected, sees that and
 * stops the agent there. One that is unreachable is ended here all the same (the note says so).
 */
async function stopSsh(ctx: SessionContext, s: SessionRecord, opts: { by?: string }): Promise<StopResult> {
  const ended = await endSession(ctx, s.session_id, { exitCode: null, reason: `stopped${opts.by ? ` by ${opts.by}` : ''}`, stopRequested: true });
  const notes = heartbeatOf(s, Date.now(), remoteTimeoutMs(ctx.config)) === 'fresh' ? [] : [`it was unreachable: its agent on ${s.host} stops once it is reachable again, if it still runs`];
  return { ...(ended ?? s), notes };
}

/**
 * Stops a served session: records the stop request (its supervisor then ends), aborts the agent's turn and
 * deletes the session on the server, and marks it exited (end_reason `stopped`). A server that cannot be
 * reached does not keep the session alive: the notes say what was not done there.
 */
async function stopServed(ctx: SessionContext, s: SessionRecord, opts: { by?: string }): Promise<StopResult> {
  await ctx.sessions.update(REQUEST_STOP, s.session_id);
  const notes: string[] = [];
  const ses = s.agent_session;
  if (ses) {
    try {
      const server = serverOf(ctx, s);
      await server.abort(ses).catch((e: unknown) => {
        if (!(e instanceof SyncordError && e.code === 'not-found')) throw e;
      });
      await server.remove(ses).catch((e: unknown) => {
        if (!(e instanceof SyncordError && e.code === 'not-found')) throw e;
      });
    } catch (e) {
      notes.push(`the session ${ses} could not be stopped on its server: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const ended = await endSession(ctx, s.session_id, { exitCode: null, reason: `stopped${opts.by ? ` by ${opts.by}` : ''}` });
  const after = (await ctx.sessions.list()).find((x) => x.session_id === s.session_id);
  return { ...(after ?? ended ?? s), notes };
}

/** Marks a remote session's stop as asked for; its supervisor, seeing it, ends. */
export const REQUEST_STOP = defineSessionsChange('session.requestStop', (file, sessionId: string, now) => {
  const rec = file.sessions.find((x) => x.session_id === sessionId);
  if (!rec || rec.state === 'exited') return;
  rec.stop_requested = now;
  rec.updated = now;
});

/** Removes exited sessions from the file; returns how many. */
export async function clearExited(ctx: SessionContext): Promise<number> {
  return ctx.sessions.update(CLEAR_EXITED, null);
}

const CLEAR_EXITED = defineSessionsChange('session.clearExited', (file): number => {
  const before = file.sessions.length;
  file.sessions = file.sessions.filter(isLive);
  return before - file.sessions.length;
});
