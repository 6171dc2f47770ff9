import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { ignoreStateDir } from '../store/lock';
import { WorkspacePaths } from '../workspace';
import { SessionRecord } from './schema';

/** How to run the `syncord` CLI from here: a Node (or Electron, run as Node) binary and the bundled dist/cli.js. */
export interface SyncordCli {
  node: string;
  script: string;
}

/** Where Syncord keeps a workspace's session files that are not shared: the shim and the agents' logs. */
export function sessionStateDir(paths: WorkspacePaths): string {
  return path.join(paths.coordinationDir, '.syncord');
}

/**
 * Writes the `syncord` command the agents call: a small script in `coordination/.syncord/bin` that runs this
 * Syncord's CLI, put first on the agents' PATH. Rewritten on every spawn so it follows the installed version.
 */
export function writeShim(paths: WorkspacePaths, cli: SyncordCli): string {
  const stateDir = sessionStateDir(paths);
  const bin = path.join(stateDir, 'bin');
  try {
    fs.mkdirSync(bin, { recursive: true });
    ignoreStateDir(stateDir);
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    write(path.join(bin, 'syncord'), `#!/bin/sh\nELECTRON_RUN_AS_NODE=1 exec ${q(cli.node)} ${q(cli.script)} "$@"\n`, 0o755);
    write(path.join(bin, 'syncord.cmd'), `@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"${cli.node}" "${cli.script}" %*\r\n`, 0o644);
  } catch (e) {
    throw new SyncordError(`could not write the syncord command for agents in ${bin}: ${(e as Error).message}`, 'io', { file: bin });
  }
  return bin;
}

function write(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.chmodSync(tmp, mode);
  fs.renameSync(tmp, file);
}

/** The environment an agent starts with: its identity, the workspace, and `syncord` on PATH. */
export function agentEnv(
  base: NodeJS.ProcessEnv,
  input: { paths: WorkspacePaths; instance: string; session: string; shimDir: string },
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  delete env.ELECTRON_RUN_AS_NODE;
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[pathKey] = [input.shimDir, env[pathKey]].filter(Boolean).join(path.delimiter);
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

/** The supervisor command line for a session. */
export function supervisorCommand(
  cli: SyncordCli,
  paths: WorkspacePaths,
  sessionId: string,
  env: Record<string, string>,
): { file: string; args: string[]; env: Record<string, string> } {
  return {
    file: cli.node,
    args: [cli.script, '--workspace', paths.root, '--coordination-dir', paths.coordinationDir, 'session', 'run', sessionId],
    env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
  };
}

/** The log file of a headless session. */
export function logFileOf(paths: WorkspacePaths, sessionId: string): string {
  return path.join(sessionStateDir(paths), 'sessions', `${sessionId}.log`);
}

/**
 * Starts the supervisor as a detached process (its own process group) whose output is appended to the session's
 * log, and returns once the process has started.
 */
export function headlessLauncher(paths: WorkspacePaths): Launcher {
  return async (req) => {
    const log = logFileOf(paths, req.session.session_id);
    fs.mkdirSync(path.dirname(log), { recursive: true });
    ignoreStateDir(sessionStateDir(paths));
    const fd = fs.openSync(log, 'a');
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
