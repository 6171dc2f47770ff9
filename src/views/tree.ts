/**
 * The one tree model of Syncord's views. Every tree (Coordination, Targets, Sessions) is a `TreeModel` of
 * `ViewNode`s: stable ids, a parent, the texts and icon a row shows, the `contextValue` the menus of
 * package.json match, and what a click runs. The extension maps a node to a TreeItem in one place
 * (src/extension/treeItem.ts); nothing here knows the editor's API.
 */

/** A theme icon id (`pass-filled`) and a theme colour id (`charts.green`), both resolved by the editor. */
export interface NodeIcon {
  id: string;
  color?: string;
}

export type Collapsible = 'none' | 'collapsed' | 'expanded';

/** What a click on a row runs: a command given the node itself, a file to open, or nothing. */
export interface NodeClick {
  command: string;
  title: string;
  with: 'node' | 'nothing' | { file: string };
}

export interface ViewNode {
  /** Stable across rebuilds: the same record keeps the same id, so expansion and selection survive. */
  id: string;
  /** What the node stands for, within its tree (`task`, `target`, `session`, …). */
  kind: string;
  parentId?: string;
  label: string;
  description?: string;
  /** Plain text (file content is never read as Markdown); a function is called only when the editor asks (on hover). */
  tooltip?: string | (() => string);
  icon?: NodeIcon;
  /** Matched by the `view/item/context` menus of package.json (see ids.ts). */
  contextValue: string;
  collapsible: Collapsible;
  click?: NodeClick;
  /** The file the row stands for (the editor decorates it and may open it). */
  resource?: string;
}

/** A tree of nodes, indexed by id. */
export class TreeModel<N extends ViewNode = ViewNode> {
  readonly roots: N[] = [];
  private readonly byId = new Map<string, N>();
  private readonly kids = new Map<string, N[]>();

  /**
   * Adds a node under its `parentId` (a root without one). A repeated id (hand-edited files can repeat one)
   * gets `#2`, `#3`… so the editor does not refuse to render the tree; the node's id is updated in place.
   */
  add(node: N): N {
    let id = node.id;
    for (let n = 2; this.byId.has(id); n++) id = `${node.id}#${n}`;
    node.id = id;
    this.byId.set(id, node);
    if (node.parentId === undefined) this.roots.push(node);
    else {
      let list = this.kids.get(node.parentId);
      if (!list) this.kids.set(node.parentId, (list = []));
      list.push(node);
    }
    return node;
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): N | undefined {
    return this.byId.get(id);
  }

  children(id: string): N[] {
    return this.kids.get(id) ?? [];
  }

  parent(id: string): N | undefined {
    const p = this.byId.get(id)?.parentId;
    return p === undefined ? undefined : this.byId.get(p);
  }

  /** Every node, depth first. */
  all(): N[] {
    const out: N[] = [];
    const visit = (n: N) => {
      out.push(n);
      for (const c of this.children(n.id)) visit(c);
    };
    for (const r of this.roots) visit(r);
    return out;
  }
}

/** What the editor renders for one node, with its children's ids: equal keys mean the row looks the same. */
export function nodeRenderKey(tree: TreeModel, node: ViewNode): string {
  // A tooltip built on hover (a function) drops out: it is not part of the row.
  return JSON.stringify([node, tree.children(node.id).map((c) => c.id)]);
}

/**
 * The nodes of `next` whose row or children differ from `prev` (a node whose children were added, removed or
 * reordered counts as changed; descendants of a changed node are left out, as redrawing it redraws them).
 * `all` when the top-level rows differ.
 */
export function changedNodes<N extends ViewNode>(prev: TreeModel<N>, next: TreeModel<N>): { all: boolean; nodes: N[] } {
  const ids = (l: N[]) => l.map((n) => n.id).join('\0');
  if (ids(prev.roots) !== ids(next.roots)) return { all: true, nodes: [] };
  const out: N[] = [];
  const visit = (n: N) => {
    const old = prev.get(n.id);
    if (!old || nodeRenderKey(prev, old) !== nodeRenderKey(next, n)) {
      out.push(n);
      return;
    }
    for (const c of next.children(n.id)) visit(c);
  };
  for (const r of next.roots) visit(r);
  return { all: false, nodes: out };
}
