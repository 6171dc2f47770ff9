import { isAscii, isUtf8 } from 'buffer';
import { createScanner, findNodeAtLocation, Node, parse, ParseError, ParseErrorCode, parseTree, SyntaxKind } from 'jsonc-parser';
import type { z } from 'zod';
import { FileLocation, SyncordError } from '../errors';

/** A JSON path: object keys and array indexes from the root. */
export type JsonPath = (string | number)[];

/** 1-based line and column of a character offset. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10 /* \n */) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const PARSE_MESSAGES: Partial<Record<ParseErrorCode, string>> = {
  [ParseErrorCode.InvalidSymbol]: 'unexpected character',
  [ParseErrorCode.InvalidNumberFormat]: 'invalid number',
  [ParseErrorCode.PropertyNameExpected]: 'expected a property name in double quotes',
  [ParseErrorCode.ValueExpected]: 'expected a value',
  [ParseErrorCode.ColonExpected]: 'expected a colon after the property name',
  [ParseErrorCode.CommaExpected]: 'expected a comma',
  [ParseErrorCode.CloseBraceExpected]: "expected '}'",
  [ParseErrorCode.CloseBracketExpected]: "expected ']'",
  [ParseErrorCode.EndOfFileExpected]: 'unexpected content after the end of the JSON value',
  [ParseErrorCode.UnexpectedEndOfComment]: 'unterminated comment',
  [ParseErrorCode.UnexpectedEndOfString]: 'unterminated string',
  [ParseErrorCode.UnexpectedEndOfNumber]: 'unterminated number',
  [ParseErrorCode.InvalidUnicode]: 'invalid unicode escape',
  [ParseErrorCode.InvalidEscapeCharacter]: 'invalid escape character',
  [ParseErrorCode.InvalidCharacter]: 'invalid character in string',
};

/** Removes a leading byte order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** How deep objects and arrays may nest in a workspace file: far beyond any real file, far below a stack overflow. */
export const MAX_JSON_DEPTH = 64;

/** Where a top-level property of a JSON object is in its text (offsets into the text). */
export interface TopEntry {
  key: string;
  keyStart: number;
  valueStart: number;
  valueEnd: number;
}

/** A file's text as parsed: its value, whether it was plain JSON, and where its top-level properties are. */
export interface ParsedJson {
  value: unknown;
  /** Plain JSON (no comments, no trailing commas). */
  strict: boolean;
  /** The top-level properties of a plain JSON object, in order; undefined for anything else. */
  layout?: TopEntry[];
}

const invalid = (file: string, text: string, offset: number, message: string) =>
  new SyncordError(message, 'invalid-file', { file, ...positionAt(text, offset) });

/**
 * Checks what JSON.parse does not: no key twice in one object (the parser would keep the last and lose the
 * rest), no nesting deeper than MAX_JSON_DEPTH (a parser would overflow its stack). One pass with
 * jsonc-parser's scanner, which also finds where the top-level properties are. Syntax errors are left to the
 * parser that runs next.
 */
