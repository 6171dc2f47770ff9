/**
 * The Targets tree: targets, their pending changes, components, backups and last verification, built from the
 * core's read model (core/targets/overview.ts), and the status words each target shows. The extension only
 * adapts it to the editor.
 */
import type { WorkflowView } from '../core/agentsync/workflow';
import { DisplayStatus, displayStatus, pendingByCategory, TargetInfo, TargetsSnapshot, verifyIsCurrent } from '../core/targets/overview';
import { stepStateText, workflowProgressText } from './agentSync';
import { ClickCommand, ContextValue } from './ids';
import { clip, clipPath, DESCRIPTION_BUDGET, plural } from './text';
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

export type TargetNodeKind = 'target' | 'agents' | 'agentStep' | 'changes' | 'category' | 'changedFile' | 'components' | 'component' | 'backups' | 'backup' | 'checks' | 'check' | 'problem' | 'error';

/** A node of the Targets tree and what it belongs to. */
export interface TargetNode extends ViewNode {
  kind: TargetNodeKind;
  tooltip?: string;
  /** The target the node belongs to (absent only for workspace-level error nodes). */
  target?: string;
  component?: string;
  backupId?: string;
  /** For the agents' steps: the task of the step. */
  taskId?: string;
  /** For a pending file: its path in the target (relative to the target root). */
  targetPath?: string;
  /** A file the node points at, with an optional 1-based position. */
  location?: { file: string; line?: number; column?: number };
  /**
   * For a pending file the sync copies or deletes: the two sides of its diff, the target's copy on the left and the
   * main project's file on the right (absolute paths; a side that does not exist is absent and shows empty), and
   * the diff editor's title.
   */
  diff?: { targetFile?: string; sourceFile?: string; title: string };
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

/** The same, in a word or two: what a pending file's row says (the tooltip says it in full). */
const ACTION_SHORT: Record<string, string> = {
  add: 'add',
  update: 'update',
  merge: 'merge',
  delete: 'delete',
  conflict: 'conflict',
  config: 'config merge',
  changed: 'changed',
};

const CHANGE_WORD: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type changed', U: 'unmerged', '?': 'untracked' };

/** The first clause of a sentence ("never synced: the files already match" → "never synced"), cut to the budget. */
function firstClause(text: string): string {
  return clip(text.split(/[:;(]/)[0].trim() || text);
}

/** "word · dir", the folder cut from its start so the whole fits the budget; just "word" for a file at the root. */
function withFolder(word: string, dir: string): string {
  return dir ? `${word} · ${clipPath(dir, Math.max(8, DESCRIPTION_BUDGET - word.length - 3))}` : word;
}

function splitPath(p: string): { dir: string; base: string } {
  const i = p.lastIndexOf('/');
  return i < 0 ? { dir: '', base: p } : { dir: p.slice(0, i), base: p.slice(i + 1) };
}

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
  // What fits beside the name in a side bar of the default width: the status and the last sync; the rest is in the tooltip.
  const synced = t.last_sync ? `synced ${relativeTime(t.last_sync, now)}` : 'never synced';
  const tip = [
    `${t.name} (${t.type})`,
    `Folder: ${t.absPath}`,
    `Status: ${STATUS_LABEL[status]}${info.status?.reason ? ` — ${info.status.reason}` : info.statusNote ? ` — ${info.statusNote}` : ''}`,
    `Last sync: ${t.last_sync ?? 'never'}${t.sync_version ? ` (${t.sync_version})` : ''}`,
  ];
  if (info.verify) tip.push(`Last verify: ${info.verify.result.passed ? 'passed' : 'failed'} ${relativeTime(info.verify.at, now)}`);
  if (info.agents) tip.push(`Sync by agents ${info.agents.id}: ${workflowProgressText(info.agents)}`);
  if (busy) tip.unshift(`${busy}…`);
  tree.add({
    id,
    kind: 'target',
    label: t.name,
    description: busy ? `${busy}…` : `${STATUS_LABEL[status]} · ${synced}`,
    tooltip: tip.join('\n'),
    icon: busy ? { id: 'sync~spin' } : STATUS_ICON[status],
    contextValue: `${TargetContext.target}:${status}`,
    collapsible: 'collapsed',
    target: t.name,
    location: { file: t.absPath },
  });

  if (info.agents) addAgents(tree, id, t.name, info.agents, now);

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
          ? firstClause(info.status.reason)
          : 'none'
      : firstClause(info.statusNote ?? 'unknown'),
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
      const long = action ? ACTION_WORD[action] : f.oldPath ? `${CHANGE_WORD[f.status] ?? f.status} from ${f.oldPath}` : (CHANGE_WORD[f.status] ?? f.status);
      const short = action ? ACTION_SHORT[action] : (CHANGE_WORD[f.status] ?? f.status);
      const conflict = action === 'conflict';
      const targetPath = 'targetPath' in f && f.targetPath ? f.targetPath : undefined;
      const { dir, base } = splitPath(f.path);
      // A file the sync copies or deletes opens as a diff: the target's copy beside the main project's file.
      const diffable = !!file && !!targetPath && action !== undefined && action !== 'changed' && action !== 'config';
      const targetFile = targetPath ? joinPath(t.absPath, targetPath) : undefined;
      const diff: TargetNode['diff'] | undefined = diffable
        ? {
            targetFile: action === 'add' ? undefined : targetFile,
            sourceFile: action === 'delete' ? undefined : file,
            title:
              action === 'add'
                ? `${base}: not in ${t.name} yet ↔ main project`
                : action === 'delete'
                  ? `${base}: ${t.name} ↔ deleted in the main project`
                  : `${base}: ${t.name} ↔ main project`,
          }
        : undefined;
      const tip = [f.path, `${long}${'detail' in f && f.detail ? `: ${f.detail}` : ''}`];
      if (targetPath) tip.push(`In ${t.name}: ${targetPath}`);
      if (diff) tip.push('', `Click to compare ${t.name}'s copy with the main project's file`);
      else if (action === 'config') tip.push('', `Click to see what the sync merges into ${t.name}'s config`);
      tree.add({
        id: `${gid}/${f.path}`,
        parentId: gid,
        kind: 'changedFile',
        label: base,
        description: withFolder(short, dir),
        tooltip: tip.join('\n'),
        icon: conflict
          ? { id: 'git-merge', color: 'editorError.foreground' }
          : { id: f.status === 'D' ? 'diff-removed' : f.status === 'A' || f.status === '?' ? 'diff-added' : f.status === 'R' ? 'diff-renamed' : 'diff-modified' },
        contextValue: conflict ? TargetContext.conflictFile : TargetContext.changedFile,
        collapsible: 'none',
        target: t.name,
        ...(targetPath ? { targetPath } : {}),
        ...(diff ? { diff } : {}),
        ...(file && {
          resource: file,
          click: diff
            ? { command: ClickCommand.openPendingDiff, title: 'Open Changes', with: 'node' as const }
            : action === 'config'
              ? { command: ClickCommand.showConfigDiff, title: 'Show Config Diff', with: 'node' as const }
              : f.status === 'D'
                ? undefined
                : { command: ClickCommand.openFile, title: 'Open', with: { file } },
        }),
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
      description: withArrow(c.kind === 'config' ? 'config merge' : (c.mode ?? 'copy'), c.destination),
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
      description: `${b.reason}${b.partial ? ' (partial)' : ''} · ${plural(b.files, 'file')}`,
      tooltip: `Backup ${b.id}\nTaken ${b.created} (${b.reason})\nComponents: ${b.components.join(', ') || 'none'}\n${plural(b.files, 'file')}, ${b.bytes} bytes; ${plural(b.newObjects, 'new object')} (${b.newBytes} bytes)`,
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
      description: `${r.passed ? 'passed' : `${failed} of ${plural(r.checks.length, 'check')} failed`} · ${relativeTime(info.verify.at, now)}${verifyIsCurrent(info) ? '' : ' · outdated'}`,
      tooltip: [
        `Verified ${info.verify.at}: ${r.passed ? 'passed' : `${failed} of ${plural(r.checks.length, 'check')} failed`}`,
        ...(verifyIsCurrent(info) ? [] : ['Ran before the last sync: it counts neither in the status nor in the Problems panel.']),
      ].join('\n'),
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
        description: clip(`${c.status} · ${c.detail}`),
        tooltip: c.command ? `${c.status}: ${c.detail}\n${c.command.command}\n\n${c.command.output.slice(-2000)}` : `${c.status}: ${c.detail}`,
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
          description: clipPath(`${relativeTo(p.file, t.absPath)}${p.line ? `:${p.line}` : ''}`, DESCRIPTION_BUDGET),
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

/** "mirror → …/opencode/docs": a component's mode and where it goes, the folder cut from its start to fit. */
function withArrow(word: string, dest: string): string {
  return `${word} → ${clipPath(dest, Math.max(8, DESCRIPTION_BUDGET - word.length - 3))}`;
}

const STEP_ICON: Record<string, NodeIcon> = {
  completed: { id: 'pass', color: 'testing.iconPassed' },
  cancelled: { id: 'circle-slash' },
  active: { id: 'loading~spin' },
  blocked: { id: 'warning', color: 'editorWarning.foreground' },
  ready: { id: 'arrow-right' },
  waiting: { id: 'clock' },
};

/** The target's sync by agents: one row with its progress, and its steps under it (the open one expanded). */
function addAgents(tree: TargetsTree, parentId: string, target: string, w: WorkflowView, now: number): void {
  const agentsId = `${parentId}/agents`;
  const requested = w.requested ? ` ${relativeTime(w.requested, now)}` : '';
  tree.add({
    id: agentsId,
    parentId,
    kind: 'agents',
    label: 'Agents',
    description: `${w.id}: ${workflowProgressText(w)}`,
    tooltip: [
      `Sync by agents ${w.id}, requested${requested}${w.requested_by ? ` by ${w.requested_by}` : ''}`,
      `Changes ${w.since ? w.since.slice(0, 12) : 'from the beginning'}..${w.until ? w.until.slice(0, 12) : 'working tree'}: ${w.categories.map((c) => `${c.category} (${c.priority}) ${c.files}`).join(', ') || 'none categorized'}`,
      `Progress: ${workflowProgressText(w)}`,
    ].join('\n'),
    icon: w.state === 'done' ? { id: 'pass', color: 'testing.iconPassed' } : w.state === 'cancelled' ? { id: 'circle-slash' } : { id: 'organization' },
    contextValue: `${TargetContext.agents}.${w.state}`,
    collapsible: w.state === 'open' ? 'expanded' : 'collapsed',
    target,
  });
  for (const s of w.steps) {
    const icon =
      s.status === 'completed'
        ? STEP_ICON.completed
        : s.status === 'cancelled'
          ? STEP_ICON.cancelled
          : s.list === 'active_tasks'
            ? s.status === 'blocked'
              ? STEP_ICON.blocked
              : STEP_ICON.active
            : s.ready
              ? STEP_ICON.ready
              : STEP_ICON.waiting;
    tree.add({
      id: `${agentsId}/${s.task_id}`,
      parentId: agentsId,
      kind: 'agentStep',
      label: `${s.step}${s.round > 1 ? ` (round ${s.round})` : ''}`,
      description: `${s.task_id} · ${stepStateText(s)}`,
      tooltip: `${s.task_id}: ${s.title}\n${s.agent[0].toUpperCase()}${s.agent.slice(1)} agent · ${stepStateText(s)}`,
      icon,
      contextValue: TargetContext.agentStep,
      collapsible: 'none',
      target,
      taskId: s.task_id,
    });
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
