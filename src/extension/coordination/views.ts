import * as vscode from 'vscode';
import { CoordinationKey } from '../../core/coordination/store';
import { coordinationTreeMessage, CoordinationNode, CoordinationTree, GROUP_IDS } from '../../views/coordination';
import { Disposable } from '../lifecycle';
import { Coordination } from './context';
import { HealthDiagnostics, registerHealthDiagnostics } from './diagnostics';
import { CoordinationStatusBar, registerStatusBar } from './statusBar';
import { resolveTooltip, treeItemOf } from '../treeItem';

const GROUPS_OF: Record<CoordinationKey, string[]> = {
  registry: [GROUP_IDS.instances],
  tasks: [GROUP_IDS.tasks],
  decisions: [GROUP_IDS.decisions],
  messages: [],
};

/**
 * Adapts the Coordination tree (src/views/coordination.ts) to the editor. The model is rebuilt from the files as last
 * read; nodes keep stable ids, so expansion and selection survive refreshes.
 */
export class CoordinationTreeProvider extends Disposable implements vscode.TreeDataProvider<CoordinationNode> {
  private readonly emitter = this.register(new vscode.EventEmitter<CoordinationNode | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  private shown: CoordinationTree | undefined;
  /**
   * The node objects VS Code received, by id. VS Code knows elements by object identity, so a refresh of one
   * node must fire with the object it was given; getTreeItem/getChildren then read the newest model by id.
   */
  private readonly handed = new Map<string, CoordinationNode>();

  constructor(private readonly coordination: Coordination) {
    super();
    this.register(coordination.model.onDidChange((keys) => this.refresh(keys)));
  }

  /** The model the tree shows now (for tests and reveal). */
  get model(): CoordinationTree | undefined {
    return this.coordination.model.tree();
  }

  /** Redraws the whole tree (the model is rebuilt for the current time). */
  refreshAll(): void {
    this.emitter.fire(undefined);
  }

  private refresh(keys: ReadonlySet<CoordinationKey>): void {
    const before = this.shown;
    const after = this.coordination.model.tree();
    // Refresh only the groups whose file changed, as long as the set of top-level nodes is the same.
    const sameRoots = before && after && before.roots.map((r) => r.id).join() === after.roots.map((r) => r.id).join();
    const groups = [...keys].flatMap((k) => GROUPS_OF[k]);
    // The message log shows in the tree only when it cannot be read (then as its own group, which changes the roots).
    const logReadable = this.coordination.model.snapshot?.messages.state === 'ok';
    if (sameRoots && logReadable && groups.length === 0 && keys.size === 1 && keys.has('messages')) return;
    if (!sameRoots || !after || groups.length === 0) {
      this.emitter.fire(undefined);
      return;
    }
    const known = groups.map((g) => this.handed.get(g));
    if (known.some((n) => !n)) {
      this.emitter.fire(undefined);
      return;
    }
    for (const node of known) this.emitter.fire(node);
  }

  async getChildren(element?: CoordinationNode): Promise<CoordinationNode[]> {
    await this.coordination.model.ensureLoaded();
    const model = this.coordination.model.tree();
    this.shown = model;
    if (!model) return [];
    if (!element) this.handed.clear();
    const nodes = element ? model.children(element.id) : model.roots;
    for (const n of nodes) this.handed.set(n.id, n);
    return nodes;
  }

  /** Tooltips are built on hover only. */
  resolveTreeItem(item: vscode.TreeItem, element: CoordinationNode): vscode.TreeItem {
    return resolveTooltip(item, this.coordination.model.tree()?.get(element.id) ?? element);
  }

  getParent(element: CoordinationNode): CoordinationNode | undefined {
    return this.coordination.model.tree()?.parent(element.id);
  }

  getTreeItem(element: CoordinationNode): vscode.TreeItem {
    // The element may be an object from an earlier model (see `handed`): show the newest version of it.
    return treeItemOf(this.coordination.model.tree()?.get(element.id) ?? element);
  }
}

export interface CoordinationViews {
  provider: CoordinationTreeProvider;
  treeView: vscode.TreeView<CoordinationNode>;
  health: HealthDiagnostics;
  statusBar: CoordinationStatusBar;
}

/** The Coordination tree view, its status bar item and its Problems entries. */
export function registerCoordinationViews(coordination: Coordination, viewId: string): CoordinationViews {
  const services = coordination.services;
  const provider = new CoordinationTreeProvider(coordination);
  const treeView = vscode.window.createTreeView(viewId, { treeDataProvider: provider, showCollapseAll: true });
  services.context.subscriptions.push(provider, treeView);
  const setMessage = () => {
    treeView.message = coordinationTreeMessage(coordination.model.snapshot);
  };
  services.context.subscriptions.push(coordination.model.onDidChange(setMessage));
  // Relative times ("checked in 5m ago", "due in 2h") and the stale markers move on with the clock.
  const tick = setInterval(() => {
    if (treeView.visible && coordination.model.snapshot) provider.refreshAll();
  }, 60_000);
  services.context.subscriptions.push({ dispose: () => clearInterval(tick) });
  const health = registerHealthDiagnostics(coordination);
  const statusBar = registerStatusBar(coordination, health);
  return { provider, treeView, health, statusBar };
}
