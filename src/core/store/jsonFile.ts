import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod';
import { SyncordError } from '../errors';
import { acquireLocks, LockOptions, releaseLocks } from './lock';
import { parseJsonc, stripBom, validateValue } from './jsonText';
import { renderUpdate } from './render';

/** One JSON file of the workspace and the schema its content must match. */
export interface JsonFileSpec<T> {
  file: string;
  schema: z.ZodType<T>;
  /** Said in the not-found error when the file is missing, e.g. "run `syncord init`". */
  missingHint?: string;
}

/** A file as read: its text and its value (the parsed JSON itself, so unknown fields and key order survive). */
export interface JsonDocument<T> {
  file: string;
  text: string;
  value: T;
}

async function readText(spec: JsonFileSpec<unknown>): Promise<string> {
  try {
    return await fs.promises.readFile(spec.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new SyncordError(`${spec.file} does not exist${spec.missingHint ? `; ${spec.missingHint}` : ''}`, 'not-found', {
        file: spec.file,
      });
    }
    throw new SyncordError(`could not read ${spec.file}: ${(e as Error).message}`, 'io', { file: spec.file });
  }
}

/** Parses and validates a file's text; errors name the file, line and column. */
export function parseDocument<T>(spec: JsonFileSpec<T>, rawText: string): JsonDocument<T> {
  const text = stripBom(rawText);
  const parsed = parseJsonc(spec.file, text);
  return { file: spec.file, text, value: validateValue(spec.file, text, parsed, spec.schema) };
}

/** Reads one file without locking (writes are atomic renames, so a reader always sees a whole file). */
export async function readJsonFile<T>(spec: JsonFileSpec<T>): Promise<JsonDocument<T>> {
  return parseDocument(spec, await readText(spec));
}

export type Specs = Record<string, JsonFileSpec<any>>;
export type ValuesOf<S extends Specs> = { [K in keyof S]: S[K] extends JsonFileSpec<infer T> ? T : never };
export type DocumentsOf<S extends Specs> = { [K in keyof S]: S[K] extends JsonFileSpec<infer T> ? JsonDocument<T> : never };

export async function readJsonFiles<S extends Specs>(specs: S): Promise<DocumentsOf<S>> {
  const entries = await Promise.all(Object.entries(specs).map(async ([k, s]) => [k, await readJsonFile(s)] as const));
  return Object.fromEntries(entries) as DocumentsOf<S>;
}

export interface UpdateOptions extends LockOptions {
  /** How often to start over when a file changed on disk behind the lock (an editor saving it). Default 5. */
  attempts?: number;
}

export interface UpdateOutcome<R> {
  result: R;
  /** The files whose content changed and was written. */
  written: string[];
}

/**
 * Changes several files as one operation: takes their locks, re-reads them, lets `mutate` change the values
 * in place (or throw to change nothing), checks the results against the schemas, and writes each changed file
 * atomically. Only the changed parts of each file are rewritten. If a file changed on disk while `mutate` ran
 * (someone edited it without the lock), the whole operation starts over on the new content, so no edit is lost.
 */
export async function updateJsonFiles<S extends Specs, R>(
  specs: S,
  mutate: (values: ValuesOf<S>) => R | Promise<R>,
  opts: UpdateOptions = {},
): Promise<UpdateOutcome<R>> {
  const keys = Object.keys(specs) as (keyof S & string)[];
  const locks = await acquireLocks(
    keys.map((k) => specs[k].file),
    opts,
  );
  try {
    const attempts = Math.max(1, opts.attempts ?? 5);
    for (let attempt = 1; ; attempt++) {
      const raw: Record<string, string> = {};
      const docs: Record<string, JsonDocument<unknown>> = {};
      for (const k of keys) {
        raw[k] = await readText(specs[k]);
        docs[k] = parseDocument(specs[k], raw[k]);
      }
      const drafts = Object.fromEntries(keys.map((k) => [k, structuredClone(docs[k].value)])) as ValuesOf<S>;
      const result = await mutate(drafts);

      const changes: { key: string; text: string }[] = [];
      for (const k of keys) {
        const after = drafts[k] as unknown;
        const check = specs[k].schema.safeParse(after);
        if (!check.success) {
          throw new Error(`refusing to write ${specs[k].file}: the change would not match its schema (${check.error.issues[0]?.message})`);
        }
        const next = renderUpdate(docs[k].text, docs[k].value, after);
        if (next !== docs[k].text) changes.push({ key: k, text: raw[k].charCodeAt(0) === 0xfeff ? '\ufeff' + next : next });
      }
      if (!changes.length) return { result, written: [] };

      // Re-read just before writing: an editor may have saved the file meanwhile without taking the lock.
      let changedBehind = false;
      for (const c of changes) if ((await readText(specs[c.key])) !== raw[c.key]) changedBehind = true;
      if (changedBehind) {
        if (attempt < attempts) continue;
        throw new SyncordError(
          `${changes.map((c) => specs[c.key].file).join(', ')} kept changing on disk while Syncord tried to update it; nothing was written`,
          'conflict',
          { file: specs[changes[0].key].file },
        );
      }
      for (const l of locks) {
        if (l.compromised) {
          throw new SyncordError(`the lock on ${l.file} was lost while updating it; nothing was written`, 'lock-timeout', { file: l.file });
        }
      }
      const written = await writeAllOrNothing(changes.map((c) => ({ file: specs[c.key].file, text: c.text })));
      return { result, written };
    }
  } finally {
    await releaseLocks(locks);
  }
}

/** Single-file form of updateJsonFiles. */
export async function updateJsonFile<T, R>(
  spec: JsonFileSpec<T>,
  mutate: (value: T) => R | Promise<R>,
  opts: UpdateOptions = {},
): Promise<UpdateOutcome<R>> {
  return updateJsonFiles({ only: spec }, (v) => mutate(v.only), opts);
}

/**
 * Writes each file to a temporary file beside it (flushed to disk, with the original's permissions), then
 * renames them all into place. A failure before the renames removes the temporaries and leaves every file as
 * it was.
 */
export async function writeAllOrNothing(files: { file: string; text: string }[]): Promise<string[]> {
  const temps: { file: string; temp: string }[] = [];
  try {
    for (const { file, text } of files) {
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
      temps.push({ file, temp });
      const mode = await fs.promises.stat(file).then((s) => s.mode & 0o7777, () => undefined);
      const fh = await fs.promises.open(temp, 'wx', mode ?? 0o666);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (mode !== undefined) await fs.promises.chmod(temp, mode);
    }
  } catch (e) {
    await Promise.all(temps.map((t) => fs.promises.rm(t.temp, { force: true })));
    const failed = temps[temps.length - 1]?.file ?? files[0]?.file ?? '';
    throw new SyncordError(`could not write ${failed}: ${(e as Error).message}; no file was changed`, 'io', { file: failed });
  }
  const written: string[] = [];
  for (const t of temps) {
    try {
      await fs.promises.rename(t.temp, t.file);
      written.push(t.file);
    } catch (e) {
      await Promise.all(temps.slice(written.length).map((x) => fs.promises.rm(x.temp, { force: true })));
      const done = written.length ? ` (already replaced: ${written.join(', ')})` : '; no file was changed';
      throw new SyncordError(`could not replace ${t.file}: ${(e as Error).message}${done}`, 'io', { file: t.file });
    }
  }
  return written;
}
