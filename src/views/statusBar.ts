/**
 * The status-bar items of Syncord: the coordination item (messages waiting for the user, coordination problems)
 * and the targets item (targets that need sync). The extension applies a view to its item in one place.
 */
import { unreadFor } from '../core/coordination/messages';
import type { CoordinationSnapshot } from '../core/coordination/snapshot';
import { DisplayStatus, displayStatus, TargetsSnapshot } from '../core/targets/overview';
import { STATUS_LABEL } from './targets';

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
 * The coordination status-bar item: messages waiting for the user and coordination problems,
 * `$(sync~spin)` while the extension writes. Hidden without a coordination folder.
 */
export function coordinationStatusBarView(
  snap: CoordinationSnapshot | undefined,
  state: { me?: string; problems: number; brokenFiles: number; busy: boolean },
): StatusBarView {
  if (!snap?.exists) return HIDDEN;
  const { me, problems, busy } = state;
  const unread = snap.messages.state === 'ok' ? unreadFor(snap.messages.value, me).length : 0;
  const lines = [
    me ? `${unread} message${unread === 1 ? '' : 's'} waiting for ${me}` : 'Set syncord.instanceId to see the messages waiting for you',
    problems ? `${problems} coordination problem${problems === 1 ? '' : 's'} (see the Problems panel)` : 'No coordination problems',
  ];
  if (busy) lines.unshift('Writing coordination files…');
  lines.push('', 'Click to open the Message Log');
  return {
    visible: true,
    text: `${busy ? '$(sync~spin)' : '$(comment-discussion)'} ${unread}${problems ? ` $(warning) ${problems}` : ''}`,
    tooltip: lines.join('\n'),
    accessibilityLabel: lines.join('. '),
    backgroundColor: problems > 0 && state.brokenFiles > 0 ? 'statusBarItem.errorBackground' : undefined,
  };
}

function shown(text: string, tooltip: string): StatusBarView {
  return { visible: true, text, tooltip, accessibilityLabel: withoutIcons(text) };
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
  else if (bad) text = `$(warning) ${bad} ${bad === 1 ? 'target has' : 'targets have'} problems`;
  else if (by.get('unknown')?.length) text = '$(question) target status unknown';
  else text = '$(check) targets in sync';
  if (need && bad) text += ` $(warning) ${bad}`;
  const notComputed = snap.targets.filter((i) => !i.status);
  if (notComputed.length) {
    text += ' (as recorded)';
    lines.push('', `Statuses as written in targets.json: ${notComputed[0].statusNote ?? 'not computed'}`);
  }
  return shown(text, [...lines, '', click].join('\n'));
}
