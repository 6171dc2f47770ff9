import { Command } from 'commander';

/** Target verbs (seed 002): target, sync, config. */
export function registerTargetCommands(program: Command): void {
  void program;
}
