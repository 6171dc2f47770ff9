import * as z from 'zod';
import { SyncordError } from '../errors';
import { isSafeId } from './schema';

/**
 * ssh remotes (setting `syncord.sessions.remotes`, kind `ssh`): other machines where a session's supervisor runs,
 * reached with ssh; the command lines Syncord runs for them; the verbs their agents may forward; the JSON lines
 * of the connection. The settings are read from the workspace, so untrusted: every field is checked here, and
 * what Syncord runs is built from the checked fields, never a command line taken from the settings.
 */

/** Seconds between heartbeats of a remote session when its remote names none. */
export const DEFAULT_REMOTE_HEARTBEAT = 60;
/** How long a remote session may go without a heartbeat before the next writer ends it (15 minutes). */
export const DEFAULT_REMOTE_TIMEOUT_S = 15 * 60;

// Characters that never belong in an ssh argument taken from a file: control characters (newlines included).
const CONTROL = /[\u0000-\u001f\u007f]/;
const noControl = (what: string) => z.string().min(1).refine((s) => !CONTROL.test(s), { message: `${what}: no control characters or line breaks` });

/** `user@host`, `host`, `[::1]`: letters, digits and `._-@:[]%`, never starting with '-' (ssh would read an option). */
const SSH_TARGET = /^[A-Za-z0-9_.\[\]][A-Za-z0-9_.@:%\[\]-]*$/;

export const SshRemoteSchema = z.strictObject({
  kind: z.literal('ssh'),
  target: z
    .string()
    .refine((s) => !s.startsWith('-'), { message: "target: must not start with '-' (ssh would read it as an option)" })
    .refine((s) => SSH_TARGET.test(s) && s.length <= 255, { message: "target: a host or user@host (letters, digits and . _ - @ : [ ] % only)" })
    .meta({ description: 'The ssh destination: `host` or `user@host` (a host alias from ~/.ssh/config works too).' }),
  folder: noControl('folder').meta({ description: 'The clone of the project on the other machine (absolute, or relative to the login folder there).' }),
  port: z.number().int().min(1).max(65535).optional(),
  identityFile: noControl('identityFile').optional().meta({ description: 'The private key ssh uses (`-i`); by default ssh chooses, or your ssh agent.' }),
  knownHostsFile: z
    .string()
    .min(1)
    .refine((s) => !/[\s%]/.test(s) && !CONTROL.test(s), { message: "knownHostsFile: a path without spaces or '%'" })
    .optional()
    .meta({ description: "A known-hosts file that must hold the host's key: with it, ssh refuses a host whose key is not there." }),
  syncord: noControl('syncord')
    .optional()
    .meta({ description: 'The `syncord` command on the other machine, when it is not on the PATH of a non-interactive login there.' }),
  heartbeatInterval: z.number().int().min(1).max(3600).optional().meta({ description: 'Seconds between heartbeats (default 60).' }),
});
export type SshRemote = z.infer<typeof SshRemoteSchema>;

/** The host part of an ssh target (`dev@build-box` → `build-box`). */
export function sshHost(target: string): string {
  return target.slice(target.lastIndexOf('@') + 1);
}

/** A word for a POSIX shell, single-quoted: the remote login shell reads ssh's command line. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The arguments of `ssh` that run `remoteArgv` on the remote's machine, in its folder's workspace: options only
 * from the checked fields, the target after them, then `--` and the remote command as quoted words (ssh hands
 * the remote command to the login shell there as one line).
 */
