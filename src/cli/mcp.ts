import { Command } from 'commander';
import { serveMcp } from '../mcp/server';
import { contextFrom } from './context';

/** `syncord mcp`: the coordination verbs as MCP tools, over standard input and output. */
export function registerMcpCommand(program: Command): void {
  program
    .command('mcp')
    .description(
      'serve the coordination verbs as MCP tools (and the coordination files as resources) over stdio, acting as --as <instance> (or $SYNCORD_INSTANCE)',
    )
    .action(async (...args: unknown[]) => {
      const ctx = contextFrom(args[args.length - 1] as Command);
      await serveMcp(ctx);
    });
}
