import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isSyncordError } from '../../core/errors';
import { lastVerify, listBackups, listTargets, loadRules, registryFile, rulesFile, targetStatuses, TargetStatus, ResolvedTarget } from '../../core/targets';
import { lastVerifyFile, SYNCORD_DIR } from '../../core/workspace';
import { componentsFor, snapshotFingerprint, TargetInfo, TargetsSnapshot } from '../../core/targets/overview';
import { workflowToShow } from '../../core/agentsync/workflow';
import { CoordinationStore } from '../../core/coordination/store';
import { COORDINATION_FILES } from '../../core/workspace';
import { buildTree, TargetsTree } from '../../views/targets';
import { Disposable } from '../lifecycle';
import { Services } from '../services';
import { onDidChangeSettings } from '../settings';

/** Commits, checkouts and saves arrive in bursts: recompute once things are quiet for this long. */
export const RECOMPUTE_DEBOUNCE_MS = 400;
/**
 * Backups, backup manifests and targets.json are written by Syncord's own commands, which recompute when
 * they are done; the watcher events those writes cause arrive a little later and are ignored for this long.
 */
const OWN_WRITES_GRACE_MS = 3000;
export const RESTRICTED_NOTE = 'Restricted Mode: trust the workspace to detect changes';

/**
 * The targets as last read, shared by the tree, the status bar, the Problems panel and the commands. Nothing
 * is read until something asks (`ensureLoaded`). Watchers on the main project's HEAD and refs, on the synced
 * sources, on the registry and rules, on the backup manifests and on the kept verifications recompute it
 * (debounced) without the user asking; the extension's own changes call `reload()` at once, and the events their own writes cause are
 * ignored. A recomputation that finds nothing new fires no change, so the view stays still.
 */
