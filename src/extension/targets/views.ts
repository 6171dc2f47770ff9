import * as vscode from 'vscode';
import { Services } from '../services';

/** The Targets view. Empty (welcome view) until targets are registered. */
class TargetsProvider implements vscode.TreeDataProvider<string> {
  getChildren(): string[] {
    return [];
  }
  getTreeItem(label: string): vscode.TreeItem {
    return new vscode.TreeItem(label);
  }
}

export function registerTargetViews(services: Services, viewId: string): void {
  services.context.subscriptions.push(vscode.window.createTreeView(viewId, { treeDataProvider: new TargetsProvider() }));
}
