import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod';
import { SyncordError } from '../errors';
import { parseJsonc, stripBom, validateValue } from '../store/jsonText';

/**
 * The two operations the target registry needs from a JSON store. Every change takes a per-file lock,
 * re-reads the file inside the lock, applies the change and replaces the file by temp file + fsync + rename.
 * A file that does not parse or match its schema is never overwritten: the error names file:line:col.
 */
export interface JsonStore {
  readJson<T>(file: string, schema: z.ZodType<T>, empty: () => T): Promise<T>;
  updateJson<T, R>(file: string, schema: z.ZodType<T>, empty: () => T, mutate: (value: T) => R | Promise<R>): Promise<R>;
}

const LOCK_WAIT_MS = 10_000;

async function readParsed<T>(file: string, schema: z.ZodType<T>, empty: () => T): Promise<T> {
  let text: string;
  try {
    text = stripBom(await fs.promises.readFile(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw new SyncordError(`cannot read: ${(e as Error).message}`, 'io', { file });
  }
  return validateValue(file, text, parseJsonc(file, text), schema);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquire(file: string): Promise<() => Promise<void>> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await fs.promises.open(lock, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await fs.promises.rm(lock, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new SyncordError(`cannot lock: ${(e as Error).message}`, 'io', { file });
    }
    // A lock left by a dead process is removed by renaming it away first, so only one taker wins.
    const holder = Number.parseInt((await fs.promises.readFile(lock, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isFinite(holder) && holder > 0 && !pidAlive(holder)) {
      const moved = `${lock}.stale-${process.pid}-${attempt}`;
      try {
        await fs.promises.rename(lock, moved);
        const again = Number.parseInt((await fs.promises.readFile(moved, 'utf8').catch(() => '')).trim(), 10);
        if (again === holder) await fs.promises.rm(moved, { force: true });
        else await fs.promises.rename(moved, lock).catch(() => undefined);
      } catch {
        /* someone else took it over */
      }
      continue;
    }
    if (Date.now() > deadline) throw new SyncordError(`the file is locked by process ${holder || '?'}`, 'lock-timeout', { file });
    await new Promise((r) => setTimeout(r, 10 + Math.random() * 20));
  }
}

export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    const fh = await fs.promises.open(tmp, 'wx');
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw new SyncordError(`cannot write: ${(e as Error).message}`, 'io', { file });
  }
}

/** The store used until the shared coordination store takes over (same contract). */
export const localJsonStore: JsonStore = {
  readJson: readParsed,
  async updateJson(file, schema, empty, mutate) {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const release = await acquire(file);
    try {
      const value = await readParsed(file, schema, empty);
      const result = await mutate(value);
      await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
      return result;
    } finally {
      await release();
    }
  },
};

export let registryStore: JsonStore = localJsonStore;
