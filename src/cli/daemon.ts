import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Command } from 'commander';
import { assertNoLinkBelow } from '../core/containment';
import { SyncordError } from '../core/errors';
import { plural } from '../core/plural';
import { ignoreStateDir } from '../core/store/lock';
import { sessionStateDir, WorkspacePaths } from '../core/workspace';
import { CliContext, contextFrom } from './context';
import { CallIo, io, withCallIo } from './io';
import { daemonDir, shortSocketDir, socketPath } from '../core/daemonSocket';
import { CallRequest, daemonCall, DaemonFrame, encodeFrame, FORWARDED_ENV, FrameReader, gitEnvOf, PROCESS_ENV, PROTOCOL, sameGitEnv } from './daemonShared';
import { ExitCode } from './exit';
import { selfCli } from './self';

type RunCli = (argv: string[]) => Promise<number>;

/** Minutes without a call after which a daemon ends, unless `--idle-minutes` says otherwise. */
export const DEFAULT_IDLE_MINUTES = 30;

/** The largest request line a daemon reads (a command line and a few variables). */
const REQUEST_MAX = 1024 * 1024;

/**
 * `syncord daemon start|stop|status`: a long-lived process per workspace that runs the coordination and targets verbs
 * of `syncord` calls (dist/client.js hands them over a unix socket), so that many agents calling at once do
 * not each pay for starting the CLI. It writes through the same store (locks, atomic writer, write combining) and
 * keeps nothing of its own: the files stay the truth, and without a daemon every call runs as before.
 */
export function registerDaemonCommands(program: Command, runCli: RunCli): void {
  const daemon = program
    .command('daemon')
    .description("the workspace's daemon, which runs coordination and targets verbs in one long-lived process (start, stop, status)");

  daemon
    .command('start')
    .description('start the daemon of this workspace in the background (nothing happens when one is running)')
    .option('--idle-minutes <n>', 'end after this many minutes without a call', String(DEFAULT_IDLE_MINUTES))
    .action(async (o: { idleMinutes: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const r = await startDaemon(ctx.paths, minutes(o.idleMinutes));
      ctx.print(
        r.started ? `Daemon started (pid ${r.pid}), listening on ${r.socket}.` : `The daemon of this workspace is already running (pid ${r.pid}).`,
        r,
      );
    });

  daemon
    .command('stop')
    .description('stop the daemon of this workspace')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const stopped = await stopDaemon(ctx.paths);
      ctx.print(stopped === undefined ? 'No daemon is running for this workspace.' : `Daemon stopped (pid ${stopped}).`, { stopped: stopped !== undefined, pid: stopped ?? null });
    });

  daemon
    .command('status')
    .description('say whether the daemon of this workspace is running (exit code 4 when it is not)')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const socket = socketPath(ctx.paths.coordinationDir);
      const pong = await ping(socket);
      ctx.print(
        pong ? `The daemon is running (pid ${pong.pid}, ${plural(pong.calls, 'call')} served), listening on ${socket}.` : 'No daemon is running for this workspace.',
        { running: Boolean(pong), pid: pong?.pid ?? null, calls: pong?.calls ?? null, socket },
      );
      if (!pong) io().exitCode = ExitCode.notFound;
    });

  daemon
    .command('run', { hidden: true })
    .description('run the daemon in this process (what start runs in the background)')
    .option('--idle-minutes <n>', 'end after this many minutes without a call', String(DEFAULT_IDLE_MINUTES))
    .action(async (o: { idleMinutes: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await serve(ctx, minutes(o.idleMinutes), runCli);
    });
}

function minutes(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new SyncordError(`--idle-minutes must be a positive number, not ${JSON.stringify(value)}`, 'usage');
  return n;
}

/** The daemon's folder, made 0700 (it holds the socket when the path is short enough, the pid file and the log). */
function privateDir(paths: WorkspacePaths): string {
  const dir = daemonDir(paths.coordinationDir);
  const stateDir = sessionStateDir(paths);
  assertNoLinkBelow(paths.coordinationDir, dir, 'daemon folder');
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  } catch (e) {
    throw new SyncordError(`could not create ${dir}: ${(e as Error).message}`, 'io', { file: dir });
  }
  assertNoLinkBelow(paths.coordinationDir, dir, 'daemon folder');
  ignoreStateDir(stateDir);
  return dir;
}

