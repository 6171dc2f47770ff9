import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as z from 'zod';
import { assertNoLinkBelow, assertRealFolder, resolveInside } from '../containment';
import { SyncordError } from '../errors';
import { writeFileAtomic } from '../store/atomic';
import { locatePath, parseJsonText, validateValue } from '../store/jsonText';
import { backupDir, WorkspacePaths } from '../workspace';
import { ensureSyncordDir } from './syncordDir';
import { ensureRealDirSync, FileInfo, hashFile, infoOf, lstatOrUndefined, lstatSyncOrUndefined, pool, sameStat, Slicer, SMALL_FILE, walk } from './fsutil';
import { beginWork, removeLeftovers, Work } from './leftovers';
import { ResolvedTarget } from './registry';

/**
 * Backups live in the main project under `.syncord/backups/<target>/` (never in the target, and kept out of
 * git by `.syncord/.gitignore`): `objects/` is a content-addressed store (one read-only copy per distinct
 * content, named by its SHA-256, so files that did not change cost no new space) and `manifests/<id>.json`
 * lists, per component, every file's path, hash, size, mode and modification time, and ends with the SHA-256
 * of its own content (`digest`).
 *
 * Both are files anyone can edit, so both are checked when read: a manifest whose digest does not match its
 * content is reported as tampered; its paths must be relative and stay inside their component's destination;
 * an object must hash to its name before a restore copies it into the target.
 */

export interface ManifestEntry {
  hash: string;
  size: number;
  mtimeMs: number;
  mode: number;
  /** For symlinks: the link text (restored as a link, never followed). */
  link?: string;
  /**
   * Inode number, recorded when the file's modification time was safely in the past: a later backup that
   * finds the same size, modification time (1 ms window) and inode reuses the hash without reading the file.
   */
  ino?: number;
  /** Written by earlier versions; not used. */
  ctimeMs?: number;
}

export interface ManifestComponent {
  destination: string;
  kind: 'dir' | 'file';
  /** Keyed by path relative to the destination ('' for a single-file component). */
  files: Record<string, ManifestEntry>;
  /** Full snapshots: the folders below the destination. */
  dirs?: string[];
  /** Partial snapshots: paths that did not exist (a restore deletes them again). */
  absent?: string[];
  /** Partial snapshots: folders that did not exist. */
  absentDirs?: string[];
  /** Whether the destination existed at all. */
  existed: boolean;
  /** The destination and its parent folders (relative to the target root) that did not exist. */
  missingAncestors?: string[];
}

export type BackupReason = 'manual' | 'pre-sync' | 'pre-restore';

export interface Manifest {
  version: 1;
  id: string;
  target: string;
  created: string;
  reason: BackupReason;
  /** A partial snapshot covers only the paths a sync was about to touch. */
  partial: boolean;
  components: Record<string, ManifestComponent>;
  totals: { files: number; bytes: number; newObjects: number; newBytes: number };
  /** Pre-sync backups: the target's `sync_version` and `last_sync_commit` before that sync (absent: none). */
  sync_version?: string;
  commit?: string;
  /** Pre-sync backups: the target's `last_sync` before that sync (null: never synced; absent in older manifests). */
  last_sync?: string | null;
  /** SHA-256 of the manifest's JSON without this field (checked on every read). */
  digest?: string;
}

/** What a backup covers: a folder or single file of the target, relative to the target root. */
export interface BackupUnit {
  name: string;
  kind: 'dir' | 'file';
  destination: string;
  selects?: (rel: string) => boolean;
  /** Partial backups: only these paths (relative to the destination). */
  only?: string[];
}

export interface BackupSummary {
  id: string;
  target: string;
  created: string;
  reason: BackupReason;
  partial: boolean;
  components: string[];
  files: number;
  bytes: number;
  newObjects: number;
  newBytes: number;
}

function objectPath(store: string, hash: string): string {
  return path.join(store, 'objects', hash.slice(0, 2), hash.slice(2));
}

