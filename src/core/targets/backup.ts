import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { copyFileAtomic, ensureRealDir, FileInfo, hashFile, infoOf, lstatOrUndefined, lstatSyncOrUndefined, noSymlinkOnPath, pool, sameStat, Slicer, SMALL_FILE, tempNameFor, walk } from './fsutil';
import { ResolvedTarget } from './registry';
import { writeFileAtomic } from './registryStore';

/**
 * Backups live in the main project under `.syncord/backups/<target>/` (never in the target, and kept out of
 * git by `.syncord/.gitignore`): `objects/` is a content-addressed store (one read-only copy per distinct
 * content, named by its SHA-256, so files that did not change cost no new space) and `manifests/<id>.json`
 * lists, per component, every file's path, hash, size, mode and modification time.
 */
export const SYNCORD_DIR = '.syncord';

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

export function backupDir(paths: WorkspacePaths, target: string): string {
  return path.join(paths.root, SYNCORD_DIR, 'backups', target);
}

/** Creates `.syncord/` with a `.gitignore` that keeps it out of git. */
export async function ensureSyncordDir(paths: WorkspacePaths): Promise<string> {
  const dir = path.join(paths.root, SYNCORD_DIR);
  await fs.promises.mkdir(dir, { recursive: true });
  await fs.promises.writeFile(path.join(dir, '.gitignore'), '# Syncord backups and sync state (local only)\n*\n', { flag: 'wx' }).catch(() => undefined);
  return dir;
}

function objectPath(store: string, hash: string): string {
  return path.join(store, 'objects', hash.slice(0, 2), hash.slice(2));
}

