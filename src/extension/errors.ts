import * as vscode from 'vscode';
import { isSyncordError } from '../core/errors';
import { Services } from './services';

/**
 * Shows a failed operation to the user. When the error names a file position, the message offers to
 * open the file there.
 */
export function reportError(services: Services, what: string, e: unknown): void {
  const message = e instanceof Error ? e.message : String(e);
  services.log.error(`${what} failed: ${message}`);
  if (isSyncordError(e) && e.location) {
    const loc = e.location;
    void vscode.window.showErrorMessage(`Syncord: ${what} failed: ${message}`, 'Open File').then((pick) => {
      if (pick !== 'Open File') return;
      const pos = new vscode.Position(Math.max(0, (loc.line ?? 1) - 1), Math.max(0, (loc.column ?? 1) - 1));
      void vscode.window.showTextDocument(vscode.Uri.file(loc.file), { selection: new vscode.Range(pos, pos) });
    });
  } else {
    void vscode.window.showErrorMessage(`Syncord: ${what} failed: ${message}`);
  }
}