export function sshArgv(remote: SshRemote, remoteArgv: readonly string[]): string[] {
  const beat = remote.heartbeatInterval ?? DEFAULT_REMOTE_HEARTBEAT;
  const opts = ['-T', '-o', 'BatchMode=yes', '-o', `ServerAliveInterval=${beat}`, '-o', 'ServerAliveCountMax=3'];
  if (remote.port !== undefined) opts.push('-p', String(remote.port));
  if (remote.identityFile !== undefined) opts.push('-i', remote.identityFile, '-o', 'IdentitiesOnly=yes');
  if (remote.knownHostsFile !== undefined) opts.push('-o', `UserKnownHostsFile=${remote.knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes');
  return [...opts, remote.target, '--', remoteArgv.map(shellWord).join(' ')];
}

/** The supervisor on the remote's machine: `syncord --workspace <folder> session run <id> --remote-worker`. */
export function remoteWorkerArgv(remote: SshRemote, sessionId: string): string[] {
  if (!isSafeId(sessionId)) throw new SyncordError(`invalid session id ${JSON.stringify(sessionId)}`, 'usage');
  return [remote.syncord ?? 'syncord', '--workspace', remote.folder, 'session', 'run', sessionId, '--remote-worker'];
}

// ------------------------------------------------------------------------------------------ forwarded verbs

/**
 * The verbs an agent on another machine may run on the coordinating host (forwarded over the session's ssh
 * connection): the coordination verbs, the listing of agents, and what its hooks report. Nothing that starts
 * sessions or runs commands there (spawn, sling, session run, sync, target, mcp, trust, init …).
 */
const FORWARDED: Record<string, true | readonly string[]> = {
  inbox: true,
  checkin: true,
  checkout: true,
  health: true,
  task: true,
  msg: true,
  decision: true,
  agents: true,
  session: ['list', 'hook', 'state'],
};

/** Root options a forwarded command may not carry: they would point it at other folders of the coordinating host. */
const FOLDER_OPTION = /^(-w|--workspace|--coordination-dir)(=|$)|^-w./;

/**
 * Checks a forwarded command line and returns it as the coordinating host runs it, always as `instance` in
 * `session`: an `--as` or `--session` naming the same is dropped (both are forced anyway), any other is refused,
 * and so are the folder options and every verb not in the list above.
 */
export function forwardedArgv(argv: unknown, instance: string, session?: string): string[] {
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string') || argv.length > 200) {
    throw new SyncordError('a forwarded command must be a list of at most 200 words', 'usage');
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.push(...(argv.slice(i) as string[]));
      break;
    }
    if (FOLDER_OPTION.test(a)) throw new SyncordError(`${a.split('=')[0]} is not available to an agent on another machine`, 'usage');
    if (a === '--as' || a.startsWith('--as=')) {
      const value = a === '--as' ? argv[++i] : a.slice(5);
      if (value !== instance) throw new SyncordError(`this session acts as ${instance} only (not ${JSON.stringify(value ?? '')})`, 'usage');
      continue;
    }
    if (a === '--session' || a.startsWith('--session=')) {
      const value = a === '--session' ? argv[++i] : a.slice(10);
      if (value !== session) throw new SyncordError(`this is session ${session ?? '?'} (not ${JSON.stringify(value ?? '')})`, 'usage');
      continue;
    }
    out.push(a);
  }
  const words = out.filter((a) => !a.startsWith('-'));
  const verb = words[0];
  const allowed = verb !== undefined && Object.prototype.hasOwnProperty.call(FORWARDED, verb) ? FORWARDED[verb] : undefined;
  const sub = words[1];
  const subs = allowed === true || allowed === undefined ? undefined : allowed;
  if (!allowed || (subs && (sub === undefined || !subs.includes(sub)))) {
    const what = verb === undefined ? 'no command' : `\`syncord ${subs ? `${verb} ${sub ?? ''}`.trim() : verb}\``;
    const list = Object.entries(FORWARDED).map(([v, s]) => (s === true ? v : s.map((x) => `${v} ${x}`).join(', ')));
    throw new SyncordError(`${what} is not available to an agent on another machine (only ${list.join(', ')})`, 'conflict');
  }
  return out;
}

// ------------------------------------------------------------------------------------------ the channel

/** The longest line read from the channel or a forwarding socket (a forwarded command's output included). */
export const MAX_LINE = 8 * 1024 * 1024;

/**
 * Splits a stream of JSON lines: calls `onLine` with each parsed value. A line that is not JSON, or longer than
 * `MAX_LINE`, calls `onBad` with why (the stream is then ignored up to the next line break).
 */
export function jsonLines(onLine: (value: unknown) => void, onBad: (why: string) => void): (chunk: Buffer | string) => void {
  let buf = '';
  let skipping = false;
  return (chunk) => {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_LINE) {
          onBad(`a line longer than ${MAX_LINE} bytes`);
          buf = '';
          skipping = true;
        }
        return;
      }
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (skipping) {
        skipping = false;
        continue;
      }
      if (!line.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        onBad(`not JSON: ${line.slice(0, 200)}`);
        continue;
      }
      onLine(value);
    }
  };
}