function newId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(2).toString('hex')}`;
}

/** The store of a target's backups, checked to be reached through real folders from the main project. */
function storeOf(paths: WorkspacePaths, target: string): string {
  const store = backupDir(paths, target);
  assertNoLinkBelow(paths.root, store, 'backup store');
  return store;
}

/** The store folder (relative, POSIX) an object is written into. */
function objectFolder(hash: string): string {
  return `objects/${hash.slice(0, 2)}`;
}

/**
 * Stores a large file by copying it (never holding it in memory): hashed, copied under that hash, and the
 * copy hashed again, so an object never holds other bytes than its name says. Returns its hash.
 */
async function copyIntoStore(store: string, work: Work, file: string, knownHash: string): Promise<{ hash: string; bytes: number; added: boolean }> {
  const obj = objectPath(store, knownHash);
  if (lstatSyncOrUndefined(obj)) return { hash: knownHash, bytes: 0, added: false };
  work.add({ store: [objectFolder(knownHash)] });
  fs.mkdirSync(path.dirname(obj), { recursive: true });
  const written = writeFileAtomic(obj, { copyFrom: file }, { mode: 0o444 });
  if ((await hashFile(obj, written.size)) !== knownHash) {
    fs.rmSync(obj, { force: true });
    throw new SyncordError(`${file} changed while it was being backed up; back up again`, 'conflict', { file });
  }
  return { hash: knownHash, bytes: written.size, added: true };
}

/** How many older manifests the stat cache looks through (newest first, up to the newest full snapshot). */
const STAT_CACHE_MANIFESTS = 20;

/**
 * Size, modification time and inode of files seen by earlier backups, with their hashes: from the newest
 * full snapshot and the partial (pre-sync) ones taken after it, newer entries first.
 */
async function statCache(store: string, target: string): Promise<StatCache> {
  const cache: StatCache = new Map();
  const ids = await manifestIds(store);
  for (let i = ids.length - 1, seen = 0; i >= 0 && seen < STAT_CACHE_MANIFESTS; i--, seen++) {
    const m = await readManifest(store, ids[i], target).catch(() => undefined);
    if (!m) continue;
    for (const c of Object.values(m.components)) {
      let byRel = cache.get(c.destination);
      if (!byRel) cache.set(c.destination, (byRel = new Map()));
      const files = c.files;
      for (const rel in files) {
        const e = files[rel];
        if (e.ino !== undefined && !e.link && !byRel.has(rel)) byRel.set(rel, e);
      }
    }
    if (!m.partial) break;
  }
  return cache;
}

/** Entries of earlier manifests by destination, then by path relative to it. */
type StatCache = Map<string, Map<string, ManifestEntry>>;

/** Modification times this close to the start of a backup (or later) are too fresh to vouch for the content. */
const RACY_MS = 2000;

/** Below this many files, a backup hashes them all rather than reading earlier manifests for a stat cache. */
const STAT_CACHE_MIN_FILES = 64;

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

/** A regular file's bytes and metadata, read without following a symlink; undefined when it is not one (any more). */
function readRegularSync(file: string): { data: Buffer; st: fs.Stats } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    return { data: fs.readFileSync(fd), st };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * New objects waiting to be written, a batch at a time: each through the one atomic writer (temp file beside
 * it, rename), then all of the batch flushed to disk a few at a time before the manifest that names them is
 * written.
 */
class ObjectWriter {
  private jobs: { hash: string; data: Buffer }[] = [];
  private bytes = 0;
  private queued = new Set<string>();
  added = 0;
  addedBytes = 0;
  constructor(
    private readonly store: string,
    private readonly work: Work,
  ) {}

  /** Queues `data` under `hash` unless the store (or the queue) has it already. Returns whether it is new. */
  async put(hash: string, data: Buffer): Promise<boolean> {
    if (this.queued.has(hash) || lstatSyncOrUndefined(objectPath(this.store, hash))) return false;
    this.queued.add(hash);
    this.jobs.push({ hash, data });
    this.bytes += data.length;
    this.added++;
    this.addedBytes += data.length;
    if (this.bytes >= 32 << 20) await this.flush();
    return true;
  }

  async flush(): Promise<void> {
    const jobs = this.jobs;
    this.jobs = [];
    this.bytes = 0;
    if (!jobs.length) return;
    this.work.add({ store: jobs.map((j) => objectFolder(j.hash)) });
    for (const { hash, data } of jobs) {
      const obj = objectPath(this.store, hash);
      fs.mkdirSync(path.dirname(obj), { recursive: true });
      writeFileAtomic(obj, data, { mode: 0o444, fsync: false });
    }
    await pool(jobs, 8, async ({ hash }) => {
      const fh = await fs.promises.open(objectPath(this.store, hash), 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
  }
}

async function manifestIds(store: string): Promise<string[]> {
  const names = await fs.promises.readdir(path.join(store, 'manifests')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
}

const BACKUP_ID = /^[0-9A-Za-z][0-9A-Za-z-]*$/;

/**
 * A path of a manifest: relative and inside its base, as Syncord writes them: `/`-separated names, none of them
 * empty, `.` or `..`, no NUL (and, on Windows, no `\` or drive letter). Where it is used it is also resolved
 * inside the target (`resolveInside`).
 */
function isPlainRelative(p: string): boolean {
  if (p === '' || NOT_PLAIN.test(p)) return false;
  return !(process.platform === 'win32' && /[\\:]/.test(p));
}

/** A leading or trailing `/`, an empty, `.` or `..` segment, or a NUL: one regular expression per path (a manifest has an entry per file). */
const NOT_PLAIN = /^\/|\/$|\/\/|\0|(^|\/)\.\.?(\/|$)/;

const EntrySchema = z
  .object({
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'expected a SHA-256 in hex'),
    size: z.number().int().nonnegative(),
    mtimeMs: z.number(),
    mode: z.number().int().min(0).max(0o7777),
    link: z.string().min(1).optional(),
    ino: z.number().optional(),
    ctimeMs: z.number().optional(),
  })
  .strict();

const relPaths = z.array(z.string());

const ComponentSchema = z
  .object({
    destination: z.string(),
    kind: z.enum(['dir', 'file']),
    files: z.record(z.string(), EntrySchema),
    dirs: relPaths.optional(),
    absent: relPaths.optional(),
    absentDirs: relPaths.optional(),
    existed: z.boolean(),
    missingAncestors: relPaths.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const bad = (p: (string | number)[], what: string, value: string) =>
      ctx.addIssue({ code: 'custom', path: p, message: `${what} ${JSON.stringify(value)} is not a plain relative path inside the component's destination` });
    if (!isPlainRelative(c.destination)) bad(['destination'], 'destination', c.destination);
    for (const rel of Object.keys(c.files)) if (rel === '' ? c.kind !== 'file' : c.kind !== 'dir' || !isPlainRelative(rel)) bad(['files', rel], 'file', rel);
    for (const k of ['dirs', 'absent', 'absentDirs'] as const) {
      (c[k] ?? []).forEach((rel, i) => {
        if (rel === '' ? !(k === 'absent' && c.kind === 'file') : c.kind !== 'dir' || !isPlainRelative(rel)) bad([k, i], k, rel);
      });
    }
    (c.missingAncestors ?? []).forEach((rel, i) => {
      if (!isPlainRelative(rel) || !(c.destination === rel || c.destination.startsWith(rel + '/'))) bad(['missingAncestors', i], 'missing ancestor', rel);
    });
  });