export class TargetsModel extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  /** Fires after every reload and whenever a busy state changes. */
  readonly onDidChange = this.changed.event;

  private snap: TargetsSnapshot | undefined;
  private loading: Promise<void> | undefined;
  private pendingReload = false;
  private debounce: NodeJS.Timeout | undefined;
  private watchers: vscode.Disposable[] = [];
  private watchKey = '';
  private fingerprint = '';
  /** Until when watcher events on Syncord's own files are taken to come from its own commands. */
  private ownWritesUntil = 0;
  private readonly busyTargets = new Map<string, string>();
  private cachedTree: { version: number; minute: number; model: TargetsTree } | undefined;
  /** Changes of what the view shows (a reload that found something new, a busy change). */
  version = 0;
  /** Completed reloads, for tests and the log. */
  reloads = 0;
  /** Why the last reload happened (for tests and the log). */
  lastReason = '';

  constructor(private readonly services: Services) {
    super();
    this.register(
      onDidChangeSettings(() => {
        this.watchKey = '';
        if (this.snap) void this.reload('settings changed');
      }),
    );
    // Trust granted: git may run now, so the statuses can be computed instead of taken as recorded.
    this.register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.snap && void this.reload('workspace trusted')));
    this.register({ dispose: () => this.debounce && clearTimeout(this.debounce) });
    this.register({ dispose: () => this.watchers.forEach((w) => w.dispose()) });
    // Relative times ("synced 5m ago") age: redraw once a minute (no file is read); the view redraws
    // only the rows whose text changed.
    const tick = setInterval(() => this.snap && this.changed.fire(), 60_000);
    this.register({ dispose: () => clearInterval(tick) });
  }

  get snapshot(): TargetsSnapshot | undefined {
    return this.snap;
  }

  /** Targets being worked on, with what is being done ("Syncing", "Verifying", …). */
  get busy(): ReadonlyMap<string, string> {
    return this.busyTargets;
  }

  /** The tree as the view shows it now. */
  tree(): TargetsTree | undefined {
    if (!this.snap) return undefined;
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const c = this.cachedTree;
    if (c && c.version === this.version && c.minute === minute) return c.model;
    const model = buildTree(this.snap, now, this.busyTargets);
    this.cachedTree = { version: this.version, minute, model };
    return model;
  }

  info(name: string): TargetInfo | undefined {
    return this.snap?.targets.find((t) => t.target.name === name);
  }

  /** Reads everything once; later calls return at once (watchers keep the snapshot current). */
  async ensureLoaded(): Promise<TargetsSnapshot | undefined> {
    if (!this.snap) await this.reload('first use');
    return this.snap;
  }

  /** Recomputes after a quiet moment; bursts of events collapse into one recomputation. */
  scheduleReload(reason: string): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload(reason);
    }, RECOMPUTE_DEBOUNCE_MS);
  }

  /** Recomputes now. Calls made while one runs coalesce into one more run after it. */
  reload(reason = 'requested'): Promise<void> {
    if (this.loading) {
      this.pendingReload = true;
      this.lastReason = reason;
      return this.loading;
    }
    this.lastReason = reason;
    this.loading = (async () => {
      try {
        do {
          this.pendingReload = false;
          let snap: TargetsSnapshot | undefined;
          try {
            snap = await this.load();
          } catch (e) {
            this.services.log.error(`Targets: cannot read the targets: ${(e as Error).message}`);
          }
          this.reloads++;
          if (!snap) continue;
          const fp = snapshotFingerprint(snap);
          const first = !this.snap;
          this.snap = snap;
          if (first || fp !== this.fingerprint) {
            this.fingerprint = fp;
            this.version++;
            this.changed.fire();
          }
        } while (this.pendingReload);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Marks a target as being worked on (the tree and status bar spin), or clears the mark. */
  setBusy(name: string, what: string | undefined): void {
    if (what) this.busyTargets.set(name, what);
    else if (!this.busyTargets.delete(name)) return;
    this.noteOwnWrites();
    this.version++;
    this.changed.fire();
  }

  /** Says that Syncord itself just wrote its own files (targets.json, backups): their watcher events are ignored. */
  noteOwnWrites(): void {
    this.ownWritesUntil = Date.now() + OWN_WRITES_GRACE_MS;
  }

  private async load(): Promise<TargetsSnapshot> {
    const paths = this.services.paths();
    if (!paths) return { registryFile: '', registryExists: false, targets: [], errors: [] };
    const regFile = registryFile(paths);
    const errors: TargetsSnapshot['errors'] = [];
    const fail = (e: unknown, file: string) => {
      const loc = isSyncordError(e) ? e.location : undefined;
      errors.push({ message: isSyncordError(e) ? e.detail : (e as Error).message, file: loc?.file ?? file, line: loc?.line, column: loc?.column });
    };
    const [rules, targets] = await Promise.all([
      loadRules(paths).then(
        (r) => r.rules,
        (e) => void fail(e, rulesFile(paths)),
      ),
      listTargets(paths).catch((e) => {
        fail(e, regFile);
        return [];
      }),
    ]);
    const registryExists = fs.existsSync(regFile);
    this.watch(paths.root, paths.coordinationDir, rules ?? undefined, targets);

    let statuses: TargetStatus[] | undefined;
    let statusNote: string | undefined;
    if (!vscode.workspace.isTrusted) statusNote = RESTRICTED_NOTE;
    else if (!rules) statusNote = 'the sync rules cannot be read';
    else if (targets.length) {
      try {
        statuses = await targetStatuses(paths, rules);
      } catch (e) {
        statusNote = `cannot compute: ${(e as Error).message}`;
        this.services.log.warn(`Targets: ${statusNote}`);
      }
    }
    const infos: TargetInfo[] = await Promise.all(
      targets.map(async (target) => {
        const info: TargetInfo = { target, components: rules ? componentsFor(rules, target.type) : [], backups: [] };
        const status = statuses?.find((s) => s.name === target.name);
        if (status) info.status = status;
        else info.statusNote = statusNote ?? 'not computed';
        try {
          info.backups = await listBackups(paths, target.name);
        } catch (e) {
          info.backupsError = (e as Error).message;
        }
        // The last verification as the core keeps it (`.syncord/verify/<target>/last.json`, also written by
        // `syncord sync verify`); a file that does not read is shown as an error at its position.
        try {
          const v = await lastVerify(paths, target.name);
          if (v) info.verify = v;
        } catch (e) {
          fail(e, lastVerifyFile(paths, target.name));
        }
        return info;
      }),
    );
    // The targets' syncs by agents, from the task queue (a queue that cannot be read is the Coordination view's to show).
    try {
      const queue = path.join(paths.coordinationDir, COORDINATION_FILES.tasks);
      if (fs.existsSync(queue)) {
        const { tasks } = await new CoordinationStore(paths.coordinationDir).read('tasks');
        for (const info of infos) {
          const w = workflowToShow(tasks, info.target.name);
          if (w) info.agents = w;
        }
      }
    } catch (e) {
      this.services.log.warn(`Targets: the syncs by agents cannot be shown: ${(e as Error).message}`);
    }
    const snap: TargetsSnapshot = { root: paths.root, registryFile: regFile, registryExists, targets: infos, errors };
    if (rules) snap.rules = rules;
    return snap;
  }

  /**
   * Watches what the statuses depend on: the main project's HEAD, refs and packed-refs (a commit, checkout,
   * pull or reset moves them), the files of the synced components, config files and change categories, the
   * registry and rules, and the backup manifests. Rebuilt when the rules change what is synced.
   */
  private watch(root: string, coordinationDir: string, rules: import('../../core/targets').SyncRules | undefined, targets: ResolvedTarget[] = []): void {
    const globs = new Set<string>();
    if (rules) {
      for (const c of Object.values(rules.components)) globs.add(c.source.endsWith('/') ? `${c.source}**` : c.source);
      for (const c of Object.values(rules.config)) globs.add(c.source);
      for (const c of Object.values(rules.categories)) for (const p of c.patterns) globs.add(p);
    }
    const sources = `{${[...globs].map((g) => g.replace(/[{},]/g, '?')).join(',')}}`;
    // In each target, the destinations of its components and config files: an edit made in a target changes
    // its status (kept, merged or a conflict) as much as a change in the main project does.
    // One watcher per folder (recursive) or file, based at it: VS Code watches paths outside the workspace
    // only from such a base.
    const destinations: { base: string; glob: string }[] = [];
    if (rules) {
      for (const t of targets) {
        for (const c of componentsFor(rules, t.type)) {
          const abs = path.join(t.absPath, c.destination);
          const dir = c.kind === 'component' && rules.components[c.name]?.source.endsWith('/');
          destinations.push(dir ? { base: abs, glob: '**' } : { base: path.dirname(abs), glob: path.basename(abs).replace(/[{},*?[\]]/g, '?') });
        }
      }
    }
    const key = `${root}\0${coordinationDir}\0${sources}\0${destinations.map((d) => `${d.base}:${d.glob}`).join('\0')}`;
    if (key === this.watchKey) return;
    this.watchKey = key;
    this.watchers.forEach((w) => w.dispose());
    this.watchers = [];
    const stateDir = vscode.Uri.file(path.join(root, SYNCORD_DIR)).path + '/';
    const on = (base: string, pattern: string, reason: string, own?: (uri: vscode.Uri) => boolean) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(base), pattern));
      const fire = (uri: vscode.Uri) => {
        // Syncord's state folder (sync state, verify logs, backup objects) is never a synced source.
        if (pattern === sources && uri.path.startsWith(stateDir)) return;
        // Syncord's own writes: the command that made them recomputes when it is done.
        if (own?.(uri) && (this.busyTargets.size > 0 || Date.now() < this.ownWritesUntil)) return;
        this.scheduleReload(`${reason}: ${vscode.workspace.asRelativePath(uri)}`);
      };
      w.onDidChange(fire);
      w.onDidCreate(fire);
      w.onDidDelete(fire);
      this.watchers.push(w);
    };
    on(root, '.git/{HEAD,packed-refs,refs/**}', 'HEAD moved');
    // Not taken for Syncord's own writes: a user's edit right after a sync counts (an extra recomputation that
    // finds nothing new changes nothing in the view).
    for (const d of destinations) on(d.base, d.glob, 'a target changed');
    on(root, sources, 'synced sources changed');
    on(root, `${SYNCORD_DIR}/backups/*/manifests/*.json`, 'backups changed', () => true);
    // A verification kept by Verify Target (which recomputes itself) or by `syncord sync verify` in a terminal.
    on(root, `${SYNCORD_DIR}/verify/*/last.json`, 'verification kept', () => true);
    on(coordinationDir, '{targets.json,sync-rules.jsonc}', 'registry or rules changed', (uri) => uri.path.endsWith('/targets.json'));
    // The syncs by agents move with the task queue (agents' verbs, the Coordination view's commands).
    on(coordinationDir, COORDINATION_FILES.tasks, 'task queue changed');
  }
}