function scanStructure(file: string, text: string): TopEntry[] | undefined {
  const scanner = createScanner(text, true);
  // One frame per open object or array: the keys seen (objects), and whether a key comes next.
  const frames: { keys?: Map<string, number>; expectKey: boolean }[] = [];
  let layout: TopEntry[] | undefined;
  let entry: Partial<TopEntry> | undefined;
  let valueNext = false;
  // A top-level property whose value is a single token (string, number, true, false, null) ends with it.
  const endScalar = (offset: number) => {
    if (frames.length === 1 && entry?.valueStart === offset) {
      entry.valueEnd = offset + scanner.getTokenLength();
      layout?.push(entry as TopEntry);
      entry = undefined;
    }
  };
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    const offset = scanner.getTokenOffset();
    const top = frames[frames.length - 1];
    if (frames.length === 1 && valueNext && entry && kind !== SyntaxKind.ColonToken) {
      entry.valueStart = offset;
      valueNext = false;
    }
    switch (kind) {
      case SyntaxKind.OpenBraceToken:
      case SyntaxKind.OpenBracketToken:
        if (frames.length === 0 && kind === SyntaxKind.OpenBraceToken && layout === undefined) layout = [];
        frames.push(kind === SyntaxKind.OpenBraceToken ? { keys: new Map(), expectKey: true } : { expectKey: false });
        if (frames.length > MAX_JSON_DEPTH) throw invalid(file, text, offset, `nesting deeper than ${MAX_JSON_DEPTH} levels; refusing to read the file`);
        break;
      case SyntaxKind.CloseBraceToken:
      case SyntaxKind.CloseBracketToken:
        frames.pop();
        if (frames.length === 1 && entry?.valueStart !== undefined && entry.valueEnd === undefined) {
          entry.valueEnd = offset + 1;
          layout?.push(entry as TopEntry);
          entry = undefined;
        }
        break;
      case SyntaxKind.CommaToken:
        if (top?.keys) top.expectKey = true;
        break;
      case SyntaxKind.ColonToken:
        if (frames.length === 1) valueNext = true;
        break;
      case SyntaxKind.StringLiteral:
        if (top?.keys && top.expectKey) {
          const key = scanner.getTokenValue();
          const first = top.keys.get(key);
          if (first !== undefined) {
            const at = positionAt(text, first);
            throw invalid(file, text, offset, `duplicate key ${JSON.stringify(key)} (first at line ${at.line}, column ${at.column}); a reader would silently drop one of them`);
          }
          top.keys.set(key, offset);
          top.expectKey = false;
          if (frames.length === 1) entry = { key, keyStart: offset };
        } else endScalar(offset);
        break;
      default:
        endScalar(offset);
    }
  }
  return layout;
}

/**
 * The fast path of `scanStructure` for plain JSON, the usual case: one pass over the characters that counts the
 * object keys, checks the nesting depth and finds the top-level properties, without building tokens. Returns
 * undefined when the text needs the full scan (comments, nesting too deep, anything unusual); whether a key
 * came twice is told afterwards by `countKeys` on the parsed value (JSON.parse keeps one of two equal keys, so
 * the parsed objects hold fewer keys than the text names exactly when a key is repeated).
 */
function quickScan(text: string): { keys: number; layout?: TopEntry[] } | undefined {
  const n = text.length;
  // Whether the container at each depth is an object.
  const isObject: boolean[] = [];
  let depth = 0;
  let keys = 0;
  let expectKey = false;
  let layout: TopEntry[] | undefined;
  let entry: Partial<TopEntry> | undefined;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) {
      i++;
      continue;
    }
    if (c === 34 /* " */) {
      let j = text.indexOf('"', i + 1);
      for (;;) {
        if (j < 0) return undefined;
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === 92 /* \ */) slashes++;
        if (slashes % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (expectKey) {
        keys++;
        expectKey = false;
        if (depth === 1 && layout) {
          let key: unknown;
          try {
            key = JSON.parse(text.slice(i, j + 1));
          } catch {
            return undefined;
          }
          entry = { key: key as string, keyStart: i };
        }
      } else if (depth === 1 && entry && entry.valueStart === undefined) {
        layout?.push({ ...entry, valueStart: i, valueEnd: j + 1 } as TopEntry);
        entry = undefined;
      }
      i = j + 1;
      continue;
    }
    switch (c) {
      case 123 /* { */:
      case 91 /* [ */:
        if (depth === 0 && c === 123 && layout === undefined) layout = [];
        if (depth === 1 && entry && entry.valueStart === undefined) entry.valueStart = i;
        depth++;
        if (depth > MAX_JSON_DEPTH) return undefined;
        isObject[depth] = c === 123;
        expectKey = c === 123;
        break;
      case 125 /* } */:
      case 93 /* ] */:
        depth--;
        if (depth < 0) return undefined;
        if (depth === 1 && entry?.valueStart !== undefined) {
          layout?.push({ ...entry, valueEnd: i + 1 } as TopEntry);
          entry = undefined;
        }
        expectKey = false;
        break;
      case 44 /* , */:
        expectKey = isObject[depth] === true;
        break;
      case 58 /* : */:
        break;
      case 47 /* / */:
        return undefined;
      default: {
        // A number, true, false or null: up to the next delimiter.
        let j = i + 1;
        for (; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === 44 || d === 125 || d === 93 || d === 32 || d === 10 || d === 13 || d === 9 || d === 47 || d === 58) break;
        }
        if (depth === 1 && entry && entry.valueStart === undefined) {
          layout?.push({ ...entry, valueStart: i, valueEnd: j } as TopEntry);
          entry = undefined;
        }
        i = j;
        continue;
      }
    }
    i++;
  }
  return { keys, layout };
}

