import { execFile } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as z from 'zod';
import { ChangedOnDiskError, FileIdentity, identityOf, sameIdentity, toIdentity, writeFileAtomic } from '../store/atomic';
import { stateFile, WorkspacePaths } from '../workspace';
import { getObject } from './backup';
import { ensureSyncordDir } from './syncordDir';

/**
 * What Syncord remembers per target between syncs, in `.syncord/state/<target>.json`: per component, the rule it
 * was synced with (`fingerprint`), the main project's commit then, and the merge base of every file it wrote —
 * the SHA-256 of the main project's version it wrote (`null`: the main project had no such file and the user
 * chose to keep the target's). The bytes of a base are the main project's file at `commit` (from git) or, for
 * a file synced uncommitted, an object in the target's backup store.
 *
 * The file may have been edited by anyone: it is validated on every read, and what does not validate is
 * ignored (it costs merge bases, never a wrong write: a file without a base is never overwritten silently).
 */
const HASH = /^[0-9a-f]{64}$/;
const COMMIT = /^[0-9a-f]{40,64}$/;

const ComponentStateSchema = z.object({
  fingerprint: z.string(),
  commit: z.string().optional(),
  earlier: z.array(z.string()).optional(),
  synced_at: z.string().optional(),
  // Checked entry by entry below (a large target has tens of thousands): a bad entry costs only itself.
  bases: z.unknown().optional(),
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A path relative to a component: POSIX, no leading "/", no "." or ".." segment, no backslash or NUL. One
 * regular expression per path: a state holds an entry per synced file, and it is read on every status and sync.
 */
const NOT_PLAIN = /^\/|\/$|\/\/|\\|\0|^[A-Za-z]:|(^|\/)\.\.?(\/|$)/;
function plainRelative(rel: string): boolean {
  return rel === '' || !NOT_PLAIN.test(rel);
}

export interface ComponentState {
  fingerprint: string;
  commit?: string;
  /** Earlier commits bases were recorded at, newest first. */
  earlier?: string[];
  /** When a sync last changed what is recorded here (a sync that changes nothing leaves the record as it is). */
  synced_at?: string;
  /** Keyed by path relative to the component ('' for a single-file component). */
  bases: Record<string, string | null>;
}

export interface SyncState {
  components: Record<string, ComponentState>;
}

function cleanComponent(raw: unknown): ComponentState | undefined {
  // The bases are left out of the schema's check: a plain loop over tens of thousands of entries costs a
  // fraction of a schema's record check, and each entry is checked here anyway.
  const r = ComponentStateSchema.safeParse(isRecord(raw) ? { ...raw, bases: undefined } : raw);
  if (!r.success) return undefined;
  const rawBases = (raw as { bases?: unknown }).bases;
  if (rawBases !== undefined && !isRecord(rawBases)) return undefined;
  // Without a prototype: a file may be named `__proto__`.
  const bases: Record<string, string | null> = Object.create(null);
  if (rawBases) {
    for (const rel in rawBases) {
      const h = rawBases[rel];
      if (!plainRelative(rel)) continue;
      if (h !== null && (typeof h !== 'string' || !HASH.test(h))) continue;
      bases[rel] = h;
    }
  }
  const out: ComponentState = { fingerprint: r.data.fingerprint, bases };
  if (r.data.commit && COMMIT.test(r.data.commit)) out.commit = r.data.commit;
  const earlier = (r.data.earlier ?? []).filter((c) => COMMIT.test(c));
  if (earlier.length) out.earlier = earlier;
  if (r.data.synced_at) out.synced_at = r.data.synced_at;
  return out;
}

export async function readSyncState(paths: WorkspacePaths, target: string): Promise<SyncState> {
  return (await readSyncStateAt(paths, target)).state;
}

/**
 * The state as read, with the identity of the file it was read from (null: there was no file). Whoever
 * changes the state writes it back only over that version of the file (see `updateSyncState`).
 */
export interface ReadState {
  state: SyncState;
  identity: FileIdentity | null;
}

/**
 * Reads the state and the identity of the file read (one open file: the two always go together). Only a
 * regular file is read: anything else there (a symlink, a folder) counts as no state, and is what a write
 * replaces.
 */
export async function readSyncStateAt(paths: WorkspacePaths, target: string): Promise<ReadState> {
  const file = stateFile(paths, target);
  let text: string;
  let identity: FileIdentity;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { state: { components: {} }, identity: code === 'ENOENT' || code === 'ENOTDIR' ? null : (identityOf(file) ?? null) };
  }
  try {
    const st = fs.fstatSync(fd);
    identity = toIdentity(st);
    if (!st.isFile()) return { state: { components: {} }, identity };
    text = fs.readFileSync(fd, 'utf8');
  } catch {
    return { state: { components: {} }, identity: identityOf(file) ?? null };
  } finally {
    fs.closeSync(fd);
  }
  return { state: parseSyncState(text), identity };
}

/** The state a file's text holds: what does not validate is left out (see the module comment). */
export function parseSyncState(text: string): SyncState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { components: {} };
  }
  if (!isRecord(raw) || !isRecord(raw.components)) return { components: {} };
  const components: Record<string, ComponentState> = {};
  for (const name in raw.components) {
    const clean = cleanComponent(raw.components[name]);
    if (clean) components[name] = clean;
  }
  return { components };
}

