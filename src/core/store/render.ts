import { findNodeAtLocation, FormattingOptions, Node, parse, ParseError, parseTree } from 'jsonc-parser';
import type { TopEntry } from './jsonText';
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

/** Unit of indentation for a formatting. */
function unitOf(fmt: FormattingOptions): string {
  return fmt.insertSpaces ? ' '.repeat(fmt.tabSize ?? 2) : '\t';
}

const INLINE_ARRAY_WIDTH = 80;

/**
 * Pretty prints a value the way the seed files look: objects one property a line, arrays of short
 * primitives on one line (`["a", "b"]`), other arrays one element a line. Lines after the first start
 * with `indent`.
 */
export function prettyJson(value: unknown, unit: string, indent = '', eol = '\n'): string {
  // JSON.stringify lays out everything but the short arrays, which are then put on one line.
  let out = JSON.stringify(value, null, unit) ?? 'null';
  out = out.replace(PRIMITIVE_ARRAY, (whole, first: string, rest: string) => {
    const inline = `[${first}${rest.replace(ELEMENT_BREAK, ', ')}]`;
    return inline.length <= INLINE_ARRAY_WIDTH ? inline : whole;
  });
  if (indent || eol !== '\n') out = out.replace(/\n/g, eol + indent);
  return out;
}

/**
 * A top-level property's value as `prettyJson(value, unit, indent, eol)` prints it. In the usual layout (the property
 * indented by one unit, \n line ends) it is printed inside its object, already indented, rather than re-indented
 * line by line afterwards (a second pass over a text of megabytes).
 */
function printProperty(key: string, value: unknown, unit: string, indent: string, eol: string): string {
  if (indent !== unit || eol !== '\n' || value === undefined) return prettyJson(value, unit, indent, eol);
  const whole = prettyJson({ [key]: value }, unit);
  // `{\n<unit>"key": ` ... `\n}`
  return whole.slice(2 + unit.length + JSON.stringify(key).length + 2, whole.length - 2);
}

/** A JSON value that is not an object or array, as JSON.stringify writes it. */
const PRIMITIVE = String.raw`(?:"(?:[^"\\\n]|\\.)*"|true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)`;
/** An array of such values laid out one a line by JSON.stringify (no raw line breaks occur inside its strings). */
const PRIMITIVE_ARRAY = new RegExp(String.raw`\[\n[ \t]+(${PRIMITIVE})((?:,\n[ \t]+${PRIMITIVE})*)\n[ \t]*\]`, 'g');
const ELEMENT_BREAK = /,\n[ \t]+/g;

/** The canonical text of a new file: pretty printed with the given formatting, ending with a line break. */
export function renderFresh(value: unknown, fmt: FormattingOptions = detectFormatting('')): string {
  const eol = fmt.eol ?? '\n';
  return prettyJson(value, unitOf(fmt), '', eol) + eol;
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
  // Any change is at least one edit, and one edit of a text this long is already beyond the work allowed.
  if (text.length > MAX_EDIT_WORK) return renderFresh(after, fmt);
  const ops: Op[] = [];
  diff(before, after, [], ops);
  // Each edit re-parses the text: a mass change to a big file is re-printed whole instead (reads better, too).
  if (ops.length > MAX_EDITS || ops.length * text.length > MAX_EDIT_WORK) return renderFresh(after, fmt);
  let out = text;
  try {
    for (const op of ops) out = applyOp(out, op, fmt);
  } catch {
    return renderFresh(after, fmt);
  }
  // The safety net: the edited text must read back as exactly the new value.
  let check: unknown;
  try {
    check = JSON.parse(out);
  } catch {
    const errors: ParseError[] = [];
    check = parse(out, errors, PARSE_OPTIONS);
    if (errors.length) return renderFresh(after, fmt);
  }
  if (!jsonEqual(check, after)) return renderFresh(after, fmt);
  return out;
}

/** Beyond this many separate edits, or this many characters re-parsed in all, the file is re-printed whole. */
const MAX_EDITS = 200;
const MAX_EDIT_WORK = 2_000_000;

/** Whether a file's text is long enough that `renderLargeUpdate` renders a change to it (see there). */
export function isLargeText(text: string): boolean {
  return text.length > MAX_EDIT_WORK;
}

