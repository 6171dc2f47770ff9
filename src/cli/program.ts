import { Command, CommanderError } from 'commander';
import { isSyncordError } from '../core/errors';
import { ExitCode, exitCodeFor } from './exit';
import { registerCoordinationCommands } from './coordination';
import { registerMcpCommand } from './mcp';
import { registerSessionCommands } from './sessions';
import { registerTargetCommands } from './targets';
import { registerTrustCommands } from './trust';

export const VERSION = process.env.SYNCORD_VERSION ?? '0.0.0-dev';

/** Builds the whole `syncord` command tree. Verbs live in one module per area. */
export function buildProgram(): Command {
  const program = new Command('syncord')
    .description('Coordinate AI coding agents through shared files and keep target projects in sync.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-w, --workspace <dir>', 'the main project folder (default: current folder, or $SYNCORD_WORKSPACE)')
    .option('--coordination-dir <dir>', 'coordination folder, relative to the workspace (default: coordination)')
    .option('--json', 'print machine-readable JSON')
    .option('--as <instance>', 'act as this instance (default: $SYNCORD_INSTANCE)')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    // Set before the verbs are added: `.command()` copies it into every subcommand it creates, so a usage
    // error, --help or --version anywhere in the tree throws a CommanderError (runCli maps it to an exit
    // code) instead of calling process.exit.
    .exitOverride();
  registerCoordinationCommands(program);
  registerTargetCommands(program);
  registerSessionCommands(program);
  registerTrustCommands(program);
  registerMcpCommand(program);
  program.addHelpText(
    'after',
    `\nExit codes: ${ExitCode.ok} ok, ${ExitCode.problemsFound} problems found (health, verify, sync check, undelivered hand-over), ${ExitCode.usage} usage, ${ExitCode.invalidFile} a file that does not\nparse or match its schema (file:line:col), ${ExitCode.notFound} not found, ${ExitCode.conflict} not allowed in the current state, ${ExitCode.lockTimeout} lock held too long, ${ExitCode.io} I/O,\n${ExitCode.untrusted} a command defined by the workspace that you have not trusted (see \`syncord trust --help\`).`,
  );
  return program;
}

/** Runs the CLI and returns the exit code (never calls process.exit itself, so tests can call it). */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const json = argv.includes('--json');
    if (isSyncordError(e)) {
      if (json) {
        process.stdout.write(
          JSON.stringify({ error: { code: e.code, message: e.detail, location: e.location ?? null } }, null, 2) + '\n',
        );
      }
      process.stderr.write(`syncord: error: ${e.message}\n`);
      return exitCodeFor(e.code);
    }
    const message = e instanceof Error ? e.message : String(e);
    if (json) process.stdout.write(JSON.stringify({ error: { code: 'internal', message } }, null, 2) + '\n');
    process.stderr.write(`syncord: internal error: ${message}\n`);
    if (process.env.SYNCORD_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 70;
  }
}
