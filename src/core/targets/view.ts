/**
 * View models of the targets: the Targets tree (targets, their pending changes, components, backups and last
 * verification), the status-bar text, and the texts that describe a sync plan, a sync result and a verify
 * result. Pure functions over plain values, so unit tests cover them without an editor; the extension maps the
 * nodes to TreeItems.
 */
import type { BackupSummary } from './backup';
import type { ChangedFile } from './detect';
import type { ResolvedTarget } from './registry';
import type { SyncPlan, SyncResult } from './sync';
import type { TargetStatus } from './status';
import { Priority, PRIORITIES, SyncRules } from './schema';
import type { VerifyProblem, VerifyResult } from './verify';

/** The status a target shows: computed from the main project's history, the registry and the last verify. */
export type DisplayStatus = 'synchronized' | 'needs_sync' | 'verify_failed' | 'sync_failed' | 'missing' | 'unknown';

export const STATUS_LABEL: Record<DisplayStatus, string> = {
  synchronized: 'synchronized',
  needs_sync: 'needs sync',
  verify_failed: 'verify failed',
  sync_failed: 'sync failed',
  missing: 'folder missing',
  unknown: 'status unknown',
};

/** Theme icon ids and theme colour ids (both resolved by the editor). */
export interface NodeIcon {
  id: string;
  color?: string;
}

const STATUS_ICON: Record<DisplayStatus, NodeIcon> = {
  synchronized: { id: 'pass-filled', color: 'testing.iconPassed' },
  // Not the sync icon: the row's inline Sync action shows that one beside it.
  needs_sync: { id: 'arrow-circle-down', color: 'editorWarning.foreground' },
  verify_failed: { id: 'error', color: 'testing.iconFailed' },
  sync_failed: { id: 'warning', color: 'editorError.foreground' },
  missing: { id: 'question', color: 'editorError.foreground' },
  unknown: { id: 'circle-outline' },
};

/** `contextValue` of the nodes, matched by the `view/item/context` menus of package.json. */
export const TargetContext = {
  /** Followed by `:<status>`: `syncord.target:needs_sync`. */
  target: 'syncord.target',
  changes: 'syncord.target.changes',
  category: 'syncord.target.category',
  changedFile: 'syncord.target.changedFile',
  components: 'syncord.target.components',
  component: 'syncord.target.component',
  config: 'syncord.target.config',
  backups: 'syncord.target.backups',
  backup: 'syncord.target.backup',
  checks: 'syncord.target.checks',
  /** Followed by `.pass`, `.fail` or `.skipped`. */
  check: 'syncord.target.check',
  problem: 'syncord.target.problem',
  info: 'syncord.target.info',
  error: 'syncord.target.error',
} as const;

export type NodeKind =
  | 'target'
  | 'changes'
  | 'category'
  | 'changedFile'
  | 'components'
  | 'component'
  | 'backups'
  | 'backup'
  | 'checks'
  | 'check'
  | 'problem'
  | 'info'
  | 'error';

export interface ViewNode {
  /** Stable across rebuilds (built from names, not positions), so expansion and selection survive. */
  id: string;
  kind: NodeKind;
  parentId?: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon?: NodeIcon;
  contextValue: string;
  collapsible: 'none' | 'collapsed' | 'expanded';
  /** The target the node belongs to (absent only for workspace-level error nodes). */
  target?: string;
  component?: string;
  backupId?: string;
  /** A file to open when the node is clicked, with an optional 1-based position. */
  location?: { file: string; line?: number; column?: number };
}

/** What the model knows about one target. */
export interface TargetInfo {
  target: ResolvedTarget;
  /** Computed status; absent when it could not be computed (restricted mode, or an error). */
  status?: TargetStatus;
  /** Why the status is absent. */
  statusNote?: string;
  components: { name: string; kind: 'component' | 'config'; mode?: string; destination: string; source: string }[];
  backups: BackupSummary[];
  backupsError?: string;
  verify?: { result: VerifyResult; at: string };
}

