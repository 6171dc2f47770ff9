import * as vscode from 'vscode';
import { initCoordination } from '../core/coordination/init';
import { reportError } from './errors';
import { Services } from './services';
import { ViewId } from '../views/ids';

/** Commands about the workspace as a whole (src/extension/commands.ts registers them). */
export class WorkspaceCommands {
  constructor(private readonly services: Services) {}

  async initCoordination(): Promise<void> {
    const paths = this.services.requirePaths();
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
      reportError(this.services, 'Initialize coordination', e);
    }
  }

  showLog(): void {
    this.services.log.show();
  }

  openMessageLog(): Thenable<unknown> {
    return vscode.commands.executeCommand(`${ViewId.messageLog}.focus`);
  }

  /** Opens a file at a 1-based line and column (a row that points at a problem in a file). */
  async openLocation(loc: { file: string; line?: number; column?: number } | undefined): Promise<void> {
    if (!loc) return;
    const pos = new vscode.Position(Math.max(0, (loc.line ?? 1) - 1), Math.max(0, (loc.column ?? 1) - 1));
    await vscode.window.showTextDocument(vscode.Uri.file(loc.file), { selection: new vscode.Range(pos, pos), preview: true });
  }
}