/** The state's text: JSON on one line (a state holds an entry per synced file; indentation would add a fifth). */
export function syncStateText(state: SyncState): string {
  return JSON.stringify(state) + '\n';
}

/**
 * Writes the state. `expect`: the identity of the file it was read from (null: there was none); the write is
 * refused with `ChangedOnDiskError` when the file is another version now. Undefined: written over whatever is there.
 */
export async function writeSyncState(paths: WorkspacePaths, target: string, state: SyncState, expect?: FileIdentity | null): Promise<void> {
  await ensureSyncordDir(paths);
  const file = stateFile(paths, target);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, syncStateText(state), expect === undefined ? {} : { expect });
}

/** How many times a change of the state is made again on a fresh read when another process wrote the file meanwhile. */
const STATE_ATTEMPTS = 5;

/**
 * Changes the recorded state of a target: `edit` changes it in place (read, edited, written back). `edit`
 * returns false when it changed nothing: then nothing is written. `from`: the state as the caller read it
 * (with `readSyncStateAt`), used when the file is still that version, else read again. The state is written
 * only over the version it was read from: when another process wrote it meanwhile, it is read again and
 * `edit` applied to that, so neither change is lost.
 */
export async function updateSyncState(paths: WorkspacePaths, target: string, edit: (s: SyncState) => boolean | void, from?: ReadState): Promise<void> {
  const file = stateFile(paths, target);
  let read = from;
  for (let attempt = 1; ; attempt++) {
    if (read) {
      const now = identityOf(file) ?? null;
      if (!(now === null ? read.identity === null : read.identity !== null && sameIdentity(now, read.identity))) read = undefined;
    }
    const { state, identity } = read ?? (await readSyncStateAt(paths, target));
    read = undefined;
    if (edit(state) === false) return;
    try {
      await writeSyncState(paths, target, state, identity);
      return;
    } catch (e) {
      if (!(e instanceof ChangedOnDiskError) || attempt >= STATE_ATTEMPTS) throw e;
    }
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The bytes of a file at a commit of the main project, or undefined when it had none there. */
export function gitBlob(root: string, commit: string, relPath: string): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    if (!COMMIT.test(commit)) return resolve(undefined);
    execFile('git', ['cat-file', 'blob', `${commit}:${relPath}`], { cwd: root, encoding: 'buffer', maxBuffer: 1 << 30, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout) =>
      resolve(err ? undefined : stdout),
    );
  });
}

/** A merge base: its hash (null: the main project had no such file) and, when it can be had, its bytes. */
export interface Base {
  hash: string | null;
  bytes(): Promise<Buffer | undefined>;
}

/**
 * The merge base of a file of a component: the recorded one (its bytes from the backup store or from git at the
 * recorded commit, checked against the hash), else the main project's file at the commit the target was last
 * synced from (for targets synced before bases were recorded). Undefined when nothing is known.
 */
export async function baseOf(paths: WorkspacePaths, target: string, comp: { source: string }, rel: string, state: ComponentState | undefined, fallbackCommit: string | undefined): Promise<Base | undefined> {
  const srcRel = rel ? `${comp.source}/${rel}` : comp.source;
  if (state && Object.prototype.hasOwnProperty.call(state.bases, rel)) {
    const hash = state.bases[rel];
    if (hash === null) return { hash, bytes: async () => Buffer.alloc(0) };
    return {
      hash,
      bytes: async () => {
        const kept = getObject(paths, target, hash);
        if (kept) return kept;
        for (const commit of [state.commit, ...(state.earlier ?? []), fallbackCommit]) {
          if (!commit) continue;
          const blob = await gitBlob(paths.root, commit, srcRel);
          if (blob && sha256(blob) === hash) return blob;
        }
        return undefined;
      },
    };
  }
  const commit = state?.commit ?? fallbackCommit;
  if (!commit) return undefined;
  const blob = await gitBlob(paths.root, commit, srcRel);
  if (!blob) return undefined;
  return { hash: sha256(blob), bytes: async () => blob };
}