const ManifestSchema = z
  .object({
    version: z.literal(1),
    id: z.string().regex(BACKUP_ID),
    target: z.string(),
    created: z.string(),
    reason: z.enum(['manual', 'pre-sync', 'pre-restore']),
    partial: z.boolean(),
    components: z.record(z.string(), ComponentSchema),
    totals: z.object({ files: z.number(), bytes: z.number(), newObjects: z.number(), newBytes: z.number() }).strict(),
    sync_version: z.string().optional(),
    commit: z.string().optional(),
    last_sync: z.string().nullable().optional(),
  })
  .strict();

const HEX64 = /^[0-9a-f]{64}$/;
const ENTRY_KEYS = new Set(['hash', 'size', 'mtimeMs', 'mode', 'link', 'ino', 'ctimeMs']);
const COMPONENT_KEYS = new Set(['destination', 'kind', 'files', 'dirs', 'absent', 'absentDirs', 'existed', 'missingAncestors']);
const MANIFEST_KEYS = new Set(['version', 'id', 'target', 'created', 'reason', 'partial', 'components', 'totals', 'sync_version', 'commit', 'last_sync']);
const TOTALS_KEYS = ['files', 'bytes', 'newObjects', 'newBytes'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const onlyKeys = (o: Record<string, unknown>, keys: Set<string>) => {
  for (const k in o) if (!keys.has(k)) return false;
  return true;
};
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
const optional = (v: unknown, test: (v: unknown) => boolean) => v === undefined || test(v);
const stringArray = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Whether a manifest certainly has the shape `ManifestSchema` checks, without the schema: a loop over its
 * entries costs a fraction of the schema's check, and a backup reads its predecessors' manifests. Anything
 * this does not recognize (including every manifest the schema refuses) goes through the schema, which says
 * what is wrong and where.
 */
function plainlyValidManifest(m: Record<string, unknown>): boolean {
  if (!onlyKeys(m, MANIFEST_KEYS) || m.version !== 1 || typeof m.id !== 'string' || !BACKUP_ID.test(m.id)) return false;
  if (typeof m.target !== 'string' || typeof m.created !== 'string' || typeof m.partial !== 'boolean') return false;
  if (m.reason !== 'manual' && m.reason !== 'pre-sync' && m.reason !== 'pre-restore') return false;
  if (!optional(m.sync_version, (v) => typeof v === 'string') || !optional(m.commit, (v) => typeof v === 'string')) return false;
  if (!optional(m.last_sync, (v) => v === null || typeof v === 'string')) return false;
  const t = m.totals;
  if (!isObject(t) || Object.keys(t).length !== TOTALS_KEYS.length || !TOTALS_KEYS.every((k) => isFiniteNumber(t[k]))) return false;
  if (!isObject(m.components)) return false;
  for (const c of Object.values(m.components)) {
    if (!isObject(c) || !onlyKeys(c, COMPONENT_KEYS) || typeof c.destination !== 'string' || !isPlainRelative(c.destination)) return false;
    if ((c.kind !== 'dir' && c.kind !== 'file') || typeof c.existed !== 'boolean' || !isObject(c.files)) return false;
    for (const k of ['dirs', 'absent', 'absentDirs'] as const) {
      if (c[k] === undefined) continue;
      if (!stringArray(c[k])) return false;
      for (const rel of c[k] as string[]) if (rel === '' ? !(k === 'absent' && c.kind === 'file') : c.kind !== 'dir' || !isPlainRelative(rel)) return false;
    }
    if (c.missingAncestors !== undefined) {
      if (!stringArray(c.missingAncestors)) return false;
      const dest = c.destination;
      for (const rel of c.missingAncestors as string[]) if (!isPlainRelative(rel) || !(dest === rel || dest.startsWith(rel + '/'))) return false;
    }
    const files = c.files;
    for (const rel in files) {
      const e = files[rel];
      if (rel === '' ? c.kind !== 'file' : c.kind !== 'dir' || !isPlainRelative(rel)) return false;
      if (!isObject(e) || !onlyKeys(e, ENTRY_KEYS) || typeof e.hash !== 'string' || !HEX64.test(e.hash)) return false;
      if (!isCount(e.size) || !isFiniteNumber(e.mtimeMs) || !Number.isSafeInteger(e.mode) || (e.mode as number) < 0 || (e.mode as number) > 0o7777) return false;
      if (!optional(e.link, (v) => typeof v === 'string' && v.length > 0) || !optional(e.ino, isFiniteNumber) || !optional(e.ctimeMs, isFiniteNumber)) return false;
    }
  }
  return true;
}

function digestOf(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The manifest's text as written: its JSON with the digest of that JSON as the last field. */
function manifestText(m: Manifest): { text: string; digest: string } {
  const { digest: _old, ...body } = m;
  const json = JSON.stringify(body);
  const digest = digestOf(json);
  return { text: `${json.slice(0, -1)},"digest":"${digest}"}\n`, digest };
}

/** How a manifest's text ends as Syncord writes it: the digest as the last field (64 hex digits). */
const DIGEST_TAIL = /,"digest":"([0-9a-f]{64})"\}\n?$/;

/**
 * Whether a manifest's digest matches its content. A manifest as Syncord wrote it is the JSON the digest was
 * taken of, with the digest added at the end: that JSON is hashed as it stands. Any other text (reformatted,
 * or the digest moved) is checked as before, by the digest of its value written out again.
 */
function digestMatches(text: string, body: Record<string, unknown>, digest: string): boolean {
  const tail = DIGEST_TAIL.exec(text.length > 100 ? text.slice(-100) : text);
  if (tail && tail[1] === digest && digestOf(text.slice(0, text.length - tail[0].length) + '}') === digest) return true;
  return digestOf(JSON.stringify(body)) === digest;
}

/**
 * Reads and checks a manifest: it must be the one its name says, of this target, with a digest that matches
 * its content (else it is reported as tampered), in the manifest's shape, with every path relative and inside
 * its component's destination. Errors name the file, and line and column where a field is at fault.
 */
async function readManifest(store: string, id: string, target: string): Promise<Manifest> {
  if (!BACKUP_ID.test(id)) throw new SyncordError(`invalid backup id "${id}"`, 'usage');
  const file = path.join(store, 'manifests', `${id}.json`);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new SyncordError(`no backup "${id}"`, 'not-found', { file });
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    // Cut short or damaged: the tolerant parser names the line and column of the first problem.
    let where: SyncordError | undefined;
    try {
      parseJsonText(file, text);
    } catch (located) {
      if (located instanceof SyncordError && located.location) where = located;
    }
    throw new SyncordError(`backup manifest does not parse: ${where ? where.detail : (e as Error).message}`, 'invalid-file', where?.location ?? { file, line: 1, column: 1 });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new SyncordError('backup manifest is not a JSON object', 'invalid-file', { file });
  const { digest, ...body } = value;
  if (typeof digest !== 'string' || !digestMatches(text, body, digest)) {
    throw new SyncordError(
      `backup manifest ${id} was tampered with: ${typeof digest === 'string' ? 'its content does not match its recorded digest (edited after Syncord wrote it)' : 'it has no digest (edited, or written by an older Syncord)'}; refusing to use it`,
      'invalid-file',
      locatePath(file, text, ['digest']),
    );
  }
  const m = (plainlyValidManifest(body) ? body : validateValue(file, text, body, ManifestSchema)) as Manifest;
  if (m.id !== id) throw new SyncordError(`backup manifest ${id}.json says it is backup "${m.id}"`, 'invalid-file', locatePath(file, text, ['id']));
  if (m.target !== target) throw new SyncordError(`backup manifest ${id} is of target "${m.target}", not "${target}"`, 'invalid-file', locatePath(file, text, ['target']));
  return m;
}

export interface BackupOptions {
  reason?: BackupReason;
  now?: Date;
  syncVersion?: string;
  commit?: string;
  /** Recorded as the manifest's `last_sync` (null: never synced). */
  lastSync?: string | null;
  signal?: AbortSignal;
}

/**
 * Snapshots the given parts of a target into the backup store and writes a manifest. A file whose size,
 * modification time (1 ms window) and inode match an earlier manifest's entry is not read again: its hash is
 * taken from there (entries are only recorded with an inode when the file was older than `RACY_MS` at the
 * time, so an edit within the same clock tick cannot hide). The common case, few files changed, therefore
 * costs one `lstat` per file and a manifest; contents that are new are stored once, by hash.
 */
export async function backupUnits(paths: WorkspacePaths, target: ResolvedTarget, units: BackupUnit[], opts: BackupOptions = {}): Promise<Manifest> {
  assertRealFolder(target.absPath, `the folder of target "${target.name}"`);
  await ensureSyncordDir(paths);
  const store = storeOf(paths, target.name);
  await fs.promises.mkdir(path.join(store, 'manifests'), { recursive: true });
  removeLeftovers(paths, target.name, target.absPath);
  const work = await beginWork(paths, target.name, { store: ['manifests'] });
  try {
    return await snapshotUnits(target, store, work, units, opts);
  } finally {
    work.end();
  }
}

async function snapshotUnits(target: ResolvedTarget, store: string, work: Work, units: BackupUnit[], opts: BackupOptions): Promise<Manifest> {
  const now = opts.now ?? new Date();
  const startedMs = Date.now();
  const manifest: Manifest = {
    version: 1,
    id: newId(now),
    target: target.name,
    created: now.toISOString(),
    reason: opts.reason ?? 'manual',
    partial: units.some((u) => u.only !== undefined),
    components: {},
    totals: { files: 0, bytes: 0, newObjects: 0, newBytes: 0 },
  };
  if (opts.syncVersion) manifest.sync_version = opts.syncVersion;
  if (opts.commit) manifest.commit = opts.commit;
  if (opts.lastSync !== undefined) manifest.last_sync = opts.lastSync;
  const slicer = new Slicer();
  const cancelled = () => new SyncordError('backup cancelled', 'cancelled');

  // 1. What each unit covers: metadata only.
  const listed: { unit: BackupUnit; mc: ManifestComponent; destAbs: string; entries: [string, FileInfo][] }[] = [];
  for (const unit of units) {
    const destAbs = resolveInside(target.absPath, unit.destination, 'backup destination');
    assertNoLinkBelow(target.absPath, destAbs, 'backup of the target');
    const destSt = lstatSyncOrUndefined(destAbs);
    const mc: ManifestComponent = { destination: unit.destination, kind: unit.kind, files: {}, existed: !!destSt };
    manifest.components[unit.name] = mc;
    const missing: string[] = [];
    for (let d = unit.kind === 'dir' ? unit.destination : path.posix.dirname(unit.destination); d !== '.' && d !== ''; d = path.posix.dirname(d)) {
      if (lstatSyncOrUndefined(path.join(target.absPath, d))) break;
      missing.push(d);
    }
    if (missing.length) mc.missingAncestors = missing;
    let entries: [string, FileInfo][] = [];
    if (unit.only) {
      mc.absent = [];
      const absentDirs = new Set<string>();
      const presentDirs = new Set<string>();
      for (const rel of unit.only) {
        // Below a missing destination nothing exists: no need to ask.
        const st = destSt ? lstatSyncOrUndefined(rel ? path.join(destAbs, rel) : destAbs) : undefined;
        if (st && (st.isFile() || st.isSymbolicLink())) entries.push([rel, infoOf(st)]);
        else if (!st) {
          mc.absent.push(rel);
          // Folders a sync would create: remember the missing ones so a restore removes them again.
          for (let d = path.posix.dirname(rel); d !== '.' && d !== ''; d = path.posix.dirname(d)) {
            if (absentDirs.has(d) || presentDirs.has(d)) break;
            if (destSt && lstatSyncOrUndefined(path.join(destAbs, d))) {
              presentDirs.add(d);
              break;
            }
            absentDirs.add(d);
          }
        }
        if (slicer.due()) {
          await slicer.yield();
          if (opts.signal?.aborted) throw cancelled();
        }
      }
      if (absentDirs.size) mc.absentDirs = [...absentDirs].sort();
    } else if (unit.kind === 'file') {
      if (destSt && (destSt.isFile() || destSt.isSymbolicLink())) entries.push(['', infoOf(destSt)]);
    } else if (destSt?.isDirectory()) {
      const w = await walk(destAbs, slicer);
      entries = [...w.files].filter(([rel]) => !unit.selects || unit.selects(rel));
      mc.dirs = w.dirs;
    }
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    listed.push({ unit, mc, destAbs, entries });
  }
  if (opts.signal?.aborted) throw cancelled();

  // 2. Hashes: from the stat cache when size, modification time and inode are unchanged; otherwise read
  // (once: the bytes that are hashed are the bytes stored) and new contents queued for the object store.
  const fileCount = listed.reduce((n, l) => n + l.entries.length, 0);
  const cache: StatCache = fileCount >= STAT_CACHE_MIN_FILES ? await statCache(store, target.name) : new Map();
  const objects = new ObjectWriter(store, work);
  const large: { mc: ManifestComponent; rel: string; abs: string; info: FileInfo }[] = [];
  for (const { unit, mc, destAbs, entries } of listed) {
    const cached = cache.get(unit.destination);
    for (const [rel, info] of entries) {
      let entry: ManifestEntry | undefined;
      const was = info.kind === 'file' ? cached?.get(rel) : undefined;
      if (was && sameStat(was, info) && was.ino === info.ino) {
        // Unchanged since an earlier backup: the path is not even built.
        entry = { hash: was.hash, size: info.size, mtimeMs: info.mtimeMs, mode: info.mode, ino: info.ino };
        mc.files[rel] = entry;
        if (slicer.due()) {
          await slicer.yield();
          if (opts.signal?.aborted) throw cancelled();
        }
        continue;
      }
      const abs = rel ? path.join(destAbs, rel) : destAbs;
      if (info.kind === 'symlink') {
        const link = fs.readlinkSync(abs);
        entry = { hash: createHash('sha256').update(`symlink:${link}`).digest('hex'), size: info.size, mtimeMs: info.mtimeMs, mode: info.mode, link };
      } else if (info.size > SMALL_FILE) {
        large.push({ mc, rel, abs, info });
      } else {
        const r = readRegularSync(abs);
        if (r) {
          const hash = createHash('sha256').update(r.data).digest('hex');
          await objects.put(hash, r.data);
          entry = { hash, size: r.st.size, mtimeMs: r.st.mtimeMs, mode: r.st.mode & 0o7777 };
          if (r.st.mtimeMs < startedMs - RACY_MS) entry.ino = r.st.ino;
        } else {
          // Replaced by a link or removed since it was listed: snapshot what is there now.
          const st = lstatSyncOrUndefined(abs);
          if (st?.isSymbolicLink()) {
            const link = fs.readlinkSync(abs);
            entry = { hash: createHash('sha256').update(`symlink:${link}`).digest('hex'), size: st.size, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, link };
          } else if (st) {
            throw new SyncordError(`${abs} changed into a folder or special file during the backup`, 'conflict', { file: abs });
          } else if (mc.absent) mc.absent.push(rel);
        }
      }
      if (entry) mc.files[rel] = entry;
      if (slicer.due()) {
        await slicer.yield();
        if (opts.signal?.aborted) throw cancelled();
      }
    }
  }
  await pool(
    large,
    4,
    async ({ mc, rel, abs, info }) => {
      const hash = await hashFile(abs, info.size);
      if (!lstatSyncOrUndefined(objectPath(store, hash))) {
        const r = await copyIntoStore(store, work, abs, hash);
        if (r.added) {
          manifest.totals.newObjects++;
          manifest.totals.newBytes += r.bytes;
        }
      }
      const e: ManifestEntry = { hash, size: info.size, mtimeMs: info.mtimeMs, mode: info.mode };
      if (info.mtimeMs < startedMs - RACY_MS) e.ino = info.ino;
      mc.files[rel] = e;
    },
    opts.signal,
  );
  if (opts.signal?.aborted) throw cancelled();
  await objects.flush();
  manifest.totals.newObjects += objects.added;
  manifest.totals.newBytes += objects.addedBytes;

  // 3. The manifest, files in path order (large files were hashed out of order: the list is put back in order).
  for (const { mc, entries } of listed) {
    if (large.length) {
      const files: Record<string, ManifestEntry> = {};
      for (const [rel] of entries) if (mc.files[rel]) files[rel] = mc.files[rel];
      mc.files = files;
    }
    const files = mc.files;
    for (const rel in files) {
      manifest.totals.files++;
      manifest.totals.bytes += files[rel].size;
    }
  }
  const { text, digest } = manifestText(manifest);
  writeFileAtomic(path.join(store, 'manifests', `${manifest.id}.json`), text, { expect: null });
  manifest.digest = digest;
  return manifest;
}

function summarize(m: Manifest): BackupSummary {
  return {
    id: m.id,
    target: m.target,
    created: m.created,
    reason: m.reason,
    partial: m.partial,
    components: Object.keys(m.components),
    ...m.totals,
  };
}

export function toSummary(m: Manifest): BackupSummary {
  return summarize(m);
}

/** The backups of a target, newest first. */
export async function listBackups(paths: WorkspacePaths, targetName: string): Promise<BackupSummary[]> {
  const store = storeOf(paths, targetName);
  const ids = await manifestIds(store);
  const out: BackupSummary[] = [];
  for (const id of ids.reverse()) out.push(summarize(await readManifest(store, id, targetName)));
  return out;
}

export async function loadManifest(paths: WorkspacePaths, targetName: string, id: string): Promise<Manifest> {
  return readManifest(storeOf(paths, targetName), id, targetName);
}

/** The newest pre-sync backup that covers a component. */
export async function lastPreSyncBackup(paths: WorkspacePaths, targetName: string, component: string): Promise<Manifest | undefined> {
  const store = storeOf(paths, targetName);
  const ids = await manifestIds(store);
  for (let i = ids.length - 1; i >= 0; i--) {
    const m = await readManifest(store, ids[i], targetName);
    if (m.reason === 'pre-sync' && m.components[component]) return m;
  }
  return undefined;
}

export interface RestoreResult {
  backup: string;
  /** A snapshot taken just before the restore (restore it to undo the restore). */
  preRestoreBackup: string;
  components: string[];
  written: number;
  deleted: number;
  /** Every file of the snapshot was hashed in the target after the restore and matched. */
  verified: boolean;
  mismatches: string[];
  /**
   * A full restore of a pre-sync backup: the sync record of the registry entry as it was set back to (what it
   * was before that sync), so pending changes list the files that sync had brought over.
   */
  syncRecord?: { last_sync_commit: string | null; sync_version: string | null; last_sync: string | null };
}

/** One component of a restore, planned before anything in the target changes. */
interface RestoreStep {
  name: string;
  c: ManifestComponent;
  destAbs: string;
  /** Paths (relative to the destination) to delete. */
  toDelete: string[];
  /** Files and links to write back. */
  toWrite: [string, ManifestEntry][];
  /** Same content, other permission bits or modification time. */
  toTouch: [string, ManifestEntry][];
  currentDirs: string[];
  /** Files left as they are, with the size, time and inode they had when planned (the proof checks them again). */
  kept: Map<string, { size: number; mtimeMs: number; ino: number; ctimeMs: number }>;
  /** A path to delete or overwrite is a folder now: the pre-restore snapshot must cover the whole component. */
  replacesFolder: boolean;
}

/**
 * Makes the target byte-equal to a snapshot within the snapshot's components (a partial snapshot: within the
 * paths it covers), then proves it by hashing every restored path. A snapshot of the current state is taken
 * first, so a restore can itself be undone.
 *
 * The manifest is checked when read (digest, shape, paths inside their destinations) and every object the
 * restore will copy is hashed before anything in the target changes: a damaged or edited backup is refused
 * with nothing written or deleted. Every path written or deleted is resolved inside the target, which must be
 * a real folder, through real folders.
 */
export async function restoreBackup(
  paths: WorkspacePaths,
  target: ResolvedTarget,
  id: string,
  opts: { components?: string[]; now?: Date; manifest?: Manifest } = {},
): Promise<RestoreResult> {
  const root = target.absPath;
  assertRealFolder(root, `the folder of target "${target.name}"`);
  const store = storeOf(paths, target.name);
  // The manifest when the caller has just read it (checked as `readManifest` checks it), else read here.
  const m = opts.manifest && opts.manifest.id === id && opts.manifest.target === target.name ? opts.manifest : await readManifest(store, id, target.name);
  const names = opts.components ?? Object.keys(m.components);
  for (const n of names) if (!m.components[n]) throw new SyncordError(`backup ${id} has no component "${n}"`, 'not-found');
  removeLeftovers(paths, target.name, root);

  // 1. What changes, component by component; every object to copy is proved by its hash first.
  const takenMs = Date.parse(m.created);
  const steps: RestoreStep[] = [];
  for (const name of names) {
    const c = m.components[name];
    const destAbs = resolveInside(root, c.destination, `destination of backup ${id}`);
    assertNoLinkBelow(root, destAbs, `restore of ${name}`);
    const abs = (rel: string) => (rel ? path.join(destAbs, rel) : destAbs);
    const step: RestoreStep = { name, c, destAbs, toDelete: [...(c.absent ?? [])], toWrite: [], toTouch: [], currentDirs: [], kept: new Map(), replacesFolder: false };
    let walked: Map<string, FileInfo> | undefined;
    if (!m.partial) {
      if (c.kind === 'dir') {
        const w = await walk(destAbs);
        walked = w.files;
        step.currentDirs = w.dirs;
        for (const rel of w.files.keys()) if (!c.files[rel]) step.toDelete.push(rel);
      } else if (!c.files['']) {
        step.toDelete.push('');
      }
    }
    const sameContent = (rel: string, e: ManifestEntry, info: FileInfo) => {
      if (info.mode !== e.mode || !sameStat(info, e)) step.toTouch.push([rel, e]);
      else step.kept.set(rel, { size: info.size, mtimeMs: info.mtimeMs, ino: info.ino, ctimeMs: info.ctimeMs });
    };
    // The metadata of each entry comes from the walk when the whole folder was walked (one lstat per file),
    // else from an lstat of its own; only files whose metadata cannot vouch for them are hashed.
    const toHash: [string, ManifestEntry, FileInfo][] = [];
    const slicer = new Slicer();
    const files = c.files;
    for (const rel in files) {
      const e = files[rel];
      const { info, dir } = entryInfo(abs, rel, walked?.get(rel));
      // Not changed in any way since the snapshot was taken (same inode, size and modification time, and a status
      // change time before the snapshot, which no tool can set back): its content is the recorded one. `ino` is only
      // recorded for files that were not being written during the backup.
      if (info?.kind === 'file' && !e.link && info.size === e.size) {
        if (e.ino !== undefined && info.ino === e.ino && sameStat(info, e) && info.ctimeMs < takenMs) sameContent(rel, e, info);
        else toHash.push([rel, e, info]);
      } else if (!(info?.kind === 'symlink' && e.link && fs.readlinkSync(abs(rel)) === e.link)) {
        if (dir) step.replacesFolder = true;
        step.toWrite.push([rel, e]);
      }
      await slicer.tick();
    }
    await pool(toHash, 8, async ([rel, e, info]) => {
      if ((await hashFile(abs(rel), info.size)) === e.hash) sameContent(rel, e, info);
      else step.toWrite.push([rel, e]);
    });
    for (const rel of step.toDelete) if (lstatSyncOrUndefined(abs(rel))?.isDirectory()) step.replacesFolder = true;
    steps.push(step);
  }
  const objects = new Map<string, number>();
  for (const s of steps) for (const [, e] of s.toWrite) if (!e.link) objects.set(e.hash, e.size);
  await pool([...objects], 8, async ([hash, size]) => {
    const obj = objectPath(store, hash);
    const st = lstatSyncOrUndefined(obj);
    if (!st) throw new SyncordError(`backup ${id} is incomplete: object ${hash} is missing; nothing was restored`, 'io', { file: obj });
    if (!st.isFile() || (await hashFile(obj, size)) !== hash) {
      throw new SyncordError(`backup ${id} is damaged: object ${hash} does not match its hash (edited or corrupted); nothing was restored`, 'invalid-file', { file: obj });
    }
  });

  // 2. A snapshot of what the restore changes, so it can be undone: the paths it writes, touches or deletes (the
  // whole component when a folder would be replaced, so nothing inside one is lost).
  const pre = await backupUnits(
    paths,
    target,
    steps.map((step) => {
      const { name, c } = step;
      const u: BackupUnit = { name, kind: c.kind, destination: c.destination };
      if (!step.replacesFolder) u.only = [...new Set([...step.toWrite.map(([rel]) => rel), ...step.toTouch.map(([rel]) => rel), ...step.toDelete])];
      return u;
    }),
    { reason: 'pre-restore', now: opts.now },
  );
  const result: RestoreResult = { backup: id, preRestoreBackup: pre.id, components: names, written: 0, deleted: 0, verified: false, mismatches: [] };
  const work = await beginWork(paths, target.name);
  try {
    for (const step of steps) await applyRestoreStep(root, store, m.partial, step, work, result);
  } finally {
    work.end();
  }
  result.verified = result.mismatches.length === 0;
  return result;
}

/** Deletes, writes back and proves one component of a restore (see `restoreBackup`). */
async function applyRestoreStep(root: string, store: string, partial: boolean, step: RestoreStep, work: Work, result: RestoreResult): Promise<void> {
  const { c, destAbs } = step;
  const verified = new Set<string>();
  const abs = (rel: string) => (rel ? path.join(destAbs, rel) : destAbs);
  const destRel = (rel: string) => (rel ? `${c.destination}/${rel}` : c.destination);
  const parentOf = (rel: string) => path.posix.dirname(destRel(rel));
  /** The path of `rel`, proved inside the target through real folders right before it is used; `create`: make missing folders. */
  const checked = (rel: string, create = false): string => {
    resolveInside(root, destRel(rel), 'restored path');
    const p = abs(rel);
    assertRealFolder(root, 'target folder');
    if (create) ensureRealDirSync(root, parentOf(rel), verified);
    else if (!verified.has(parentOf(rel))) {
      assertNoLinkBelow(root, path.dirname(p), 'restore');
      verified.add(parentOf(rel));
    }
    return p;
  };
  work.add({ target: [...step.toWrite.map(([rel]) => parentOf(rel)), ...step.toDelete.map(parentOf)] });
  // 1. Delete what the snapshot did not have.
  for (const rel of step.toDelete) {
    const st = lstatSyncOrUndefined(abs(rel));
    if (!st) continue;
    const p = checked(rel);
    if (st.isDirectory()) fs.rmSync(p, { recursive: true, force: true });
    else fs.unlinkSync(p);
    result.deleted++;
  }
  // 2. Write back every file whose content differs; set times and permissions where only they differ.
  for (const [rel, e] of step.toTouch) {
    const p = checked(rel);
    fs.chmodSync(p, e.mode & 0o7777);
    fs.utimesSync(p, e.mtimeMs / 1000, e.mtimeMs / 1000);
  }
  for (const [rel, e] of step.toWrite) {
    const p = checked(rel, true);
    if (lstatSyncOrUndefined(p)?.isDirectory()) fs.rmSync(p, { recursive: true, force: true });
    if (e.link) writeFileAtomic(p, { symlinkTo: e.link }, { fsync: false });
    else writeFileAtomic(p, { copyFrom: objectPath(store, e.hash) }, { mode: e.mode & 0o7777, mtimeMs: e.mtimeMs, fsync: false });
    result.written++;
  }
  // 3. Folders: remove those the snapshot did not have (when empty), recreate those it had.
  const keepDirs = new Set(c.dirs ?? []);
  const extraDirs = partial ? [...(c.absentDirs ?? [])] : step.currentDirs.filter((d) => !keepDirs.has(d));
  extraDirs.sort((a, b) => b.length - a.length);
  for (const d of extraDirs) await fs.promises.rmdir(checked(d)).catch(() => undefined);
  for (const d of c.dirs ?? []) ensureRealDirSync(root, `${c.destination}/${d}`, verified);
  if (!partial && c.kind === 'dir' && !c.existed) await fs.promises.rmdir(destAbs).catch(() => undefined);
  for (const d of c.missingAncestors ?? []) {
    resolveInside(root, d, 'restored folder');
    await fs.promises.rmdir(path.join(root, d)).catch(() => undefined);
  }
  // 4. Proof: what was written or touched is hashed again; what was kept must still be the file that was
  // proved when planned (same inode, size, modification and status change time).
  // One walk after (when the whole folder is restored) gives the metadata of every entry and what is there
  // that the snapshot did not have.
  const after = !partial && c.kind === 'dir' ? await walk(destAbs) : undefined;
  const toHash: [string, ManifestEntry, FileInfo][] = [];
  const slicer = new Slicer();
  const files = c.files;
  for (const rel in files) {
    const e = files[rel];
    const { info } = entryInfo(abs, rel, after?.files.get(rel));
    const was = step.kept.get(rel);
    if (e.link) {
      if (!(info?.kind === 'symlink' && fs.readlinkSync(abs(rel)) === e.link)) result.mismatches.push(destRel(rel));
    } else if (was) {
      if (!(info?.kind === 'file' && info.ino === was.ino && sameStat(info, was) && info.ctimeMs === was.ctimeMs)) result.mismatches.push(destRel(rel));
    } else if (info?.kind === 'file') toHash.push([rel, e, info]);
    else result.mismatches.push(destRel(rel));
    await slicer.tick();
  }
  await pool(toHash, 8, async ([rel, e, info]) => {
    if ((await hashFile(abs(rel), info.size)) !== e.hash) result.mismatches.push(destRel(rel));
  });
  result.mismatches.sort();
  for (const rel of step.toDelete) if (lstatSyncOrUndefined(abs(rel))) result.mismatches.push(destRel(rel));
  if (after) for (const rel of after.files.keys()) if (!c.files[rel]) result.mismatches.push(destRel(rel));
}

/**
 * An entry's metadata: the walk's when it listed the entry, else its own lstat. `dir`: a folder is there.
 * Special files (sockets, devices) count as neither file nor link.
 */
function entryInfo(abs: (rel: string) => string, rel: string, walked: FileInfo | undefined): { info?: FileInfo; dir: boolean } {
  if (walked) return { info: walked, dir: false };
  const st = lstatSyncOrUndefined(abs(rel));
  if (!st) return { dir: false };
  if (st.isDirectory()) return { dir: true };
  return st.isFile() || st.isSymbolicLink() ? { info: infoOf(st), dir: false } : { dir: false };
}

/**
 * Keeps bytes in a target's content-addressed store (the backup objects) and returns their SHA-256. Sync keeps
 * there what it wrote into the target: the merge base of the next sync.
 */
export function putObject(paths: WorkspacePaths, targetName: string, data: Buffer): string {
  const hash = createHash('sha256').update(data).digest('hex');
  const obj = objectPath(storeOf(paths, targetName), hash);
  if (!lstatSyncOrUndefined(obj)) {
    fs.mkdirSync(path.dirname(obj), { recursive: true });
    writeFileAtomic(obj, data, { mode: 0o444 });
  }
  return hash;
}

/** Bytes kept under `hash` in a target's store, checked against their name; undefined when absent or damaged. */
export function getObject(paths: WorkspacePaths, targetName: string, hash: string): Buffer | undefined {
  if (!/^[0-9a-f]{64}$/.test(hash)) return undefined;
  const obj = objectPath(storeOf(paths, targetName), hash);
  const got = readRegularSync(obj);
  if (!got || createHash('sha256').update(got.data).digest('hex') !== hash) return undefined;
  return got.data;
}