/**
 * The new text of a long plain-JSON file (isLargeText) whose value is now `after`, from where its top-level
 * properties are (`layout`), without the old value (the caller may have changed the value it read in place). Each
 * property is printed as `renderFresh` would print it: one whose text is already that is kept as it stands, so
 * the task queue's completed tasks, most of the file, are not compared again when a task is claimed. When a value
 * changed, the file is written as `renderFresh` writes it (the properties laid out otherwise are printed too,
 * which a file Syncord wrote never needs); when none did, `text` itself is returned. A change to the top-level keys
 * themselves (one added, removed or moved) re-prints the file whole.
 */
export function renderLargeUpdate(text: string, layout: readonly TopEntry[], after: unknown): string {
  const fmt = detectFormatting(text.slice(0, 4096));
  if (!isObject(after)) return renderFresh(after, fmt);
  const keys = Object.keys(after).filter((k) => after[k] !== undefined);
  if (keys.length !== layout.length || keys.some((k, i) => layout[i].key !== k)) return renderFresh(after, fmt);
  const eol = fmt.eol ?? '\n';
  const unit = unitOf(fmt);
  let out = '';
  let pos = 0;
  let changed = false;
  for (const e of layout) {
    const printed = printProperty(e.key, after[e.key], unit, lineIndentAt(text, e.keyStart), eol);
    const old = text.slice(e.valueStart, e.valueEnd);
    if (printed === old) continue;
    if (!changed) {
      let before: unknown;
      try {
        before = JSON.parse(old);
      } catch {
        return renderFresh(after, fmt);
      }
      changed = !jsonEqual(before, after[e.key]);
    }
    out += text.slice(pos, e.valueStart) + printed;
    pos = e.valueEnd;
  }
  return changed ? out + text.slice(pos) : text;
}

const PARSE_OPTIONS = { allowTrailingComma: true, disallowComments: false };

/** The leading whitespace of the line that holds `offset`. */
function lineIndent(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start))![0];
}

/** Whether only whitespace precedes `offset` on its line. */
function startsLine(text: string, offset: number): boolean {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*$/.test(text.slice(start, offset));
}

const splice = (text: string, from: number, to: number, insert: string) => text.slice(0, from) + insert + text.slice(to);

/** The entries of a container: property nodes of an object, element nodes of an array. */
function entriesOf(container: Node): Node[] {
  return container.children ?? [];
}

/** Applies one path edit to the text, taking indentation and separators from the surrounding text. */
function applyOp(text: string, op: Op, fmt: FormattingOptions): string {
  const root = parseTree(text, undefined, PARSE_OPTIONS);
  if (!root) throw new Error('unparsable');
  const eol = fmt.eol ?? '\n';
  const unit = unitOf(fmt);
  const parentPath = op.path.slice(0, -1);
  const key = op.path[op.path.length - 1];
  const container = findNodeAtLocation(root, parentPath);
  if (!container || (container.type !== 'object' && container.type !== 'array')) throw new Error('no container');
  const entries = entriesOf(container);

  // The entry an edit concerns: the property node for objects, the element for arrays.
  let index = -1;
  if (container.type === 'object') index = entries.findIndex((p) => p.children?.[0]?.value === key);
  else if (typeof key === 'number') index = key;
  else throw new Error('bad path');

  if (op.value === undefined) {
    if (index < 0 || index >= entries.length) return text;
    const e = entries[index];
    if (entries.length === 1) return splice(text, container.offset + 1, container.offset + container.length - 1, '');
    if (index > 0) return splice(text, entries[index - 1].offset + entries[index - 1].length, e.offset + e.length, '');
    return splice(text, e.offset, entries[1].offset, '');
  }

  const replacing = !op.insert && index >= 0 && index < entries.length;
  if (replacing) {
    const target = container.type === 'object' ? entries[index].children![1] : entries[index];
    const indent = lineIndent(text, target.offset);
    return splice(text, target.offset, target.offset + target.length, prettyJson(op.value, unit, indent, eol));
  }

  // Insertion: an array element at `index` (or the end), or a new property at the end of an object.
  const at = container.type === 'array' ? Math.min(index < 0 ? entries.length : index, entries.length) : entries.length;
  const render = (indent: string) => {
    const v = prettyJson(op.value, unit, indent, eol);
    return container.type === 'object' ? `${JSON.stringify(key)}: ${v}` : v;
  };
  if (!entries.length) {
    const outer = lineIndent(text, container.offset);
    const open = container.offset + 1;
    const close = container.offset + container.length - 1;
    if (container.type === 'array' && (op.value === null || typeof op.value !== 'object')) return splice(text, open, close, render(''));
    return splice(text, open, close, `${eol}${outer}${unit}${render(outer + unit)}${eol}${outer}`);
  }
  const multiline = startsLine(text, entries[0].offset);
  const indent = multiline ? lineIndent(text, entries[0].offset) : lineIndent(text, container.offset);
  const sep = multiline ? eol + indent : ' ';
  const item = multiline ? render(indent) : prettyJson(op.value, '', '', ' ').replace(/\s*\n\s*/g, ' ');
  const inline = multiline ? item : container.type === 'object' ? `${JSON.stringify(key)}: ${item}` : item;
  if (at < entries.length) return splice(text, entries[at].offset, entries[at].offset, `${inline},${sep}`);
  const last = entries[entries.length - 1];
  return splice(text, last.offset + last.length, last.offset + last.length, `,${sep}${inline}`);
}

