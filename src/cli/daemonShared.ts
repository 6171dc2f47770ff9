// What the `syncord` client (client.ts) and the daemon (daemon.ts) agree on. Loaded by the client on every call, so it
// imports nothing but Node's path and os modules.
import * as os from 'node:os';
import * as path from 'node:path';

/** Protocol version: a client and a daemon of different versions do not talk (the client runs the call itself). */
export const PROTOCOL = 1;

/**
 * The verbs a daemon runs for its clients: coordination reads and writes, which only read and write the workspace's
 * files through the store. Everything else (spawn, session, mcp, targets and sync, trust, init, the daemon itself)
 * runs in the caller's own process.
 */
export const DAEMON_VERBS: ReadonlySet<string> = new Set(['checkin', 'checkout', 'inbox', 'health', 'instance', 'task', 'msg', 'decision', 'agents']);

/** Root options that take a value (as in program.ts). */
const VALUE_OPTIONS = new Set(['-w', '--workspace', '--coordination-dir', '--as', '--session']);

/** The SYNCORD_* variables a client hands to the daemon (the ones the coordination verbs read). */
export const FORWARDED_ENV = ['SYNCORD_INSTANCE', 'SYNCORD_SESSION', 'SYNCORD_WORKSPACE', 'SYNCORD_COORDINATION_DIR', 'SYNCORD_DEBUG', 'SYNCORD_LOCK_WAIT_MS'] as const;

/** Variables commander reads from the process itself (`health`'s options): a call that sets one runs locally. */
const PROCESS_ENV = ['SYNCORD_STALE_HOURS', 'SYNCORD_RESPONSE_HOURS'];

/** One call as a client sends it (one JSON line). */
export interface CallRequest {
  v: number;
  kind: 'call';
  argv: string[];
  cwd: string;
  env: Partial<Record<(typeof FORWARDED_ENV)[number], string>>;
  stdinIsTTY: boolean;
}

/** What a daemon sends back, one JSON line each. */
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
 * The workspace a command line acts on, as contextFrom resolves it (`-w`, else $SYNCORD_WORKSPACE, else the folder it
 * runs in; `--coordination-dir`, else $SYNCORD_COORDINATION_DIR, else `coordination`), and whether the daemon may
 * run it; undefined when it must run locally.
 */
export function daemonCall(argv: readonly string[], cwd: string, env: NodeJS.ProcessEnv): { root: string; coordinationDir: string } | undefined {
  if (process.platform === 'win32') return undefined;
  if (PROCESS_ENV.some((k) => env[k] !== undefined)) return undefined;
  let workspace: string | undefined;
  let coordinationDir: string | undefined;
  let verb: string | undefined;
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
    } else if (verb === undefined && !a.startsWith('-')) verb = a;
  }
  if (verb === undefined || !DAEMON_VERBS.has(verb)) return undefined;
  const root = path.resolve(cwd, workspace ?? env.SYNCORD_WORKSPACE ?? cwd);
  return { root, coordinationDir: path.resolve(root, coordinationDir ?? env.SYNCORD_COORDINATION_DIR ?? 'coordination') };
}

/** The daemon's own folder: its pid file, its log and (when the path is short enough) its socket. Mode 0700. */
export function daemonDir(coordinationDir: string): string {
  return path.join(coordinationDir, '.syncord', 'daemon');
}

/** Longest unix socket path used (Linux allows 107 bytes, macOS 103). */
const SOCKET_PATH_MAX = 100;

/**
 * The daemon's socket: `coordination/.syncord/daemon/daemon.sock`, or, when that path is too long for a unix socket,
 * `<tmp>/syncord-<uid>/<hash of the coordination folder>.sock` (that folder is made 0700 and must be the user's).
 */
export function socketPath(coordinationDir: string): string {
  const p = path.join(daemonDir(coordinationDir), 'daemon.sock');
  if (Buffer.byteLength(p) <= SOCKET_PATH_MAX) return p;
  return path.join(shortSocketDir(), `${fnv1a(coordinationDir)}.sock`);
}

export function shortSocketDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(os.tmpdir(), `syncord-${uid}`);
}

/** FNV-1a, 64 bits, as 16 hex digits: a name from a path (no crypto needed; not a secret). */
function fnv1a(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s)) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
