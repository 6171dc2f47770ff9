import * as vscode from 'vscode';
import { registerAllCommands } from './commands';
import { coordinationApi, CoordinationApi } from './coordination/api';
import { Services } from './services';
import { sessionsApi, SessionsApi } from './sessions/api';
import { targetsApi, TargetsApi } from './targets/api';
import { registerViews } from './views';

/**
 * Activation stays cheap: it wires commands, views and watchers. It reads no files and runs no git;
 * views load their data lazily when VS Code first asks for their children.
 */
export function activate(context: vscode.ExtensionContext): { coordination: CoordinationApi; targets: TargetsApi; sessions: SessionsApi } {
  const log = vscode.window.createOutputChannel('Syncord', { log: true });
  context.subscriptions.push(log);
  const services = new Services(context, log);
  registerViews(services);
  registerAllCommands(services);
  log.info(`Syncord ${context.extension.packageJSON.version as string} activated`);
  return { coordination: coordinationApi(services), targets: targetsApi(services), sessions: sessionsApi(services) };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
