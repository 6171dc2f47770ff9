import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { assertNoLinkBelow } from '../containment';
import { SyncordError } from '../errors';
import { writeFileAtomic } from '../store/atomic';
import { ignoreStateDir } from '../store/lock';
import { sessionStateDir, WorkspacePaths } from '../workspace';
import { socketPath } from '../daemonSocket';
import { claudeHookSettings, claudeMcpConfig, kindEnv, McpServerFor, opencodePlugin } from './agents';
import type { RemoteSpec } from './remotes';
import { RuntimeKind, RuntimeSpec } from './runtimes';
import { isSafeId, SessionRecord } from './schema';

/** How to run the `syncord` CLI from here: a Node (or Electron, run as Node) binary and the bundled dist/cli.js. */
export interface SyncordCli {
  node: string;
  script: string;
}


/** The daemon's client beside the CLI's script (dist/client.js beside dist/cli.js), or the script itself without one. */
export function clientBeside(script: string): string {
  const client = path.join(path.dirname(script), 'client.js');
  return path.basename(script) !== 'client.js' && fs.existsSync(client) ? client : script;
}

/** A word quoted for the POSIX shell. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The agents' `syncord` command (POSIX sh). While the workspace's daemon runs (its socket is there) and Perl is
 * installed, a call goes through client.pl (beside the CLI), which starts in a few milliseconds and hands the call
 * to the daemon; otherwise, or for a call the daemon does not take, the CLI (or its Node client) runs it.
 */
export function shimScript(paths: WorkspacePaths, cli: SyncordCli, script: string): string {
  const perlClient = path.join(path.dirname(cli.script), 'client.pl');
  const lines = ['#!/bin/sh'];
  if (process.platform !== 'win32' && fs.existsSync(perlClient)) {
    const socket = socketPath(paths.coordinationDir);
    lines.push(
      `if [ -z "$SYNCORD_FORWARD" ] && [ -z "$SYNCORD_NO_DAEMON" ] && [ -S ${shq(socket)} ] && command -v perl >/dev/null 2>&1; then`,
      `  exec perl ${shq(perlClient)} ${shq(socket)} ${shq(cli.node)} ${shq(cli.script)} "$@"`,
      'fi',
    );
  }
  lines.push(`ELECTRON_RUN_AS_NODE=1 exec ${shq(cli.node)} ${shq(script)} "$@"`);
  return lines.join('\n') + '\n';
}

/** The files through which agents reach Syncord: the `syncord` command, and what the known runtimes load. */
export interface AgentFiles {
  /** The folder of the `syncord` command put first on the agents' PATH. */
  bin: string;
  /** The `syncord` command itself (a POSIX script; `syncord.cmd` beside it for Windows). */
  shim: string;
  /** Claude Code settings with the hooks that report the agent's state (`{settings}`). */
  claudeSettings: string;
  /** The opencode plugin that reports the agent's state. */
  opencodePlugin: string;
}

/** Where the agent files are (they may not be written yet). */
export function agentFilesOf(paths: WorkspacePaths): AgentFiles {
  const dir = sessionStateDir(paths);
  const bin = path.join(dir, 'bin');
  return {
    bin,
    shim: path.join(bin, 'syncord'),
    claudeSettings: path.join(dir, 'agents', 'claude-settings.json'),
    opencodePlugin: path.join(dir, 'agents', 'opencode-syncord.js'),
  };
}

/**
 * The Claude Code MCP configuration of an instance's sessions (`{mcp_config}`), beside the hook settings. The
 * instance id becomes a file name only when it is a safe id.
 */
export function claudeMcpConfigFile(paths: WorkspacePaths, instance: string): string {
  if (!isSafeId(instance)) throw new SyncordError(`invalid instance id ${JSON.stringify(instance)}; refusing to use it in a path`, 'usage');
  return path.join(sessionStateDir(paths), 'agents', 'mcp', `${instance}.json`);
}

/**
 * Writes the agent files in `coordination/.syncord`: the `syncord` command the agents call (a small script
 * running this Syncord's CLI, put first on their PATH), Claude Code's hook settings, the opencode plugin and,
 * given an instance, the Claude Code MCP configuration of its sessions (`syncord mcp --as <instance>` through the
 * same command). Rewritten on every start so they follow the installed version.
 */
