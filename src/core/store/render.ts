import { applyEdits, FormattingOptions, modify, parse, ParseError } from 'jsonc-parser';
import { JsonPath } from './jsonText';

/** Deep equality of JSON values; object key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    return a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** The indentation and line ending a file already uses (two spaces and \n when it has none yet). */
export function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /\n([ \t]+)\S/.exec(text);
  if (m && m[1].startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  const size = m ? m[1].length : 2;
  return { insertSpaces: true, tabSize: size > 0 && size <= 8 ? size : 2, eol };
}

/** The canonical text of a new file: pretty printed with the given formatting, ending with a line break. */
export function renderFresh(value: unknown, fmt: FormattingOptions = detectFormatting('')): string {
  const indent = fmt.insertSpaces ? ' '.repeat(fmt.tabSize ?? 2) : '\t';
  const out = JSON.stringify(value, null, indent) + '\n';
  return fmt.eol === '\n' ? out : out.replace(/\n/g, fmt.eol ?? '\n');
}

type Op = { path: JsonPath; value: unknown; insert?: boolean };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The smallest set of path edits that turns `a` into `b`, in an order where each path is valid when applied. */
function diff(a: unknown, b: unknown, at: JsonPath, ops: Op[]): void {
  if (jsonEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) if (a[k] !== undefined && b[k] === undefined) ops.push({ path: [...at, k], value: undefined });
    for (const k of Object.keys(b)) {
      if (b[k] === undefined) continue;
      if (a[k] === undefined) ops.push({ path: [...at, k], value: b[k] });
      else diff(a[k], b[k], [...at, k], ops);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    let pre = 0;
    while (pre < a.length && pre < b.length && jsonEqual(a[pre], b[pre])) pre++;
    let suf = 0;
    while (suf < a.length - pre && suf < b.length - pre && jsonEqual(a[a.length - 1 - suf], b[b.length - 1 - suf])) suf++;
    const oldMid = a.slice(pre, a.length - suf);
    const newMid = b.slice(pre, b.length - suf);
    if (oldMid.length === newMid.length) {
      for (let i = 0; i < oldMid.length; i++) diff(oldMid[i], newMid[i], [...at, pre + i], ops);
      return;
    }
    const pairs = align(oldMid, newMid);
    const matchedOld = new Set(pairs.map(([i]) => i));
    const matchedNew = new Set(pairs.map(([, j]) => j));
    // 1. edits inside elements that stay (old indexes still valid), 2. removals from the end, 3. insertions in order.
    for (const [i, j] of pairs) diff(oldMid[i], newMid[j], [...at, pre + i], ops);
    for (let i = oldMid.length - 1; i >= 0; i--) if (!matchedOld.has(i)) ops.push({ path: [...at, pre + i], value: undefined });
    for (let j = 0; j < newMid.length; j++) if (!matchedNew.has(j)) ops.push({ path: [...at, pre + j], value: newMid[j], insert: true });
    return;
  }
  ops.push({ path: at, value: b });
}

/**
 * The identity of an array element: for an object, its first property when that is a string or number (the
 * seed's records start with their id: task_id, message_id, decision_id, responding_to).
 */
function identity(v: unknown): string | undefined {
  if (!isObject(v)) return undefined;
  const k = Object.keys(v)[0];
  const id = k === undefined ? undefined : v[k];
  return typeof id === 'string' || typeof id === 'number' ? `${k}\u0000${String(id)}` : undefined;
}

/** Which old and new elements are "the same element" (longest common subsequence), as [oldIndex, newIndex] pairs. */
function align(a: unknown[], b: unknown[]): [number, number][] {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0 || n * m > 4_000_000) return [];
  const keyA = a.map((x) => identity(x));
  const keyB = b.map((x) => identity(x));
  const eq = (i: number, j: number) => (keyA[i] !== undefined || keyB[j] !== undefined ? keyA[i] === keyB[j] : jsonEqual(a[i], b[j]));
  // lengths[i][j] = LCS of a[i..] and b[j..], in one flat array.
  const w = m + 1;
  const len = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i * w + j] = eq(i, j) ? len[(i + 1) * w + j + 1] + 1 : Math.max(len[(i + 1) * w + j], len[i * w + j + 1]);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (eq(i, j)) pairs.push([i++, j++]);
    else if (len[(i + 1) * w + j] >= len[i * w + j + 1]) i++;
    else j++;
  }
  return pairs;
}

/**
 * The new text of a file whose value changed from `before` to `after`. Only the changed parts are rewritten,
 * so the author's formatting, key order and comments survive and version-control diffs stay small. When an edit
 * cannot be applied faithfully the whole file is re-printed in its own indentation.
 */
export function renderUpdate(text: string, before: unknown, after: unknown): string {
  if (jsonEqual(before, after)) return text;
  const fmt = detectFormatting(text);
  if (!isObject(before) || !isObject(after)) return renderFresh(after, fmt);
  const ops: Op[] = [];
  diff(before, after, [], ops);
  let out = text;
  try {
    for (const op of ops) {
      const edits = modify(out, op.path, op.value, { formattingOptions: fmt, isArrayInsertion: op.insert });
      out = applyEdits(out, edits);
    }
  } catch {
    return renderFresh(after, fmt);
  }
  const errors: ParseError[] = [];
  const check: unknown = parse(out, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length || !jsonEqual(check, after)) return renderFresh(after, fmt);
  return out;
}
