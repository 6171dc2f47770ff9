import * as path from 'path';
import * as vscode from 'vscode';
import { isSyncordError } from '../../core/errors';
import { SessionContext } from '../../core/sessions/context';
import { reconcileSessions, listSessions, SessionView } from '../../core/sessions/sessions';
import { SESSIONS_FILE } from '../../core/workspace';
import { HOST_NAME } from '../../core/store/lock';
import { Coordination } from '../coordination/context';
import { CoalescedRun, Disposable } from '../lifecycle';
import { SessionTerminals } from './terminals';
import { unacknowledgedIn } from '../../core/sessions/deliveryLog';
import { buildSessionsTree, SessionsTree } from '../../views/sessions';

/** Changes come in bursts (a supervisor and an agent writing one after the other): wait this long for quiet. */
const DEBOUNCE_MS = 200;
/** While sessions of this machine run, their processes are checked this often, so one that was killed shows. */
const RECONCILE_EVERY_MS = 4_000;

interface Loaded {
  sessions: SessionView[];
  error?: { message: string; file: string };
  key: string;
}

/**
 * The sessions of `coordination/sessions.json` as last read (reconciled: dead processes are marked exited) and
 * the hand-overs that did not reach them. Reads lazily on the first `ensureLoaded`; then a watcher on
 * sessions.json, the coordination model's changes (registry and message log) and a slow check of the live
 * processes keep it current. On every load it finds this window's session terminals again (after a reload)
 * and types the prompts queued for them.
 */
export class SessionsModel extends Disposable {
  private readonly changed = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.changed.event;
  private loaded: Loaded | undefined;
  private cachedTree: { loaded: Loaded; messages: unknown; here: string; tree: SessionsTree } | undefined;
  private readonly reloader = this.register(new CoalescedRun(() => this.read(), DEBOUNCE_MS));
  private watcher: vscode.Disposable | undefined;
  private watchedDir: string | undefined;
  private tick: NodeJS.Timeout | undefined;
  /** Loads that changed what the view shows, for tests. */
  version = 0;

  constructor(
    private readonly coordination: Coordination,
    readonly terminals: SessionTerminals,
    private readonly contextOf: () => SessionContext | undefined,
  ) {
    super();
    this.register(
      coordination.model.onDidChange((keys) => {
        if (this.loaded && (keys.has('registry') || keys.has('messages'))) this.scheduleReload();
      }),
    );
    this.register(terminals.onDidCloseSessionTerminal(() => this.loaded && this.scheduleReload()));
    // A live terminal session without its terminal here may get it now (restored after a window reload).
    this.register(
      terminals.onDidOpenOtherTerminal(() => {
        if (this.loaded?.sessions.some((s) => s.mode === 'terminal' && s.state !== 'exited' && !terminals.has(s.session_id))) this.scheduleReload();
      }),
    );
    this.register({
      dispose: () => {
        this.watcher?.dispose();
        if (this.tick) clearInterval(this.tick);
      },
    });
  }

  get sessions(): SessionView[] | undefined {
    return this.loaded?.sessions;
  }

  /** Why sessions.json could not be read at the last load (then `sessions` is empty). */
  get error(): { message: string; file: string } | undefined {
    return this.loaded?.error;
  }

  async ensureLoaded(): Promise<void> {
    if (!this.loaded) await this.reload();
  }

  /** Re-reads (and reconciles) now; calls coalesce. */
  reload(): Promise<void> {
    return this.reloader.run();
  }

  scheduleReload(): void {
    this.reloader.schedule();
  }

  /** The tree for the sessions and message log as last read. */
  tree(): SessionsTree {
    const loaded = this.loaded ?? { sessions: [], key: '' };
    const messages = this.coordination.model.value('messages');
    const here = loaded.sessions.map((s) => (this.terminals.has(s.session_id) ? '1' : '0')).join('');
    const c = this.cachedTree;
    if (c && c.loaded === loaded && c.messages === messages && c.here === here) return c.tree;
    const tree = buildSessionsTree(loaded.sessions, unacknowledgedIn(messages?.messages ?? []), (id) => this.terminals.has(id), loaded.error);
    this.cachedTree = { loaded, messages, here, tree };
    return tree;
  }

  private watch(dir: string): void {
    this.watcher?.dispose();
    this.watchedDir = dir;
    const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), SESSIONS_FILE));
    const on = () => this.scheduleReload();
    const subs = [w, w.onDidChange(on), w.onDidCreate(on), w.onDidDelete(on)];
    this.watcher = { dispose: () => subs.forEach((s) => s.dispose()) };
  }

  private async read(): Promise<void> {
    const ctx = this.contextOf();
    if (!ctx) {
      this.set({ sessions: [], key: 'none' });
      return;
    }
    if (this.watchedDir !== ctx.paths.coordinationDir) this.watch(ctx.paths.coordinationDir);
    await this.coordination.model.ensureLoaded();
    let sessions: SessionView[] = [];
    let error: Loaded['error'];
    try {
      sessions = await listSessions(ctx, { all: true });
    } catch (e) {
      const file = isSyncordError(e) && e.location ? e.location.file : path.join(ctx.paths.coordinationDir, SESSIONS_FILE);
      error = { message: `${SESSIONS_FILE} cannot be read: ${e instanceof Error ? e.message : String(e)}`, file };
    }
    await this.terminals.adopt(sessions);
    let typed = false;
    for (const s of sessions) {
      if (s.mode === 'terminal' && s.state !== 'exited' && (s.queue?.length || s.typing) && this.terminals.has(s.session_id)) {
        typed = (await this.terminals.pump(ctx, s).catch(() => false)) || typed;
      }
    }
    if (typed) sessions = await listSessions(ctx, { all: true }).catch(() => sessions);
    const key = JSON.stringify({ sessions, error, here: sessions.map((s) => this.terminals.has(s.session_id)) });
    this.set({ sessions, error, key });
    this.keepChecking(sessions);
  }

  private set(next: Loaded): void {
    if (this.loaded && this.loaded.key === next.key) return;
    this.loaded = next;
    this.version++;
    this.changed.fire();
  }

  /**
   * Checks the live processes of this machine's sessions now and then, and lists remote sessions again (their
   * heartbeat ages without the file changing); stops when none is left.
   */
  private keepChecking(sessions: readonly SessionView[]): void {
    const remote = () => (this.loaded?.sessions ?? sessions).some((s) => s.state !== 'exited' && s.mode === 'remote');
    const live = remote() || sessions.some((s) => s.state !== 'exited' && s.host === HOST_NAME && (s.pid != null || s.state === 'spawning'));
    if (live && !this.tick) {
      this.tick = setInterval(() => {
        const ctx = this.contextOf();
        if (!ctx || this.reloader.busy) return;
        void reconcileSessions(ctx).then(
          (ended) => (ended.length || remote() ? this.reload() : undefined),
          () => undefined,
        );
      }, RECONCILE_EVERY_MS);
    } else if (!live && this.tick) {
      clearInterval(this.tick);
      this.tick = undefined;
    }
  }
}
