import { SyncordError } from '../errors';

/** ISO 8601 in UTC to the second, as the seed writes it: 2024-01-15T10:30:00Z. */
export function isoTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Milliseconds since the epoch of a file timestamp, or undefined when it is absent or unreadable. */
export function timeOf(s: string | null | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A time given on the command line or in a form: an ISO 8601 date or date-time, or a delay from now such as
 * `+30m`, `+4h`, `+2d`, `+1w`.
 */
export function parseTimeInput(input: string, now: Date, what = 'time'): string {
  const s = input.trim();
  const rel = /^\+(\d+(?:\.\d+)?)\s*([mhdw])$/i.exec(s);
  if (rel) return isoTime(new Date(now.getTime() + Number(rel[1]) * UNITS[rel[2].toLowerCase()]));
  if (/^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s))) {
    // A date alone stays a date; a date-time is normalized to UTC.
    return s.length === 10 ? s : isoTime(new Date(Date.parse(s)));
  }
  throw new SyncordError(`invalid ${what} ${JSON.stringify(input)}: use an ISO 8601 date or date-time (2024-01-16T18:00:00Z) or a delay like +4h or +2d`, 'usage');
}

/** "3h 5m", "2d 4h", "45s": a short human duration. */
export function formatDuration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}
