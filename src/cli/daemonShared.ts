// What the `syncord` clients (daemonClient.ts, client.pl) and the daemon (daemon.ts) agree on. Loaded by the CLI on
// every call, so it imports nothing but Node's fs, path and os modules (the socket's place is in core/daemonSocket.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { socketPath } from '../core/daemonSocket';

/** Protocol version: a client and a daemon of different versions do not talk (the client runs the call itself). */
export const PROTOCOL = 3;

/**
 * The verbs a daemon runs for its clients: coordination reads and writes, which only read and write the workspace's
 * files through the store, and the targets verbs, which read and write the workspace, its targets and their backups
 * and run git. Everything else (spawn, session, mcp, trust, init, the daemon itself) runs in the caller's own process.
 */
export const DAEMON_VERBS: ReadonlySet<string> = new Set(['checkin', 'checkout', 'inbox', 'health', 'instance', 'task', 'msg', 'decision', 'agents']);

/**
 * Verbs whose sub-verbs a daemon runs, but for those named here: `verify` runs the workspace's own commands (with
 * the caller's environment, and the caller's trust), and `sync request` starts agent sessions. A call of one of these
 * verbs runs in the daemon only when its sub-verb follows it directly (`syncord sync detect --since …`).
 */
export const DAEMON_SUBVERBS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['sync', new Set(['verify', 'request'])],
  ['target', new Set(['verify'])],
  ['config', new Set<string>()],
]);

/** Root options that take a value (as in program.ts). */
const VALUE_OPTIONS = new Set(['-w', '--workspace', '--coordination-dir', '--as', '--session']);

/** The SYNCORD_* variables a client hands to the daemon (the ones the verbs read). */
export const FORWARDED_ENV = ['SYNCORD_INSTANCE', 'SYNCORD_SESSION', 'SYNCORD_WORKSPACE', 'SYNCORD_COORDINATION_DIR', 'SYNCORD_DEBUG', 'SYNCORD_LOCK_WAIT_MS'] as const;

/**
 * Variables a call that sets one runs in the caller's own process: those commander reads from the process itself
 * (`health`'s options), SYNCORD_FORWARD (an agent on another machine, whose verbs go to its supervisor) and
 * SYNCORD_NO_DAEMON (set to keep a call out of the daemon).
 */
export const PROCESS_ENV = ['SYNCORD_STALE_HOURS', 'SYNCORD_RESPONSE_HOURS', 'SYNCORD_FORWARD', 'SYNCORD_NO_DAEMON'];

/** git's own variables of an environment (GIT_DIR, GIT_INDEX_FILE, GIT_AUTHOR_NAME…): those the git a verb starts reads. */
export function gitEnvOf(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(env).sort()) if (k.startsWith('GIT_') && env[k] !== undefined) out[k] = env[k] as string;
  return out;
}

/**
 * Whether git started in the daemon would see the caller's git variables: the same names with the same values. A
 * targets call from an environment that differs (inside a git hook, GIT_DIR and GIT_INDEX_FILE are set; a shell may
 * set GIT_AUTHOR_NAME) runs in the caller's process.
 */
export function sameGitEnv(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] === a[k]);
}

/** One call as a client sends it (one JSON line). */
export interface CallRequest {
  v: number;
  kind: 'call';
  argv: string[];
  cwd: string;
  env: Partial<Record<(typeof FORWARDED_ENV)[number], string>>;
  stdinIsTTY: boolean;
  /** The caller's git variables (gitEnvOf): a targets verb runs in the daemon only when they are the daemon's. */
  git?: Record<string, string>;
}

/**
 * What a client sends after its request: standard input the daemon asked for, or an interrupt (the user pressed
 * Ctrl-C; a verb that can stop early stops after the work in hand, as it does on SIGINT in its own process).
 */
export type ClientMessage = { t: 'stdin'; d?: string; error?: string } | { t: 'interrupt' };

/** What a daemon sends back, each a frame: `<type> <payload length in bytes>\n<payload>`. */
export type DaemonFrame =
  | { t: 'accepted' }
  | { t: 'fallback' }
  | { t: 'out'; d: string }
  | { t: 'err'; d: string }
  | { t: 'stdin' }
  | { t: 'exit'; code: number }
  | { t: 'pong'; pid: number; root: string; coordinationDir: string; v: number; calls: number }
  | { t: 'stopping' };

