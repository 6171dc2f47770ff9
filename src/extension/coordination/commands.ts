import * as vscode from 'vscode';
import { advanceAgentSync } from '../../core/agentsync';
import { decide, giveInput, proposeDecision } from '../../core/coordination/decisions';
import { checkInstanceId } from '../../core/coordination/ids';
import { checkIn, checkOut } from '../../core/coordination/instances';
import { acknowledgeMessage, closeThread, replyToMessage, sendMessage } from '../../core/coordination/messages';
import { PRIORITIES } from '../../core/coordination/vocabulary';
import { CoordinationStore } from '../../core/coordination/store';
import { acceptTask, addTask, assignTask, blockersOf, claimTask, completeTask, declineTask, findTask, releaseTask, setTaskBlocked, startTask } from '../../core/coordination/tasks';
import { parseTimeInput } from '../../core/coordination/time';
import type { CoordinationNode as ViewNode } from '../../views/coordination';
import { ViewId } from '../../views/ids';
import { blockedFor, blockedTaskAdvice } from '../../views/blocked';
import { locatePath } from '../../core/store';
import { CoordinationArgs, CoordinationNamedArgs } from '../commandArgs';
import { reportError } from '../errors';
import { Sessions } from '../sessions/context';
import { nudgeAfterSend } from '../sessions/deliver';
import { SettingKey } from '../settings';
import { Coordination } from './context';

