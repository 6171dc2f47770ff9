import * as fs from 'fs';
import * as path from 'path';
import { formatLocation, SyncordError } from '../errors';
import { Message } from '../coordination/schemas';
import { SyncAgent } from '../coordination/vocabulary';
import { DeliveryHooks, DeliveryRecord, isLive, nudgeRecipients, reconcileSessions, SessionContext } from '../sessions';
import { buildChecklist, DetectResult, getTarget, keepVerify, KeptVerify, lastSyncedCommit, ResolvedTarget, sharedDetection, SyncRules, targetStatuses, VerifyResult } from '../targets';
import { readHeadId } from '../targets/git';
import { WorkspacePaths } from '../workspace';
import { AgentRoles, instancesFor } from './roles';
import { ADVANCE, needsAdvance, REQUEST, RequestResult, VERIFIED, VerifyFailure, VerifyReaction } from './workflow';

export * from './roles';
export * from './workflow';

/**
 * A sync carried out by agents (seed 002, "Agent Coordination for Synchronization"), as the faces use it: request
 * one, react to a recorded verification, move workflows on after a task verb, and hand the new steps to the live
 * sessions of their instances. The workflow itself is in the task queue and the log (./workflow.ts).
 */

/** The instances with a live session now. */
export async function liveInstances(ctx: SessionContext): Promise<Set<string>> {
  try {
    await reconcileSessions(ctx);
    return new Set((await ctx.sessions.list()).filter(isLive).map((s) => s.instance));
  } catch (e) {
    // No sessions file, or one that does not read: no live sessions count for choosing instances.
    if (e instanceof SyncordError && (e.code === 'not-found' || e.code === 'invalid-file')) return new Set();
    throw e;
  }
}

/** The items of a checklist (its `- [ ]` lines), as plain text. */
export function checklistItems(markdown: string): string[] {
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^- \[ \] (.*)$/.exec(line);
    if (m) out.push(m[1].replace(/\*\*/g, '').replace(/:$/, '').trim());
  }
  return out;
}

export interface RequestOptions {
  /** Count the changes since this commit (default: each target's last sync). */
  since?: string;
  /** Who asks (an instance), or nobody named: the report then goes to every instance. */
  requestedBy?: string;
  roles: AgentRoles;
}

export type RequestOutcome =
  | ({ target: string; requested: true; deliveries: DeliveryRecord[] } & RequestResult)
  | { target: string; requested: false; reason: string };

/**
 * Requests syncs by the agents: per target, a workflow whose steps carry the target, the commit range, the
 * categories and priorities detected and the checklist, each step offered to the instance whose role fits; the
 * first step is handed to its instance's live session. A target whose workflow is still open is refused for a
 * named target (`skipOpen` false) and skipped otherwise.
 */
export async function requestAgentSync(
  ctx: SessionContext,
  rules: SyncRules,
  targets: ResolvedTarget[],
  opts: RequestOptions,
  hooks: DeliveryHooks = {},
  skipOpen = false,
): Promise<RequestOutcome[]> {
  const paths = ctx.paths;
  const until = (await readHeadId(paths.root)) ?? null;
  const detect = sharedDetection(paths, rules);
  const since = opts.since ? await detect(opts.since) : undefined;
  const { registry } = await ctx.store.read('registry');
  const assignees = instancesFor(registry, opts.roles, await liveInstances(ctx));
  const out: RequestOutcome[] = [];
  for (const target of targets) {
    const detected: DetectResult = since ?? (await detect((await lastSyncedCommit(paths, target)) ?? undefined));
    const checklist = checklistItems(await buildChecklist(paths, rules, target, since ? { since } : {}));
    const categories = detected.categories.map((x) => ({ category: x.category, priority: x.priority, files: x.files.length }));
    let r: RequestResult;
    try {
      r = await ctx.store.update(REQUEST, {
        target: target.name,
        requestedBy: opts.requestedBy ?? null,
        since: detected.since,
        until,
        categories,
        checklist,
        assignees,
      });
    } catch (e) {
      if (skipOpen && e instanceof SyncordError && e.code === 'conflict') {
        out.push({ target: target.name, requested: false, reason: e.detail });
        continue;
      }
      throw e;
    }
    out.push({ target: target.name, requested: true, ...r, deliveries: await deliverHandOvers(ctx, r.messages, hooks) });
  }
  return out;
}

/** The targets `--all-targets` asks for: those not synchronized now (a sync would change something). */
export async function targetsNeedingSync(paths: WorkspacePaths, rules: SyncRules): Promise<{ targets: ResolvedTarget[]; synchronized: string[] }> {
  const statuses = await targetStatuses(paths, rules);
  const targets: ResolvedTarget[] = [];
  const synchronized: string[] = [];
  for (const s of statuses) {
    if (s.status === 'synchronized') synchronized.push(s.name);
    else targets.push(await getTarget(paths, s.name));
  }
  return { targets, synchronized };
}

