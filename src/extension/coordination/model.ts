import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isSyncordError } from '../../core/errors';
import { CoordinationKey, CoordinationStore, CoordinationValues } from '../../core/coordination/store';
import type { CoordinationSnapshot, FileState } from '../../core/coordination/snapshot';
import { buildThreads, Thread } from '../../core/coordination/threads';
import { buildTreeModel, CoordinationTree } from '../../views/coordination';
import { CoalescedRun, Disposable } from '../lifecycle';
import { Services } from '../services';
import { onDidChangeSettings } from '../settings';

const KEYS: CoordinationKey[] = ['registry', 'tasks', 'messages', 'decisions'];
/** Edits arrive in bursts (an agent writing several files, an editor saving twice): wait this long for quiet. */
export const WATCH_DEBOUNCE_MS = 250;

interface Stamp {
  mtimeMs: number;
  size: number;
  ino: number;
}

/**
 * The coordination files as last read, shared by the tree, the Message Log, the status bar and the Problems
 * panel. It reads lazily (on the first `ensureLoaded`), re-reads only files whose size or time changed, and
 * fires `onDidChange` with the keys that changed. A FileSystemWatcher on the coordination folder (debounced)
 * and the extension's own writes (`reload()` right after) keep it current.
 */
export class CoordinationModel extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<ReadonlySet<CoordinationKey>>());
  /** Fires after a reload that changed at least one file (or the folder appeared or vanished). */
  readonly onDidChange = this.changed.event;

  private snap: CoordinationSnapshot | undefined;
  private stamps = new Map<CoordinationKey, Stamp | undefined>();
  private readonly reloader = this.register(new CoalescedRun(() => this.readChanged(), WATCH_DEBOUNCE_MS));
  private watcher: vscode.Disposable | undefined;
  private dir: string | undefined;
  private cachedTree: { snap: CoordinationSnapshot; me: string | undefined; staleAfterMs: number; at: number; model: CoordinationTree } | undefined;
  private cachedThreads: { log: unknown; threads: Thread[] } | undefined;
  /** Loads that changed something, for tests. */
  version = 0;

  constructor(private readonly services: Services) {
    super();
    let me = this.services.settings().instanceId;
    let staleHours = this.services.settings().staleCheckinHours;
    this.register(
      onDidChangeSettings(() => {
        const dir = this.services.paths()?.coordinationDir;
        if (dir !== this.dir) {
          this.stamps.clear();
          this.snap = undefined;
          this.watch();
        }
        const nowMe = this.services.settings().instanceId;
        const identityChanged = nowMe !== me;
        me = nowMe;
        const nowStale = this.services.settings().staleCheckinHours;
        const staleChanged = nowStale !== staleHours;
        staleHours = nowStale;
        void this.reload().then(() => {
          // "(you)", "mine" and unread counts depend on who the user is, and the stale marker on the
          // threshold, not only on the files.
          if (identityChanged && this.snap) this.fire(new Set(KEYS));
          else if (staleChanged && this.snap) this.fire(new Set<CoordinationKey>(['registry']));
        });
      }),
    );
    this.register({ dispose: () => this.watcher?.dispose() });
  }

  /** The store of the open workspace, or undefined without a folder. */
  store(): CoordinationStore | undefined {
    const p = this.services.paths();
    return p ? new CoordinationStore(p.coordinationDir, { logger: this.services.logger }) : undefined;
  }

  get snapshot(): CoordinationSnapshot | undefined {
    return this.snap;
  }

  /** Reads the files once; later calls return at once (watchers keep the snapshot current). */
  async ensureLoaded(): Promise<CoordinationSnapshot> {
    if (!this.snap) await this.reload();
    return this.snap ?? emptySnapshot('');
  }

  /** Re-reads files whose stamp changed and fires onDidChange when anything did. Calls coalesce. */
  reload(): Promise<void> {
    return this.reloader.run();
  }

  /** A reload after a quiet period; used by the watcher. */
  scheduleReload(): void {
    this.reloader.schedule();
  }

  private watch(): void {
    this.watcher?.dispose();
    this.watcher = undefined;
    const paths = this.services.paths();
    if (!paths) return;
    this.dir = paths.coordinationDir;
    const rel = path.relative(paths.root, paths.coordinationDir);
    // Inside the workspace, watch through the folder so the coordination folder may come and go.
    const pattern =
      rel && !rel.startsWith('..') && !path.isAbsolute(rel)
        ? new vscode.RelativePattern(vscode.Uri.file(paths.root), `${rel.split(path.sep).join('/')}/*.json`)
        : new vscode.RelativePattern(vscode.Uri.file(paths.coordinationDir), '*.json');
    const w = vscode.workspace.createFileSystemWatcher(pattern);
    const on = () => this.scheduleReload();
    const subs = [w, w.onDidChange(on), w.onDidCreate(on), w.onDidDelete(on)];
    this.watcher = { dispose: () => subs.forEach((s) => s.dispose()) };
  }

  private async readChanged(): Promise<void> {
    const paths = this.services.paths();
    if (!paths) {
      if (this.snap?.exists !== false) {
        this.snap = emptySnapshot('');
        this.fire(new Set(KEYS));
      }
      return;
    }
    if (!this.watcher || this.dir !== paths.coordinationDir) this.watch();
    const store = new CoordinationStore(paths.coordinationDir);
    const exists = await fs.promises.stat(paths.coordinationDir).then((s) => s.isDirectory(), () => false);
    const prev = this.snap && this.snap.exists === exists ? this.snap : undefined;
    const next: CoordinationSnapshot = prev ? { ...prev } : emptySnapshot(paths.coordinationDir, exists);
    if (!prev) for (const k of KEYS) (next as unknown as Record<string, FileState<unknown>>)[k] = { state: 'missing', file: store.file(k) };
    const changed = new Set<CoordinationKey>();
    if (exists) {
      await Promise.all(
        KEYS.map(async (k) => {
          const file = store.file(k);
          const st = await fs.promises.stat(file).then((s) => ({ mtimeMs: s.mtimeMs, size: s.size, ino: s.ino }), () => undefined);
          const before = this.stamps.get(k);
          if (prev && this.stamps.has(k) && sameStamp(before, st)) return;
          this.stamps.set(k, st);
          (next as unknown as Record<string, FileState<unknown>>)[k] = st ? await readState(store, k) : { state: 'missing', file };
          changed.add(k);
        }),
      );
    } else {
      this.stamps.clear();
    }
    if (!prev || changed.size) {
      this.snap = next;
      this.fire(prev ? changed : new Set(KEYS));
    }
  }

  private fire(keys: Set<CoordinationKey>): void {
    this.version++;
    this.changed.fire(keys);
  }

  /**
   * The tree model for the current snapshot, identity and stale threshold (`syncord.health.staleCheckinHours`),
   * rebuilt only when one of them changed (or half a minute passed).
   */
  tree(): CoordinationTree | undefined {
    const snap = this.snap;
    if (!snap) return undefined;
    const settings = this.services.settings();
    const me = settings.instanceId;
    const staleAfterMs = settings.staleCheckinHours * 3_600_000;
    const now = Date.now();
    const c = this.cachedTree;
    if (c && c.snap === snap && c.me === me && c.staleAfterMs === staleAfterMs && now - c.at < 30_000) return c.model;
    const model = buildTreeModel(snap, { now, me, staleAfterMs });
    this.cachedTree = { snap, me, staleAfterMs, at: now, model };
    return model;
  }

  /** The Message Log's threads, regrouped only when the log changed. */
  threads(): Thread[] {
    const log = this.snap?.messages;
    if (!log || log.state !== 'ok') return [];
    if (this.cachedThreads?.log !== log.value) this.cachedThreads = { log: log.value, threads: buildThreads(log.value) };
    return this.cachedThreads.threads;
  }

  value<K extends CoordinationKey>(key: K): CoordinationValues[K] | undefined {
    const st = this.snap?.[key];
    return st?.state === 'ok' ? (st.value as CoordinationValues[K]) : undefined;
  }
}

function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  if (!a || !b) return a === b;
  return a.mtimeMs === b.mtimeMs && a.size === b.size && a.ino === b.ino;
}

function emptySnapshot(dir: string, exists = false): CoordinationSnapshot {
  const missing = (name: string) => ({ state: 'missing' as const, file: path.join(dir, name) });
  return {
    exists,
    registry: missing('instance-registry.json'),
    tasks: missing('task-queue.json'),
    messages: missing('communication-log.json'),
    decisions: missing('decisions.json'),
  };
}

async function readState(store: CoordinationStore, key: CoordinationKey): Promise<FileState<any>> {
  try {
    const docs = await store.readDocuments(key);
    const doc = docs[key];
    return { state: 'ok', file: doc.file, value: doc.value, text: doc.text };
  } catch (e) {
    if (isSyncordError(e)) {
      if (e.code === 'not-found') return { state: 'missing', file: store.file(key) };
      return { state: 'invalid', file: store.file(key), message: e.detail, line: e.location?.line, column: e.location?.column };
    }
    return { state: 'invalid', file: store.file(key), message: e instanceof Error ? e.message : String(e) };
  }
}
