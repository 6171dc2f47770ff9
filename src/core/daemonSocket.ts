// Where a workspace's daemon listens: what the daemon, its clients and the agents' command (written by the sessions
// core) agree on. Imports nothing but Node's path and os modules: the daemon's client loads it on every call.
import * as os from 'node:os';
import * as path from 'node:path';

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
