import { Services } from '../services';

/** Target commands (add, detect, backup, sync, verify, rollback, restore, config diff). */
export function registerTargetCommands(services: Services): void {
  void services;
}
