// Counts in words: one helper for every face, kept in the core (whose messages need it too).
export { listWords, plural } from '../core/plural';

/**
 * What a tree row's description may hold: a description longer than this is cut off in a side bar of the default
 * width (300 px) once the label and the icons are drawn. Details go into the tooltip.
 */
export const DESCRIPTION_BUDGET = 40;

/** `text` cut to at most `max` characters, ending in "…" when it was cut. */
export function clip(text: string, max = DESCRIPTION_BUDGET): string {
  return text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`;
}

/** A path cut from its start to at most `max` characters, keeping whole trailing segments: "…/opencode/docs". */
export function clipPath(p: string, max: number): string {
  if (p.length <= max) return p;
  const parts = p.split('/');
  let out = parts.pop() ?? p;
  while (parts.length && parts[parts.length - 1].length + out.length + 3 <= max) out = `${parts.pop()}/${out}`;
  out = `…/${out}`;
  return out.length <= max ? out : `…${p.slice(p.length - max + 1)}`;
}
