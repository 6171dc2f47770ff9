import { runCli } from './program';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`syncord: internal error: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
