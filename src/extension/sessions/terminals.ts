import * as vscode from 'vscode';
import { SessionContext } from '../../core/sessions/context';
import { pumpTerminalQueue } from '../../core/sessions/deliveries';
import { Launcher } from '../../core/sessions/launch';
import { SessionRecord } from '../../core/sessions/schema';
import { Logger } from '../../core/ports';
import { HOST_NAME } from '../../core/store/lock';
import { Disposable } from '../lifecycle';

/** The pause between typing a prompt and pressing Enter (see `pump`). */
const SUBMIT_DELAY_MS = 300;

/** How long a terminal may take to report its process id before it counts as having none. */
const PROCESS_ID_WAIT_MS = 10_000;

function processIdOf(t: vscode.Terminal): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), PROCESS_ID_WAIT_MS);
    t.processId.then(
      (pid) => {
        clearTimeout(timer);
        resolve(pid);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/**
 * The terminals of this window that run agent sessions, by session id. A session started here is known from
 * its launch; after a window reload (terminals are restored, their processes kept) each live terminal session of
 * this machine is found again by its supervisor's process id, or, when a terminal reports none, by name.
 * Prompts queued for a session whose terminal is here are typed by this window.
 */
export class SessionTerminals extends Disposable {
  private readonly bySession = new Map<string, vscode.Terminal>();
  private readonly closed = this.register(new vscode.EventEmitter<string>());
  /** Fires with the session id when a session's terminal is closed. */
  readonly onDidCloseSessionTerminal = this.closed.event;
  /** Fires when a terminal opens that is not known as a session's (after a reload, restored terminals arrive so). */
  readonly onDidOpenOtherTerminal: vscode.Event<vscode.Terminal>;

  constructor(private readonly logger: Logger) {
    super();
    const opened = this.register(new vscode.EventEmitter<vscode.Terminal>());
    this.onDidOpenOtherTerminal = opened.event;
    this.register(
      vscode.window.onDidOpenTerminal((t) => {
        if (![...this.bySession.values()].includes(t)) opened.fire(t);
      }),
    );
    this.register(
      vscode.window.onDidCloseTerminal((t) => {
        for (const [id, term] of this.bySession) {
          if (term === t) {
            this.bySession.delete(id);
            this.closed.fire(id);
          }
        }
      }),
    );
  }

  of(sessionId: string): vscode.Terminal | undefined {
    return this.bySession.get(sessionId);
  }

  has(sessionId: string): boolean {
    return this.bySession.has(sessionId);
  }

  /**
   * Starts a session's supervisor as the process of a new terminal (no shell in between: the agent gets the
   * terminal as its standard streams) and returns its process id and the terminal's name.
   */
  launcher(opts: { show: boolean }): Launcher {
    return async (req) => {
      const terminal = vscode.window.createTerminal({
        name: req.title,
        shellPath: req.file,
        shellArgs: req.args,
        cwd: req.cwd,
        env: req.env,
        strictEnv: true,
        iconPath: new vscode.ThemeIcon('robot'),
      });
      this.bySession.set(req.session.session_id, terminal);
      if (opts.show) terminal.show(true);
      const pid = await processIdOf(terminal);
      return { pid, terminal: terminal.name };
    };
  }

  /** Finds the terminals of live terminal sessions this window does not know yet (after a reload). */
  async adopt(sessions: readonly SessionRecord[]): Promise<void> {
    const missing = sessions.filter((s) => s.mode === 'terminal' && s.state !== 'exited' && s.host === HOST_NAME && !this.bySession.has(s.session_id));
    if (!missing.length) return;
    const taken = new Set(this.bySession.values());
    const candidates = vscode.window.terminals.filter((t) => !taken.has(t) && t.exitStatus === undefined);
    // After a reload, restored terminals reach this window a moment later; the model looks again then.
    if (!candidates.length) return;
    const pids = await Promise.all(candidates.map((t) => processIdOf(t)));
    for (const s of missing) {
      let i = s.pid != null ? pids.findIndex((p) => p === s.pid) : -1;
      if (i < 0 && s.terminal) i = candidates.findIndex((t, k) => pids[k] === undefined && t.name === s.terminal);
      if (i < 0 || taken.has(candidates[i])) {
        this.logger.trace(`session ${s.session_id} (${s.instance}, process ${s.pid}): no terminal of this window runs it (terminals: ${candidates.map((t, k) => `"${t.name}" ${pids[k] ?? '-'}`).join(', ')})`);
        continue;
      }
      taken.add(candidates[i]);
      this.bySession.set(s.session_id, candidates[i]);
      this.logger.info(`found the terminal "${candidates[i].name}" of ${s.instance}'s session ${s.session_id} again`);
    }
  }

  /** Types the prompts queued for a session whose terminal is here; false when its terminal is elsewhere. */
  async pump(ctx: SessionContext, session: Pick<SessionRecord, 'session_id'>): Promise<boolean> {
    const terminal = this.bySession.get(session.session_id);
    if (!terminal) return false;
    await pumpTerminalQueue(ctx, session.session_id, async (prompt) => {
      // The words, then Enter on its own: an agent's TUI takes a long chunk ending in Enter for pasted text and
      // keeps the Enter as part of it, so the prompt would wait in its input unsent.
      terminal.sendText(prompt, false);
      await new Promise((r) => setTimeout(r, SUBMIT_DELAY_MS));
      terminal.sendText('', true);
    }, () => terminal.sendText('', true));
    return true;
  }
}
