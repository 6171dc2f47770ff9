// Small helpers for integration tests (they run inside the extension host).
import * as vscode from 'vscode';

/** The folder VS Code has open (the main project of the fixture workspace). */
export function workspaceRoot(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the integration tests need an open folder');
  return folder.uri.fsPath;
}

/** The fixture workspace's outer folder (holds the main project and `targets/`). */
export function fixtureRoot(): string {
  return process.env.SYNCORD_TEST_WORKSPACE_ROOT || vscode.Uri.joinPath(vscode.Uri.file(workspaceRoot()), '..').fsPath;
}

/**
 * Waits until `condition` holds (polling), for UI or file-system effects that happen asynchronously.
 * The timeout is generous on purpose: it is a safety net, not a speed assertion.
 */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