/**
 * A frame as bytes. Frames are length-prefixed rather than JSON so that a client needs no JSON decoder: the agents'
 * command reads them in a few lines of Perl (client.pl), the output passing through byte for byte.
 */
export function encodeFrame(frame: DaemonFrame): Buffer {
  let payload = '';
  if (frame.t === 'out' || frame.t === 'err') payload = frame.d;
  else if (frame.t === 'exit') payload = String(frame.code);
  else if (frame.t === 'pong') payload = JSON.stringify({ pid: frame.pid, root: frame.root, coordinationDir: frame.coordinationDir, v: frame.v, calls: frame.calls });
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${frame.t} ${body.length}\n`, 'latin1'), body]);
}

/** Reads frames from a daemon's answer as its bytes arrive; throws on bytes that are not frames. */
export class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): DaemonFrame[] {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: DaemonFrame[] = [];
    for (;;) {
      const nl = this.buffered.indexOf(10);
      if (nl < 0) {
        if (this.buffered.length > 64) throw new Error('not a frame');
        return frames;
      }
      const m = /^([a-z]+) (\d{1,10})$/.exec(this.buffered.toString('latin1', 0, nl));
      if (!m) throw new Error('not a frame');
      const end = nl + 1 + Number(m[2]);
      if (this.buffered.length < end) return frames;
      const d = this.buffered.toString('utf8', nl + 1, end);
      this.buffered = this.buffered.subarray(end);
      frames.push(decodeFrame(m[1], d));
    }
  }
}

function decodeFrame(t: string, d: string): DaemonFrame {
  switch (t) {
    case 'accepted':
    case 'fallback':
    case 'stdin':
    case 'stopping':
      return { t };
    case 'out':
    case 'err':
      return { t, d };
    case 'exit':
      return { t, code: Number(d) };
    case 'pong': {
      const p = JSON.parse(d) as Omit<Extract<DaemonFrame, { t: 'pong' }>, 't'>;
      return { t, pid: p.pid, root: p.root, coordinationDir: p.coordinationDir, v: p.v, calls: p.calls };
    }
    default:
      throw new Error(`unknown frame ${t}`);
  }
}

/**
 * The workspace a command line acts on, as contextFrom resolves it (`-w`, else $SYNCORD_WORKSPACE, else the folder it
 * runs in; `--coordination-dir`, else $SYNCORD_COORDINATION_DIR, else `coordination`), and whether the daemon may
 * run it; undefined when it must run locally.
 */
export function daemonCall(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): { root: string; coordinationDir: string; runsGit: boolean } | undefined {
  if (process.platform === 'win32') return undefined;
  if (PROCESS_ENV.some((k) => env[k] !== undefined)) return undefined;
  let workspace: string | undefined;
  let coordinationDir: string | undefined;
  let verb: string | undefined;
  let subverb: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    // After `--` every word is an argument; help, version and the `name=value` and `-wDIR` forms run locally.
    if (a === '--') break;
    if (a === '-h' || a === '--help' || a === '-V' || a === '--version' || a === 'help') return undefined;
    if (a.startsWith('--workspace=') || a.startsWith('--coordination-dir=') || (/^-[^-]/.test(a) && a.length > 2 && a.includes('w'))) return undefined;
    if (VALUE_OPTIONS.has(a)) {
      const value = argv[++i];
      if (value === undefined) return undefined;
      if (a === '-w' || a === '--workspace') workspace = value;
      else if (a === '--coordination-dir') coordinationDir = value;
    } else if (verb === undefined && !a.startsWith('-')) {
      verb = a;
      subverb = argv[i + 1];
    }
  }
  if (verb === undefined) return undefined;
  const excluded = DAEMON_SUBVERBS.get(verb);
  if (excluded) {
    if (subverb === undefined || subverb.startsWith('-') || subverb === 'help' || excluded.has(subverb)) return undefined;
  } else if (!DAEMON_VERBS.has(verb)) return undefined;
  const root = path.resolve(cwd, workspace ?? env.SYNCORD_WORKSPACE ?? cwd);
  return { root, coordinationDir: path.resolve(root, coordinationDir ?? env.SYNCORD_COORDINATION_DIR ?? 'coordination'), runsGit: excluded !== undefined };
}

/** Whether a call may go to the workspace's daemon: a verb it runs, and a socket where the daemon would listen. */
export function daemonMayTake(argv: readonly string[]): boolean {
  const call = daemonCall(argv, process.cwd(), process.env);
  return call !== undefined && fs.existsSync(socketPath(call.coordinationDir));
}
