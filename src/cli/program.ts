import { Command, CommanderError } from 'commander';
import { isSyncordError, SyncordError } from '../core/errors';
import { ExitCode, exitCodeFor } from './exit';
import { io } from './io';

export const VERSION = process.env.SYNCORD_VERSION ?? '0.0.0-dev';

type Register = (program: Command) => void;

/**
 * The verb areas of the CLI: the top-level verbs each one adds, and how to load it. An area is loaded only when
 * its verb runs (in the bundle each area is its own chunk, so `syncord inbox` never reads the sync engine or the
 * MCP server); help, a verb missing from this table, or no verb at all loads every area.
 */
export const AREAS: readonly { name: string; verbs: readonly string[]; load: () => Promise<Register> }[] = [
  {
    name: 'coordination',
    verbs: ['init', 'checkin', 'checkout', 'inbox', 'health', 'instance', 'task', 'msg', 'decision'],
    load: async () => (await import('./coordination')).registerCoordinationCommands,
  },
  { name: 'targets', verbs: ['target', 'sync', 'config'], load: async () => (await import('./targets')).registerTargetCommands },
  { name: 'sessions', verbs: ['spawn', 'sling', 'agents', 'session'], load: async () => (await import('./sessions')).registerSessionCommands },
  { name: 'trust', verbs: ['trust', 'untrust'], load: async () => (await import('./trust')).registerTrustCommands },
  { name: 'mcp', verbs: ['mcp'], load: async () => (await import('./mcp')).registerMcpCommand },
  { name: 'git', verbs: ['merge-driver', 'coordination'], load: async () => (await import('./mergeDriver')).registerMergeCommands },
  {
    name: 'daemon',
    verbs: ['daemon'],
    load: async () => {
      const { registerDaemonCommands } = await import('./daemon');
      return (program) => registerDaemonCommands(program, runCli);
    },
  },
];

/** Root options that take a value: the word after them is not the verb. */
const VALUE_OPTIONS = new Set(['-w', '--workspace', '--coordination-dir', '--as', '--session']);

/** A session id as `--session` takes it (the same rule as the session records' ids). */
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

/** The verb of a command line (its first word that is not a root option or its value), if any. */
export function verbOf(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv[i + 1];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/**
 * Builds the `syncord` command tree: for `argv`, only the area of its verb (the other verbs are not registered,
 * and their modules not loaded); without `argv`, or when the verb is not one of an area's, the whole tree.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const verb = argv && verbOf(argv);
  const only = verb === undefined ? undefined : AREAS.find((a) => a.verbs.includes(verb));
  const registers = await Promise.all((only ? [only] : AREAS).map((a) => a.load()));
  const program = new Command('syncord')
    .description('Coordinate AI coding agents through shared files and keep target projects in sync.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-w, --workspace <dir>', 'the main project folder (default: current folder, or $SYNCORD_WORKSPACE)')
    .option('--coordination-dir <dir>', 'coordination folder, relative to the workspace (default: coordination)')
    .option('--json', 'print machine-readable JSON')
    .option('--as <instance>', 'act as this instance (default: $SYNCORD_INSTANCE)')
    .option('--session <id>', "the Syncord session this command runs in (default: $SYNCORD_SESSION); said by agents of a served session, whose server's environment is shared")
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true })
    // Commander's own output (help, usage errors) goes where the call's output goes (the daemon serves many calls).
    .configureOutput({ writeOut: (s) => io().out(s), writeErr: (s) => io().err(s) })
    // Set before the verbs are added: `.command()` copies it into every subcommand it creates, so a usage
    // error, --help or --version anywhere in the tree throws a CommanderError (runCli maps it to an exit
    // code) instead of calling process.exit.
    .exitOverride();
  for (const register of registers) register(program);
  // `--session` stands for SYNCORD_SESSION, for everything that reads it (check-in, acknowledging hand-overs).
  program.hook('preAction', (self) => {
    const session = self.opts<{ session?: string }>().session;
    if (session === undefined) return;
    if (!SESSION_ID.test(session) || session.includes('..')) throw new SyncordError(`invalid session id ${JSON.stringify(session)}`, 'usage');
    io().env.SYNCORD_SESSION = session;
  });
  // Inside an agent session, a verb that acted on a handed-over task or message marks the hand-over acknowledged.
  program.hook('postAction', async (_self, actionCommand) => {
    if (io().env.SYNCORD_SESSION) await (await import('./sessions')).acknowledgeAfterVerb(actionCommand);
  });
  // A completed step of a sync by agents: the next step is handed over, or the finished sync reported.
  program.hook('postAction', async (_self, actionCommand) => {
    if (actionCommand.parent?.name() === 'task' && actionCommand.name() === 'complete') await (await import('./agentSync')).afterTaskComplete(actionCommand);
  });
  program.addHelpText(
    'after',
    `\nExit codes: ${ExitCode.ok} ok, ${ExitCode.problemsFound} problems found (health, verify, sync check, undelivered hand-over), ${ExitCode.usage} usage, ${ExitCode.invalidFile} a file that does not\nparse or match its schema (file:line:col), ${ExitCode.notFound} not found, ${ExitCode.conflict} not allowed in the current state, ${ExitCode.lockTimeout} lock held too long, ${ExitCode.io} I/O,\n${ExitCode.untrusted} a command defined by the workspace that you have not trusted (see \`syncord trust --help\`).`,
  );
  return program;
}

/** Runs the CLI and returns the exit code (never calls process.exit itself, so tests can call it). */
export async function runCli(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv, { from: 'user' });
    return io().exitCode ?? ExitCode.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const json = argv.includes('--json');
    if (isSyncordError(e)) {
      if (json) {
        io().out(
          JSON.stringify({ error: { code: e.code, message: e.detail, location: e.location ?? null } }, null, 2) + '\n',
        );
      }
      io().err(`syncord: error: ${e.message}\n`);
      return exitCodeFor(e.code);
    }
    const message = e instanceof Error ? e.message : String(e);
    if (json) io().out(JSON.stringify({ error: { code: 'internal', message } }, null, 2) + '\n');
    io().err(`syncord: internal error: ${message}\n`);
    if (io().env.SYNCORD_DEBUG && e instanceof Error) io().err(`${e.stack}\n`);
    return 70;
  }
}
