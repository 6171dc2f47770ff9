/**
 * The Targets tree: targets, their pending changes, components, backups and last verification, built from the
 * core's read model (core/targets/overview.ts), and the status words each target shows. The extension only
 * adapts it to the editor.
 */
import { DisplayStatus, displayStatus, pendingByCategory, TargetInfo, TargetsSnapshot, verifyIsCurrent } from '../core/targets/overview';
import { ClickCommand, ContextValue } from './ids';
import { plural } from './text';
import { relativeTime } from './time';
import { NodeIcon, TreeModel, ViewNode } from './tree';

const TargetContext = ContextValue.targets;

export const STATUS_LABEL: Record<DisplayStatus, string> = {
  synchronized: 'synchronized',
  needs_sync: 'needs sync',
  conflict: 'conflicts to settle',
  verify_failed: 'verify failed',
  sync_failed: 'sync failed',
  missing: 'folder missing',
  unknown: 'status unknown',
};

const STATUS_ICON: Record<DisplayStatus, NodeIcon> = {
  synchronized: { id: 'pass-filled', color: 'testing.iconPassed' },
  // Not the sync icon: the row's inline Sync action shows that one beside it.
  needs_sync: { id: 'arrow-circle-down', color: 'editorWarning.foreground' },
  conflict: { id: 'git-merge', color: 'editorError.foreground' },
  verify_failed: { id: 'error', color: 'testing.iconFailed' },
  sync_failed: { id: 'warning', color: 'editorError.foreground' },
  missing: { id: 'question', color: 'editorError.foreground' },
  unknown: { id: 'circle-outline' },
};

export type TargetNodeKind = 'target' | 'changes' | 'category' | 'changedFile' | 'components' | 'component' | 'backups' | 'backup' | 'checks' | 'check' | 'problem' | 'error';

/** A node of the Targets tree and what it belongs to. */
export interface TargetNode extends ViewNode {
  kind: TargetNodeKind;
  tooltip?: string;
  /** The target the node belongs to (absent only for workspace-level error nodes). */
  target?: string;
  component?: string;
  backupId?: string;
  /** For a pending file: its path in the target (relative to the target root). */
  targetPath?: string;
  /** A file the node points at, with an optional 1-based position. */
  location?: { file: string; line?: number; column?: number };
}

export type TargetsTree = TreeModel<TargetNode>;

/** What a sync would do to a pending file. */
const ACTION_WORD: Record<string, string> = {
  add: 'to add',
  update: 'to update',
  merge: "to merge with the target's edits",
  delete: 'to delete',
  conflict: 'conflict: needs your choice',
  config: 'config keys to merge',
  changed: 'changed since the last sync',
};

const CHANGE_WORD: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type changed', U: 'unmerged', '?': 'untracked' };

/** Problems, errors and check logs open at their file and position. */
const OPEN_LOCATION = { command: ClickCommand.openTargetLocation, title: 'Open', with: 'node' } as const;

export const targetNodeId = (name: string) => `target:${name}`;

/** Builds the Targets tree. `now` (ms since the epoch) anchors relative times; `busy` names targets being worked on. */
export function buildTree(snap: TargetsSnapshot, now: number, busy: ReadonlyMap<string, string> = new Map()): TargetsTree {
  const tree: TargetsTree = new TreeModel();
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
      click: OPEN_LOCATION,
      location: { file: e.file, line: e.line, column: e.column },
    });
  });
  for (const info of snap.targets) addTarget(tree, snap, info, now, busy.get(info.target.name));
  return tree;
}

function addTarget(tree: TargetsTree, snap: TargetsSnapshot, info: TargetInfo, now: number, busy: string | undefined): void {
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
          ? info.status.reason
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
      const file = snap.root ? joinPath(snap.root, f.path) : undefined;
      const action = 'action' in f ? f.action : undefined;
      const word = action ? ACTION_WORD[action] : f.oldPath ? `${CHANGE_WORD[f.status] ?? f.status} from ${f.oldPath}` : (CHANGE_WORD[f.status] ?? f.status);
      const conflict = action === 'conflict';
      tree.add({
        id: `${gid}/${f.path}`,
        parentId: gid,
        kind: 'changedFile',
        label: f.path,
        description: word,
        ...('detail' in f && f.detail ? { tooltip: `${f.path}: ${f.detail}` } : {}),
        icon: conflict
          ? { id: 'git-merge', color: 'editorError.foreground' }
          : { id: f.status === 'D' ? 'diff-removed' : f.status === 'A' || f.status === '?' ? 'diff-added' : f.status === 'R' ? 'diff-renamed' : 'diff-modified' },
        contextValue: conflict ? TargetContext.conflictFile : TargetContext.changedFile,
        collapsible: 'none',
        target: t.name,
        ...('targetPath' in f && f.targetPath ? { targetPath: f.targetPath } : {}),
        ...(file && { resource: file, click: f.status === 'D' ? undefined : { command: ClickCommand.openFile, title: 'Open', with: { file } } }),
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
      description: `${r.passed ? 'passed' : `failed (${failed} of ${r.checks.length} checks)`} · ${relativeTime(info.verify.at, now)}${verifyIsCurrent(info) ? '' : ' · before the last sync'}`,
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
        ...(c.command?.logFile && { click: OPEN_LOCATION, location: { file: c.command.logFile } }),
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
          click: OPEN_LOCATION,
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

/** The line above the Targets tree: in Restricted Mode, that statuses are as recorded. */
export function targetsTreeMessage(snap: TargetsSnapshot | undefined, trusted: boolean): string | undefined {
  return snap?.targets.length && !trusted ? 'Restricted Mode: statuses are as recorded; sync, detect and verify need a trusted workspace.' : undefined;
}
