import * as vscode from 'vscode';
import { isSyncordError } from '../../core/errors';
import { checkInstanceId } from '../../core/coordination/ids';
import { sendMessage } from '../../core/coordination/messages';
import { resendDeliveries, slingTask, SlingResult } from '../../core/sessions/deliveries';
import { DeliveryRecord } from '../../core/sessions/deliveryLog';
import { chooseRuntime, resolveCommand, runtimeNames, runtimeSpec, SessionsConfig } from '../../core/sessions/runtimes';
import { headlessLauncher, sessionLogFile } from '../../core/sessions/launch';
import { SessionMode, SessionRecord } from '../../core/sessions/schema';
import { clearExited, spawnSession, SpawnResult, stopSession, StopResult } from '../../core/sessions/sessions';
import { findSession } from '../../core/sessions/store';
import { identity } from '../coordination/commands';
import { reportError } from '../errors';
import { Command } from '../../shared/commands';
import { ViewId } from '../../views/ids';
import { remoteSummary, sessionSummary } from '../../views/sessions';
import { SessionNamedArgs } from '../commandArgs';
import { Sessions, TRUST_NEEDED } from './context';
import { deliveryClause, nudgeAfterSend } from './deliver';

export const SESSIONS_VIEW = ViewId.sessions;

const short = (id: string) => id.slice(0, 8);

function info(message: string): void {
  void vscode.window.showInformationMessage(`Syncord: ${message}`);
}

/** Tells the user why nothing starts in Restricted Mode, with the way to trust the workspace. */
export function refuseUntrusted(): void {
  void vscode.window.showWarningMessage(`Syncord: ${TRUST_NEEDED}`, 'Manage Workspace Trust').then((pick) => {
    if (pick) void vscode.commands.executeCommand('workbench.trust.manage');
  });
}

export interface SpawnRequest {
  instance: string;
  role?: string;
  runtime?: string;
  worktree?: boolean;
  prompt?: string;
  mode?: SessionMode;
  /** A remote of the setting syncord.sessions.remotes (mode `remote`). */
  remote?: string;
}

/**
 * Starts a session: in a terminal of this window (shown, without taking the focus) or as a detached process
 * with its output logged. Throws what the core throws (a runtime that is not installed, an instance that
 * already has a live session, settings that are not valid) before any terminal or process exists.
 */
export async function spawnFromWindow(s: Sessions, req: SpawnRequest): Promise<SpawnResult> {
  if (!vscode.workspace.isTrusted) throw new Error(TRUST_NEEDED);
  const ctx = s.context({ strict: true });
  if (!ctx) throw new Error('Syncord needs an open folder: open the main project first.');
  const mode = req.remote !== undefined ? 'remote' : (req.mode ?? 'terminal');
  // A remote session's supervisor is a detached local process, as a headless session's is.
  const launcher = mode === 'terminal' ? s.terminals.launcher({ show: true }) : headlessLauncher(ctx.paths);
  try {
    return await vscode.window.withProgress({ location: { viewId: SESSIONS_VIEW }, title: `Starting ${req.instance}${req.remote ? ` on ${req.remote}` : ''}` }, () =>
      spawnSession(ctx, { instance: req.instance, role: req.role, runtime: req.runtime, worktree: req.worktree, prompt: req.prompt, mode, remote: req.remote }, launcher),
    );
  } finally {
    await Promise.all([s.model.reload(), s.coordination.model.reload()]);
  }
}

/** Assigns a task to an instance and hands it to the instance's live session, from this window. */
export async function slingFromWindow(s: Sessions, task: string, instance: string): Promise<SlingResult> {
  if (!vscode.workspace.isTrusted) throw new Error(TRUST_NEEDED);
  const ctx = s.context();
  if (!ctx) throw new Error('Syncord needs an open folder: open the main project first.');
  try {
    return await vscode.window.withProgress({ location: { viewId: SESSIONS_VIEW }, title: `Assigning ${task} to ${instance}` }, () =>
      slingTask(ctx, { task, instance }, s.hooks(ctx)),
    );
  } finally {
    await Promise.all([s.model.reload(), s.coordination.model.reload()]);
  }
}

/** Sends a message's undelivered hand-overs again, from this window. */
export async function resendFromWindow(s: Sessions, messageId: string): Promise<DeliveryRecord[]> {
  if (!vscode.workspace.isTrusted) throw new Error(TRUST_NEEDED);
  const ctx = s.context();
  if (!ctx) throw new Error('Syncord needs an open folder: open the main project first.');
  try {
    return await resendDeliveries(ctx, messageId, s.hooks(ctx));
  } finally {
    await Promise.all([s.model.reload(), s.coordination.model.reload()]);
  }
}

