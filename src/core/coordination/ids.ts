import { SyncordError } from '../errors';

/**
 * The next id of a series such as task_001, msg_002, dec_003: one more than the highest number in use,
 * zero-padded to three digits (more when needed). Ids written by hand in other forms are ignored.
 */
export function nextId(prefix: string, existing: Iterable<string>): string {
  const re = new RegExp(`^${prefix}_(\\d+)$`);
  let max = 0;
  for (const id of existing) {
    const m = re.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${prefix}_${String(max + 1).padStart(3, '0')}`;
}

/** Instance ids appear in file keys, messages and shell commands: keep them plain. */
export function checkInstanceId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(id)) {
    throw new SyncordError(`invalid instance id ${JSON.stringify(id)}: use letters, digits, '.', '_' and '-' (e.g. instance-2)`, 'usage');
  }
  if (id === 'all') throw new SyncordError('"all" is reserved for messages to every instance; choose another id', 'usage');
  return id;
}

/** Removes duplicates and empty entries, keeping the first occurrence's order. */
export function uniq(values: Iterable<string>): string[] {
  return [...new Set([...values].map((v) => v.trim()).filter(Boolean))];
}
