import * as vscode from 'vscode';
import { filterThreads } from '../../core/coordination/threads';
import { buildTreeModel, CoordinationTree } from '../../views/coordination';
import { pageOf } from '../../views/messageLog';
import type { LogFilter, ThreadPage } from '../../shared/protocol';
import { Coordination } from './context';
import { CoordinationViews } from './views';

/**
 * What the extension exports about coordination (the value of `activate()`): read-only views of the models
 * the UI shows, for integration tests and other extensions. Changes go through the commands.
 */
export interface CoordinationApi {
  /** Reads the files if nothing was read yet. */
  ensureLoaded(): Promise<void>;
  /** Re-reads changed files now instead of waiting for the watcher. */
  reload(): Promise<void>;
  /** The Coordination tree's model as the view shows it now. */
  tree(): CoordinationTree | undefined;
  /** Fires after the files changed on disk and the models were rebuilt. */
  onDidChange: vscode.Event<unknown>;
  /** Problems shown for a coordination file. */
  diagnostics(file: string): readonly vscode.Diagnostic[];
  /** The status bar item's text. */
  statusBarText(): string | undefined;
  /** A page of Message Log threads as the webview would receive it. */
  messageLogPage(filter: Partial<LogFilter>, offset?: number, limit?: number): ThreadPage;
}

export function coordinationApi(c: Coordination, views: CoordinationViews): CoordinationApi {
  return {
    ensureLoaded: async () => void (await c.model.ensureLoaded()),
    reload: () => c.model.reload(),
    tree: () => {
      const snap = c.model.snapshot;
      return snap ? (c.model.tree() ?? buildTreeModel(snap, { now: Date.now() })) : undefined;
    },
    onDidChange: c.model.onDidChange,
    diagnostics: (file) => views.health.get(file),
    statusBarText: () => views.statusBar.item.text,
    messageLogPage: (f, offset = 0, limit = 50) =>
      pageOf(filterThreads(c.model.threads(), { instance: f.instance || undefined, status: f.status, text: f.text }), offset, limit, {
        now: Date.now(),
        me: c.services.settings().instanceId,
        totalMessages: c.model.value('messages')?.messages.length ?? 0,
        replace: true,
      }),
  };
}
