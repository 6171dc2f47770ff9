import { Command } from 'commander';

/** Coordination verbs (seed 004): init, checkin, checkout, instance, task, msg, decision, inbox, health. */
export function registerCoordinationCommands(program: Command): void {
  void program;
}