/** How many keys the objects in a parsed JSON value hold in all. */
function countKeys(v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x === 'object' && x !== null) n += countKeys(x);
    }
    return n;
  }
  for (const k in v) {
    n++;
    const x = (v as Record<string, unknown>)[k];
    if (typeof x === 'object' && x !== null) n += countKeys(x);
  }
  return n;
}

/** Where the top-level properties of a plain JSON object text are; undefined for anything else. */
export function topLevelLayout(file: string, text: string): TopEntry[] | undefined {
  return scanStructure(file, text);
}

/**
 * Parses a workspace file's text: JSON, tolerating comments and trailing commas (JSONC). Refuses anything
 * else, duplicate keys and too deep nesting with the file and the 1-based line and column of the first
 * problem.
 */
export function parseJsonText(file: string, text: string): ParsedJson {
  if (text.trim() === '') throw new SyncordError('the file is empty; expected a JSON object', 'invalid-file', { file, line: 1, column: 1 });
  // Plain JSON without a repeated key (the usual case): a quick pass, JSON.parse, and a count of the keys parsed.
  const quick = quickScan(text);
  if (quick) {
    let value: unknown;
    let parsed = false;
    try {
      value = JSON.parse(text);
      parsed = true;
    } catch {
      // the full scan and the tolerant parser below say what is wrong
    }
    if (parsed && countKeys(value) === quick.keys) return { value, strict: true, layout: quick.layout };
  }
  const layout = scanStructure(file, text);
  // Plain JSON (the usual case) parses natively, many times faster; JSONC and broken files take the slow path.
  try {
    return { value: JSON.parse(text) as unknown, strict: true, layout };
  } catch {
    // fall through
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more syntax error${errors.length > 2 ? 's' : ''})` : '';
    throw invalid(file, text, e.offset, `invalid JSON: ${PARSE_MESSAGES[e.error] ?? 'syntax error'}${more}`);
  }
  return { value, strict: false };
}

/** `parseJsonText`'s value alone. */
export function parseJsonc(file: string, text: string): unknown {
  return parseJsonText(file, text).value;
}

/**
 * A file's bytes as text. Bytes that are not valid UTF-8 are refused with their line and column, never
 * decoded to U+FFFD (a later write would then replace what the file held).
 */
export function decodeUtf8(file: string, bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // ASCII (most files) is UTF-8 already, and copies into a string without decoding.
  if (isAscii(buf)) return buf.toString('latin1');
  if (isUtf8(buf)) return buf.toString('utf8');
  const bad = firstInvalidUtf8(buf);
  const before = buf.toString('utf8', 0, bad);
  throw invalid(file, before + ' ', before.length, `invalid UTF-8 (byte 0x${buf[bad].toString(16).padStart(2, '0')} at byte offset ${bad}); refusing to read the file`);
}

/** The offset of the first byte that does not begin or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    let n = 0;
    let min = 0;
    if (c < 0x80) n = 0;
    else if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) (n = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (n = 3), (min = 0x10000);
    else return i;
    if (i + n >= b.length && n > 0) return i;
    let cp = n === 0 ? c : c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      if ((b[i + k] & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (b[i + k] & 0x3f);
    }
    if (n > 0 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))) return i;
    i += n + 1;
  }
  return b.length;
}

/** Where a JSON path is in a file's text: the node itself, or its nearest existing ancestor. */
export function locatePath(file: string, text: string, jsonPath: JsonPath, root?: Node): FileLocation {
  const tree = root ?? parseTree(text, undefined, { allowTrailingComma: true, disallowComments: false });
  if (!tree) return { file, line: 1, column: 1 };
  for (let n = jsonPath.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, jsonPath.slice(0, n));
    if (!node) continue;
    // Point at the property name when the node is a property value: that is where a reader looks.
    const target = node.parent?.type === 'property' && n > 0 && n === jsonPath.length ? node.parent : node;
    return { file, ...positionAt(text, target.offset) };
  }
  return { file, ...positionAt(text, tree.offset) };
}

/** `a.b[2].c` */
export function formatJsonPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) {
    if (typeof k === 'number') s += `[${k}]`;
    else {
      const key = String(k);
      s += /^[A-Za-z_$][\w$-]*$/.test(key) ? (s ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return s || '(root)';
}

/**
 * Checks a parsed value against a schema. On failure throws `invalid-file` naming the first problem, its
 * JSON path and its line and column in the file. With `matches` (a check that says what the schema says), the
 * schema is needed only to describe a failure: pass it as a function and it is built only then.
 */
export function validateValue<T>(
  file: string,
  text: string,
  value: unknown,
  schemaOf: z.ZodType<T> | (() => z.ZodType<T>),
  matches?: (value: unknown) => boolean,
): T {
  const schema = () => (typeof schemaOf === 'function' ? schemaOf() : schemaOf);
  if (matches ? matches(value) : matchesInPlace(schema(), value)) return value as T;
  const result = schema().safeParse(value);
  if (result.success) return value as T;
  const issues = result.error.issues;
  const first = issues[0];
  const p = first.path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new SyncordError(`${describeIssue(first, value, p)}${more}`, 'invalid-file', locatePath(file, text, p));
}

/**
 * Whether `value` matches `schema`, checked record by record: zod builds a parsed copy of what it checks, so
 * a file of 100,000 records checked whole would be held twice. A loose object (every file's top level) is
 * checked field by field and an array field element by element, each copy dropped at once. Only says yes or
 * no: on a no, the whole value is checked again to describe the problem exactly as before.
 */
export function matchesInPlace(schema: z.ZodType, value: unknown): boolean {
  const def = (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
  const loose = def.type === 'object' && !def.checks?.length && def.catchall?._zod.def.type === 'unknown';
  if (!loose || typeof value !== 'object' || value === null || Array.isArray(value)) return schema.safeParse(value).success;
  const record = value as Record<string, unknown>;
  for (const [key, field] of Object.entries(def.shape ?? {})) {
    const v = Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
    const fdef = field._zod.def;
    if (fdef.type === 'array' && !fdef.checks?.length && fdef.element && Array.isArray(v)) {
      const element = fdef.element;
      for (let i = 0; i < v.length; i++) if (!element.safeParse(v[i]).success) return false;
    } else if (!field.safeParse(v).success) return false;
  }
  return true;
}

/** What `matchesInPlace` reads of a zod schema's definition. */
interface ZodDef {
  type: string;
  checks?: unknown[];
  shape?: Record<string, z.ZodType & { _zod: { def: ZodDef } }>;
  catchall?: { _zod: { def: ZodDef } };
  element?: z.ZodType;
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown, p: JsonPath): string {
  if (issue.code === 'invalid_type') {
    let parent: unknown = root;
    for (const k of p.slice(0, -1)) parent = (parent as Record<string | number, unknown> | undefined)?.[k];
    const key = p[p.length - 1];
    const present = p.length > 0 && typeof parent === 'object' && parent !== null && Object.prototype.hasOwnProperty.call(parent, key);
    if (p.length > 0 && !present) {
      return `${formatJsonPath(p.slice(0, -1))}: missing required property "${String(key)}" (expected ${issue.expected})`;
    }
    let received: unknown = root;
    for (const k of p) received = (received as Record<string | number, unknown>)[k];
    return `${formatJsonPath(p)}: expected ${issue.expected}, found ${kindOf(received)}`;
  }
  return `${formatJsonPath(p)}: ${issue.message}`;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}
