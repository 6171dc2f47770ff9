/**
 * The status-bar items of Syncord: the coordination item (messages waiting for the user, coordination problems)
 * and the targets item (targets that need sync). The extension applies a view to its item in one place.
 */
import { unreadFor } from '../core/coordination/messages';
import type { CoordinationSnapshot } from '../core/coordination/snapshot';
import { DisplayStatus, displayStatus, TargetsSnapshot } from '../core/targets/overview';
import { STATUS_LABEL } from './targets';
import { plural } from './text';

/** What a status-bar item shows. */
export interface StatusBarView {
  /** Hidden when there is nothing to show. */
  visible: boolean;
  /** With `$(icon)` ids: `$(sync) 2 targets need sync`. */
  text: string;
  tooltip: string;
  /** What a screen reader says. */
  accessibilityLabel: string;
  /** A theme colour id for the item's background, when it must stand out. */
  backgroundColor?: string;
}

const HIDDEN: StatusBarView = { visible: false, text: '', tooltip: '', accessibilityLabel: '' };

/** The text without its `$(icon)`s. */
function withoutIcons(text: string): string {
  return text.replace(/\$\([^)]*\)\s*/g, '');
}

/**
 * Lines as a screen reader should say them: empty lines dropped, each line one sentence ending in a full stop
 * (a line that ends in punctuation already keeps its own), sentences separated by one space.
 */
export function spokenText(lines: readonly string[]): string {
  return lines
    .map((l) => withoutIcons(l).trim())
    .filter(Boolean)
    .map((l) => (/[.!?…:]$/.test(l) ? l : `${l}.`))
    .join(' ');
}

/**
 * The coordination status-bar item: Syncord's own name first, so it cannot be read as VS Code's problem counts,
 * then the messages waiting for the user and the coordination issues, zeros left out:
 * `$(comment-discussion) Syncord: 2 unread · 7 issues`. `$(sync~spin)` while the extension writes. Hidden
 * without a coordination folder.
 */
export function coordinationStatusBarView(
  snap: CoordinationSnapshot | undefined,
  state: { me?: string; problems: number; brokenFiles: number; busy: boolean },
): StatusBarView {
  if (!snap?.exists) return HIDDEN;
  const { me, problems, busy } = state;
  const unread = snap.messages.state === 'ok' ? unreadFor(snap.messages.value, me).length : 0;
  const lines = [
    me ? `${plural(unread, 'message')} waiting for ${me}` : 'Set syncord.instanceId to see the messages waiting for you',
    problems ? `${plural(problems, 'coordination problem')} (see the Problems panel)` : 'No coordination problems',
  ];
  if (busy) lines.unshift('Writing coordination files…');
  const counts = [unread ? `${unread} unread` : '', problems ? plural(problems, 'issue') : ''].filter(Boolean);
  const text = `${busy ? '$(sync~spin)' : '$(comment-discussion)'} Syncord${counts.length ? `: ${counts.join(' · ')}` : ''}`;
  return {
    visible: true,
    text,
    tooltip: [...lines, '', 'Click to open the Message Log'].join('\n'),
    accessibilityLabel: spokenText(['Syncord coordination', ...lines, 'Activate to open the Message Log']),
    backgroundColor: problems > 0 && state.brokenFiles > 0 ? 'statusBarItem.errorBackground' : undefined,
  };
}

function shown(text: string, tooltip: string): StatusBarView {
  return { visible: true, text, tooltip, accessibilityLabel: spokenText([`Syncord targets: ${withoutIcons(text)}`, 'Activate to sync all targets or pick one']) };
}

/** The status-bar item: `$(sync) 2 targets need sync`, `$(check) targets in sync`, `$(sync~spin)` while syncing. */
export function targetsStatusBarView(snap: TargetsSnapshot | undefined, busy: ReadonlyMap<string, string> = new Map()): StatusBarView {
  if (!snap || !snap.targets.length) {
    if (busy.size) return shown('$(sync~spin) Syncing…', 'Syncord is working on targets');
    return HIDDEN;
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
    return shown(`$(sync~spin) ${what} ${name}…${more}`, [...lines, '', click].join('\n'));
  }
  const need = by.get('needs_sync')?.length ?? 0;
  const bad = (by.get('verify_failed')?.length ?? 0) + (by.get('conflict')?.length ?? 0) + (by.get('sync_failed')?.length ?? 0) + (by.get('missing')?.length ?? 0);
  let text: string;
  if (need) text = `$(sync) ${need} ${need === 1 ? 'target needs' : 'targets need'} sync`;
  else if (bad) text = `$(warning) ${plural(bad, 'target has', 'targets have')} problems`;
  else if (by.get('unknown')?.length) text = '$(question) target status unknown';
  else text = '$(check) targets in sync';
  if (need && bad) text += ` · ${bad} with problems`;
  const notComputed = snap.targets.filter((i) => !i.status);
  if (notComputed.length) {
    text += ' (as recorded)';
    lines.push('', `Statuses as written in targets.json: ${notComputed[0].statusNote ?? 'not computed'}`);
  }
  return shown(text, [...lines, '', click].join('\n'));
}
