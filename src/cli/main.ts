import * as nodeModule from 'module';

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

// An agent's `syncord` on another machine forwards its verb to the coordinating host (see docs/remote-sessions.md).
const forward = process.env.SYNCORD_FORWARD;
(forward
  ? import('./forward').then(({ runForwarded }) => runForwarded(forward, process.argv.slice(2)))
  : import('./program').then(({ runCli }) => runCli(process.argv.slice(2)))
)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`syncord: internal error: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
