import * as path from 'node:path';
import { SyncordCli } from '../core/sessions/launch';

/** How this CLI runs itself: for the agents' `syncord` command, for supervisors and for the daemon. */
export function selfCli(): SyncordCli {
  const script = process.env.SYNCORD_CLI_SCRIPT || require.main?.filename || process.argv[1];
  return { node: process.execPath, script: path.resolve(script) };
}
