import * as nodeModule from 'module';
import { daemonMayTake } from './daemonShared';

// Node 22.1 and later keep V8's compiled code of the CLI's files between runs (in the system's temporary folder,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off); an older Node has no such cache and starts without it. Enabled before
// the rest of the CLI is loaded, so that all of it is cached.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();

// A reader that stops early (`syncord task list | head -3`) closes the pipe: end quietly, as other tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const argv = process.argv.slice(2);
const done = (code: number) => {
  process.exitCode = code;
};
const failed = (e: unknown) => {
  process.stderr.write(`syncord: internal error: ${String(e)}\n`);
  process.exitCode = 70;
};
const runHere = () => void import('./program').then(({ runCli }) => runCli(argv)).then(done, failed);

// An agent's `syncord` on another machine forwards its verb to the coordinating host (see docs/remote-sessions.md).
const forward = process.env.SYNCORD_FORWARD;
if (forward) void import('./forward').then(({ runForwarded }) => runForwarded(forward, argv)).then(done, failed);
// A coordination verb goes to the workspace's daemon while one runs (`syncord daemon start`), without loading the CLI.
else if (daemonMayTake(argv)) void import('./daemonClient').then(({ viaDaemon }) => viaDaemon(argv, runHere), failed);
else runHere();
