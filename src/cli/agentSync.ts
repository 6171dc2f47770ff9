import { Command } from 'commander';
import * as A from '../core/agentsync';
import { SyncordError } from '../core/errors';
import { plural } from '../core/plural';
import * as T from '../core/targets';
import { headlessLauncher } from '../core/sessions';
import { workflowProgressText, workflowStepLines } from '../views/agentSync';
import { CliContext, contextFrom } from './context';
import { io } from './io';
import { ExitCode, exitCodeFor } from './exit';
import { deliveryText, sessionsOf } from './sessions';

/**
 * A sync carried out by agents (seed 002, "Agent Coordination for Synchronization") from the command line:
 * `sync request`, the reaction of `sync verify` to a workflow waiting for it, and the hand-over of the next step
 * after `task complete` (from the CLI and the MCP server). The workflow is the core's (src/core/agentsync).
 */

const hooksOf = (ctx: CliContext) => ({ launch: headlessLauncher(ctx.paths) });

function requestText(o: A.RequestOutcome): string {
  if (!o.requested) return `Skipped ${o.target}: ${o.reason}`;
  const w = o.workflow;
  const L = [`Requested a sync of ${o.target} by agents: ${w.id}${w.requested_by ? ` (for ${w.requested_by})` : ''}.`];
  L.push(`  changes ${w.since ? w.since.slice(0, 12) : '(every file)'}..${w.until ? w.until.slice(0, 12) : 'working tree'}: ${w.categories.map((c) => `[${c.priority}] ${c.category} ${c.files}`).join(', ') || 'none in a category'}`);
  for (const t of o.tasks) {
    const step = t.sync_workflow!;
    const who = t.assigned_to ? `offered to ${t.assigned_to}` : `no instance's role fits the ${step.agent} agent: waiting for whoever takes it`;
    L.push(`  ${t.task_id} ${step.step.padEnd(6)} ${who}${t.dependencies?.length ? `, after ${t.dependencies.join(', ')}` : ''}`);
  }
  L.push(...handOverLines(o.messages, o.deliveries));
  L.push(`  checklist: ${plural(w.checklist.length, 'item')} in ${o.tasks[0].task_id} (syncord task show ${o.tasks[0].task_id})`);
  return L.join('\n');
}

function handOverLines(messages: { message_id: string; to: string; subject: string }[], deliveries: { instance: string; status: string; error?: string | null; session: string | null; via: unknown; attempts: number }[]): string[] {
  const L: string[] = [];
  for (const m of messages) {
    const d = deliveries.filter((x) => x.instance === m.to).pop();
    const how = d ? deliveryText(d as Parameters<typeof deliveryText>[0]) : m.to === 'all' ? 'to every instance' : `no live session of ${m.to}: it finds it in \`syncord inbox\``;
    L.push(`  ${m.message_id} → ${m.to}: "${m.subject}" (${how})`);
  }
  return L;
}

/** `syncord sync request <target>|--all-targets [--since <commit>]` (the command is defined in syncRequest.ts). */
export async function syncRequestAction(name: string | undefined, o: { allTargets?: boolean; since?: string }, cmd: Command): Promise<void> {
  const ctx = contextFrom(cmd);
  if (!!name === !!o.allTargets) throw new SyncordError('give a target name or --all-targets', 'usage');
  const rules = (await T.loadRules(ctx.paths)).rules;
  const roles = A.readWorkspaceAgentRoles(ctx.paths.root);
  let targets: T.ResolvedTarget[];
  const L: string[] = [];
  if (name) targets = [await T.getTarget(ctx.paths, name)];
  else {
    if (!(await T.listTargets(ctx.paths)).length) throw new SyncordError(`no targets registered in ${T.registryFile(ctx.paths)}`, 'not-found');
    const need = await A.targetsNeedingSync(ctx.paths, rules);
    targets = need.targets;
    if (need.synchronized.length) L.push(`Synchronized already (nothing to request): ${need.synchronized.join(', ')}`);
    if (!targets.length) L.push('No target needs a sync.');
  }
  const sctx = sessionsOf(ctx);
  const out = await A.requestAgentSync(sctx, rules, targets, { since: o.since, requestedBy: ctx.instance, roles }, hooksOf(ctx), !name);
  L.push(...out.map(requestText));
  if (!ctx.instance && out.some((x) => x.requested)) L.push('No requester named (--as): the report goes to every instance.');
  ctx.print(L.join('\n'), { workflows: out });
}

