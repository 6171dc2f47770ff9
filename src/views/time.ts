import { formatDuration, timeOf } from '../core/coordination/time';

/**
 * When something happened, as every Syncord view says it: "just now", "45m ago", "3h 5m ago", "2d 6h ago",
 * "in 6h" (a time ahead: a due date, or another machine's clock). No time: "never"; a time that cannot be
 * read: the text as written.
 */
export function relativeTime(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = timeOf(iso);
  if (t === undefined) return iso;
  const d = now - t;
  if (Math.abs(d) < 60_000) return 'just now';
  return d > 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(-d)}`;
}
