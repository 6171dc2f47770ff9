import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { Command } from '../../shared/commands';
import { baseTreeItem } from '../treeItem';
import { Sessions } from './context';
import { SessionNode } from './tree';

/**
 * Maps the sessions tree (sessions/tree.ts) to TreeItems. The tree is small (one row per session and per
 * undelivered hand-over), so a change redraws it whole; node ids are stable, so expansion and selection stay.
 */
export class SessionsTreeProvider extends Disposable implements vscode.TreeDataProvider<SessionNode> {
  private readonly emitter = this.register(new vscode.EventEmitter<SessionNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly sessions: Sessions) {
    super();
    this.register(sessions.model.onDidChange(() => this.emitter.fire(undefined)));
  }

  async getChildren(element?: SessionNode): Promise<SessionNode[]> {
    await this.sessions.model.ensureLoaded();
    const tree = this.sessions.model.tree();
    return element ? tree.children(element.id) : tree.roots;
  }

  getParent(element: SessionNode): SessionNode | undefined {
    return this.sessions.model.tree().parent(element.id);
  }

  resolveTreeItem(item: vscode.TreeItem, element: SessionNode): vscode.TreeItem {
    const node = this.sessions.model.tree().get(element.id) ?? element;
    if (node.tooltip) item.tooltip = node.tooltip();
    return item;
  }

  getTreeItem(element: SessionNode): vscode.TreeItem {
    const node = this.sessions.model.tree().get(element.id) ?? element;
    return treeItemOf(node);
  }
}

/** The TreeItem of a node: a session opens its terminal (or its log) when clicked; an error opens the file. */
export function treeItemOf(node: SessionNode): vscode.TreeItem {
  const item = baseTreeItem(node);
  const s = node.session;
  if (s && s.mode === 'terminal' && /\.here$/.test(node.contextValue)) {
    item.command = { command: Command.focusSessionTerminal, title: 'Focus Terminal', arguments: [node] };
  } else if (s && s.mode === 'headless' && s.log) {
    item.command = { command: Command.showSessionLog, title: 'Show Session Log', arguments: [node] };
  } else if (node.kind === 'error' && node.file) {
    item.command = { command: 'vscode.open', title: 'Open File', arguments: [vscode.Uri.file(node.file)] };
  }
  item.accessibilityInformation = { label: [node.label, node.description].filter(Boolean).join(', ') };
  return item;
}

export interface SessionsViews {
  provider: SessionsTreeProvider;
  treeView: vscode.TreeView<SessionNode>;
}

/** The Sessions view. Its model reads nothing until the view (or a command) asks. */
export function registerSessionsView(sessions: Sessions, viewId: string): SessionsViews {
  const services = sessions.services;
  const provider = new SessionsTreeProvider(sessions);
  const treeView = vscode.window.createTreeView(viewId, { treeDataProvider: provider });
  services.context.subscriptions.push(provider, treeView);
  services.context.subscriptions.push(
    sessions.model.onDidChange(() => {
      const list = sessions.model.sessions ?? [];
      const live = list.filter((x) => x.state !== 'exited').length;
      treeView.description = list.length ? `${live} live` : undefined;
    }),
  );
  return { provider, treeView };
}