/** The folder of a short socket path under the temporary folder: made 0700, and refused unless it is the user's own. */
function shortDir(): void {
  const dir = shortSocketDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new SyncordError(`${dir} must be a folder of your own that only you can open (mode 0700)`, 'conflict', { file: dir });
  }
}

/** Asks the daemon at `socket` who it is; undefined when nothing answers within `ms`. */
export function ping(socket: string, ms = 2000): Promise<Extract<DaemonFrame, { t: 'pong' }> | undefined> {
  return ask(socket, { v: PROTOCOL, kind: 'ping' }, 'pong', ms) as Promise<Extract<DaemonFrame, { t: 'pong' }> | undefined>;
}

function ask(socket: string, request: object, answer: DaemonFrame['t'], ms: number): Promise<DaemonFrame | undefined> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    const reader = new FrameReader();
    const done = (r: DaemonFrame | undefined) => {
      clearTimeout(timer);
      conn.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(undefined), ms);
    conn.on('connect', () => conn.write(JSON.stringify(request) + '\n'));
    conn.on('data', (chunk: Buffer) => {
      try {
        const [frame] = reader.push(chunk);
        if (frame) done(frame.t === answer ? frame : undefined);
      } catch {
        done(undefined);
      }
    });
    conn.on('error', () => done(undefined));
    conn.on('close', () => done(undefined));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Environment of the daemon process: none of the caller's SYNCORD_* identity (each call brings its own). */
function daemonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SYNCORD_') || k === 'SYNCORD_CLI_SCRIPT') env[k] = v;
  return env;
}

/** Starts the workspace's daemon in the background unless one answers; waits until it listens. */
export async function startDaemon(paths: WorkspacePaths, idleMinutes: number = DEFAULT_IDLE_MINUTES): Promise<{ started: boolean; pid: number; socket: string }> {
  const socket = socketPath(paths.coordinationDir);
  const running = await ping(socket, 1000);
  if (running) return { started: false, pid: running.pid, socket };
  const dir = privateDir(paths);
  const log = fs.openSync(path.join(dir, 'daemon.log'), 'a', 0o600);
  const cli = selfCli();
  const child = spawn(
    cli.node,
    [cli.script, '--workspace', paths.root, '--coordination-dir', paths.coordinationDir, 'daemon', 'run', '--idle-minutes', String(idleMinutes)],
    { cwd: paths.root, detached: true, stdio: ['ignore', log, log], env: { ...daemonEnv(), ELECTRON_RUN_AS_NODE: '1' } },
  );
  fs.closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  for (let waited = 0; waited < 15000; waited += 50) {
    const pong = await ping(socket, 1000);
    if (pong) return { started: pong.pid === child.pid, pid: pong.pid, socket };
    if (exited !== undefined) break;
    await sleep(50);
  }
  throw new SyncordError(`the daemon did not start: see ${path.join(dir, 'daemon.log')}`, 'io', { file: path.join(dir, 'daemon.log') });
}

