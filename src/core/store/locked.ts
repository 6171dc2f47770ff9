import { SyncordError } from '../errors';
import { ChangedOnDiskError, writeFilesAtomic } from './atomic';
import { conforms, readStored, Specs, StoredDocument, ValuesOf } from './documents';
import { acquireLocks, LockOptions, releaseLocks } from './lock';
import { isLargeText, renderLargeUpdate, renderUpdate } from './render';

/**
 * The locked strategy of `updateFiles` (see update.ts): for a change to several files at once. Takes the files'
 * locks in a fixed order, re-reads them, applies the change to copies, checks the results against the schemas,
 * and replaces every changed file. Each file's identity is checked again immediately before the renames; when
 * someone changed a file without the lock (an editor, an agent's editing tool), the change is applied again to
 * the new content, and refused after a few rounds. An edit made by someone else is never overwritten.
 */

export interface UpdateOptions extends LockOptions {
  /** How often to start over when a file changed on disk behind the lock. Default 5. */
  attempts?: number;
}

export interface UpdateOutcome<R> {
  result: R;
  /** The files whose content changed and was written. */
  written: string[];
}

export async function updateLocked<S extends Specs, R>(
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
      const docs: Record<string, StoredDocument<unknown>> = {};
      for (const k of keys) docs[k] = readStored(specs[k]);
      // A copy to change; plain JSON (the usual case) is parsed again from its text, faster than a deep clone. A long
      // plain-JSON file is changed in place: the value was read for this change alone, and its new text is made by
      // comparing with the text rather than the old value (renderLargeUpdate), so it is not parsed twice.
      const inPlace = (k: string) => docs[k].layout !== undefined && isLargeText(docs[k].text);
      const drafts = Object.fromEntries(keys.map((k) => [k, inPlace(k) ? docs[k].value : docs[k].layout ? JSON.parse(docs[k].text) : structuredClone(docs[k].value)])) as ValuesOf<S>;
      const result = await mutate(drafts);

      const changes: { key: string; text: string }[] = [];
      for (const k of keys) {
        const after = drafts[k] as unknown;
        if (!conforms(specs[k], after)) {
          const check = specs[k].schema.safeParse(after);
          throw new Error(`refusing to write ${specs[k].file}: the change would not match its schema (${check.error?.issues[0]?.message})`);
        }
        const next = inPlace(k) ? renderLargeUpdate(docs[k].text, docs[k].layout!, after) : renderUpdate(docs[k].text, docs[k].value, after);
        if (next !== docs[k].text) changes.push({ key: k, text: docs[k].bom ? '\ufeff' + next : next });
      }
      if (!changes.length) return { result, written: [] };
      for (const l of locks) {
        if (l.compromised) {
          throw new SyncordError(`the lock on ${l.file} was lost while updating it; nothing was written`, 'lock-timeout', { file: l.file });
        }
      }
      try {
        const written = writeFilesAtomic(changes.map((c) => ({ file: specs[c.key].file, content: c.text, opts: { expect: docs[c.key].identity } })));
        return { result, written };
      } catch (e) {
        if (!(e instanceof ChangedOnDiskError)) throw e;
        if (attempt < attempts) continue;
        throw new SyncordError(
          `${changes.map((c) => specs[c.key].file).join(', ')} kept changing on disk while Syncord tried to update it; nothing was written`,
          'conflict',
          { file: specs[changes[0].key].file },
        );
      }
    }
  } finally {
    await releaseLocks(locks);
  }
}
