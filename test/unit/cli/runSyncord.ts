import { spawn } from 'node:child_process';
import * as path from 'node:path';

/** The compiled CLI entry beside the compiled tests. */
export const CLI = path.resolve(__dirname, '../../../src/cli/main.js');

/** The compiled client of the daemon (what the agents' `syncord` command runs). */
export const CLIENT = path.resolve(__dirname, '../../../src/cli/client.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables the CLI reads, cleared so the test's own environment never leaks into a run. */
const SYNCORD_ENV = ['SYNCORD_INSTANCE', 'SYNCORD_WORKSPACE', 'SYNCORD_COORDINATION_DIR', 'SYNCORD_STALE_HOURS', 'SYNCORD_RESPONSE_HOURS', 'SYNCORD_SESSION', 'SYNCORD_NO_DAEMON'];

/**
 * Runs `syncord <args>` (the CLI, or `script` run by Node, or the executable `command`) as a real process in `cwd`,
 * with `env` on top of a cleared environment and `input` on stdin.
 */
export function runSyncord(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string>; script?: string; command?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of SYNCORD_ENV) delete env[k];
    Object.assign(env, opts.env);
    const child = opts.command ? spawn(opts.command, args, { cwd, env }) : spawn(process.execPath, [opts.script ?? CLI, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}
