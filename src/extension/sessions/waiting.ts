import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { SESSIONS_FILE } from '../../core/workspace';
import { ViewId } from '../../views/ids';
import { newlyWaiting } from '../../views/sessions';
import { Sessions } from './context';

/** After start-up, the sessions are read this much later (when sessions.json exists), so a waiting agent is told. */
const FIRST_LOOK_MS = 3_000;

/**
 * Tells the user when the agent of a live session reports that it waits for them (a permission prompt, a
 * question): once per report, as the sessions model sees sessions.json change (the detection is
 * `newlyWaiting`). "Show Terminal" focuses the session's terminal when this window has it, else "Show
 * Sessions" opens the view. The model is read shortly after start-up when sessions.json exists, so this works
 * without the Sessions view open.
 */
export function registerWaitingNotifications(s: Sessions): void {
  let seen = new Set<string>();
  const subs = s.services.context.subscriptions;
  subs.push(
    s.model.onDidChange(() => {
      const sessions = s.model.sessions;
      // A sessions.json that cannot be read shows no session: what was seen stays seen, not announced again after.
      if (!sessions || s.model.error) return;
      const next = newlyWaiting(sessions, seen);
      seen = next.seen;
      for (const { session } of next.fresh) {
        const terminal = s.terminals.of(session.session_id);
        const action = terminal ? 'Show Terminal' : 'Show Sessions';
        s.services.log.info(`${session.instance} is waiting for your input (session ${session.session_id})`);
        void vscode.window.showWarningMessage(`Syncord: ${session.instance} is waiting for your input.`, action).then((pick) => {
          if (pick !== action) return;
          // The terminal may have closed since: the view shows the session then.
          const t = s.terminals.of(session.session_id);
          if (t) t.show(false);
          else void vscode.commands.executeCommand(`${ViewId.sessions}.focus`);
        });
      }
    }),
  );
  const timer = setTimeout(() => {
    const dir = s.services.paths()?.coordinationDir;
    if (dir && fs.existsSync(path.join(dir, SESSIONS_FILE))) void s.model.ensureLoaded().catch(() => undefined);
  }, FIRST_LOOK_MS);
  subs.push({ dispose: () => clearTimeout(timer) });
}