/** Stops the workspace's daemon; its pid, or undefined when none was running. */
export async function stopDaemon(paths: WorkspacePaths): Promise<number | undefined> {
  const socket = socketPath(paths.coordinationDir);
  const pong = await ping(socket, 1000);
  if (!pong) return undefined;
  await ask(socket, { v: PROTOCOL, kind: 'stop' }, 'stopping', 5000);
  for (let waited = 0; waited < 10000 && alive(pong.pid); waited += 50) await sleep(50);
  return pong.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes this process the workspace's one daemon: creates the pid file, or replaces one whose process is gone or
 * does not answer on the socket (a killed daemon's). Refused when a daemon answers.
 */
async function claimPidFile(pidFile: string, socket: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(pidFile, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SyncordError(`could not create ${pidFile}: ${(e as Error).message}`, 'io', { file: pidFile });
    }
    const pid = readPid(pidFile);
    if (pid !== undefined && pid !== process.pid && alive(pid)) {
      // A live process: a daemon answers at once, one starting within a few seconds.
      for (let waited = 0; waited < 3000; waited += 100) {
        const pong = await ping(socket, 1000);
        if (pong) throw new SyncordError(`a daemon is already running for this workspace (pid ${pong.pid})`, 'conflict');
        if (!alive(pid)) break;
        await sleep(100);
      }
      if (readPid(pidFile) !== pid) continue;
    }
    fs.rmSync(pidFile, { force: true });
  }
  throw new SyncordError(`could not claim ${pidFile}: another daemon keeps starting`, 'conflict', { file: pidFile });
}

/** Runs the daemon until it is stopped, signalled, or idle for `idleMinutes`. */
async function serve(ctx: CliContext, idleMinutes: number, runCli: RunCli): Promise<void> {
  const paths = ctx.paths;
  const dir = privateDir(paths);
  const socket = socketPath(paths.coordinationDir);
  if (path.dirname(socket) !== dir) shortDir();
  const pidFile = path.join(dir, 'daemon.pid');
  await claimPidFile(pidFile, socket);
  // The pid file is this daemon's: a socket left there is a killed daemon's.
  fs.rmSync(socket, { force: true });
  // Each call brings its own SYNCORD_* variables; the daemon's own would otherwise show through (commander's .env()).
  for (const k of Object.keys(process.env)) if (k.startsWith('SYNCORD_') && k !== 'SYNCORD_CLI_SCRIPT' && k !== 'SYNCORD_VERSION') delete process.env[k];
  const baseEnv = { ...process.env };
  const ownGit = gitEnvOf(baseEnv);

  let active = 0;
  let calls = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const server = net.createServer((conn) => serveConnection(conn));
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    if (idleTimer) clearTimeout(idleTimer);
    ctx.logger.info(`daemon stopping: ${why}`);
    server.close(() => finish());
    if (readPid(pidFile) === process.pid) {
      fs.rmSync(socket, { force: true });
      fs.rmSync(pidFile, { force: true });
    }
  };
  const armIdle = () => {
    if (idleTimer) clearTimeout(idleTimer);
    if (active === 0 && !stopping) idleTimer = setTimeout(() => stop('idle'), idleMinutes * 60_000);
  };

  function serveConnection(conn: net.Socket): void {
    active++;
    if (idleTimer) clearTimeout(idleTimer);
    conn.setEncoding('utf8');
    conn.on('error', () => undefined);
    let buffered = '';
    let started = false;
    let stdinWaiter: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
    const send = (frame: DaemonFrame) => {
      if (!conn.destroyed && conn.writable) conn.write(encodeFrame(frame));
    };
    // Ctrl-C in the caller (its client's interrupt), or a caller that went away: the call's listeners stop its work
    // after what is in hand, as SIGINT does in the CLI's own process; one that listens later hears it at once. A call
    // that does not listen runs to its end.
    const interruptListeners = new Set<() => void>();
    let interrupted = false;
    const interrupt = () => {
      if (!started || interrupted) return;
      interrupted = true;
      const listeners = [...interruptListeners];
      interruptListeners.clear();
      for (const l of listeners) l();
    };
    conn.on('close', () => {
      active--;
      stdinWaiter?.reject(new Error('the caller went away'));
      interrupt();
      armIdle();
    });
    conn.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > REQUEST_MAX) return void conn.destroy();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          return void conn.destroy();
        }
        if (!started) {
          started = true;
          void handle(message);
        } else if (isRecord(message) && message.t === 'interrupt') {
          interrupt();
        } else if (stdinWaiter && isRecord(message) && message.t === 'stdin') {
          const w = stdinWaiter;
          stdinWaiter = undefined;
          if (typeof message.d === 'string') w.resolve(message.d);
          else w.reject(new Error(typeof message.error === 'string' ? message.error : 'no input'));
        } else return void conn.destroy();
      }
    });

    async function handle(message: unknown): Promise<void> {
      if (!isRecord(message) || message.v !== PROTOCOL) return void (send({ t: 'fallback' }), conn.end());
      if (message.kind === 'ping') {
        send({ t: 'pong', pid: process.pid, root: paths.root, coordinationDir: paths.coordinationDir, v: PROTOCOL, calls });
        return void conn.end();
      }
      if (message.kind === 'stop') {
        send({ t: 'stopping' });
        conn.end();
        return stop('asked to stop');
      }
      const request = asCallRequest(message);
      // Only calls on this daemon's workspace, of the verbs it runs; anything else the caller runs itself.
      const target = request && daemonCall(request.argv, request.cwd, request.env);
      // A targets verb starts git, which must see the caller's git variables: the caller runs it when they differ.
      const refused = !request || !target || target.coordinationDir !== paths.coordinationDir || (target.runsGit && !sameGitEnv(request.git ?? {}, ownGit));
      if (refused || stopping) return void (send({ t: 'fallback' }), conn.end());
      send({ t: 'accepted' });
      calls++;
      const call: CallIo = {
        out: (d) => send({ t: 'out', d }),
        err: (d) => send({ t: 'err', d }),
        env: { ...baseEnv, ...request.env },
        cwd: request.cwd,
        stdinIsTTY: request.stdinIsTTY,
        readStdin: () =>
          new Promise<string>((resolve, reject) => {
            stdinWaiter = { resolve, reject };
            send({ t: 'stdin' });
          }),
        onInterrupt(listener) {
          if (interrupted) {
            listener();
            return () => undefined;
          }
          interruptListeners.add(listener);
          return () => void interruptListeners.delete(listener);
        },
        exitCode: undefined,
      };
      let code: number;
      try {
        code = await withCallIo(call, () => runCli(request.argv));
      } catch (e) {
        call.err(`syncord: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
        code = 70;
      }
      send({ t: 'exit', code });
      conn.end();
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new SyncordError(`could not listen on ${socket}: ${e.message}`, 'io', { file: socket })));
    server.listen(socket, () => resolve());
  });
  fs.chmodSync(socket, 0o600);
  const onSignal = (signal: string) => stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onSignal);
  armIdle();
  // A daemon whose pid file was removed or taken over, or whose workspace is gone, ends.
  const watchdog = setInterval(() => {
    if (readPid(pidFile) !== process.pid || !fs.existsSync(paths.coordinationDir)) stop('its pid file or workspace is gone');
  }, 30_000);
  watchdog.unref();
  ctx.logger.info(`daemon listening on ${socket} (pid ${process.pid})`);
  await finished;
  clearInterval(watchdog);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onSignal);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A call request checked field by field (it comes from another process). */
function asCallRequest(m: Record<string, unknown>): CallRequest | undefined {
  if (m.kind !== 'call' || typeof m.cwd !== 'string' || !path.isAbsolute(m.cwd) || typeof m.stdinIsTTY !== 'boolean') return undefined;
  if (!Array.isArray(m.argv) || m.argv.length > 10_000 || !m.argv.every((a) => typeof a === 'string')) return undefined;
  // A call setting a variable commander reads from the process itself is the caller's to run.
  const given = m.env;
  if (!isRecord(given) || PROCESS_ENV.some((k) => given[k] !== undefined)) return undefined;
  const env: CallRequest['env'] = {};
  for (const k of FORWARDED_ENV) {
    const v = given[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') return undefined;
    env[k] = v;
  }
  let git: Record<string, string> | undefined;
  if (m.git !== undefined) {
    const g = m.git;
    if (!isRecord(g) || Object.keys(g).length > 1000) return undefined;
    git = {};
    for (const [k, v] of Object.entries(g)) {
      if (!k.startsWith('GIT_') || typeof v !== 'string') return undefined;
      git[k] = v;
    }
  }
  return { v: PROTOCOL, kind: 'call', argv: m.argv as string[], cwd: m.cwd, env, stdinIsTTY: m.stdinIsTTY, ...(git ? { git } : {}) };
}
