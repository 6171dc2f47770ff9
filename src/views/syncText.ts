/**
 * What the editor tells the user about a sync and a verify: the confirmation of a sync plan (one line, a
 * detail per component and a Markdown preview), the result of a sync, and one line about a verification.
 */
import type { SyncPlan, SyncResult } from '../core/targets/sync';
import type { VerifyResult } from '../core/targets/verify';
import { plural } from './text';

/** "1 file to add, 3 to update, 1 to merge with the target's edits, 1 config file to merge": the counts that are not zero. */
function fileCounts(adds: number, updates: number, deletes: number, configs: number, merges = 0): string {
  const parts: string[] = [];
  for (const [n, verb] of [[adds, 'add'], [updates, 'update'], [merges, "merge with the target's edits"], [deletes, 'delete']] as const) {
    if (n) parts.push(`${parts.length ? n : plural(n, 'file')} to ${verb}`);
  }
  if (configs) parts.push(`${plural(configs, 'config file')} to merge`);
  return parts.join(', ');
}

/** "2 target edits kept, 1 conflict left untouched": what a sync leaves alone, when anything. */
function leftAlone(kept: number, conflicts: number): string {
  const parts: string[] = [];
  if (kept) parts.push(`${plural(kept, 'file')} with the target's own edits kept`);
  if (conflicts) parts.push(`${plural(conflicts, 'conflict')} left untouched until you choose`);
  return parts.join(', ');
}

/** What the confirmation of a sync shows: a one-line summary, a detail per component, and a Markdown preview. */
export function describePlan(plan: SyncPlan): { empty: boolean; summary: string; detail: string; markdown: string } {
  const { adds, updates, deletes, configs } = plan.totals;
  const merges = plan.totals.merges ?? 0;
  const conflicts = plan.totals.conflicts ?? 0;
  const kept = plan.totals.kept ?? 0;
  const empty = adds + updates + deletes + merges + configs === 0 && plan.components.every((c) => !c.retime.length);
  const alone = leftAlone(kept, conflicts);
  const summary = empty
    ? conflicts
      ? `${plan.target} has nothing to copy, delete or merge; ${plural(conflicts, 'conflict')} ${conflicts === 1 ? 'needs' : 'need'} your choice (Resolve Sync Conflicts).`
      : `${plan.target} is already up to date: nothing to copy, delete or merge.`
    : `Sync ${plan.target}? ${fileCounts(adds, updates, deletes, configs, merges)}${alone ? `; ${alone}` : ''}.`;
  const lines: string[] = [];
  for (const c of plan.components) {
    const does = fileCounts(c.adds.length, c.updates.length, c.deletes.length, 0, c.merges.length);
    const leaves = leftAlone(c.kept.length, c.conflicts.length);
    if (!does && !leaves) continue;
    lines.push(`${c.name}: ${[does, leaves].filter(Boolean).join('; ')}`);
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
    list("Merge with the target's edits", c.merges);
    list('Delete', c.deletes);
    list("Kept: the target's own edits", c.kept);
    if (c.conflicts.length) {
      md.push(`**Conflicts: left untouched until you choose** (${c.conflicts.length})`, '');
      for (const x of c.conflicts.slice(0, 200)) md.push(`- \`${x.rel || c.destination}\`: ${x.detail}`);
      if (c.conflicts.length > 200) md.push(`- … and ${c.conflicts.length - 200} more`);
      md.push('');
    }
    if (!c.adds.length && !c.updates.length && !c.deletes.length && !c.merges.length && !c.kept.length && !c.conflicts.length) md.push(c.unchanged ? `No changes (${plural(c.unchanged, 'file')} unchanged).` : 'No changes.', '');
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
export function describeSyncResult(r: SyncResult): { ok: boolean; message: string; backupId?: string; conflicts: number } {
  const did = `${plural(r.written, 'file')} written, ${r.deleted} deleted, ${plural(r.configsWritten, 'config file')} merged`;
  const conflicts = r.conflicts?.length ?? 0;
  if (r.ok && conflicts) return { ok: true, message: `Synced ${r.target}, ${plural(conflicts, 'conflict')} left untouched: ${did}.`, conflicts };
  if (r.ok) return { ok: true, message: `Synced ${r.target}: ${did}.`, conflicts: 0 };
  const what = r.cancelled ? 'was cancelled' : `failed: ${r.error ?? 'unknown error'}`;
  const undo = r.backup ? ` Backup ${r.backup.id} restores the target as it was before.` : ' Nothing had been written yet.';
  return { ok: false, message: `Sync of ${r.target} ${what}. Done so far: ${did}.${undo}`, backupId: r.backup?.id, conflicts };
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