const WS = new Set([0x20, 0x0a, 0x0d, 0x09]);

function lineIndentAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  return /^[ \t]*/.exec(text.slice(start, start + 64))![0];
}

/**
 * The new text when the only changes are elements appended to top-level arrays: each insertion is spliced in,
 * in the file's own indentation. Undefined when the change is anything else (the caller then renders in full).
 */
export function renderAppends(doc: { text: string; layout?: TopEntry[] }, appends: Map<string, unknown[]>): { text: string; layout: TopEntry[] } | undefined {
  const layout = doc.layout;
  if (!layout) return undefined;
  const text = doc.text;
  const fmt = detectFormatting(text.slice(0, 4096));
  const eol = fmt.eol ?? '\n';
  const unit = fmt.insertSpaces ? ' '.repeat(fmt.tabSize ?? 2) : '\t';
  const edits: { at: number; end: number; insert: string }[] = [];
  for (const [key, added] of appends) {
    // Arrays of plain values may print on one line: leave those to the full renderer.
    if (added.some((v) => v === null || typeof v !== 'object')) return undefined;
    const e = layout.find((x) => x.key === key);
    if (!e || text[e.valueStart] !== '[') return undefined;
    const close = e.valueEnd - 1;
    let j = close - 1;
    while (j > e.valueStart && WS.has(text.charCodeAt(j))) j--;
    const keyIndent = lineIndentAt(text, e.keyStart);
    if (j === e.valueStart) {
      const inner = keyIndent + unit;
      const body = added.map((v) => inner + prettyJson(v, unit, inner, eol)).join(`,${eol}`);
      edits.push({ at: e.valueStart, end: e.valueEnd, insert: `[${eol}${body}${eol}${keyIndent}]` });
    } else {
      if (!text.slice(e.valueStart, close).includes('\n')) return undefined;
      const inner = lineIndentAt(text, j);
      if (inner.length <= keyIndent.length) return undefined;
      edits.push({ at: j + 1, end: j + 1, insert: added.map((v) => `,${eol}${inner}${prettyJson(v, unit, inner, eol)}`).join('') });
    }
  }
  edits.sort((a, b) => a.at - b.at);
  let out = '';
  let pos = 0;
  for (const ed of edits) {
    out += text.slice(pos, ed.at) + ed.insert;
    pos = ed.end;
  }
  out += text.slice(pos);
  const shifted = layout.map((x) => {
    let delta = 0;
    let deltaEnd = 0;
    for (const ed of edits) {
      const d = ed.insert.length - (ed.end - ed.at);
      if (ed.at < x.keyStart) delta += d;
      if (ed.at < x.valueEnd) deltaEnd += d;
    }
    return { key: x.key, keyStart: x.keyStart + delta, valueStart: x.valueStart + delta, valueEnd: x.valueEnd + deltaEnd };
  });
  return { text: out, layout: shifted };
}
