import * as vscode from 'vscode';
import { targetsStatusBarView } from '../../views/statusBar';
import { TargetNode, TargetsTree, targetsTreeMessage } from '../../views/targets';
import { changedNodes } from '../../views/tree';
import { Disposable } from '../lifecycle';
import { Command } from '../../shared/commands';
import { Targets } from './context';
import { showStatusBar } from '../statusBar';
import { treeItemOf } from '../treeItem';

/**
 * Adapts the Targets tree (src/views/targets.ts) to the editor. Nodes keep stable ids, and the objects handed to
 * the editor stay the same across recomputations (updated in place): after a change only the rows whose text,
 * icon or children changed are redrawn, so a row the user is hovering or clicking is not replaced under the
 * pointer by a recomputation that changed nothing about it.
 */
export class TargetsTreeProvider extends Disposable implements vscode.TreeDataProvider<TargetNode> {
  private readonly emitter = this.register(new vscode.EventEmitter<TargetNode | TargetNode[] | undefined>());
  readonly onDidChangeTreeData = this.emitter.event;
  /** The tree the editor was last given, and the node objects it holds, by id. */
  private shown: TargetsTree | undefined;
  private readonly nodes = new Map<string, TargetNode>();

  constructor(private readonly targets: Targets) {
    super();
    this.register(targets.model.onDidChange(() => this.update()));
  }

  /** The model the tree shows now (tests read labels and descriptions through getTreeItem). */
  get model(): TargetsTree | undefined {
    return this.targets.model.tree();
  }

  /** The node object the editor holds for an id (for reveal). */
  node(id: string): TargetNode | undefined {
    if (!this.shown) this.adopt(this.targets.model.tree());
    return this.nodes.get(id);
  }

  /** Redraws what changed since the editor last asked. */
  private update(): void {
    const prev = this.shown;
    const next = this.targets.model.tree();
    if (!prev || !next) {
      this.adopt(next);
      this.emitter.fire(undefined);
      return;
    }
    if (next === prev) return;
    const d = changedNodes(prev, next);
    this.adopt(next);
    if (d.all) this.emitter.fire(undefined);
    else if (d.nodes.length) this.emitter.fire(d.nodes.map((n) => this.nodes.get(n.id)!));
  }

  /** Makes `tree` the one shown, keeping the objects of nodes the editor already holds (updated in place). */
  private adopt(tree: TargetsTree | undefined): void {
    if (!tree || tree === this.shown) return;
    this.shown = tree;
    const seen = new Set<string>();
    for (const n of tree.all()) {
      seen.add(n.id);
      const old = this.nodes.get(n.id);
      if (old) {
        for (const k of Object.keys(old) as (keyof TargetNode)[]) delete old[k];
        Object.assign(old, n);
      } else this.nodes.set(n.id, { ...n });
    }
    for (const id of [...this.nodes.keys()]) if (!seen.has(id)) this.nodes.delete(id);
  }

  async getChildren(element?: TargetNode): Promise<TargetNode[]> {
    await this.targets.model.ensureLoaded();
    // The tree as last adopted: a newer one is adopted (and its changes announced) by update().
    if (!this.shown) this.adopt(this.targets.model.tree());
    const model = this.shown;
    if (!model) return [];
    const list = element ? model.children(element.id) : model.roots;
    return list.map((n) => this.nodes.get(n.id)!);
  }

  getParent(element: TargetNode): TargetNode | undefined {
    const p = this.shown?.parent(element.id);
    return p && this.nodes.get(p.id);
  }

  getTreeItem(node: TargetNode): vscode.TreeItem {
    return treeItemOf(node);
  }
}

/**
 * One item on the left of the status bar: `$(sync) 2 targets need sync`, `$(check) targets in sync`,
 * `$(sync~spin)` while a sync runs. A click offers Sync All or a target. Hidden while no target is registered.
 */
export class TargetsStatusBar extends Disposable {
  readonly item = this.register(vscode.window.createStatusBarItem('syncord.targets', vscode.StatusBarAlignment.Left, 49));

  constructor(private readonly targets: Targets) {
    super();
    this.item.name = 'Syncord Targets';
    this.item.command = Command.targetsStatusMenu;
    this.register(targets.model.onDidChange(() => this.update()));
    // activate() reads nothing: the first computation happens when the view is shown, or shortly after
    // start-up so the status bar fills in while the Syncord views stay closed.
    const timer = setTimeout(() => void targets.model.ensureLoaded(), 2500);
    this.register({ dispose: () => clearTimeout(timer) });
  }

  update(): void {
    showStatusBar(this.item, targetsStatusBarView(this.targets.model.snapshot, this.targets.model.busy));
  }
}

export interface TargetViews {
  targets: Targets;
  provider: TargetsTreeProvider;
  treeView: vscode.TreeView<TargetNode>;
  statusBar: TargetsStatusBar;
}

/** The Targets tree view, its status bar item and its Problems entries. */
export function registerTargetViews(targets: Targets, viewId: string): TargetViews {
  const services = targets.services;
  const provider = new TargetsTreeProvider(targets);
  const treeView = vscode.window.createTreeView(viewId, { treeDataProvider: provider, showCollapseAll: true });
  const statusBar = new TargetsStatusBar(targets);
  services.context.subscriptions.push(provider, treeView, statusBar);
  const setMessage = () => {
    treeView.message = targetsTreeMessage(targets.model.snapshot, vscode.workspace.isTrusted);
  };
  services.context.subscriptions.push(targets.model.onDidChange(setMessage));
  return { targets, provider, treeView, statusBar };
}
