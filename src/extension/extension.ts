import * as vscode from 'vscode';
import { registerAllCommands } from './commands';
import { coordinationApi, CoordinationApi } from './coordination/api';
import { CoordinationCommands } from './coordination/commands';
import { createCoordination } from './coordination/context';
import { Services } from './services';
import { sessionsApi, SessionsApi } from './sessions/api';
import { SessionCommands } from './sessions/commands';
import { createSessions } from './sessions/context';
import { registerWaitingNotifications } from './sessions/waiting';
import { targetsApi, TargetsApi } from './targets/api';
import { TargetCommands } from './targets/commands';
import { createTargets } from './targets/context';
import { registerMcpServerProvider } from './mcp';
import { registerViews } from './views';
import { WorkspaceCommands } from './workspaceCommands';

/**
 * The composition root: every service of the extension is built here, once, and handed explicitly to what uses
 * it. Each one adds its disposables to `context.subscriptions`, so they all end with the extension.
 * Activation stays cheap: it reads no files and runs no git; the models load their data when VS Code first asks
 * a view for its children (or shortly after start-up, for the status bar and the agents waiting for the user).
 */
export function activate(context: vscode.ExtensionContext): { coordination: CoordinationApi; targets: TargetsApi; sessions: SessionsApi } {
  const log = vscode.window.createOutputChannel('Syncord', { log: true });
  context.subscriptions.push(log);
  const services = new Services(context, log);

  // Models, stores and their watchers.
  const coordination = createCoordination(services);
  const sessions = createSessions(services, coordination);
  const targets = createTargets(services);

  // Tree views, status bar items, Problems entries and the Message Log.
  const views = registerViews({ coordination, targets, sessions });
  registerWaitingNotifications(sessions);
  registerMcpServerProvider(services);

  registerAllCommands(context, {
    workspace: new WorkspaceCommands(services),
    coordination: new CoordinationCommands(coordination, sessions),
    targets: new TargetCommands(targets, views.targets, sessions),
    sessions: new SessionCommands(sessions),
  });

  log.info(`Syncord ${context.extension.packageJSON.version as string} activated`);
  return {
    coordination: coordinationApi(coordination, views.coordination),
    targets: targetsApi(targets, views.targets),
    sessions: sessionsApi(sessions),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
