import * as vscode from 'vscode';
import { SlingResult } from '../../core/sessions/deliveries';
import { DeliveryRecord } from '../../core/sessions/deliveryLog';
import { SessionRecord } from '../../core/sessions/schema';
import { listSessions, SessionView, SpawnResult } from '../../core/sessions/sessions';
import { resendFromWindow, slingFromWindow, SpawnRequest, spawnFromWindow, stopFromWindow } from './commands';
import { Sessions } from './context';
import type { SessionsTree } from '../../views/sessions';
import { treeItemOf } from '../treeItem';

/**
 * What the extension exports about agent sessions (part of the value of `activate()`), for integration tests
 * and other extensions. The operations are those of the commands, without their prompts and notifications;
 * they throw what the commands would show.
 */
export interface SessionsApi {
  /** Starts a session: `terminal` (the default) in a terminal of this window, `headless` as a detached process. */
  spawn(req: SpawnRequest): Promise<SpawnResult>;
  /** The sessions (reconciled: dead processes are marked exited); exited ones with `all`. */
  list(opts?: { all?: boolean }): Promise<SessionView[]>;
  /** Assigns a task and hands it to the instance's live session. */
  sling(task: string, instance: string): Promise<SlingResult>;
  stop(idOrInstance: string): Promise<SessionRecord>;
  resend(messageId: string): Promise<DeliveryRecord[]>;
  /** The terminal of a session in this window, if it is here. */
  terminalOf(sessionId: string): vscode.Terminal | undefined;
  /** Re-reads now instead of waiting for the watchers. */
  reload(): Promise<void>;
  /** The Sessions view's tree as last read. */
  tree(): SessionsTree;
  /** The TreeItem the view renders for a node id. */
  treeItem(id: string): vscode.TreeItem | undefined;
  /** Fires when what the view shows changed. */
  onDidChange: vscode.Event<void>;
}

export function sessionsApi(s: Sessions): SessionsApi {
  return {
    spawn: (req) => spawnFromWindow(s, req),
    list: async (opts) => {
      const ctx = s.context();
      return ctx ? listSessions(ctx, opts) : [];
    },
    sling: (task, instance) => slingFromWindow(s, task, instance),
    stop: (id) => stopFromWindow(s, id),
    resend: (id) => resendFromWindow(s, id),
    terminalOf: (id) => s.terminals.of(id),
    reload: () => s.model.reload(),
    tree: () => s.model.tree(),
    treeItem: (id) => {
      const node = s.model.tree().get(id);
      return node && treeItemOf(node);
    },
    onDidChange: s.model.onDidChange,
  };
}
