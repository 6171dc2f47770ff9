/**
 * What the editor says and offers about a sync conflict: the choices of the quick pick, the labels of VS Code's
 * merge editor, whether a merged text is finished, and what the user is told once a conflict is settled. Plain
 * values in and out (no `vscode`).
 */
import type { ConflictReason, Resolution } from '../core/targets/sync';
import { plural } from './text';

/** How the user settles one conflict: in the merge editor, or by taking one side whole. */
export type ConflictChoice = 'merge' | Resolution;

/** What is known of one conflicting file when the user is asked about it. */
export interface ConflictFacts {
  /** Path in the target, relative to its root. */
  path: string;
  reason: ConflictReason;
  /** Why it is a conflict, in words (from the core). */
  detail: string;
  /** Whether the main project has the file (false: it deleted it, or never had it). */
  hasSource: boolean;
  /** Whether every version present is text a line merge can handle. */
  text: boolean;
}

export interface ConflictChoiceItem {
  choice: ConflictChoice;
  label: string;
  description: string;
}

/**
 * The choices for one conflict. The merge editor needs the main project's version and text on every side; a
 * file the main project does not have is settled by deleting the target's copy or keeping it.
 */
export function conflictChoices(f: ConflictFacts): ConflictChoiceItem[] {
  const items: ConflictChoiceItem[] = [];
  if (f.hasSource && f.text) {
    items.push({ choice: 'merge', label: 'Open in Merge Editor', description: "the main project's version and the target's copy side by side, from the last sync's" });
  }
  items.push(
    f.hasSource
      ? { choice: 'take-source', label: "Take the Main Project's Version", description: "the target's copy is replaced (it is backed up first)" }
      : { choice: 'take-source', label: "Take the Main Project's Version", description: "the main project has no such file: the target's copy is deleted (it is backed up first)" },
    { choice: 'keep-target', label: "Keep the Target's Copy", description: 'the target keeps it as it is; the next sync leaves it alone' },
  );
  return items;
}

/** The title of the quick pick for conflict `index` (0-based) of `count`. */
export function conflictPickTitle(target: string, f: ConflictFacts, index: number, count: number): string {
  const of = count > 1 ? ` (${index + 1} of ${count})` : '';
  return `Syncord: ${f.path} in ${target}${of}: ${f.detail}`;
}

/** A labelled side of the merge editor (`_open.mergeEditor`'s `input1` / `input2` without the URI). */
export interface MergeSideLabel {
  title: string;
  description: string;
  detail: string;
}

/**
 * The labels of the merge editor for one conflict: the main project's version on the left, the target's copy on
 * the right; the base is what the last sync wrote. Without a known base the base is empty, and the folder its
 * document is shown in says so (`baseNote`), as do both sides' details.
 */
export function mergeEditorLabels(target: string, targetPath: string, sourcePath: string, hasBase: boolean): { input1: MergeSideLabel; input2: MergeSideLabel; baseNote: string } {
  const detail = hasBase ? 'changed since the last sync' : 'no version from the last sync is known: the base is empty';
  return {
    input1: { title: 'Main project', description: sourcePath, detail },
    input2: { title: 'Target', description: `${target}: ${targetPath}`, detail },
    baseNote: hasBase ? 'Base (as last synced)' : 'Base (none known, empty)',
  };
}

/** Whether a text still holds conflict markers (`<<<<<<<` or `>>>>>>>` at the start of a line). */
export function hasConflictMarkers(text: string): boolean {
  return /^(<{7}|>{7})(?:[ \t]|\r?$)/m.test(text);
}

/** What the user is told when a conflict is settled. */
export function describeSettled(target: string, targetPath: string, how: ConflictChoice, deleted = false): string {
  const what =
    how === 'merge'
      ? 'the merged text is written to the target'
      : how === 'take-source'
        ? deleted
          ? "the target's copy is deleted, as in the main project"
          : "the main project's version is written to the target"
        : "the target's copy is kept";
  return `Settled ${targetPath} in ${target}: ${what}; the next sync takes the main project's version as the starting point.`;
}

/** What the user is told when a merged text still holds conflict markers (nothing is written). */
export function describeUnfinishedMerge(targetPath: string, scratch: string): string {
  return `${targetPath}: the merged text still has conflict markers (<<<<<<< or >>>>>>>); nothing was written to the target. Finish the merge and save again (the text is kept in ${scratch}).`;
}

/** One line about the conflicts a command leaves for later. */
export function describeOpenMerges(target: string, opened: number, settled: number, left: number): string {
  const parts: string[] = [];
  if (settled) parts.push(`${plural(settled, 'conflict')} settled`);
  if (opened) parts.push(`${plural(opened, 'merge editor')} open (complete the merge to write it to the target)`);
  if (left) parts.push(`${plural(left, 'conflict')} left for later`);
  return `${target}: ${parts.join(', ') || 'nothing changed'}.`;
}