function newId(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace('.', '')}-${randomBytes(2).toString('hex')}`;
}

async function copyIntoStore(store: string, file: string): Promise<{ hash: string; bytes: number; added: boolean }> {
  const tmpDir = path.join(store, 'objects', 'tmp');
  await fs.promises.mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
  const h = createHash('sha256');
  let bytes = 0;
  const src = await fs.promises.open(file, 'r');
  const out = await fs.promises.open(tmp, 'wx', 0o444);
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      const chunk = buf.subarray(0, bytesRead);
      h.update(chunk);
      await out.write(chunk);
      bytes += bytesRead;
    }
    await out.sync();
  } finally {
    await src.close();
    await out.close();
  }
  const hash = h.digest('hex');
  const obj = objectPath(store, hash);
  if (await lstatOrUndefined(obj)) {
    await fs.promises.rm(tmp, { force: true });
    return { hash, bytes, added: false };
  }
  await fs.promises.mkdir(path.dirname(obj), { recursive: true });
  await fs.promises.rename(tmp, obj);
  return { hash, bytes, added: true };
}

/** How many older manifests the stat cache looks through (newest first, up to the newest full snapshot). */
const STAT_CACHE_MANIFESTS = 20;

/**
 * Size, modification time and inode of files seen by earlier backups, with their hashes: from the newest
 * full snapshot and the partial (pre-sync) ones taken after it, newer entries first.
 */
async function statCache(store: string): Promise<Map<string, ManifestEntry>> {
  const cache = new Map<string, ManifestEntry>();
  const ids = await manifestIds(store);
  for (let i = ids.length - 1, seen = 0; i >= 0 && seen < STAT_CACHE_MANIFESTS; i--, seen++) {
    const m = await readManifest(store, ids[i]).catch(() => undefined);
    if (!m) continue;
    for (const c of Object.values(m.components)) {
      for (const [rel, e] of Object.entries(c.files)) {
        const key = `${c.destination}\0${rel}`;
        if (e.ino !== undefined && !e.link && !cache.has(key)) cache.set(key, e);
      }
    }
    if (!m.partial) break;
  }
  return cache;
}

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

/** New objects waiting to be written (temp file, fsync, rename), a few at a time. */
class ObjectWriter {
  private jobs: { hash: string; data: Buffer }[] = [];
  private bytes = 0;
  private queued = new Set<string>();
  added = 0;
  addedBytes = 0;
  constructor(private readonly store: string) {}

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
    const tmpDir = path.join(this.store, 'objects', 'tmp');
    await fs.promises.mkdir(tmpDir, { recursive: true });
    await pool(jobs, 8, async ({ hash, data }) => {
      const obj = objectPath(this.store, hash);
      const tmp = path.join(tmpDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
      try {
        const fh = await fs.promises.open(tmp, 'wx', 0o444);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await fs.promises.mkdir(path.dirname(obj), { recursive: true });
        await fs.promises.rename(tmp, obj);
      } catch (e) {
        await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
        throw e;
      }
    });
  }
}

async function manifestIds(store: string): Promise<string[]> {
  const names = await fs.promises.readdir(path.join(store, 'manifests')).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5)).sort();
}

async function readManifest(store: string, id: string): Promise<Manifest> {
  if (!/^[0-9A-Za-z-]+$/.test(id)) throw new SyncordError(`invalid backup id "${id}"`, 'usage');
  const file = path.join(store, 'manifests', `${id}.json`);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new SyncordError(`no backup "${id}"`, 'not-found', { file });
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch (e) {
    throw new SyncordError(`backup manifest does not parse: ${(e as Error).message}`, 'invalid-file', { file });
  }
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
  await ensureSyncordDir(paths);
  const store = backupDir(paths, target.name);
  await fs.promises.mkdir(path.join(store, 'manifests'), { recursive: true });
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
    if (!(await noSymlinkOnPath(target.absPath, unit.destination))) {
      throw new SyncordError(`refusing to back up through a symlink: ${path.join(target.absPath, unit.destination)}`, 'conflict');
    }
    const destAbs = path.join(target.absPath, unit.destination);
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
  const cache = fileCount >= STAT_CACHE_MIN_FILES ? await statCache(store) : new Map<string, ManifestEntry>();
  const objects = new ObjectWriter(store);
  const large: { mc: ManifestComponent; rel: string; abs: string; info: FileInfo }[] = [];
  for (const { unit, mc, destAbs, entries } of listed) {
    for (const [rel, info] of entries) {
      const abs = rel ? path.join(destAbs, rel) : destAbs;
      let entry: ManifestEntry | undefined;
      const cached = info.kind === 'file' ? cache.get(`${unit.destination}\0${rel}`) : undefined;
      if (cached && sameStat(cached, info) && cached.ino === info.ino) {
        entry = { hash: cached.hash, size: info.size, mtimeMs: info.mtimeMs, mode: info.mode, ino: info.ino };
      } else if (info.kind === 'symlink') {
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
      let hash = await hashFile(abs, info.size);
      if (!lstatSyncOrUndefined(objectPath(store, hash))) {
        const r = await copyIntoStore(store, abs);
        hash = r.hash;
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

  // 3. The manifest, files in path order.
  for (const { mc, entries } of listed) {
    const files: Record<string, ManifestEntry> = {};
    for (const [rel] of entries) {
      const e = mc.files[rel];
      if (!e) continue;
      files[rel] = e;
      manifest.totals.files++;
      manifest.totals.bytes += e.size;
    }
    mc.files = files;
  }
  await writeFileAtomic(path.join(store, 'manifests', `${manifest.id}.json`), JSON.stringify(manifest) + '\n');
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
  const store = backupDir(paths, targetName);
  const ids = await manifestIds(store);
  const out: BackupSummary[] = [];
  for (const id of ids.reverse()) out.push(summarize(await readManifest(store, id)));
  return out;
}

export async function loadManifest(paths: WorkspacePaths, targetName: string, id: string): Promise<Manifest> {
  return readManifest(backupDir(paths, targetName), id);
}

/** The newest pre-sync backup that covers a component. */
export async function lastPreSyncBackup(paths: WorkspacePaths, targetName: string, component: string): Promise<Manifest | undefined> {
  const store = backupDir(paths, targetName);
  const ids = await manifestIds(store);
  for (let i = ids.length - 1; i >= 0; i--) {
    const m = await readManifest(store, ids[i]);
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

/**
 * Makes the target byte-equal to a snapshot within the snapshot's components (a partial snapshot: within the
 * paths it covers), then proves it by hashing every restored path. A snapshot of the current state is taken
 * first, so a restore can itself be undone.
 */
export async function restoreBackup(
  paths: WorkspacePaths,
  target: ResolvedTarget,
  id: string,
  opts: { components?: string[]; now?: Date } = {},
): Promise<RestoreResult> {
  const store = backupDir(paths, target.name);
  const m = await readManifest(store, id);
  const names = opts.components ?? Object.keys(m.components);
  for (const n of names) if (!m.components[n]) throw new SyncordError(`backup ${id} has no component "${n}"`, 'not-found');
  for (const n of names) {
    const objMissing = Object.values(m.components[n].files).find((e) => !e.link && !fs.existsSync(objectPath(store, e.hash)));
    if (objMissing) throw new SyncordError(`backup ${id} is incomplete: object ${objMissing.hash} is missing`, 'io', { file: store });
  }
  const pre = await backupUnits(
    paths,
    target,
    names.map((n) => {
      const c = m.components[n];
      const u: BackupUnit = { name: n, kind: c.kind, destination: c.destination };
      if (m.partial) u.only = [...Object.keys(c.files), ...(c.absent ?? [])];
      return u;
    }),
    { reason: 'pre-restore', now: opts.now },
  );
  const result: RestoreResult = { backup: id, preRestoreBackup: pre.id, components: names, written: 0, deleted: 0, verified: false, mismatches: [] };
  const verified = new Set<string>();
  for (const n of names) {
    const c = m.components[n];
    if (!(await noSymlinkOnPath(target.absPath, c.destination))) {
      throw new SyncordError(`refusing to restore through a symlink: ${path.join(target.absPath, c.destination)}`, 'conflict');
    }
    const destAbs = path.join(target.absPath, c.destination);
    const abs = (rel: string) => (rel ? path.join(destAbs, rel) : destAbs);
    const destRel = (rel: string) => (rel ? `${c.destination}/${rel}` : c.destination);
    // 1. Delete what the snapshot did not have.
    const toDelete: string[] = [...(c.absent ?? [])];
    let currentDirs: string[] = [];
    if (!m.partial) {
      if (c.kind === 'dir') {
        const w = await walk(destAbs);
        currentDirs = w.dirs;
        for (const rel of w.files.keys()) if (!c.files[rel]) toDelete.push(rel);
      } else if (!c.files['']) {
        toDelete.push('');
      }
    }
    for (const rel of toDelete) {
      const st = await lstatOrUndefined(abs(rel));
      if (!st) continue;
      if (st.isDirectory()) await fs.promises.rm(abs(rel), { recursive: true, force: true });
      else await fs.promises.unlink(abs(rel));
      result.deleted++;
    }
    // 2. Write back every file whose content differs.
    await pool(Object.entries(c.files), 8, async ([rel, e]) => {
      const p = abs(rel);
      const st = await lstatOrUndefined(p);
      if (st?.isDirectory()) await fs.promises.rm(p, { recursive: true, force: true });
      else if (st && !e.link && st.isFile() && st.size === e.size && (await hashFile(p, st.size)) === e.hash) {
        if ((st.mode & 0o7777) !== e.mode) await fs.promises.chmod(p, e.mode & 0o7777);
        if (!sameStat(infoOf(st), e)) await fs.promises.utimes(p, e.mtimeMs / 1000, e.mtimeMs / 1000);
        return;
      } else if (st && e.link && st.isSymbolicLink() && (await fs.promises.readlink(p)) === e.link) return;
      await ensureRealDir(target.absPath, path.posix.dirname(destRel(rel)), verified);
      if (e.link) {
        const tmp = tempNameFor(p);
        await fs.promises.symlink(e.link, tmp);
        await fs.promises.rename(tmp, p);
      } else {
        await copyFileAtomic(objectPath(store, e.hash), p, { mtimeMs: e.mtimeMs, mode: e.mode });
      }
      result.written++;
    });
    // 3. Folders: remove those the snapshot did not have (when empty), recreate those it had.
    const keepDirs = new Set(c.dirs ?? []);
    const extraDirs = m.partial ? [...(c.absentDirs ?? [])] : currentDirs.filter((d) => !keepDirs.has(d));
    extraDirs.sort((a, b) => b.length - a.length);
    for (const d of extraDirs) await fs.promises.rmdir(path.join(destAbs, d)).catch(() => undefined);
    for (const d of c.dirs ?? []) await ensureRealDir(target.absPath, `${c.destination}/${d}`, verified);
    if (!m.partial && c.kind === 'dir' && !c.existed) await fs.promises.rmdir(destAbs).catch(() => undefined);
    for (const d of c.missingAncestors ?? []) await fs.promises.rmdir(path.join(target.absPath, d)).catch(() => undefined);
    // 4. Proof: hash what is there now.
    for (const [rel, e] of Object.entries(c.files)) {
      const p = abs(rel);
      const st = await lstatOrUndefined(p);
      const ok = e.link ? st?.isSymbolicLink() && (await fs.promises.readlink(p)) === e.link : st?.isFile() && (await hashFile(p, st.size)) === e.hash;
      if (!ok) result.mismatches.push(destRel(rel));
    }
    for (const rel of toDelete) if (await lstatOrUndefined(abs(rel))) result.mismatches.push(destRel(rel));
    if (!m.partial && c.kind === 'dir') {
      const now = await walk(destAbs);
      for (const rel of now.files.keys()) if (!c.files[rel]) result.mismatches.push(destRel(rel));
    }
  }
  result.verified = result.mismatches.length === 0;
  return result;
}
