import { diff3Merge } from 'node-diff3';

/**
 * Three-way merge of text files, line by line, as `git merge-file` does: changes made on one side only are
 * taken; the same change on both sides is taken once; different changes to the same lines (or to lines that
 * touch) are a conflict. Line endings are kept as they are.
 */
export type Merge3Result = { clean: true; text: string } | { clean: false; conflicts: number; text: string };

function lines(text: string): string[] {
  return text.length ? text.split(/(?<=\n)/) : [];
}

/**
 * Merges `ours` (the main project's new version) and `theirs` (the target's copy) from their common `base`
 * (what the last sync wrote). A conflicting merge also returns a text with git-style conflict markers, for
 * people who want to see it; it is never written into a target by itself.
 */
export function merge3(base: string, ours: string, theirs: string, labels = { ours: 'main project', base: 'last sync', theirs: 'target' }): Merge3Result {
  const regions = diff3Merge(lines(ours), lines(base), lines(theirs), { excludeFalseConflicts: true });
  const out: string[] = [];
  let conflicts = 0;
  const block = (part: string[]) => {
    const text = part.join('');
    out.push(text && !text.endsWith('\n') ? text + '\n' : text);
  };
  for (const r of regions) {
    if (r.ok) out.push(r.ok.join(''));
    else if (r.conflict) {
      conflicts++;
      out.push(`<<<<<<< ${labels.ours}\n`);
      block(r.conflict.a);
      out.push(`||||||| ${labels.base}\n`);
      block(r.conflict.o);
      out.push('=======\n');
      block(r.conflict.b);
      out.push(`>>>>>>> ${labels.theirs}\n`);
    }
  }
  const text = out.join('');
  return conflicts ? { clean: false, conflicts, text } : { clean: true, text };
}

/** Whether bytes are text a line merge can handle: UTF-8 without NUL bytes. */
export function isText(data: Buffer): boolean {
  if (data.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
