import * as vscode from 'vscode';
import { initCoordination } from '../core/coordination/init';
import { registerCoordinationCommands } from './coordination/commands';
import { reportError } from './errors';
import { Services } from './services';
import { registerSessionCommands } from './sessions/commands';
import { registerTargetCommands } from './targets/commands';

/** Workspace-wide commands. Area commands live in coordination/commands.ts and targets/commands.ts. */
export const CommandId = {
  initCoordination: 'syncord.initCoordination',
  showLog: 'syncord.showLog',
  openMessageLog: 'syncord.openMessageLog',
} as const;

export function registerAllCommands(services: Services): void {
  const reg = (id: string, handler: (...args: any[]) => unknown) =>
    services.context.subscriptions.push(vscode.commands.registerCommand(id, handler));

  reg(CommandId.initCoordination, async () => {
    const paths = services.requirePaths();
    if (!paths) return;
    try {
      const r = await initCoordination(paths.coordinationDir);
      const rel = vscode.workspace.asRelativePath(paths.coordinationDir);
      void vscode.window.showInformationMessage(
        r.created.length
          ? `Syncord: initialized ${rel} (created ${r.created.join(', ')}).`
          : `Syncord: ${rel} already holds all coordination files; nothing was changed.`,
      );
    } catch (e) {
      reportError(services, 'Initialize coordination', e);
    }
  });
  reg(CommandId.showLog, () => services.log.show());
  reg(CommandId.openMessageLog, () => vscode.commands.executeCommand('syncord.messageLog.focus'));

  registerCoordinationCommands(services);
  registerTargetCommands(services);
  registerSessionCommands(services);
}
