import { findNodeAtLocation, Node, parse, ParseError, ParseErrorCode, parseTree } from 'jsonc-parser';
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

/**
 * Parses JSON, tolerating comments and trailing commas (JSONC). Refuses anything else with the file and the
 * 1-based line and column of the first problem.
 */
export function parseJsonc(file: string, text: string): unknown {
  if (text.trim() === '') throw new SyncordError('the file is empty; expected a JSON object', 'invalid-file', { file, line: 1, column: 1 });
  // Plain JSON (the usual case) parses natively, many times faster; JSONC and broken files take the slow path.
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // fall through
  }
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length) {
    const e = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more syntax error${errors.length > 2 ? 's' : ''})` : '';
    throw new SyncordError(`invalid JSON: ${PARSE_MESSAGES[e.error] ?? 'syntax error'}${more}`, 'invalid-file', {
      file,
      ...positionAt(text, e.offset),
    });
  }
  return value;
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
 * JSON path and its line and column in the file.
 */
export function validateValue<T>(file: string, text: string, value: unknown, schema: z.ZodType<T>): T {
  const result = schema.safeParse(value);
  if (result.success) return value as T;
  const issues = result.error.issues;
  const first = issues[0];
  const p = first.path.filter((k): k is string | number => typeof k === 'string' || typeof k === 'number');
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new SyncordError(`${describeIssue(first, value, p)}${more}`, 'invalid-file', locatePath(file, text, p));
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