/** After `syncord task complete` (see program.ts): the next step of a sync by agents is handed over and said. */
export async function afterTaskComplete(action: Command): Promise<void> {
  if (typeof io().exitCode === 'number' && io().exitCode !== ExitCode.ok) return;
  const ctx = contextFrom(action);
  const r = await afterTaskVerb(ctx, 'task', 'complete');
  if (r.error) {
    ctx.logger.error(r.error);
    io().exitCode = ExitCode.problemsFound;
  } else if (r.text && !ctx.json) io().out(r.text + '\n');
}

/**
 * After a task verb (CLI or MCP): hands over the workflow steps it made ready and reports finished workflows.
 * Returns what to say; the verb itself is done, so a failure here is returned as `error` for the caller to report.
 */
export async function afterTaskVerb(ctx: CliContext, area: string | undefined, verb: string): Promise<{ text: string; error?: string }> {
  if (area !== 'task' || verb !== 'complete') return { text: '' };
  try {
    const r = await A.advanceAgentSync(sessionsOf(ctx), hooksOf(ctx));
    if (!r.messages.length) return { text: '' };
    return { text: ['Sync by agents:', ...handOverLines(r.messages, r.deliveries)].join('\n') };
  } catch (e) {
    return { text: '', error: `the task is completed, but the next step of its sync by agents could not be handed over: ${(e as Error).message}` };
  }
}

/** Records a verification run by the CLI (kept, and the target's sync by agents moved on); returns what to say. */
export async function recordVerifyFromCli(ctx: CliContext, target: T.ResolvedTarget, result: T.VerifyResult): Promise<{ lines: string[]; recorded: A.RecordedVerify }> {
  const recorded = await A.recordVerify(sessionsOf(ctx), target, result, { by: ctx.instance, roles: A.readWorkspaceAgentRoles(ctx.paths.root) }, hooksOf(ctx));
  const w = recorded.workflow;
  const L: string[] = [];
  if (recorded.workflowError) {
    // The verification is kept and printed; that the workflow could not move on is said, with its own exit code.
    L.push(`  Sync by agents: NOT moved on: ${recorded.workflowError.message}`);
    io().exitCode = exitCodeFor(recorded.workflowError.code);
  }
  if (w?.reaction === 'passed') {
    L.push(`  Sync by agents ${w.workflow}: verification passed; ${w.verifyTask} completed${w.next ? `, ${w.next} (docs) can start` : ''}.`);
    L.push(...handOverLines(w.messages, w.deliveries ?? []));
  } else if (w?.reaction === 'failed') {
    L.push(`  Sync by agents ${w.workflow}: verification failed (round ${w.round}); ${w.debugTask} (debug) and ${w.fixTask} (fix) opened; ${w.verifyTask} verifies again after ${w.fixTask}.`);
    L.push(...handOverLines(w.messages, w.deliveries ?? []));
  }
  return { lines: L, recorded };
}

/** The progress of each target's sync by agents, for `sync status`, by target name (none without a task queue). */
export async function workflowsByTarget(ctx: CliContext): Promise<Map<string, A.WorkflowView>> {
  const out = new Map<string, A.WorkflowView>();
  let tasks;
  try {
    tasks = (await sessionsOf(ctx).store.read('tasks')).tasks;
  } catch (e) {
    // The statuses do not depend on the task queue: one that cannot be read only hides the agents' progress.
    if (!(e instanceof SyncordError)) throw e;
    if (e.code !== 'not-found') ctx.logger.warn(`the progress of syncs by agents cannot be shown: ${e.message}`);
    return out;
  }
  for (const w of A.workflowsIn(tasks)) {
    const shown = A.workflowToShow(tasks, w.target);
    if (shown) out.set(w.target, shown);
  }
  return out;
}

/** One line of progress, and with `steps` one line per step. */
export function workflowLines(w: A.WorkflowView, steps: boolean): string[] {
  return [`agents ${w.id}: ${workflowProgressText(w)}`, ...(steps ? workflowStepLines(w).map((l) => `  ${l}`) : [])];
}
