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
  const indent = fmt.insertSpaces ? ' '.repeat(fmt.tabSize) : '\t';
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
    const oldMid = a.length - pre - suf;
    const newMid = b.length - pre - suf;
    if (oldMid === newMid) {
      for (let i = 0; i < oldMid; i++) diff(a[pre + i], b[pre + i], [...at, pre + i], ops);
      return;
    }
    for (let i = oldMid - 1; i >= 0; i--) ops.push({ path: [...at, pre + i], value: undefined });
    for (let i = 0; i < newMid; i++) ops.push({ path: [...at, pre + i], value: b[pre + i], insert: true });
    return;
  }
  ops.push({ path: at, value: b });
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
