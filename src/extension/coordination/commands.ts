import { Services } from '../services';

/** Coordination commands (instances, tasks, messages, decisions). */
export function registerCoordinationCommands(services: Services): void {
  void services;
}
