import * as vscode from 'vscode';
import type { ViewNode } from '../views/tree';

const COLLAPSIBLE = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
} as const;

/**
 * The one mapping of a view node (src/views/tree.ts) to a TreeItem: label, stable id, description, menus,
 * themed icon, click, resource, and the label a screen reader says. A tooltip given as text is set here; one
 * built on hover is set by `resolveTooltip`.
 */
export function treeItemOf(node: ViewNode): vscode.TreeItem {
  const item = new vscode.TreeItem(node.label, COLLAPSIBLE[node.collapsible]);
  item.id = node.id;
  item.description = node.description;
  item.contextValue = node.contextValue;
  if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
  // Plain text: messages and paths come from files and must not be read as Markdown.
  if (typeof node.tooltip === 'string') item.tooltip = node.tooltip;
  if (node.resource) item.resourceUri = vscode.Uri.file(node.resource);
  const click = node.click;
  if (click) {
    const args = click.with === 'node' ? [node] : click.with === 'nothing' ? undefined : [vscode.Uri.file(click.with.file)];
    item.command = { command: click.command, title: click.title, ...(args && { arguments: args }) };
  }
  item.accessibilityInformation = { label: [node.label, node.description].filter(Boolean).join(', ') };
  return item;
}

/** `resolveTreeItem` of every Syncord tree: a tooltip built only when the user hovers the row. */
export function resolveTooltip(item: vscode.TreeItem, node: ViewNode): vscode.TreeItem {
  if (typeof node.tooltip === 'function') item.tooltip = node.tooltip();
  return item;
}