export interface TargetsSnapshot {
  /** The registry's file, for the error node and for "open". */
  registryFile: string;
  /** Whether the registry file exists (the view shows its welcome content when there are no targets). */
  registryExists: boolean;
  targets: TargetInfo[];
  rules?: SyncRules;
  /** Registry or rules that cannot be read: message and position. */
  errors: { message: string; file: string; line?: number; column?: number }[];
}

/**
 * The status shown for a target. A computed status is shown as `syncord sync status` prints it (the core
 * already counts a `needs_sync` written by a restore); without one (Restricted Mode, an error) the status
 * recorded in targets.json shows. A failed last verify wins over "synchronized" until the next verify or sync.
 */
export function displayStatus(info: TargetInfo): DisplayStatus {
  const s = info.status;
  if (s?.status === 'missing') return 'missing';
  if (s?.status === 'sync_failed' || (!s && info.target.status === 'sync_failed')) return 'sync_failed';
  if (info.verify && !info.verify.result.passed) return 'verify_failed';
  if (s) return s.status === 'needs_sync' ? 'needs_sync' : 'synchronized';
  if (info.target.status === 'needs_sync') return 'needs_sync';
  if (info.target.status === 'synchronized') return 'synchronized';
  return 'unknown';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now", "5 minutes ago", "yesterday", "3 days ago", "2 months ago", "in 2 hours" (clock skew). */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = now - t;
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (d < 0) {
    const a = -d;
    if (a < MINUTE) return 'just now';
    if (a < HOUR) return `in ${plural(Math.round(a / MINUTE), 'minute')}`;
    if (a < DAY) return `in ${plural(Math.round(a / HOUR), 'hour')}`;
    return `in ${plural(Math.round(a / DAY), 'day')}`;
  }
  if (d < MINUTE) return 'just now';
  if (d < HOUR) return `${plural(Math.floor(d / MINUTE), 'minute')} ago`;
  if (d < DAY) return `${plural(Math.floor(d / HOUR), 'hour')} ago`;
  if (d < 2 * DAY) return 'yesterday';
  if (d < 30 * DAY) return `${Math.floor(d / DAY)} days ago`;
  if (d < 365 * DAY) return `${plural(Math.floor(d / (30 * DAY)), 'month')} ago`;
  return `${plural(Math.floor(d / (365 * DAY)), 'year')} ago`;
}

const CHANGE_WORD: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type changed', U: 'unmerged', '?': 'untracked' };

export interface PendingCategory {
  category: string;
  priority: Priority | 'other';
  description?: string;
  files: ChangedFile[];
}

