// The one place where counts become words, for every face: the core's messages, the CLI, the views.
// (src/views/text.ts re-exports these for the presentation layer.)

/** "1 file", "3 files", "2 categories"; with a verb: plural(n, 'file has', 'files have') → "1 file has", "3 files have". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "a", "a and b", "a, b and c". */
export function listWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
