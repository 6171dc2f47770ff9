import * as vscode from 'vscode';

/** The view-model fields both Syncord trees share (see src/core/coordination/view.ts and src/core/targets/view.ts). */
export interface BaseViewNode {
  id: string;
  label: string;
  description?: string;
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  icon?: { id: string; color?: string };
}

/** Maps a pure view-model node to a TreeItem: label, stable id, description, menus and themed icon. */
export function baseTreeItem(node: BaseViewNode): vscode.TreeItem {
  const state =
    node.collapsible === 'none'
      ? vscode.TreeItemCollapsibleState.None
      : node.collapsible === 'expanded'
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(node.label, state);
  item.id = node.id;
  item.description = node.description;
  item.contextValue = node.contextValue;
  if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
  return item;
}