export async function stopFromWindow(s: Sessions, idOrInstance: string): Promise<StopResult> {
  const ctx = s.context();
  if (!ctx) throw new Error('Syncord needs an open folder: open the main project first.');
  try {
    return await vscode.window.withProgress({ location: { viewId: SESSIONS_VIEW }, title: `Stopping ${idOrInstance}` }, () =>
      stopSession(ctx, idOrInstance, { by: s.services.settings().instanceId }),
    );
  } finally {
    await Promise.all([s.model.reload(), s.coordination.model.reload()]);
  }
}

/** The runtime's command is missing (or another start problem): said with the way out. */
function reportSpawnError(s: Sessions, e: unknown): void {
  if (isSyncordError(e) && e.code === 'not-found' && /is not installed/.test(e.message)) {
    const message = e.message.replace(/, or choose another runtime with --runtime$/, ', or choose another runtime');
    s.services.log.error(`Spawn agent session failed: ${message}`);
    void vscode.window.showErrorMessage(`Syncord: cannot start the session: ${message}.`, 'Open Runtime Settings').then((pick) => {
      if (pick) void vscode.commands.executeCommand('workbench.action.openSettings', 'syncord.sessions');
    });
    return;
  }
  if (!vscode.workspace.isTrusted) return refuseUntrusted();
  reportError(s.services, 'Spawn agent session', e);
}

function sayDelivery(s: Sessions, r: SlingResult, instance: string): void {
  const d = r.delivery;
  const head = `Assigned ${r.task.task_id} to ${instance}`;
  if (d.status !== 'failed') {
    info(d.status === 'delivered' ? `${head} and ${deliveryClause(d)}.` : `${head}; ${deliveryClause(d)}.`);
    return;
  }
  const noSession = !d.session;
  const action = noSession ? 'Spawn Session' : 'Resend';
  void vscode.window.showWarningMessage(`Syncord: ${head}, but ${deliveryClause(d)}`, action).then(async (pick) => {
    if (pick === 'Spawn Session') {
      const spawned = await vscode.commands.executeCommand<SpawnResult | undefined>(Command.spawnSession, { instance });
      if (spawned) await vscode.commands.executeCommand(Command.resendDelivery, { messageId: r.message.message_id });
    } else if (pick === 'Resend') {
      await vscode.commands.executeCommand(Command.resendDelivery, { messageId: r.message.message_id });
    }
  });
  s.services.log.warn(`${head}, but ${deliveryClause(d)}`);
}

