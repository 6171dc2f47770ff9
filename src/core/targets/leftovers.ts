import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as z from 'zod';
import { assertNoLinkBelow, assertRealFolder, resolveInside } from '../containment';
import { SyncordError } from '../errors';
import { removeDeadTemps, writeFileAtomic } from '../store/atomic';
import { pidIsDead } from '../store/lock';
import { backupDir, workDir, WorkspacePaths } from '../workspace';
import { ensureSyncordDir } from './syncordDir';

/**
 * Crash leftovers. Every write into a target or a backup store goes through a temporary file beside its
 * destination (`.<name>.syncord-<pid>-<random>.tmp`, see store/atomic.ts); a process killed mid-write leaves
 * one behind. Before an operation writes, it records the folders it is about to write into, relative to the
 * target and to the backup store, in `.syncord/work/<target>/<pid>-<random>.json`, and removes the record when
 * it ends. The next sync, backup or restore of that target finds the records of processes that are gone and
 * removes, in the folders they name, the temporary files of dead processes (only those names, only this
 * user's files) — nothing else. A record is data: its folders must resolve inside their root, through real
 * folders, or the record is refused.
 */

const RECORD_NAME = /^(\d+)-[0-9a-f]+\.json$/;

const RecordSchema = z.object({ target: z.array(z.string()), store: z.array(z.string()) }).strict();
type WorkRecord = z.infer<typeof RecordSchema>;

/** Folders (relative, POSIX; '.' for the root itself) an operation will write into. */
export interface WorkFolders {
  target?: Iterable<string>;
  store?: Iterable<string>;
}

/** An operation in progress: `add` records more folders before writing there, `end` removes the record. */
export interface Work {
  add(folders: WorkFolders): void;
  end(): void;
}

function folderOf(root: string, rel: string, what: string): string {
  if (rel === '.' || rel === '') return root;
  return resolveInside(root, rel, what);
}

/** Starts recording the folders an operation on `target` writes into. */
export async function beginWork(paths: WorkspacePaths, target: string, folders: WorkFolders = {}): Promise<Work> {
  await ensureSyncordDir(paths);
  const dir = workDir(paths, target);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.json`);
  const record: WorkRecord = { target: [], store: [] };
  const seen = { target: new Set<string>(), store: new Set<string>() };
  let written = false;
  const add = (more: WorkFolders) => {
    let changed = false;
    for (const k of ['target', 'store'] as const) {
      for (const rel of more[k] ?? []) {
        if (seen[k].has(rel)) continue;
        seen[k].add(rel);
        record[k].push(rel);
        changed = true;
      }
    }
    if (changed || !written) {
      writeFileAtomic(file, JSON.stringify(record) + '\n');
      written = true;
    }
  };
  add(folders);
  return { add, end: () => fs.rmSync(file, { force: true }) };
}

interface DeadRecord {
  file: string;
  record?: WorkRecord;
  problem?: string;
}

function deadRecords(paths: WorkspacePaths, target: string): DeadRecord[] {
  const dir = workDir(paths, target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: DeadRecord[] = [];
  for (const name of names) {
    const m = RECORD_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || !pidIsDead(Number(m[1]))) continue;
    const file = path.join(dir, name);
    try {
      const parsed = RecordSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
      out.push(parsed.success ? { file, record: parsed.data } : { file, problem: 'does not match its schema' });
    } catch (e) {
      out.push({ file, problem: (e as Error).message });
    }
  }
  return out;
}

/** Whether an operation on the target was killed while writing into it (its temporary files may be there). */
export function interruptedWork(paths: WorkspacePaths, target: string): boolean {
  return deadRecords(paths, target).some((d) => !d.record || d.record.target.length > 0);
}

/**
 * Removes the temporary files that killed operations on this target left in the folders they recorded (in the
 * target at `targetRoot` and in its backup store), then their records. Returns the removed files. A record
 * naming a folder outside its root is refused ('invalid-file') and left in place.
 */
export function removeLeftovers(paths: WorkspacePaths, target: string, targetRoot: string): string[] {
  const removed: string[] = [];
  const store = backupDir(paths, target);
  for (const d of deadRecords(paths, target)) {
    if (!d.record) throw new SyncordError(`unreadable record of an interrupted operation: ${d.problem}; remove the file if nothing is running`, 'invalid-file', { file: d.file });
    const dirs: { root: string; rel: string; what: string }[] = [
      ...d.record.target.map((rel) => ({ root: targetRoot, rel, what: `folder of the target named in ${d.file}` })),
      ...d.record.store.map((rel) => ({ root: store, rel, what: `folder of the backup store named in ${d.file}` })),
    ];
    if (d.record.target.length) assertRealFolder(targetRoot, 'target folder');
    for (const { root, rel, what } of dirs) {
      let abs: string;
      try {
        abs = folderOf(root, rel, what);
      } catch (e) {
        throw new SyncordError((e as Error).message, 'invalid-file', { file: d.file });
      }
      if (!fs.existsSync(root)) continue;
      assertNoLinkBelow(root, abs, what);
      removed.push(...removeDeadTemps(abs));
    }
    fs.rmSync(d.file, { force: true });
  }
  return removed;
}
