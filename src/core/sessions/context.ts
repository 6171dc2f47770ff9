import { CoordinationStore } from '../coordination/store';
import { Logger, silentLogger } from '../ports';
import { WorkspacePaths } from '../workspace';
import { SyncordCli } from './launch';
import { SessionsConfig } from './runtimes';
import { SessionStore } from './store';

/** Everything session operations need; the CLI and the extension each build one. */
export interface SessionContext {
  paths: WorkspacePaths;
  store: CoordinationStore;
  sessions: SessionStore;
  config: SessionsConfig;
  /** How agents (through the shim) and supervisors run the syncord CLI. */
  cli: SyncordCli;
  /** The environment agents start from (PATH decides whether a runtime is installed). */
  env: NodeJS.ProcessEnv;
  /** Who hands out work and sends messages; `syncord` when nobody is named. */
  actor?: string;
  logger: Logger;
}

export function sessionContext(
  paths: WorkspacePaths,
  opts: { config: SessionsConfig; cli: SyncordCli; env?: NodeJS.ProcessEnv; actor?: string; logger?: Logger; lockWaitMs?: number; store?: CoordinationStore },
): SessionContext {
  const logger = opts.logger ?? silentLogger;
  return {
    paths,
    store: opts.store ?? new CoordinationStore(paths.coordinationDir, { logger, lockWaitMs: opts.lockWaitMs }),
    sessions: new SessionStore(paths.coordinationDir, { lockWaitMs: opts.lockWaitMs }),
    config: opts.config,
    cli: opts.cli,
    env: opts.env ?? process.env,
    actor: opts.actor,
    logger,
  };
}

export { SYSTEM_SENDER } from '../coordination/messages';