export function writeAgentFiles(paths: WorkspacePaths, cli: SyncordCli, session?: { instance: string; session: string }): AgentFiles {
  const files = agentFilesOf(paths);
  const bin = stateFolder(paths, 'bin');
  const agents = stateFolder(paths, 'agents');
  const mcpConfig = session === undefined ? undefined : claudeMcpConfigFile(paths, session.instance);
  if (mcpConfig) stateFolder(paths, 'agents', 'mcp');
  // The agents' command goes through the daemon's client (client.js beside the CLI) when there is one: a coordination
  // verb is then run by the workspace's daemon if one is running, and by the CLI in the agent's process otherwise.
  const script = clientBeside(cli.script);
  try {
    writeFileAtomic(files.shim, shimScript(paths, cli, script), { mode: 0o755 });
    writeFileAtomic(path.join(bin, 'syncord.cmd'), `@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"${cli.node}" "${cli.script}" %*\r\n`, { mode: 0o644 });
    writeFileAtomic(files.claudeSettings, JSON.stringify(claudeHookSettings(files.shim), null, 2) + '\n', { mode: 0o644 });
    writeFileAtomic(files.opencodePlugin, opencodePlugin(files.shim), { mode: 0o644 });
    if (mcpConfig) writeFileAtomic(mcpConfig, JSON.stringify(claudeMcpConfig(mcpServerFor(paths, files, session!)), null, 2) + '\n', { mode: 0o644 });
  } catch (e) {
    if (e instanceof SyncordError) throw e;
    throw new SyncordError(`could not write the files agents use to reach Syncord in ${path.dirname(agents)}: ${(e as Error).message}`, 'io', { file: agents });
  }
  return files;
}

/**
 * How an editor starts Syncord's MCP server for a workspace: this Syncord's CLI run by its own Node (or Electron
 * run as Node), acting as `instance` when one is given.
 */
export function mcpServerLaunch(cli: SyncordCli, paths: WorkspacePaths, instance?: string): { command: string; args: string[]; env: Record<string, string> } {
  return {
    command: cli.node,
    args: [cli.script, '--workspace', paths.root, '--coordination-dir', paths.coordinationDir, 'mcp', ...(instance ? ['--as', instance] : [])],
    env: { ELECTRON_RUN_AS_NODE: '1' },
  };
}

/** Syncord's MCP server for a session, started through the agents' `syncord` command. */
export function mcpServerFor(paths: WorkspacePaths, files: Pick<AgentFiles, 'shim'>, s: { instance: string; session: string }): McpServerFor {
  return { shim: files.shim, root: paths.root, coordinationDir: paths.coordinationDir, instance: s.instance, session: s.session };
}

/**
 * A folder under `coordination/.syncord` (made when missing), proved to be a real folder inside the coordination
 * folder: no part of the way there may be a symlink, which would send Syncord's writes elsewhere.
 */
function stateFolder(paths: WorkspacePaths, ...parts: string[]): string {
  const stateDir = sessionStateDir(paths);
  const dir = path.join(stateDir, ...parts);
  assertNoLinkBelow(paths.coordinationDir, dir, 'session state folder');
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new SyncordError(`could not create ${dir}: ${(e as Error).message}`, 'io', { file: dir });
  }
  assertNoLinkBelow(paths.coordinationDir, dir, 'session state folder');
  ignoreStateDir(stateDir);
  return dir;
}

/**
 * The environment an agent starts with: its identity, the workspace, `syncord` on PATH, and what its kind of
 * runtime needs to report to Syncord and run `syncord` without asking.
 */
export function agentEnv(
  base: NodeJS.ProcessEnv,
  input: { paths: WorkspacePaths; instance: string; session: string; files: AgentFiles; kind?: RuntimeKind },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  delete env.ELECTRON_RUN_AS_NODE;
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[pathKey] = [input.files.bin, env[pathKey]].filter(Boolean).join(path.delimiter);
  Object.assign(env, kindEnv(input.kind, env, input.files, mcpServerFor(input.paths, input.files, input)));
  env.SYNCORD_INSTANCE = input.instance;
  env.SYNCORD_WORKSPACE = input.paths.root;
  env.SYNCORD_COORDINATION_DIR = input.paths.coordinationDir;
  env.SYNCORD_SESSION = input.session;
  return env;
}

/** What a launcher starts: the session's supervisor (`syncord session run <id>`), which runs the agent. */
export interface LaunchRequest {
  session: SessionRecord;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** A name for the terminal or log. */
  title: string;
}

export interface LaunchResult {
  pid?: number;
  terminal?: string;
  log?: string;
}

/** Starts a session's supervisor: in a VS Code terminal (the extension) or detached with a log (the CLI). */
export type Launcher = (req: LaunchRequest) => Promise<LaunchResult>;

/**
 * The environment variable through which whoever starts a supervisor hands it the runtime's definition, as that
 * caller's own settings define it and after checking the user trusts it: the supervisor runs that, not a
 * command line from sessions.json. (Process environments are not files agents write; an agent that could set
 * it can run programs anyway.)
 */
