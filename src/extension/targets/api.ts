import * as vscode from 'vscode';
import type { TargetsSnapshot } from '../../core/targets/overview';
import type { TargetsTree } from '../../views/targets';
import { Targets } from './context';
import { TargetViews } from './views';

/**
 * What the extension exports about targets (part of the value of `activate()`): read-only views of what the
 * Targets view, its status bar item and its Problems entries show, for integration tests and other
 * extensions. Changes go through the commands.
 */
export interface TargetsApi {
  /** Computes the statuses if nothing was computed yet. */
  ensureLoaded(): Promise<void>;
  /** Recomputes now instead of waiting for the watchers. */
  reload(): Promise<void>;
  /** The model as last computed. */
  snapshot(): TargetsSnapshot | undefined;
  /** The Targets tree as the view shows it now. */
  tree(): TargetsTree | undefined;
  /** The TreeItem the view renders for a node id (label, description, icon, contextValue). */
  treeItem(id: string): vscode.TreeItem | undefined;
  /** Fires after every recomputation and busy/verify change. */
  onDidChange: vscode.Event<void>;
  /** Recomputations done so far, and why the last one happened. */
  version(): { count: number; reason: string };
  /** Problems from verify, per file. */
  diagnostics(file: string): readonly vscode.Diagnostic[];
  /** The status bar item's text (undefined while hidden). */
  statusBarText(): string | undefined;
}

export function targetsApi(t: Targets, views: TargetViews): TargetsApi {
  return {
    ensureLoaded: async () => void (await t.model.ensureLoaded()),
    reload: () => t.model.reload('requested through the API'),
    snapshot: () => t.model.snapshot,
    tree: () => t.model.tree(),
    treeItem: (id) => {
      const node = t.model.tree()?.get(id);
      return node && views.provider.getTreeItem(node);
    },
    onDidChange: t.model.onDidChange,
    version: () => ({ count: t.model.reloads, reason: t.model.lastReason }),
    diagnostics: (file) => t.diagnostics.collection.get(vscode.Uri.file(file)) ?? [],
    statusBarText: () => {
      views.statusBar.update();
      return views.statusBar.item.text || undefined;
    },
  };
}