/**
 * Hands each new workflow message to the live session of its recipient: a step's hand-over with its own words
 * (recorded on the message as any hand-over), a report as a nudge. Recipients without a live session find the
 * message in `syncord inbox`.
 */
export async function deliverHandOvers(ctx: SessionContext, messages: Message[], hooks: DeliveryHooks = {}): Promise<DeliveryRecord[]> {
  const out: DeliveryRecord[] = [];
  for (const m of messages) {
    out.push(...(await nudgeRecipients(ctx, m.message_id, hooks, m.type === 'handoff' ? { prompt: m.message } : {})));
  }
  return out;
}

/**
 * After a task verb: hands over the workflow steps that became ready and reports finished workflows (nothing is
 * written when there is nothing to do).
 */
export async function advanceAgentSync(ctx: SessionContext, hooks: DeliveryHooks = {}): Promise<{ messages: Message[]; deliveries: DeliveryRecord[] }> {
  if (!fs.existsSync(ctx.store.file('tasks')) || !fs.existsSync(ctx.store.file('messages'))) return { messages: [], deliveries: [] };
  const { tasks } = await ctx.store.read('tasks');
  if (!needsAdvance(tasks)) return { messages: [], deliveries: [] };
  const messages = await ctx.store.update(ADVANCE, {});
  return { messages, deliveries: await deliverHandOvers(ctx, messages, hooks) };
}

/** The failing checks of a verification, with `file:line:col` (relative to the target) where known. */
export function failuresOf(result: VerifyResult, targetRoot: string): VerifyFailure[] {
  return result.checks
    .filter((c) => c.status === 'fail')
    .map((c) => ({
      check: c.name,
      detail: c.detail,
      problems: c.problems.slice(0, 20).map((p) => {
        const rel = path.relative(targetRoot, p.file);
        const file = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p.file;
        return `${formatLocation({ file, line: p.line, column: p.column })}: ${p.message}`;
      }),
    }));
}

export interface RecordedVerify {
  kept: KeptVerify;
  /** What the target's sync by agents made of it; undefined without coordination files. */
  workflow?: VerifyReaction & { deliveries?: DeliveryRecord[] };
  /** Why the workflow could not react (a coordination file that does not read, a lock held too long): the verification itself is kept. */
  workflowError?: SyncordError;
}

/**
 * The one place a verification is recorded, whoever ran it: it is kept (`.syncord/verify/<target>/last.json`),
 * then, when the target's sync by agents waits for it, the workflow moves on — a pass completes the verify step,
 * a failure opens the debugging step with the failing checks — and the new steps are handed over.
 */
export async function recordVerify(
  ctx: SessionContext,
  target: ResolvedTarget,
  result: VerifyResult,
  opts: { by?: string; roles: AgentRoles; at?: Date },
  hooks: DeliveryHooks = {},
): Promise<RecordedVerify> {
  const kept = await keepVerify(ctx.paths, target, result, opts.at);
  if (!fs.existsSync(ctx.store.file('tasks')) || !fs.existsSync(ctx.store.file('messages'))) return { kept };
  try {
    return await react(ctx, target, result, kept, opts, hooks);
  } catch (e) {
    if (e instanceof SyncordError) return { kept, workflowError: e };
    throw e;
  }
}

async function react(
  ctx: SessionContext,
  target: ResolvedTarget,
  result: VerifyResult,
  kept: KeptVerify,
  opts: { by?: string; roles: AgentRoles },
  hooks: DeliveryHooks,
): Promise<RecordedVerify> {
  const { tasks, registry } = await ctx.store.read('tasks', 'registry');
  if (!tasks.pending_tasks.some((t) => t.sync_workflow?.target === target.name && t.sync_workflow.step === 'verify') &&
      !tasks.active_tasks.some((t) => t.sync_workflow?.target === target.name && t.sync_workflow.step === 'verify')) {
    return { kept, workflow: { reaction: 'none', reason: `no sync by agents waits for a verification of ${target.name}` } };
  }
  const assignees = instancesFor(registry, opts.roles, await liveInstances(ctx)) as Record<SyncAgent, string | null>;
  const reaction = await ctx.store.update(VERIFIED, {
    target: target.name,
    passed: result.passed,
    at: kept.at,
    by: opts.by && registry.instances[opts.by] ? opts.by : null,
    failures: failuresOf(result, target.absPath),
    assignees: { debugging: assignees.debugging, coding: assignees.coding },
  });
  if (reaction.reaction === 'none') return { kept, workflow: reaction };
  return { kept, workflow: { ...reaction, deliveries: await deliverHandOvers(ctx, reaction.messages, hooks) } };
}
