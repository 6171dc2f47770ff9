import * as vscode from 'vscode';
import { Logger } from '../core/ports';
import { resolveWorkspace, WorkspacePaths } from '../core/workspace';
import { readSettings, SyncordSettings } from './settings';

/** What command handlers, views and watchers share. Created once in activate(); cheap to build. */
export class Services {
  readonly logger: Logger;

  constructor(
    readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    this.logger = {
      trace: (m) => log.trace(m),
      info: (m) => log.info(m),
      warn: (m) => log.warn(m),
      error: (m) => log.error(m),
    };
  }

  settings(): SyncordSettings {
    return readSettings(vscode.workspace.workspaceFolders?.[0]);
  }

  /** The main project's folder and coordination folder, or undefined when no folder is open. */
  paths(): WorkspacePaths | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || folder.uri.scheme !== 'file') return undefined;
    return resolveWorkspace(folder.uri.fsPath, this.settings().coordinationDir);
  }

  /** Like paths(), but tells the user and returns undefined when no folder is open. */
  requirePaths(): WorkspacePaths | undefined {
    const p = this.paths();
    if (!p) void vscode.window.showWarningMessage('Syncord needs an open folder: open the main project first.');
    return p;
  }
}