/** Asks for an instance id: one of the registry without a live session, or a new one typed in. */
async function pickSpawnInstance(s: Sessions): Promise<{ id: string; known: boolean } | undefined> {
  await s.coordination.model.ensureLoaded();
  await s.model.ensureLoaded();
  const registry = s.coordination.model.value('registry');
  const busy = new Set((s.model.sessions ?? []).filter((x) => x.state !== 'exited').map((x) => x.instance));
  const known: vscode.QuickPickItem[] = Object.entries(registry?.instances ?? {})
    .filter(([id]) => !busy.has(id))
    .map(([id, r]) => ({ label: id, description: r.role, detail: r.status }));
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = 'Spawn Agent Session (1/4): instance';
  qp.placeholder = 'Pick an instance, or type the id of a new one';
  qp.ignoreFocusOut = true;
  qp.items = known;
  const isNew = (v: string) => v && !Object.prototype.hasOwnProperty.call(registry?.instances ?? {}, v);
  qp.onDidChangeValue((v) => {
    const id = v.trim();
    let valid = true;
    try {
      checkInstanceId(id);
    } catch {
      valid = false;
    }
    qp.items = isNew(id) && valid ? [{ label: id, description: 'new instance: registers it', alwaysShow: true }, ...known] : known;
  });
  const picked = await new Promise<string | undefined>((resolve) => {
    qp.onDidAccept(() => {
      const item = qp.selectedItems[0] ?? qp.activeItems[0];
      resolve(item?.label);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!picked) return undefined;
  return { id: picked, known: !isNew(picked) };
}

function implicitChoice(config: SessionsConfig, instance: string, role: string | undefined): { runtime: string; reason: string } | undefined {
  try {
    return chooseRuntime(config, { instance, role });
  } catch {
    return undefined;
  }
}

function implicitRuntime(config: SessionsConfig, instance: string, role: string | undefined): string | undefined {
  return implicitChoice(config, instance, role)?.runtime;
}

async function pickRuntime(config: SessionsConfig, instance: string, role: string | undefined): Promise<string | undefined> {
  const implicit = implicitChoice(config, instance, role);
  const names = runtimeNames(config);
  const items = names.map((name) => {
    const spec = runtimeSpec(config, name);
    let installed = true;
    try {
      resolveCommand(spec);
    } catch {
      installed = false;
    }
    const why = implicit?.runtime === name ? (implicit.reason === 'default' ? 'the default' : `chosen by the mapping ${implicit.reason.replace(/^map /, '')}`) : '';
    return {
      label: name,
      description: [why, Object.prototype.hasOwnProperty.call(config.runtimes, name) ? 'from settings' : 'built in', installed ? '' : `${spec.command[0]} not installed`].filter(Boolean).join(' · '),
      detail: spec.command.join(' '),
    };
  });
  items.sort((a, b) => (a.label === implicit?.runtime ? -1 : b.label === implicit?.runtime ? 1 : 0));
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem>();
  qp.title = 'Spawn Agent Session (3/4): runtime';
  qp.placeholder = `The agent that works as ${instance}`;
  qp.ignoreFocusOut = true;
  qp.items = items;
  const pre = items.find((i) => i.label === implicit?.runtime);
  if (pre) qp.activeItems = [pre];
  const picked = await new Promise<string | undefined>((resolve) => {
    qp.onDidAccept(() => {
      resolve((qp.selectedItems[0] ?? qp.activeItems[0])?.label);
      qp.hide();
    });
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  return picked;
}

/** The session a command acts on: the row's or the named one (a session id or an instance), or picked from those `filter` lets through. */
async function pickSession(s: Sessions, args: SessionNamedArgs, placeholder: string, filter: (x: SessionRecord) => boolean = (x) => x.state !== 'exited'): Promise<SessionRecord | undefined> {
  await s.model.ensureLoaded();
  const all = s.model.sessions ?? [];
  const named = args.session ?? args.instance;
  if (named) {
    const found = findSession(all, named);
    if (!found) void vscode.window.showWarningMessage(`Syncord: no session ${JSON.stringify(named)}.`);
    return found;
  }
  const candidates = all.filter(filter);
  if (!candidates.length) {
    info('no agent session fits this action right now.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    candidates.map((x) => ({ label: x.instance, description: sessionSummary(x), detail: `session ${x.session_id}`, session: x })),
    { placeHolder: placeholder, matchOnDescription: true },
  );
  return pick?.session;
}

async function input(title: string, prompt: string, opts: { value?: string } = {}): Promise<string | undefined> {
  const v = await vscode.window.showInputBox({ title, prompt, value: opts.value, ignoreFocusOut: true, validateInput: (x) => (x.trim() ? undefined : 'Required') });
  return v === undefined ? undefined : v.trim();
}

/**
 * The session commands (src/extension/commands.ts registers them): each asks for what its arguments leave out,
 * calls the core from this window, and says what happened.
 */
export class SessionCommands {
  constructor(private readonly s: Sessions) {}

  private get services() {
    return this.s.services;
  }

  async refresh() {
    await this.s.model.reload();
  }

  async spawn(args: SessionNamedArgs) {
    if (!vscode.workspace.isTrusted) return refuseUntrusted();
    let ctx;
    try {
      ctx = this.s.context({ strict: true });
    } catch (e) {
      return reportError(this.services, 'Read the syncord.sessions settings', e);
    }
    if (!ctx) return void this.services.requirePaths();
    let instance = args.instance;
    let role = args.role;
    let runtime = args.runtime;
    let worktree = args.worktree;
    const scripted = Boolean(args.instance && (args.runtime !== undefined || args.role !== undefined || args.worktree !== undefined));
    let known = true;
    if (!instance) {
      const picked = await pickSpawnInstance(this.s);
      if (!picked) return undefined;
      instance = picked.id;
      known = picked.known;
    } else {
      await this.s.coordination.model.ensureLoaded();
      known = Object.prototype.hasOwnProperty.call(this.s.coordination.model.value('registry')?.instances ?? {}, instance);
    }
    if (!known && !role) {
      role = await input(`Spawn Agent Session (2/4): register ${instance}`, `${instance} is new: its role (e.g. backend, docs-writer)`);
      if (!role) return undefined;
    }
    if (!runtime && !scripted) {
      const knownRole = role ?? this.s.coordination.model.value('registry')?.instances[instance]?.role;
      const picked = await pickRuntime(ctx.config, instance, knownRole);
      if (!picked) return undefined;
      // The preselected runtime stays implicit, so the notification can say why it was chosen.
      runtime = picked === implicitRuntime(ctx.config, instance, knownRole) ? undefined : picked;
    }
    let remote = args.remote;
    if (worktree === undefined && remote === undefined && !scripted) {
      // Where the agent runs: a terminal here (in the main project folder or a worktree of its own), or one of the
      // remotes of the setting syncord.sessions.remotes.
      const here = { label: 'Here, in the main project folder', description: 'a terminal of this window', worktree: false as boolean, remote: undefined as string | undefined };
      const picks = [
        here,
        { label: 'Here, in a git worktree of its own', description: `a terminal of this window, on branch syncord/${instance}`, worktree: true, remote: undefined },
        ...Object.entries(ctx.config.remotes ?? {}).map(([name, r]) => ({ label: `On ${name}`, description: remoteSummary(r), worktree: false, remote: name as string | undefined })),
      ];
      const pick = await vscode.window.showQuickPick(picks, { title: 'Spawn Agent Session (4/4): where', placeHolder: `Where does ${instance} run?`, ignoreFocusOut: true });
      if (!pick) return undefined;
      worktree = pick.worktree;
      remote = pick.remote;
    }
    try {
      const r = await spawnFromWindow(this.s, { instance, role, runtime, worktree, prompt: args.prompt, mode: 'terminal', remote });
      const why = r.runtimeReason === 'explicit' || r.session.mode === 'remote' ? '' : r.runtimeReason === 'default' ? ' (the default runtime)' : ` (chosen by the mapping ${r.runtimeReason.replace(/^map /, '')})`;
      const where =
        r.session.mode === 'remote'
          ? `on ${r.session.remote} as ${r.session.endpoint ?? 'a remote session'}`
          : `in the terminal "${r.session.terminal ?? r.session.instance}"`;
      info(
        `started ${r.session.instance}${r.registered ? ' (newly registered)' : ''} with ${r.session.runtime}${why} ${where} (session ${short(r.session.session_id)})${r.session.worktree ? `, in its worktree ${r.session.worktree}` : ''}.`,
      );
      return r;
    } catch (e) {
      reportSpawnError(this.s, e);
      return undefined;
    }
  }

  async focusTerminal(args: SessionNamedArgs) {
    const session = await pickSession(this.s, args, 'Session whose terminal to show', (x) => x.mode === 'terminal' && this.s.terminals.has(x.session_id));
    if (!session) return undefined;
    const t = this.s.terminals.of(session.session_id);
    if (t) {
      t.show(false);
      return t.name;
    }
    if (session.mode !== 'terminal') return vscode.commands.executeCommand(Command.showSessionLog, { session: session.session_id });
    info(`the terminal of ${session.instance} is not in this window${session.terminal ? ` (it is "${session.terminal}" in the window that started it)` : ''}.`);
    return undefined;
  }

  async showLog(args: SessionNamedArgs) {
    // A remote session's output here is its supervisor's: what was handed over, and what the server answered.
    const session = await pickSession(this.s, args, 'Session whose output to open', (x) => x.mode !== 'terminal');
    if (!session) return undefined;
    if (!session.log) {
      const t = this.s.terminals.of(session.session_id);
      if (t) t.show(false);
      else info(`${session.instance} runs in a terminal; its output is there.`);
      return undefined;
    }
    try {
      const ctx = this.s.context();
      if (!ctx) return undefined;
      // The log Syncord derives from the session id inside coordination/.syncord, never the record's `log` field.
      const file = sessionLogFile(ctx.paths, session.session_id);
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
      return await vscode.window.showTextDocument(doc, { preview: true });
    } catch (e) {
      reportError(this.services, `Open the log of ${session.instance}`, e);
      return undefined;
    }
  }

  async stop(args: SessionNamedArgs) {
    const session = await pickSession(this.s, args, 'Session to stop');
    if (!session) return undefined;
    if (session.state === 'exited') {
      info(`the session of ${session.instance} has already exited.`);
      return session;
    }
    if (!args.confirmed) {
      const ok = await vscode.window.showWarningMessage(
        `Stop the session of ${session.instance}?`,
        { modal: true, detail: `Its agent (${session.runtime}${session.agent_pid ? `, process ${session.agent_pid}` : ''}) is ended and ${session.instance} is checked out. Work it has not saved may be lost.` },
        'Stop Session',
      );
      if (ok !== 'Stop Session') return undefined;
    }
    try {
      const r = await stopFromWindow(this.s, session.session_id);
      info(`stopped the session of ${r.instance}${r.end_reason ? ` (${r.end_reason})` : ''}${r.notes.length ? `; ${r.notes.join('; ')}` : ''}.`);
      return r;
    } catch (e) {
      reportError(this.services, `Stop the session of ${session.instance}`, e);
      return undefined;
    }
  }

  async clearExited() {
    const ctx = this.s.context();
    if (!ctx) return void this.services.requirePaths();
    try {
      const n = await clearExited(ctx);
      await this.s.model.reload();
      info(n ? `removed ${n} exited session${n > 1 ? 's' : ''}.` : 'no exited session to remove.');
      return n;
    } catch (e) {
      reportError(this.services, 'Clear exited sessions', e);
      return undefined;
    }
  }

  async resend(args: SessionNamedArgs) {
    if (!vscode.workspace.isTrusted) return refuseUntrusted();
    const messageId = args.messageId;
    if (!messageId) {
      info('pick a hand-over that was not delivered in the Sessions view to resend it.');
      return undefined;
    }
    try {
      const ds = await resendFromWindow(this.s, messageId);
      const failed = ds.filter((d) => d.status === 'failed');
      const text = ds.map((d) => `${d.instance}: ${deliveryClause(d)}`).join('; ');
      if (failed.length) void vscode.window.showWarningMessage(`Syncord: resent ${messageId}; ${text}`);
      else info(`resent ${messageId}; ${text}.`);
      return ds;
    } catch (e) {
      reportError(this.services, `Resend ${messageId}`, e);
      return undefined;
    }
  }

  /** Assign Task to Session (from a session row: which task?) and Assign to Session (from a task row: which session?). */
  async sling(args: SessionNamedArgs, fromTask: boolean) {
    if (!vscode.workspace.isTrusted) return refuseUntrusted();
    let task = args.taskId;
    let instance = args.instance;
    if (!instance && args.session) instance = findSession(this.s.model.sessions ?? [], args.session)?.instance;
    if (!instance) {
      const session = await pickSession(this.s, fromTask ? {} : args, task ? `Hand ${task} to the session of` : 'Session to hand a task to');
      if (!session) return undefined;
      instance = session.instance;
    }
    if (!task) {
      await this.s.coordination.model.ensureLoaded();
      const q = this.s.coordination.model.value('tasks');
      const open = q ? [...q.active_tasks, ...q.pending_tasks] : [];
      if (!open.length) {
        info('no open task to assign.');
        return undefined;
      }
      const pick = await vscode.window.showQuickPick(
        open.map((t) => ({ label: t.task_id, description: t.title, detail: `${t.status} · ${t.assigned_to ?? 'unassigned'} · ${t.priority}` })),
        { placeHolder: `Task to hand to ${instance}`, matchOnDescription: true },
      );
      if (!pick) return undefined;
      task = pick.label;
    }
    try {
      const r = await slingFromWindow(this.s, task, instance);
      sayDelivery(this.s, r, instance);
      return r;
    } catch (e) {
      reportError(this.services, `Assign ${task} to ${instance}`, e);
      return undefined;
    }
  }

  async message(args: SessionNamedArgs) {
    const session = await pickSession(this.s, args, 'Session to send a message to');
    if (!session) return undefined;
    const me = await identity(this.s.coordination, { as: args.as });
    if (!me) return undefined;
    const subject = args.subject ?? (await input(`Message to ${session.instance}`, 'Subject'));
    if (!subject) return undefined;
    const body = args.body ?? (await input(`Message to ${session.instance}: ${subject}`, 'Message'));
    if (!body) return undefined;
    const sent = await this.s.coordination.write(`Send message to ${session.instance}`, (store) =>
      sendMessage(store, { from: me, to: session.instance, subject, body, type: 'info' }),
    );
    if (!sent) return undefined;
    const nudged = await nudgeAfterSend(this.s, sent.message.message_id);
    info(`sent ${sent.message.message_id} to ${session.instance}${nudged ? `; ${nudged}` : ''}.`);
    return sent;
  }
}
