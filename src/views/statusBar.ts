/** What a Syncord status-bar item shows; the extension applies it to its item in one place. */
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

export const HIDDEN: StatusBarView = { visible: false, text: '', tooltip: '', accessibilityLabel: '' };

/** The text without its `$(icon)`s. */
export function withoutIcons(text: string): string {
  return text.replace(/\$\([^)]*\)\s*/g, '');
}