/** A target's pending changes grouped by category, highest priority first; files outside every category last. */
export function pendingByCategory(changes: ChangedFile[], rules: SyncRules | undefined): PendingCategory[] {
  const map = new Map<string, PendingCategory>();
  const other: ChangedFile[] = [];
  for (const f of changes) {
    const cats = f.categories.filter((c) => rules?.categories[c]);
    if (!cats.length) other.push(f);
    for (const c of cats) {
      let g = map.get(c);
      if (!g) {
        const rule = rules!.categories[c];
        g = { category: c, priority: rule.priority, files: [] };
        if (rule.description) g.description = rule.description;
        map.set(c, g);
      }
      g.files.push(f);
    }
  }
  const rank = (p: PendingCategory['priority']) => (p === 'other' ? PRIORITIES.length : PRIORITIES.indexOf(p));
  const out = [...map.values()].sort((a, b) => rank(a.priority) - rank(b.priority) || a.category.localeCompare(b.category));
  if (other.length) out.push({ category: 'other', priority: 'other', description: 'Component sources outside every category', files: other });
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The tree of the Targets view, indexed by node id. */
export class TreeModel {
  readonly roots: ViewNode[] = [];
  private readonly byId = new Map<string, ViewNode>();
  private readonly kids = new Map<string, ViewNode[]>();

  add(node: ViewNode): ViewNode {
    this.byId.set(node.id, node);
    if (node.parentId === undefined) this.roots.push(node);
    else {
      let list = this.kids.get(node.parentId);
      if (!list) this.kids.set(node.parentId, (list = []));
      list.push(node);
    }
    return node;
  }

  get(id: string): ViewNode | undefined {
    return this.byId.get(id);
  }

  children(id: string): ViewNode[] {
    return this.kids.get(id) ?? [];
  }

  parent(id: string): ViewNode | undefined {
    const p = this.byId.get(id)?.parentId;
    return p === undefined ? undefined : this.byId.get(p);
  }

  /** Every node, depth first. */
  all(): ViewNode[] {
    const out: ViewNode[] = [];
    const visit = (n: ViewNode) => {
      out.push(n);
      for (const c of this.children(n.id)) visit(c);
    };
    for (const r of this.roots) visit(r);
    return out;
  }
}

export const targetNodeId = (name: string) => `target:${name}`;

/** Builds the Targets tree. `now` (ms since the epoch) anchors relative times; `busy` names targets being worked on. */
export function buildTree(snap: TargetsSnapshot, now: number, busy: ReadonlyMap<string, string> = new Map()): TreeModel {
  const tree = new TreeModel();
  snap.errors.forEach((e, i) => {
    tree.add({
      id: `error:${i}:${e.file}`,
      kind: 'error',
      label: e.message,
      description: `${e.file.split(/[\\/]/).pop()}${e.line ? `:${e.line}` : ''}`,
      tooltip: `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ''}` : ''}\n${e.message}`,
      icon: { id: 'error', color: 'errorForeground' },
      contextValue: TargetContext.error,
      collapsible: 'none',
      location: { file: e.file, line: e.line, column: e.column },
    });
  });
  for (const info of snap.targets) addTarget(tree, snap, info, now, busy.get(info.target.name));
  return tree;
}

function addTarget(tree: TreeModel, snap: TargetsSnapshot, info: TargetInfo, now: number, busy: string | undefined): void {
  const t = info.target;
  const status = displayStatus(info);
  const id = targetNodeId(t.name);
  const parts = [STATUS_LABEL[status], t.type, t.last_sync ? `synced ${relativeTime(t.last_sync, now)}` : 'never synced'];
  if (t.sync_version) parts.push(t.sync_version);
  const tip = [
    `${t.name} (${t.type})`,
    `Folder: ${t.absPath}`,
    `Status: ${STATUS_LABEL[status]}${info.status?.reason ? ` — ${info.status.reason}` : info.statusNote ? ` — ${info.statusNote}` : ''}`,
    `Last sync: ${t.last_sync ?? 'never'}${t.sync_version ? ` (${t.sync_version})` : ''}`,
  ];
  if (info.verify) tip.push(`Last verify: ${info.verify.result.passed ? 'passed' : 'failed'} ${relativeTime(info.verify.at, now)}`);
  if (busy) tip.unshift(`${busy}…`);
  tree.add({
    id,
    kind: 'target',
    label: t.name,
    description: busy ? `${busy}… · ${parts.slice(1).join(' · ')}` : parts.join(' · '),
    tooltip: tip.join('\n'),
    icon: busy ? { id: 'sync~spin' } : STATUS_ICON[status],
    contextValue: `${TargetContext.target}:${status}`,
    collapsible: 'collapsed',
    target: t.name,
    location: { file: t.absPath },
  });

  // Pending changes, by category, highest priority first.
  const changesId = `${id}/changes`;
  const pending = info.status ? pendingByCategory(info.status.changes, snap.rules) : [];
  const fileCount = info.status?.changes.length ?? 0;
  tree.add({
    id: changesId,
    parentId: id,
    kind: 'changes',
    label: 'Pending changes',
    description: info.status
      ? fileCount
        ? `${plural(fileCount, 'file')} · ${plural(pending.length, 'category', 'categories')}`
        : status === 'needs_sync'
          ? info.status.since
            ? 'none new; marked needs sync'
            : info.status.reason
          : 'none'
      : (info.statusNote ?? 'unknown'),
    tooltip: info.status?.reason ?? info.statusNote,
    icon: { id: 'git-compare' },
    contextValue: TargetContext.changes,
    collapsible: pending.length ? 'collapsed' : 'none',
    target: t.name,
  });
  for (const g of pending) {
    const gid = `${changesId}/${g.category}`;
    tree.add({
      id: gid,
      parentId: changesId,
      kind: 'category',
      label: g.category,
      description: `${g.priority === 'other' ? 'no category' : `${g.priority} priority`} · ${plural(g.files.length, 'file')}`,
      tooltip: g.description,
      icon: { id: g.priority === 'critical' || g.priority === 'high' ? 'arrow-up' : g.priority === 'medium' ? 'dash' : 'arrow-down' },
      contextValue: TargetContext.category,
      collapsible: 'collapsed',
      target: t.name,
    });
    for (const f of g.files) {
      tree.add({
        id: `${gid}/${f.path}`,
        parentId: gid,
        kind: 'changedFile',
        label: f.path,
        description: f.oldPath ? `${CHANGE_WORD[f.status] ?? f.status} from ${f.oldPath}` : (CHANGE_WORD[f.status] ?? f.status),
        icon: { id: f.status === 'D' ? 'diff-removed' : f.status === 'A' || f.status === '?' ? 'diff-added' : f.status === 'R' ? 'diff-renamed' : 'diff-modified' },
        contextValue: TargetContext.changedFile,
        collapsible: 'none',
        target: t.name,
      });
    }
  }

  // Components.
  const compsId = `${id}/components`;
  tree.add({
    id: compsId,
    parentId: id,
    kind: 'components',
    label: 'Components',
    description: String(info.components.length),
    icon: { id: 'package' },
    contextValue: TargetContext.components,
    collapsible: info.components.length ? 'collapsed' : 'none',
    target: t.name,
  });
  for (const c of info.components) {
    tree.add({
      id: `${compsId}/${c.name}`,
      parentId: compsId,
      kind: 'component',
      label: c.name,
      description: c.kind === 'config' ? `config merge → ${c.destination}` : `${c.mode} → ${c.destination}`,
      tooltip: `${c.source} → ${c.destination}${c.kind === 'config' ? ' (merged key by key)' : c.mode === 'mirror' ? ' (exact copy)' : ' (add and overwrite only)'}`,
      icon: { id: c.kind === 'config' ? 'settings-gear' : c.source.endsWith('/') ? 'folder' : 'file' },
      contextValue: c.kind === 'config' ? TargetContext.config : TargetContext.component,
      collapsible: 'none',
      target: t.name,
      component: c.name,
      location: { file: joinPath(t.absPath, c.destination) },
    });
  }

  // Backups, newest first.
  const backupsId = `${id}/backups`;
  tree.add({
    id: backupsId,
    parentId: id,
    kind: 'backups',
    label: 'Backups',
    description: info.backupsError ? 'cannot be read' : String(info.backups.length),
    tooltip: info.backupsError,
    icon: { id: 'archive' },
    contextValue: TargetContext.backups,
    collapsible: info.backups.length ? 'collapsed' : 'none',
    target: t.name,
  });
  for (const b of info.backups) {
    tree.add({
      id: `${backupsId}/${b.id}`,
      parentId: backupsId,
      kind: 'backup',
      label: relativeTime(b.created, now),
      description: `${b.reason}${b.partial ? ' (partial)' : ''} · ${plural(b.files, 'file')} · ${b.components.join(', ') || 'empty'}`,
      tooltip: `Backup ${b.id}\nTaken ${b.created} (${b.reason})\n${plural(b.files, 'file')}, ${b.bytes} bytes; ${plural(b.newObjects, 'new object')} (${b.newBytes} bytes)`,
      icon: { id: 'history' },
      contextValue: TargetContext.backup,
      collapsible: 'none',
      target: t.name,
      backupId: b.id,
    });
  }

  // The last verification, when one ran.
  if (info.verify) {
    const r = info.verify.result;
    const checksId = `${id}/checks`;
    const failed = r.checks.filter((c) => c.status === 'fail').length;
    tree.add({
      id: checksId,
      parentId: id,
      kind: 'checks',
      label: 'Last verify',
      description: `${r.passed ? 'passed' : `failed (${failed} of ${r.checks.length} checks)`} · ${relativeTime(info.verify.at, now)}`,
      icon: r.passed ? { id: 'pass', color: 'testing.iconPassed' } : { id: 'error', color: 'testing.iconFailed' },
      contextValue: TargetContext.checks,
      collapsible: r.passed ? 'collapsed' : 'expanded',
      target: t.name,
    });
    for (const c of r.checks) {
      const cid = `${checksId}/${c.name}`;
      tree.add({
        id: cid,
        parentId: checksId,
        kind: 'check',
        label: c.name,
        description: `${c.status} · ${c.detail}`,
        tooltip: c.command ? `${c.command.command}\n\n${c.command.output.slice(-2000)}` : c.detail,
        icon: c.status === 'pass' ? { id: 'pass', color: 'testing.iconPassed' } : c.status === 'fail' ? { id: 'error', color: 'testing.iconFailed' } : { id: 'circle-slash' },
        contextValue: `${TargetContext.check}.${c.status}`,
        collapsible: c.problems.length ? (c.status === 'fail' ? 'expanded' : 'collapsed') : 'none',
        target: t.name,
        location: c.command?.logFile ? { file: c.command.logFile } : undefined,
      });
      c.problems.forEach((p, i) => {
        tree.add({
          id: `${cid}/${i}:${p.file}:${p.line ?? 0}`,
          parentId: cid,
          kind: 'problem',
          label: p.message,
          description: `${relativeTo(p.file, t.absPath)}${p.line ? `:${p.line}` : ''}`,
          tooltip: `${p.file}${p.line ? `:${p.line}${p.column ? `:${p.column}` : ''}` : ''}\n${p.message}`,
          icon: { id: 'warning', color: 'editorWarning.foreground' },
          contextValue: TargetContext.problem,
          collapsible: 'none',
          target: t.name,
          location: { file: p.file, line: p.line, column: p.column },
        });
      });
    }
  }
}

function joinPath(base: string, rel: string): string {
  const sep = base.includes('\\') && !base.includes('/') ? '\\' : '/';
  return base.replace(/[\\/]+$/, '') + sep + rel;
}

function relativeTo(file: string, root: string): string {
  const r = root.replace(/[\\/]+$/, '');
  return file.startsWith(r + '/') || file.startsWith(r + '\\') ? file.slice(r.length + 1) : file;
}

/**
 * A fingerprint of everything a snapshot shows: equal fingerprints mean a recomputation found nothing new,
 * so the view need not redraw. (The snapshot holds plain data read from files and git; JSON is cheap.)
 */
export function snapshotFingerprint(snap: TargetsSnapshot | undefined): string {
  return snap ? JSON.stringify(snap) : '';
}

/** What the editor renders for one node, with its children's ids: equal keys mean the row looks the same. */
export function nodeRenderKey(tree: TreeModel, node: ViewNode): string {
  return JSON.stringify([node, tree.children(node.id).map((c) => c.id)]);
}

/**
 * The nodes of `next` whose row or children differ from `prev` (a node whose children were added, removed or
 * reordered counts as changed; descendants of a changed node are left out, as redrawing it redraws them).
 * `all` when the top-level rows differ.
 */
export function changedNodes(prev: TreeModel, next: TreeModel): { all: boolean; nodes: ViewNode[] } {
  const ids = (l: ViewNode[]) => l.map((n) => n.id).join('\0');
  if (ids(prev.roots) !== ids(next.roots)) return { all: true, nodes: [] };
  const out: ViewNode[] = [];
  const visit = (n: ViewNode) => {
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

export interface StatusBarView {
  /** Hidden when nothing is registered. */
  visible: boolean;
  text: string;
  tooltip: string;
}

/** The status-bar item: `$(sync) 2 targets need sync`, `$(check) targets in sync`, `$(sync~spin)` while syncing. */
export function statusBarView(snap: TargetsSnapshot | undefined, busy: ReadonlyMap<string, string> = new Map()): StatusBarView {
  if (!snap || !snap.targets.length) {
    if (busy.size) return { visible: true, text: '$(sync~spin) Syncing…', tooltip: 'Syncord is working on targets' };
    return { visible: false, text: '', tooltip: '' };
  }
  const by = new Map<DisplayStatus, string[]>();
  for (const info of snap.targets) {
    const s = displayStatus(info);
    by.set(s, [...(by.get(s) ?? []), info.target.name]);
  }
  const lines = snap.targets.map((i) => `${i.target.name}: ${STATUS_LABEL[displayStatus(i)]}`);
  const click = 'Click to sync all targets or pick one';
  if (busy.size) {
    const [name, what] = [...busy.entries()][0];
    const more = busy.size > 1 ? ` (+${busy.size - 1})` : '';
    return { visible: true, text: `$(sync~spin) ${what} ${name}…${more}`, tooltip: [...lines, '', click].join('\n') };
  }
  const need = by.get('needs_sync')?.length ?? 0;
  const bad = (by.get('verify_failed')?.length ?? 0) + (by.get('sync_failed')?.length ?? 0) + (by.get('missing')?.length ?? 0);
  let text: string;
  if (need) text = `$(sync) ${need} ${need === 1 ? 'target needs' : 'targets need'} sync`;
  else if (bad) text = `$(warning) ${bad} ${bad === 1 ? 'target has' : 'targets have'} problems`;
  else if (by.get('unknown')?.length) text = '$(question) target status unknown';
  else text = '$(check) targets in sync';
  if (need && bad) text += ` $(warning) ${bad}`;
  const notComputed = snap.targets.filter((i) => !i.status);
  if (notComputed.length) {
    text += ' (as recorded)';
    lines.push('', `Statuses as written in targets.json: ${notComputed[0].statusNote ?? 'not computed'}`);
  }
  return { visible: true, text, tooltip: [...lines, '', click].join('\n') };
}

/** "1 file to add, 3 to update, 1 config file to merge": the counts that are not zero. */
function fileCounts(adds: number, updates: number, deletes: number, configs: number): string {
  const parts: string[] = [];
  for (const [n, verb] of [[adds, 'add'], [updates, 'update'], [deletes, 'delete']] as const) {
    if (n) parts.push(`${parts.length ? n : plural(n, 'file')} to ${verb}`);
  }
  if (configs) parts.push(`${plural(configs, 'config file')} to merge`);
  return parts.join(', ');
}

/** What the confirmation of a sync shows: a one-line summary, a detail per component, and a Markdown preview. */
export function describePlan(plan: SyncPlan): { empty: boolean; summary: string; detail: string; markdown: string } {
  const { adds, updates, deletes, configs } = plan.totals;
  const empty = adds + updates + deletes + configs === 0 && plan.components.every((c) => !c.retime.length);
  const summary = empty
    ? `${plan.target} is already up to date: nothing to copy, delete or merge.`
    : `Sync ${plan.target}? ${fileCounts(adds, updates, deletes, configs)}.`;
  const lines: string[] = [];
  for (const c of plan.components) {
    if (!c.adds.length && !c.updates.length && !c.deletes.length) continue;
    lines.push(`${c.name}: ${fileCounts(c.adds.length, c.updates.length, c.deletes.length, 0)}`);
  }
  for (const c of plan.configs) if (c.changed) lines.push(`${c.destination}: ${c.created ? 'to be created' : `${plural(c.changes.length, 'key')} to merge`}`);
  if (!empty) lines.push('', 'Everything the sync touches is backed up first. Show Plan lists every file.');
  const md: string[] = [`# Sync plan for ${plan.target}`, '', summary, ''];
  if (plan.commit) md.push(`Main project commit: \`${plan.commit.slice(0, 12)}\``, '');
  for (const c of plan.components) {
    md.push(`## ${c.name} (${c.mode}) → \`${c.destination}\``, '');
    if (c.note) md.push(`_${c.note}_`, '');
    const list = (title: string, items: string[]) => {
      if (!items.length) return;
      md.push(`**${title}** (${items.length})`, '');
      for (const i of items.slice(0, 200)) md.push(`- \`${i || c.destination}\``);
      if (items.length > 200) md.push(`- … and ${items.length - 200} more`);
      md.push('');
    };
    list('Add', c.adds);
    list('Update', c.updates);
    list('Delete', c.deletes);
    if (!c.adds.length && !c.updates.length && !c.deletes.length) md.push(`No changes (${c.unchanged} unchanged).`, '');
  }
  for (const c of plan.configs) {
    md.push(`## Config ${c.name} → \`${c.destination}\``, '');
    if (c.note) md.push(`_${c.note}_`, '');
    if (!c.changed) md.push('No changes.', '');
    else {
      for (const k of c.changes) md.push(`- \`${k.key}\`: ${k.action} (${k.strategy})`);
      md.push('', '```diff', c.diff.trimEnd(), '```', '');
    }
  }
  return { empty, summary, detail: lines.join('\n'), markdown: md.join('\n') };
}

/** What the user is told after a sync: a message, whether it is bad news, and the backup that undoes it. */
export function describeSyncResult(r: SyncResult): { ok: boolean; message: string; backupId?: string } {
  const did = `${plural(r.written, 'file')} written, ${r.deleted} deleted, ${plural(r.configsWritten, 'config file')} merged`;
  if (r.ok) return { ok: true, message: `Synced ${r.target}: ${did}.` };
  const what = r.cancelled ? 'was cancelled' : `failed: ${r.error ?? 'unknown error'}`;
  const undo = r.backup ? ` Backup ${r.backup.id} restores the target as it was before.` : ' Nothing had been written yet.';
  return { ok: false, message: `Sync of ${r.target} ${what}. Done so far: ${did}.${undo}`, backupId: r.backup?.id };
}

/** One line about a verification. */
export function describeVerify(r: VerifyResult): string {
  const failed = r.checks.filter((c) => c.status === 'fail');
  if (!failed.length) {
    const skipped = r.checks.filter((c) => c.status === 'skipped').length;
    return `Verify ${r.target}: passed (${plural(r.checks.length - skipped, 'check')}${skipped ? `, ${skipped} skipped` : ''}).`;
  }
  const problems = failed.reduce((a, c) => a + c.problems.length, 0);
  return `Verify ${r.target}: ${failed.length} of ${plural(r.checks.length, 'check')} failed (${failed.map((c) => c.name).join(', ')}); ${plural(problems, 'problem')}.`;
}

/** Problems that belong in the Problems panel: broken links and config files that do not parse. */
export function verifyProblems(r: VerifyResult): (VerifyProblem & { check: string })[] {
  const out: (VerifyProblem & { check: string })[] = [];
  for (const c of r.checks) {
    if (c.status !== 'fail') continue;
    if (c.name !== 'links' && !c.name.startsWith('config:')) continue;
    for (const p of c.problems) out.push({ ...p, check: c.name });
  }
  return out;
}

/** The components and config files of the rules that apply to a target type, as the tree lists them. */
export function componentsFor(rules: SyncRules, type: string): TargetInfo['components'] {
  const out: TargetInfo['components'] = [];
  for (const [name, c] of Object.entries(rules.components)) {
    const dest = (c.destination as Record<string, string | null | undefined>)[type];
    if (dest) out.push({ name, kind: 'component', mode: c.mode, source: c.source, destination: dest.replace(/\/+$/, '') });
  }
  for (const [name, c] of Object.entries(rules.config)) {
    const dest = (c.destination as Record<string, string | null | undefined>)[type];
    if (dest) out.push({ name, kind: 'config', source: c.source, destination: dest });
  }
  return out;
}
