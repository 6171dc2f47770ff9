import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod';
import { SyncordError } from '../errors';
import { readJsonFile, updateLocked } from '../store';

/**
 * The two operations the target registry needs from a JSON store. Every change takes a per-file lock,
 * re-reads the file inside the lock, applies the change and replaces the file by temp file + fsync + rename.
 * A file that does not parse or match its schema is never overwritten: the error names file:line:col.
 */
export interface JsonStore {
  readJson<T>(file: string, schema: z.ZodType<T>, empty: () => T): Promise<T>;
  updateJson<T, R>(file: string, schema: z.ZodType<T>, empty: () => T, mutate: (value: T) => R | Promise<R>): Promise<R>;
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

/**
 * The registry goes through the shared workspace store (src/core/store): per-file lock, re-read inside the
 * lock, minimal re-render keeping unknown fields and layout, temp file + fsync + rename. A missing file reads
 * as empty and is created (never over an existing one) on the first change.
 */
export const registryStore: JsonStore = {
  async readJson(file, schema, empty) {
    try {
      return (await readJsonFile({ file, schema })).value;
    } catch (e) {
      if (e instanceof SyncordError && e.code === 'not-found' && !fs.existsSync(file)) return empty();
      throw e;
    }
  },
  async updateJson(file, schema, empty, mutate) {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, JSON.stringify(empty(), null, 2) + '\n', { flag: 'wx' }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw new SyncordError(`cannot create: ${e.message}`, 'io', { file });
    });
    return (await updateLocked({ only: { file, schema } }, (v) => mutate(v.only))).result;
  },
};