/** The task a command acts on: the one its arguments name, or a pick among those `filter` lets through. */
async function pickTask(c: Coordination, args: CoordinationArgs, placeholder: string, filter: (status: string, assignee: string | null) => boolean): Promise<string | undefined> {
  if (args.taskId) return args.taskId;
  const q = c.model.value('tasks') ?? (await c.model.ensureLoaded(), c.model.value('tasks'));
  const all = q ? [...q.active_tasks, ...q.pending_tasks] : [];
  const items = all
    .filter((t) => filter(t.status, t.assigned_to))
    .map((t) => ({ label: t.task_id, description: t.title, detail: `${t.status} · ${t.assigned_to ?? 'unassigned'} · ${t.priority}` }));
  if (!items.length) {
    void vscode.window.showInformationMessage('Syncord: no task fits this action right now.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(items, { placeHolder: placeholder, matchOnDescription: true }))?.label;
}

async function pickInstance(c: Coordination, placeholder: string, opts: { exclude?: string; allowAll?: boolean } = {}): Promise<string | undefined> {
  await c.model.ensureLoaded();
  const registry = c.model.value('registry');
  const items: vscode.QuickPickItem[] = Object.entries(registry?.instances ?? {})
    .filter(([id]) => id !== opts.exclude)
    .map(([id, r]) => ({ label: id, description: r.role, detail: `${r.status}${r.available_for_consultation ? ' · available for consultation' : ''}` }));
  if (opts.allowAll) items.push({ label: 'all', description: 'every instance' });
  return (await vscode.window.showQuickPick(items, { placeHolder: placeholder, matchOnDescription: true }))?.label;
}

/**
 * Who the user acts as: `args.as`, else `syncord.instanceId`, else asked (from the registry) with an offer to
 * save the answer in the workspace settings.
 */
export async function identity(c: Coordination, args: CoordinationNamedArgs = {}): Promise<string | undefined> {
  if (args.as) return args.as;
  const configured = c.services.settings().instanceId;
  if (configured) return configured;
  return askIdentity(c, true);
}

/**
 * Asks who the user is, from the registered instances (`prefer` first: the one the action at hand is meant for),
 * and saves the answer to the workspace settings, so it is asked once. Used where the user acts without having
 * set `syncord.instanceId` (the Message Log's Reply, Acknowledge and Close).
 */
export async function chooseIdentity(c: Coordination, prefer?: string): Promise<string | undefined> {
  const id = await askIdentity(c, false, prefer);
  if (id) info(`you act as ${id} in this workspace (syncord.instanceId).`);
  return id;
}

async function askIdentity(c: Coordination, offerSave: boolean, prefer?: string): Promise<string | undefined> {
  await c.model.ensureLoaded();
  const registry = c.model.value('registry');
  const other = '$(edit) Another instance id…';
  const entries = Object.entries(registry?.instances ?? {});
  if (prefer) entries.sort(([a], [b]) => Number(b === prefer) - Number(a === prefer));
  const items: vscode.QuickPickItem[] = [
    ...entries.map(([id, r]) => ({ label: id, description: id === prefer ? `${r.role} · the addressee` : r.role, detail: r.status })),
    { label: other, alwaysShow: true },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Which instance are you?', placeHolder: 'Syncord acts as this instance in check-ins, claims and messages' });
  if (!pick) return undefined;
  let id = pick.label;
  if (id === other) {
    const typed = await vscode.window.showInputBox({
      title: 'Your instance id',
      prompt: 'Letters, digits, ".", "_" and "-", e.g. instance-7',
      validateInput: (v) => {
        try {
          checkInstanceId(v.trim());
          return undefined;
        } catch (e) {
          return (e as Error).message;
        }
      },
    });
    if (!typed) return undefined;
    id = typed.trim();
  }
  if (offerSave) {
    const save = await vscode.window.showInformationMessage(`Act as ${id} from now on in this workspace?`, 'Save to Workspace Settings', 'Only This Time');
    if (save === 'Save to Workspace Settings') await saveIdentity(id);
  } else {
    await saveIdentity(id);
  }
  return id;
}

async function saveIdentity(id: string): Promise<void> {
  const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration().update(SettingKey.instanceId, id, target);
}

async function input(title: string, prompt: string, opts: { value?: string; optional?: boolean; validate?: (v: string) => string | undefined; placeHolder?: string } = {}): Promise<string | undefined> {
  const v = await vscode.window.showInputBox({
    title,
    prompt,
    value: opts.value,
    placeHolder: opts.placeHolder,
    ignoreFocusOut: true,
    validateInput: (s) => (!opts.optional && !s.trim() ? 'Required' : opts.validate?.(s.trim())),
  });
  return v === undefined ? undefined : v.trim();
}

function timeValidator(what: string) {
  return (v: string) => {
    if (!v) return undefined;
    try {
      parseTimeInput(v, new Date(), what);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

function list(s: string | undefined): string[] {
  return (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);
}

function info(message: string): void {
  void vscode.window.showInformationMessage(`Syncord: ${message}`);
}

/**
 * The coordination commands (src/extension/commands.ts registers them): each asks for what its arguments leave
 * out, calls the core through one locked write, and says what happened.
 */
export class CoordinationCommands {
  constructor(
    private readonly c: Coordination,
    private readonly sessions: Sessions,
  ) {}

  private write<T>(title: string, fn: (store: CoordinationStore) => Promise<T>): Promise<T | undefined> {
    return this.c.write(title, fn);
  }

  async refresh() {
    await this.c.model.reload();
  }

  async setInstanceId() {
    const id = await askIdentity(this.c, false);
    if (id) info(`you act as ${id} in this workspace.`);
    return id;
  }

  async checkIn(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    await this.c.model.ensureLoaded();
    const known = !!this.c.model.value('registry')?.instances[me];
    let role = args.role;
    if (!known && !role) {
      role = await input(`Register ${me}`, `${me} is not in the registry yet: its role (e.g. frontend-ux)`);
      if (!role) return undefined;
    }
    const r = await this.write(`Check in as ${me}`, (store) => checkIn(store, { instance: me, role, task: args.task, expertise: args.expertise }));
    if (r) info(`${me} checked in${r.created ? ' (newly registered)' : ''}.`);
    return r;
  }

  async checkOut(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const r = await this.write(`Check out ${me}`, (store) => checkOut(store, { instance: me }));
    if (r) info(`${me} checked out.`);
    return r;
  }

  async createTask(args: CoordinationArgs) {
    const title = 'Create Task';
    let t = args.title;
    let description = args.description;
    let priority = args.priority;
    let due = args.due;
    let deps = args.dependencies;
    if (!t) {
      // A short multi-step input: title, description, priority, due, dependencies.
      t = await input(`${title} (1/5)`, 'Title of the task');
      if (!t) return undefined;
      description = await input(`${title} (2/5)`, 'Description (optional)', { optional: true });
      if (description === undefined) return undefined;
      const p = await vscode.window.showQuickPick(
        PRIORITIES.map((x) => ({ label: x, picked: x === 'medium' })),
        { title: `${title} (3/5)`, placeHolder: 'Priority', ignoreFocusOut: true },
      );
      if (!p) return undefined;
      priority = p.label;
      due = await input(`${title} (4/5)`, 'Due (optional): an ISO date or time, or a delay such as +4h or +2d', { optional: true, validate: timeValidator('due date'), placeHolder: '+1d' });
      if (due === undefined) return undefined;
      await this.c.model.ensureLoaded();
      const q = this.c.model.value('tasks');
      const open = q ? [...q.active_tasks, ...q.pending_tasks] : [];
      if (open.length) {
        const picked = await vscode.window.showQuickPick(
          open.map((x) => ({ label: x.task_id, description: x.title })),
          { title: `${title} (5/5)`, placeHolder: 'Depends on (optional; press Enter for none)', canPickMany: true, ignoreFocusOut: true },
        );
        if (!picked) return undefined;
        deps = picked.map((p) => p.label);
      }
    }
    const by = args.as ?? this.c.services.settings().instanceId;
    const dueIso = due ? parseTimeInput(due, new Date(), 'due date') : null;
    const r = await this.write('Create task', (store) =>
      addTask(store, {
        title: t!,
        description,
        priority: priority ?? 'medium',
        due: dueIso,
        dependencies: deps,
        requiredExpertise: args.expertise,
        suggestedAssignee: args.suggestedAssignee,
        by,
      }),
    );
    if (r) info(`created ${r.task_id} "${r.title}".`);
    return r;
  }

  async assignTask(args: CoordinationArgs) {
    const id = await pickTask(this.c, args, 'Task to assign', (s) => s === 'pending_assignment' || s === 'assigned');
    if (!id) return undefined;
    const to = (args.fromRow ? undefined : args.to) ?? (await pickInstance(this.c, `Assign ${id} to`));
    if (!to) return undefined;
    const r = await this.write(`Assign ${id}`, (store) => assignTask(store, { id, to }));
    if (r) info(`${id} is offered to ${to}.`);
    return r;
  }

  async claimTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to claim (it starts at once)', (s, who) => s === 'pending_assignment' || ((s === 'assigned' || s === 'accepted') && who === me));
    if (!id) return undefined;
    const blocked = await this.offerWhenBlocked(id, me, args);
    if (blocked.handled) return blocked.result;
    const r = await this.write(`Claim ${id}`, (store) => claimTask(store, { id, by: me }));
    if (r) info(`${me} has ${id} in progress.`);
    return r;
  }

  /**
   * Claim or Start on a task whose dependencies are not completed: says which tasks block it and offers what
   * can be done instead, in the CLI's words (src/views/blocked.ts): accept it now, or claim it anyway. A click
   * in the editor asks in a modal dialog; a command run with named arguments (a script, another extension)
   * is not held up: the same offer comes as a notification and the command returns nothing.
   */
  private async offerWhenBlocked(id: string, me: string, args: CoordinationArgs): Promise<{ handled: boolean; result?: unknown }> {
    await this.c.model.ensureLoaded();
    const queue = this.c.model.value('tasks');
    const at = queue ? findTask(queue, id) : undefined;
    if (!queue || !at) return { handled: false };
    const blockers = blockersOf(queue, at.task);
    if (!blockedFor(at.task, blockers, me)) return { handled: false };
    const advice = blockedTaskAdvice(at.task, blockers, me);
    const labels = advice.options.map((o) => o.label);
    const act = async (label: string | undefined): Promise<unknown> => {
      const option = advice.options.find((o) => o.label === label);
      if (option?.action === 'accept') {
        const r = await this.write(`Accept ${id}`, (store) => acceptTask(store, { id, by: me }));
        if (r) info(`${me} accepted ${id}; ${option.effect}.`);
        return r;
      }
      if (option?.action === 'claim-anyway') {
        const r = await this.write(`Claim ${id}`, (store) => claimTask(store, { id, by: me, force: true }));
        if (r) info(`${me} has ${id} in progress.`);
        return r;
      }
      return undefined;
    };
    if (args.scripted) {
      void vscode.window.showWarningMessage(`Syncord: ${advice.summary}`, ...labels).then(act);
      return { handled: true };
    }
    const detail = advice.options.map((o) => `${o.label}: ${o.effect}.`).join('\n');
    const pick = await vscode.window.showWarningMessage(`Syncord: ${advice.summary}`, { modal: true, detail }, ...labels);
    return { handled: true, result: await act(pick) };
  }

  async acceptTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to accept', (s, who) => (s === 'assigned' && who === me) || s === 'pending_assignment');
    if (!id) return undefined;
    const r = await this.write(`Accept ${id}`, (store) => acceptTask(store, { id, by: me }));
    if (r) info(`${me} accepted ${id}; start it when ready.`);
    return r;
  }

  async declineTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to decline', (s, who) => (s === 'assigned' || s === 'accepted') && who === me);
    if (!id) return undefined;
    // Named arguments that name the task say everything; otherwise the optional reason is asked for.
    const interactive = !(args.scripted && args.taskId);
    const reason = args.reason ?? (interactive ? await input(`Decline ${id}`, 'Why (optional)', { optional: true }) : undefined);
    if (reason === undefined && interactive) return undefined;
    const r = await this.write(`Decline ${id}`, (store) => declineTask(store, { id, by: me, reason }));
    if (r) info(`declined ${id}; it is back in the queue.`);
    return r;
  }

  async startTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to start', (s, who) => ((s === 'blocked' || s === 'accepted' || s === 'assigned') && who === me) || s === 'pending_assignment');
    if (!id) return undefined;
    // A blocked task resumes; a pending one moves to active_tasks, in progress.
    const blocked = this.c.model.value('tasks')?.active_tasks.some((t) => t.task_id === id && t.status === 'blocked');
    if (!blocked) {
      const waiting = await this.offerWhenBlocked(id, me, args);
      if (waiting.handled) return waiting.result;
    }
    const r = await this.write(`Start ${id}`, (store) => (blocked ? setTaskBlocked(store, { id, by: me, blocked: false }) : startTask(store, { id, by: me }).then((x) => x.task)));
    if (r) info(`${id} is in progress.`);
    return r;
  }

  async blockTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task that is blocked', (s, who) => s === 'in_progress' && who === me);
    if (!id) return undefined;
    const interactive = !(args.scripted && args.taskId);
    const reason = args.reason ?? (interactive ? await input(`Block ${id}`, 'What blocks it (optional)', { optional: true }) : undefined);
    if (reason === undefined && interactive) return undefined;
    const r = await this.write(`Block ${id}`, (store) => setTaskBlocked(store, { id, by: me, blocked: true, reason }));
    if (r) info(`${id} is blocked.`);
    return r;
  }

  async releaseTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to give back', (s, who) => (s === 'in_progress' || s === 'blocked') && who === me);
    if (!id) return undefined;
    const r = await this.write(`Release ${id}`, (store) => releaseTask(store, { id, by: me }));
    if (r) info(`${id} is back in the queue.`);
    return r;
  }

  async completeTask(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await pickTask(this.c, args, 'Task to complete', (s, who) => (s === 'in_progress' || s === 'blocked') && who === me);
    if (!id) return undefined;
    const r = await this.write(`Complete ${id}`, (store) => completeTask(store, { id, by: me }));
    if (r) {
      info(`${id} is completed.`);
      if (r.sync_workflow) await this.advanceAgentSync(id);
    }
    return r;
  }

  /** A step of a sync by agents completed here: the next step is handed over (or the sync reported), as after the CLI verb. */
  private async advanceAgentSync(id: string): Promise<void> {
    const ctx = this.sessions.context();
    if (!ctx) return;
    try {
      const r = await advanceAgentSync(ctx, this.sessions.hooks(ctx));
      if (r.messages.length) info(`Sync by agents: ${r.messages.map((m) => `${m.subject} → ${m.to}`).join('; ')}.`);
    } catch (e) {
      reportError(this.c.services, `${id} is completed, but the next step of its sync by agents could not be handed over`, e);
    } finally {
      await this.c.model.reload();
    }
  }

  async proposeDecision(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const title = 'Propose Decision';
    let t = args.title;
    let description = args.description;
    let options = args.options;
    let inputFrom = args.inputFrom;
    let deadline = args.deadline;
    if (!t) {
      t = await input(`${title} (1/5)`, 'What needs deciding');
      if (!t) return undefined;
      description = await input(`${title} (2/5)`, 'Description (optional)', { optional: true });
      if (description === undefined) return undefined;
      const opts = await input(`${title} (3/5)`, 'Options, separated by commas (at least two)', {
        validate: (v) => (list(v).length < 2 ? 'Give at least two options, separated by commas' : undefined),
        placeHolder: 'REST API, GraphQL Federation',
      });
      if (!opts) return undefined;
      options = list(opts);
      await this.c.model.ensureLoaded();
      const registry = this.c.model.value('registry');
      const picked = await vscode.window.showQuickPick(
        Object.entries(registry?.instances ?? {})
          .filter(([id]) => id !== me)
          .map(([id, r]) => ({ label: id, description: r.role })),
        { title: `${title} (4/5)`, placeHolder: 'Whose input is needed', canPickMany: true, ignoreFocusOut: true },
      );
      if (!picked) return undefined;
      inputFrom = picked.map((p) => p.label);
      deadline = await input(`${title} (5/5)`, 'Deadline (optional): an ISO date or time, or a delay such as +4h', { optional: true, validate: timeValidator('deadline') });
      if (deadline === undefined) return undefined;
    }
    const deadlineIso = deadline ? parseTimeInput(deadline, new Date(), 'deadline') : null;
    const r = await this.write('Propose decision', (store) =>
      proposeDecision(store, { by: me, title: t!, description, options: options ?? [], inputFrom, deadline: deadlineIso }),
    );
    if (r) info(`proposed ${r.decision_id} "${r.title}".`);
    return r;
  }

  private async pickDecision(args: CoordinationArgs, placeholder: string): Promise<string | undefined> {
    if (args.decisionId) return args.decisionId;
    await this.c.model.ensureLoaded();
    const pending = this.c.model.value('decisions')?.pending_decisions ?? [];
    if (!pending.length) {
      info('no decision is pending.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(pending.map((d) => ({ label: d.decision_id, description: d.title })), { placeHolder: placeholder }))?.label;
  }

  private async pickOption(id: string, given: string | undefined, placeholder: string, optional: boolean): Promise<string | null | undefined> {
    if (given) return given;
    const d = this.c.model.value('decisions')?.pending_decisions.find((x) => x.decision_id === id);
    const none = '$(circle-slash) No preference';
    const items = [...(d?.options ?? []).map((o) => ({ label: o.option, detail: [...(o.pros ?? []).map((p) => `+ ${p}`), ...(o.cons ?? []).map((x) => `− ${x}`)].join('   ') })), ...(optional ? [{ label: none }] : [])];
    const pick = await vscode.window.showQuickPick(items, { placeHolder: placeholder, ignoreFocusOut: true });
    if (!pick) return undefined;
    return pick.label === none ? null : pick.label;
  }

  async giveDecisionInput(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await this.pickDecision(args, 'Decision to give input on');
    if (!id) return undefined;
    const scripted = args.scripted && (args.option !== undefined || args.comment !== undefined);
    const option = scripted ? args.option : await this.pickOption(id, args.fromRow ? args.option : undefined, 'Your preferred option', true);
    if (option === undefined && !scripted) return undefined;
    const comment = scripted ? args.comment : await input(`Input on ${id}`, 'Your comment (optional)', { optional: option !== null });
    if (comment === undefined && !scripted) return undefined;
    const r = await this.write(`Give input on ${id}`, (store) => giveInput(store, { id, by: me, option: option ?? undefined, comment }));
    if (r) info(`your input on ${id} is recorded.`);
    return r;
  }

  async decide(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await this.pickDecision(args, 'Decision to make');
    if (!id) return undefined;
    const option = await this.pickOption(id, args.option, 'The chosen option', false);
    if (!option) return undefined;
    const rationale = args.rationale ?? (await input(`Decide ${id}: ${option}`, 'Rationale'));
    if (!rationale) return undefined;
    const r = await this.write(`Decide ${id}`, (store) => decide(store, { id, by: me, option, rationale }));
    if (r) info(`${id} decided: ${r.decision.decision}${r.missingInput.length ? ` (without input from ${r.missingInput.join(', ')})` : ''}.`);
    return r;
  }

  async sendMessage(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    if (args.body !== undefined) {
      const sent = await this.write('Send message', (store) =>
        sendMessage(store, {
          from: me,
          to: args.to ?? '',
          subject: args.subject ?? '',
          body: args.body ?? '',
          type: args.type,
          priority: args.priority,
          requiresResponse: args.requiresResponse,
          relatedTask: args.relatedTask,
        }),
      );
      // Recipients with a live agent session are told at once.
      if (sent) await nudgeAfterSend(this.sessions, sent.message.message_id);
      return sent;
    }
    // Interactive: the Message Log's composer is the place to write.
    await vscode.commands.executeCommand(`${ViewId.messageLog}.focus`);
    this.c.compose.fire({ to: args.to });
    return undefined;
  }

  private async pickMessage(args: CoordinationArgs, placeholder: string, filter: (m: { to: string; from: string; status: string }, me: string) => boolean, me: string): Promise<string | undefined> {
    if (args.messageId) return args.messageId;
    await this.c.model.ensureLoaded();
    const log = this.c.model.value('messages');
    const items = (log?.messages ?? [])
      .filter((m) => filter(m, me))
      .slice(-200)
      .reverse()
      .map((m) => ({ label: m.message_id, description: `${m.from} → ${m.to}: ${m.subject}`, detail: m.message }));
    if (!items.length) {
      info('no message fits this action right now.');
      return undefined;
    }
    return (await vscode.window.showQuickPick(items, { placeHolder: placeholder, matchOnDescription: true }))?.label;
  }

  async replyMessage(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await this.pickMessage(args, 'Message to reply to', (m, who) => m.to === who && m.status !== 'closed', me);
    if (!id) return undefined;
    const body = args.body ?? (await input(`Reply to ${id}`, 'Your reply'));
    if (!body) return undefined;
    const r = await this.write(`Reply to ${id}`, (store) => replyToMessage(store, { id, from: me, body, requiresResponse: args.requiresResponse }));
    const nudged = r ? await nudgeAfterSend(this.sessions, r.message.message_id) : '';
    if (r && args.body === undefined) info(`replied to ${id} (${r.message.message_id})${nudged ? `; ${nudged}` : ''}.`);
    return r;
  }

  async acknowledgeMessage(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await this.pickMessage(args, 'Message to acknowledge', (m, who) => m.status === 'sent' && (m.to === who || m.to === 'all'), me);
    if (!id) return undefined;
    return this.write(`Acknowledge ${id}`, (store) => acknowledgeMessage(store, { id, by: me }));
  }

  async closeThread(args: CoordinationArgs) {
    const me = await identity(this.c, args);
    if (!me) return undefined;
    const id = await this.pickMessage(args, 'Thread to close', (m, who) => m.from === who && m.status !== 'closed', me);
    if (!id) return undefined;
    return this.write(`Close thread ${id}`, (store) => closeThread(store, { id, by: me }));
  }

  async revealInFile(node: ViewNode | undefined) {
    if (!node?.file) return;
    await revealNode(this.c, node);
  }
}

/** Opens the node's file with the cursor on its record (found with jsonc-parser in the file as it is now). */
export async function revealNode(c: Coordination, node: ViewNode): Promise<vscode.TextEditor | undefined> {
  const st = node.file ? c.model.snapshot?.[node.file] : undefined;
  if (!st) return undefined;
  const uri = vscode.Uri.file(st.file);
  const doc = await vscode.workspace.openTextDocument(uri);
  const text = doc.getText();
  let line = 0;
  let column = 0;
  if (node.jsonPath) {
    const loc = locatePath(st.file, text, node.jsonPath);
    line = (loc.line ?? 1) - 1;
    column = (loc.column ?? 1) - 1;
  } else if (node.location) {
    line = node.location.line - 1;
    column = node.location.column - 1;
  }
  const pos = new vscode.Position(line, column);
  const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  return editor;
}
