import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod';
import { SyncordError } from '../errors';
import { FileIdentity, identityOf, sameIdentity } from './atomic';
import { decodeUtf8, matchesInPlace, parseJsonText, stripBom, TopEntry, validateValue } from './jsonText';

/**
 * Reading a workspace file: the one place where bytes from disk become a validated value. Every read checks
 * the bytes are UTF-8, the text is JSON (comments tolerated) with no duplicate key and no absurd nesting, and
 * the value matches the file's schema; every problem names the file, line and column.
 */

/** One JSON file of the workspace and the schema its content must match. */
export interface JsonFileSpec<T> {
  file: string;
  /** What the content must match. With `matches`, read only to say what is wrong with a value that fails it. */
  schema: z.ZodType<T>;
  /**
   * A check that says of every value what `schema` says, without building the schema (the coordination files'
   * generated checks, src/core/coordination/validators.generated.ts): reading a valid file then needs no zod.
   */
  matches?: (value: unknown) => boolean;
  /** Said in the not-found error when the file is missing, e.g. "run `syncord init`". */
  missingHint?: string;
}

/** A file as read: its text and its value (the parsed JSON itself, so unknown fields and key order survive). */
export interface JsonDocument<T> {
  file: string;
  text: string;
  value: T;
}

/** A file as read for changing it: also the identity it had when read, its BOM and its top-level layout. */
export interface StoredDocument<T> extends JsonDocument<T> {
  identity: FileIdentity;
  bom: boolean;
  /** Where each top-level property is in `text`; undefined when the text is not plain JSON. */
  layout?: TopEntry[];
}

/** Whether a value matches what `spec` says its file holds (how a change is checked before it is written). */
export function conforms(spec: JsonFileSpec<unknown>, value: unknown): boolean {
  return spec.matches ? spec.matches(value) : matchesInPlace(spec.schema, value);
}

function notFound(spec: JsonFileSpec<unknown>): SyncordError {
  return new SyncordError(`${spec.file} does not exist${spec.missingHint ? `; ${spec.missingHint}` : ''}`, 'not-found', { file: spec.file });
}

/** Parses and validates a file's bytes; errors name the file, line and column. */
export function parseStored<T>(spec: JsonFileSpec<T>, bytes: Uint8Array, identity: FileIdentity): StoredDocument<T> {
  return parseDecoded(spec, decodeUtf8(spec.file, bytes), identity);
}

function parseDecoded<T>(spec: JsonFileSpec<T>, raw: string, identity: FileIdentity): StoredDocument<T> {
  const text = stripBom(raw);
  const parsed = parseJsonText(spec.file, text);
  const value = validateValue(spec.file, text, parsed.value, () => spec.schema, spec.matches);
  return { file: spec.file, text, value, identity, bom: raw.length !== text.length, layout: parsed.strict ? parsed.layout : undefined };
}

/**
 * A file's text, read straight into a string (no buffer of its bytes is kept beside it). Bytes that are not
 * UTF-8 read as U+FFFD: only when that character appears are the bytes read and checked, so that they are
 * refused with their position (a file may also hold U+FFFD itself, which is then read as it is).
 */
function readUtf8(file: string): string {
  const text = fs.readFileSync(file, 'utf8');
  return text.includes('\ufffd') ? decodeUtf8(file, fs.readFileSync(file)) : text;
}

/**
 * Reads, parses and validates `spec.file`. The identity returned is the one the file had before it was read,
 * so a change that lands during the read makes a later identity check fail rather than pass.
 */
export function readStored<T>(spec: JsonFileSpec<T>): StoredDocument<T> {
  const identity = identityOf(spec.file);
  if (!identity) throw notFound(spec);
  let raw: string;
  try {
    raw = readUtf8(spec.file);
  } catch (e) {
    if (e instanceof SyncordError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(spec);
    throw new SyncordError(`could not read ${spec.file}: ${(e as Error).message}`, 'io', { file: spec.file });
  }
  return parseDecoded(spec, raw, identity);
}

/** Reads one file without locking (writes are atomic renames, so a reader always sees a whole file). */
export async function readJsonFile<T>(spec: JsonFileSpec<T>): Promise<JsonDocument<T>> {
  const { file, text, value } = readStored(spec);
  return { file, text, value };
}

export type Specs = Record<string, JsonFileSpec<any>>;
export type ValuesOf<S extends Specs> = { [K in keyof S]: S[K] extends JsonFileSpec<infer T> ? T : never };
export type DocumentsOf<S extends Specs> = { [K in keyof S]: S[K] extends JsonFileSpec<infer T> ? JsonDocument<T> : never };

export async function readJsonFiles<S extends Specs>(specs: S): Promise<DocumentsOf<S>> {
  const entries = await Promise.all(Object.entries(specs).map(async ([k, s]) => [k, await readJsonFile(s)] as const));
  return Object.fromEntries(entries) as DocumentsOf<S>;
}

// ------------------------------------------------------------------------------------------ cached copies

/**
 * Documents this process read or wrote, keyed by path, with their values deep-frozen so that drafts can share
 * unchanged parts. A cached copy is used only while the file's identity is still the one it was read with.
 */
const cache = new Map<string, StoredDocument<unknown>>();

export function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  if (Array.isArray(v)) for (const x of v) deepFreeze(x);
  else for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

/** The file's current content, from this process's cache when the file has not changed since. Frozen. */
export function readCached<T>(spec: JsonFileSpec<T>): StoredDocument<T> {
  const file = path.resolve(spec.file);
  const now = identityOf(file);
  if (!now) throw notFound(spec);
  const cached = cache.get(file);
  if (cached && sameIdentity(cached.identity, now)) return cached as StoredDocument<T>;
  const doc = readStored(spec);
  deepFreeze(doc.value);
  // Cached only when the file did not change while it was read.
  const after = identityOf(file);
  if (after && sameIdentity(after, doc.identity)) cache.set(file, doc);
  else cache.delete(file);
  return doc;
}

/** Records what this process just wrote, so its next change to the file needs no read. */
export function rememberWritten<T>(doc: StoredDocument<T>): void {
  deepFreeze(doc.value);
  cache.set(path.resolve(doc.file), doc as StoredDocument<unknown>);
}

/** Drops this process's cached copies (tests; or after writing a file by other means). */
export function forgetCachedDocuments(): void {
  cache.clear();
}
