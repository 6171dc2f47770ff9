import { Command } from 'commander';
import { resolveWorkspace, WorkspacePaths } from '../core/workspace';
import { Logger } from '../core/ports';
import * as path from 'node:path';
import { io } from './io';

/** Options every verb understands (declared once on the root program). */
export interface GlobalOptions {
  workspace?: string;
  coordinationDir?: string;
  json?: boolean;
  as?: string;
}

/** What a verb needs to run: where the workspace is, who is acting, and how to print. */
export interface CliContext {
  paths: WorkspacePaths;
  json: boolean;
  /** The acting instance: `--as` or `SYNCORD_INSTANCE`; undefined when neither is given. */
  instance?: string;
  logger: Logger;
  /** Writes a result: JSON when `--json` is on, otherwise the human text (made only when printed, if a function). */
  print(human: string | (() => string), data: unknown): void;
}

export function contextFrom(cmd: Command): CliContext {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const json = Boolean(opts.json);
  const call = io();
  const paths = resolveWorkspace(
    path.resolve(call.cwd, opts.workspace ?? call.env.SYNCORD_WORKSPACE ?? call.cwd),
    opts.coordinationDir ?? io().env.SYNCORD_COORDINATION_DIR,
  );
  return {
    paths,
    json,
    instance: opts.as ?? (io().env.SYNCORD_INSTANCE || undefined),
    logger: stderrLogger(Boolean(io().env.SYNCORD_DEBUG)),
    print(human, data) {
      if (json) return void io().out(JSON.stringify(data, null, 2) + '\n');
      const text = typeof human === 'function' ? human() : human;
      if (text) io().out(text.endsWith('\n') ? text : text + '\n');
    },
  };
}

export function stderrLogger(verbose: boolean): Logger {
  const w = (level: string) => (m: string) => io().err(`syncord: ${level}${m}\n`);
  return {
    trace: verbose ? w('') : () => undefined,
    info: verbose ? w('') : () => undefined,
    warn: w('warning: '),
    error: w('error: '),
  };
}
