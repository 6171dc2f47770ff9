import * as path from 'path';
import { Command } from 'commander';
import { DefinitionStatus, trustStatus, trustWorkspace, untrustWorkspace, workspaceDefinitions } from '../core/trust';
import { contextFrom } from './context';
import { ExitCode } from './exit';

const TRUST_HELP = `
A workspace can define commands that Syncord runs: agent runtimes in .vscode/settings.json
(syncord.sessions.runtimes) and verify commands in coordination/sync-rules.jsonc; and remotes
(syncord.sessions.remotes), servers Syncord sends prompts and a password to. Anyone who can write
the workspace, an agent included, can change them, so the CLI runs them only once you have reviewed and
trusted them here. What you trusted is recorded per user, outside the workspace, in
$XDG_CONFIG_HOME/syncord/trusted.json (default ~/.config/syncord/trusted.json), one hash per command:
a command that is new or changed since is refused with exit code ${ExitCode.untrusted} until you trust again.
The built-in claude and opencode runtimes and the checks that run no command need no trust. In VS Code the
editor's workspace trust decides instead.`;

/** `syncord trust` and `syncord untrust`: the user's review of the commands a workspace defines. */
export function registerTrustCommands(program: Command): void {
  program
    .command('trust')
    .description("review and trust the commands this workspace defines (runtimes, verify commands), so the CLI may run them")
    .option('--show', 'only print what would be trusted, with what each runs and whether it is trusted now')
    .addHelpText('after', TRUST_HELP)
    .action(async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const ctx = contextFrom(cmd);
      const show = Boolean(cmd.opts<{ show?: boolean }>().show);
      const defs = workspaceDefinitions(ctx.paths);
      const status = trustStatus(ctx.paths, defs);
      if (!defs.length) {
        ctx.print(`${status.root} defines no commands (no custom runtime, no verify command, no remote); nothing to trust.`, { ...status, trusted: false });
        return;
      }
      const listing = describe(ctx.paths.root, status.definitions);
      if (show) {
        const todo = status.definitions.filter((d) => d.state !== 'trusted').length;
        const tail = todo ? `${todo} of them not trusted as they are now; run \`syncord trust\` to trust them as shown.` : 'All of them are trusted as they are now.';
        ctx.print([`Commands defined by ${status.root} (trust record: ${status.file}):`, ...listing, tail].join('\n'), status);
        return;
      }
      const r = trustWorkspace(ctx.paths, defs, new Date());
      const after = trustStatus(ctx.paths, defs);
      ctx.print(
        [`Trusted ${defs.length} command${defs.length > 1 ? 's' : ''} defined by ${r.root} (recorded in ${r.file}):`, ...listing].join('\n'),
        { ...after, trusted: true },
      );
    });

  program
    .command('untrust')
    .description('forget your trust in the commands of this workspace (the CLI refuses them again)')
    .addHelpText('after', TRUST_HELP)
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(args[args.length - 1] as Command);
      const r = untrustWorkspace(ctx.paths);
      ctx.print(r.removed ? `No longer trusting the commands of ${r.root} (${r.file}).` : `${r.root} was not trusted; nothing to remove.`, r);
    });
}

function describe(root: string, defs: DefinitionStatus[]): string[] {
  const out: string[] = [];
  for (const d of defs) {
    const where = `${path.relative(root, d.file) || d.file}${d.line ? `:${d.line}${d.column ? `:${d.column}` : ''}` : ''}`;
    const state = d.state === 'trusted' ? 'trusted' : d.state === 'changed' ? 'CHANGED since trusted' : 'NEW, not trusted';
    out.push(`  ${d.kind} ${JSON.stringify(d.name)}  (${where})  [${state}]`);
    for (const [k, v] of Object.entries(d.runs)) {
      if (v === null || v === undefined) continue;
      out.push(`      ${`${k}:`.padEnd(9)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
  }
  return out;
}