export const SESSION_RUNTIME_ENV = 'SYNCORD_SESSION_RUNTIME';
/** Likewise for a remote session: the remote's definition, as the starting caller's settings define it and trusted. */
export const SESSION_REMOTE_ENV = 'SYNCORD_SESSION_REMOTE';

/**
 * The definition a starting caller handed over through `variable` (SESSION_RUNTIME_ENV, SESSION_REMOTE_ENV), checked
 * against `schema` and against the name the session's record gives (`what`: "runtime", "remote"); undefined when
 * none was handed over.
 */
export function handedDefinition<T extends { name: string }>(
  env: NodeJS.ProcessEnv,
  variable: string,
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  what: string,
  session: Pick<SessionRecord, 'session_id'>,
  expected: string,
): T | undefined {
  const handed = env[variable];
  if (!handed) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(handed);
  } catch {
    parsed = undefined;
  }
  const r = schema.safeParse(parsed);
  if (!r.success) throw new SyncordError(`${variable} does not hold a ${what} definition`, 'usage');
  if (r.data.name !== expected) {
    throw new SyncordError(`session ${session.session_id.slice(0, 8)} names ${what} ${JSON.stringify(expected)}, but this supervisor was handed ${JSON.stringify(r.data.name)}`, 'conflict');
  }
  return r.data;
}

/**
 * The supervisor command line for a session, with the runtime it is to run; for a remote session (`relay`), the
 * local end of its connection, which starts the supervisor on the other machine.
 */
export function supervisorCommand(
  cli: SyncordCli,
  paths: WorkspacePaths,
  sessionId: string,
  env: Record<string, string>,
  runtime?: RuntimeSpec,
  remote?: RemoteSpec,
  verb: 'run' | 'relay' = 'run',
): { file: string; args: string[]; env: Record<string, string> } {
  const spec = runtime ? { name: runtime.name, command: runtime.command, headless: runtime.headless, send: runtime.send, kind: runtime.kind } : undefined;
  return {
    file: cli.node,
    args: [cli.script, '--workspace', paths.root, '--coordination-dir', paths.coordinationDir, 'session', verb, sessionId],
    env: {
      ...env,
      ELECTRON_RUN_AS_NODE: '1',
      ...(spec ? { [SESSION_RUNTIME_ENV]: JSON.stringify(spec) } : {}),
      ...(remote ? { [SESSION_REMOTE_ENV]: JSON.stringify(remote) } : {}),
    },
  };
}

/**
 * The log file of a headless session, always derived from its (validated) id inside `coordination/.syncord/
 * sessions`: the `log` field of a record is never used as a path.
 */
export function logFileOf(paths: WorkspacePaths, sessionId: string): string {
  if (!isSafeId(sessionId)) throw new SyncordError(`invalid session id ${JSON.stringify(sessionId)}; refusing to use it in a path`, 'invalid-file');
  return path.join(sessionStateDir(paths), 'sessions', `${sessionId}.log`);
}

/** A session's log path, proved inside the coordination folder with no symlink on the way (the file may not exist). */
export function sessionLogFile(paths: WorkspacePaths, sessionId: string): string {
  const file = logFileOf(paths, sessionId);
  assertNoLinkBelow(paths.coordinationDir, file, 'session log');
  return file;
}

/**
 * Reads a session's log: the file derived from its id, proved inside the session state folder with no symlink on
 * the way nor as the file itself. Undefined when there is no log (yet).
 */
export function readSessionLog(paths: WorkspacePaths, sessionId: string): { file: string; text: string | undefined } {
  const file = sessionLogFile(paths, sessionId);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, text: undefined };
    if (code === 'ELOOP') throw new SyncordError(`the session log ${file} is a symlink; refusing to follow it`, 'conflict', { file });
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
  try {
    if (!fs.fstatSync(fd).isFile()) throw new SyncordError(`the session log ${file} is not a file`, 'conflict', { file });
    return { file, text: fs.readFileSync(fd, 'utf8') };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Starts the supervisor as a detached process (its own process group) whose output is appended to the session's
 * log, and returns once the process has started.
 */
export function headlessLauncher(paths: WorkspacePaths): Launcher {
  return async (req) => {
    const log = logFileOf(paths, req.session.session_id);
    stateFolder(paths, 'sessions');
    let fd: number;
    try {
      fd = fs.openSync(log, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
    } catch (e) {
      throw new SyncordError(`could not open the session log ${log}: ${(e as Error).message}`, 'io', { file: log });
    }
    try {
      const child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true, stdio: ['ignore', fd, fd], windowsHide: true });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', (e) => reject(new SyncordError(`could not start ${req.file}: ${e.message}`, 'io')));
        child.once('spawn', () => resolve(child.pid ?? 0));
      });
      child.unref();
      return { pid, log };
    } finally {
      fs.closeSync(fd);
    }
  };
}
