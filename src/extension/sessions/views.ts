import * as vscode from 'vscode';
import { Disposable } from '../lifecycle';
import { resolveTooltip, treeItemOf } from '../treeItem';
import { Sessions } from './context';
import { SessionNode, sessionsViewDescription } from '../../views/sessions';

/**
 * Adapts the Sessions tree (src/views/sessions.ts) to the editor. The tree is small (one row per session and per
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
    return resolveTooltip(item, this.sessions.model.tree().get(element.id) ?? element);
  }

  getTreeItem(element: SessionNode): vscode.TreeItem {
    return treeItemOf(this.sessions.model.tree().get(element.id) ?? element);
  }
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
      treeView.description = sessionsViewDescription(sessions.model.sessions);
    }),
  );
  return { provider, treeView };
}
