import * as fs from 'fs';
import * as path from 'path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { decide, giveInput, missingInput, proposeDecision } from '../core/coordination/decisions';
import { checkHealth, DEFAULT_RESPONSE_HOURS, DEFAULT_STALE_HOURS } from '../core/coordination/health';
import { getInbox, inboxCount } from '../core/coordination/inbox';
import { checkOut } from '../core/coordination/instances';
import { acknowledgeMessage, closeThread, replyToMessage, sendMessage } from '../core/coordination/messages';
import { InstanceSchema, MessageSchema, TaskSchema } from '../core/coordination/schemas';
import { MESSAGE_TYPES } from '../core/coordination/vocabulary';
import {
  acceptTask,
  addTask,
  claimTask,
  completeTask,
  declineTask,
  releaseTask,
  setTaskBlocked,
  startTask,
} from '../core/coordination/tasks';
import { parseTimeInput } from '../core/coordination/time';
import { isSyncordError, SyncordError } from '../core/errors';
import * as T from '../core/targets';
import { COORDINATION_FILES, TARGETS_FILE } from '../core/workspace';
import {
  checkInText,
  checkInWithInbox,
  listDecisions,
  listMessages,
  listTasks,
  me,
  showTask,
  showThread,
  storeOf,
  threadText,
} from '../cli/coordination';
import { decisionsTable, healthText, inboxText, messagesTable, taskDetail, tasksTable } from '../cli/coordinationFormat';
import { CliContext } from '../cli/context';
import { afterTaskVerb } from '../cli/agentSync';
import { acknowledgeHandOver, nudgeSessions } from '../cli/sessions';
import { detectText, verifyLines } from '../cli/targets';

const VERSION = process.env.SYNCORD_VERSION ?? '0.0.0-dev';

/**
 * The MCP face of Syncord (`syncord mcp`): the coordination verbs as MCP tools and the coordination files as
 * resources, over stdio. Every tool acts as the instance the server was started for and goes through the same
 * core functions as the CLI verb of the same name (same validation, locks and refusals); a refusal is a tool
 * error whose text carries the error code and, for a broken file, `file:line:col`.
 */

/** Every tool the server offers, in the order it lists them. */
export const MCP_TOOLS = [
  'inbox',
  'checkin',
  'checkout',
  'task_list',
  'task_show',
  'task_add',
  'task_claim',
  'task_accept',
  'task_decline',
  'task_start',
  'task_complete',
  'task_block',
  'task_unblock',
  'task_release',
  'msg_send',
  'msg_reply',
  'msg_ack',
  'msg_close',
  'msg_list',
  'msg_show',
  'decision_propose',
  'decision_input',
  'decision_decide',
  'decision_list',
  'health',
  'targets_status',
  'targets_detect',
  'targets_verify',
] as const;
export type McpToolName = (typeof MCP_TOOLS)[number];

/** The resources: the four coordination files and the target registry, by URI. */
export const RESOURCE_FILES = { ...COORDINATION_FILES, targets: TARGETS_FILE } as const;
export const resourceUri = (file: string) => `syncord://coordination/${file}`;

interface Outcome {
  text: string;
  data: unknown;
}

/** The CLI's option names in a refusal, as the tools take them (`--force` is the tool input `force: true`). */
const asToolInputs = (text: string) => text.replace(/--force\b/g, '`force: true`');

/** How a refusal reads: the CLI's own words (`error (conflict): …`, `file:line:col: …` first for a broken file). */
export function toolError(e: unknown): CallToolResult {
  if (isSyncordError(e)) {
    return {
      isError: true,
      content: [{ type: 'text', text: `syncord: error (${e.code}): ${asToolInputs(e.message)}` }],
      structuredContent: { error: { code: e.code, message: asToolInputs(e.detail), location: e.location ?? null } },
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    isError: true,
    content: [{ type: 'text', text: `syncord: internal error: ${message}` }],
    structuredContent: { error: { code: 'internal', message } },
  };
}

function toolResult(o: Outcome): CallToolResult {
  const data = o.data !== null && typeof o.data === 'object' && !Array.isArray(o.data) ? (o.data as Record<string, unknown>) : { result: o.data };
  return { content: [{ type: 'text', text: o.text }], structuredContent: data };
}

/** A time given as ISO 8601 or a delay like +4h (as the CLI's options take it). */
const time = (value: string | undefined, what: string) => (value === undefined ? undefined : parseTimeInput(value, new Date(), what));

// Field rules come from the file schemas of the core; the verbs themselves check the rest (priorities, ids, states).
const id = (what: string) => z.string().min(1).describe(`the ${what} id`);
const taskId = id('task (e.g. task_004)');
const messageId = id('message (e.g. msg_012)');
const decisionId = id('decision (e.g. dec_002)');
const priority = TaskSchema.shape.priority.optional();
const strings = (what: string) => z.array(z.string()).optional().describe(what);
const when = (what: string) => z.string().optional().describe(`${what}: an ISO date/time or a delay like +4h, +2d`);
const force = (what: string) => z.boolean().optional().describe(what);

/**
 * The SDK checks a client's answers to a server's questions (elicitation) against a JSON Schema, with ajv by
 * default. Syncord's server never asks the client anything, so it needs no validator: this one refuses, and the
 * bundle leaves ajv out (esbuild.js).
 */
const NO_ELICITATION: jsonSchemaValidator = {
  getValidator: () => () => ({ valid: false, data: undefined, errorMessage: "Syncord's MCP server asks the client for no input" }),
};

export interface McpOptions {
  /** Debounce of file-change notifications (ms). */
  debounceMs?: number;
}

/** Builds the server for one workspace and acting instance (not yet connected). */
export function createMcpServer(ctx: CliContext, options: McpOptions = {}): { server: McpServer; close: () => void } {
  const server = new McpServer(
    { name: 'syncord', version: VERSION },
    {
      capabilities: { resources: { subscribe: true } },
      jsonSchemaValidator: NO_ELICITATION,
      instructions:
        `Syncord coordinates several coding agents through the files in ${ctx.paths.coordinationDir}. ` +
        (ctx.instance ? `These tools act as the instance ${ctx.instance}. ` : 'No instance was given (--as): the tools that act as one refuse. ') +
        'Start with `inbox` and `checkin`; `task_start` then `task_complete` for each task assigned to you; `msg_send`/`msg_reply` to consult others.',
    },
  );

  const tool = <S extends z.ZodRawShape>(
    name: McpToolName,
    description: string,
    shape: S,
    run: (args: z.infer<z.ZodObject<S>>) => Promise<Outcome>,
    readOnly = false,
  ) => {
    server.registerTool(
      name,
      { description, inputSchema: shape, annotations: { readOnlyHint: readOnly, openWorldHint: false } },
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      (async (args: any) => {
        try {
          return toolResult(await run(args as z.infer<z.ZodObject<S>>));
        } catch (e) {
          return toolError(e);
        }
      }) as never,
    );
  };

  /** After a task or message verb: the hand-overs it acted on are acknowledged, as after the CLI verb. */
  const acknowledged = async <R>(area: 'task' | 'msg', verb: string, target: string, r: R): Promise<R> => {
    await acknowledgeHandOver(ctx, area, verb, target);
    // A step of a sync by agents completed: the next one is handed over (as after the CLI verb).
    const next = await afterTaskVerb(ctx, area, verb);
    const extra = next.error ?? next.text;
    if (extra && r && typeof r === 'object' && typeof (r as { text?: unknown }).text === 'string') {
      return { ...r, text: `${(r as unknown as { text: string }).text}\n${extra}` };
    }
    return r;
  };
  const store = () => storeOf(ctx);

  // ------------------------------------------------------------------------------------------ instance
  tool('inbox', 'What waits for this instance: messages to answer, unread messages, answers to its requests, tasks, decisions.', {}, async () => {
    const inbox = await getInbox(store(), me(ctx));
    return { text: inboxText(inbox), data: { ...inbox, count: inboxCount(inbox) } };
  }, true);

  tool(
    'checkin',
    'Start work as this instance: mark it active (registering it when new: give role) and return what waits for it.',
    {
      role: InstanceSchema.shape.role.optional(),
      task: z.string().optional().describe('what you are working on now'),
      expertise: strings('expertise areas to add'),
      available: z.boolean().optional().describe('available for consultation (default true)'),
      status: InstanceSchema.shape.status.optional(),
    },
    async (a) => {
      const r = await checkInWithInbox(ctx, { role: a.role, task: a.task, expertise: a.expertise, available: a.available ?? true, status: a.status });
      return { text: checkInText(r), data: r };
    },
  );

  tool('checkout', 'Stop work as this instance: not available, session ended.', { status: z.enum(['offline', 'idle']).optional() }, async (a) => {
    const r = await checkOut(store(), { instance: me(ctx), status: a.status ?? 'offline' });
    return { text: `${r.id} checked out (${r.instance.status}).`, data: r };
  });

  // ------------------------------------------------------------------------------------------ tasks
  tool(
    'task_list',
    'List tasks (all lists unless one is chosen).',
    {
      list: z.enum(['active', 'pending', 'completed']).optional(),
      status: TaskSchema.shape.status.optional(),
      assignee: z.string().optional().describe('only tasks assigned to this instance'),
      mine: z.boolean().optional().describe('only tasks assigned to this instance (the acting one)'),
      ready: z.boolean().optional().describe('only pending tasks whose dependencies are completed'),
    },
    async (a) => {
      const tasks = await listTasks(ctx, a);
      return { text: tasksTable(tasks), data: { tasks } };
    },
    true,
  );

  tool('task_show', 'Show one task.', { id: taskId }, async (a) => {
    const r = await showTask(ctx, a.id);
    return acknowledged('task', 'show', a.id, { text: taskDetail(r, r.unmet_dependencies), data: r });
  }, true);

  tool(
    'task_add',
    'Add a task to pending_tasks (suggested for the instance whose expertise matches best unless suggest is given).',
    {
      title: TaskSchema.shape.title.min(1),
      description: z.string().optional(),
      priority,
      due: when('deadline'),
      depends_on: strings('task ids this one depends on'),
      expertise: strings('required expertise'),
      suggest: z.string().optional().describe('suggested assignee'),
      deliverables: strings('expected deliverables'),
    },
    async (a) => {
      const t = await addTask(store(), {
        title: a.title,
        description: a.description,
        priority: a.priority ?? 'medium',
        due: time(a.due, 'due time'),
        dependencies: a.depends_on,
        requiredExpertise: a.expertise,
        suggestedAssignee: a.suggest,
        deliverables: a.deliverables,
        by: ctx.instance,
      });
      return { text: `Added ${t.task_id}: ${t.title}${t.suggested_assignee ? ` (suggested for ${t.suggested_assignee})` : ''}`, data: t };
    },
  );

  tool(
    'task_claim',
    'Take a task as this instance: it moves to active_tasks, in progress.',
    { id: taskId, force: force('claim even with dependencies open or when assigned to another instance') },
    async (a) => {
      const by = me(ctx);
      const r = await claimTask(store(), { id: a.id, by, force: a.force });
      return acknowledged('task', 'claim', a.id, { text: r.alreadyClaimed ? `${by} already has ${a.id} in progress.` : `${by} claimed ${a.id}: ${r.task.title}`, data: r });
    },
  );

  tool('task_accept', 'Accept a task assigned to this instance (start it later with task_start).', { id: taskId }, async (a) => {
    const by = me(ctx);
    const t = await acceptTask(store(), { id: a.id, by });
    return acknowledged('task', 'accept', a.id, { text: `${by} accepted ${t.task_id}: ${t.title}`, data: t });
  });

  tool('task_decline', 'Turn down a task assigned to this instance; it returns to the queue.', { id: taskId, reason: z.string().optional() }, async (a) => {
    const t = await declineTask(store(), { id: a.id, by: me(ctx), reason: a.reason });
    return acknowledged('task', 'decline', a.id, { text: `Declined ${t.task_id}; it is unassigned again.`, data: t });
  });

  tool('task_start', 'Start a task assigned to this instance: it moves to active_tasks, in progress (its dependencies must be completed).', { id: taskId }, async (a) => {
    const by = me(ctx);
    const r = await startTask(store(), { id: a.id, by });
    return acknowledged('task', 'start', a.id, { text: r.alreadyClaimed ? `${by} already has ${a.id} in progress.` : `${by} started ${a.id}: ${r.task.title}`, data: r });
  });

  tool(
    'task_complete',
    'Finish a task held by this instance: it moves to completed_tasks.',
    {
      id: taskId,
      deliverables: strings('delivered files or folders'),
      note: z.string().optional().describe('a closing note'),
      force: force('complete a task not held by this instance'),
    },
    async (a) => {
      const t = await completeTask(store(), { id: a.id, by: me(ctx), deliverables: a.deliverables, note: a.note, force: a.force });
      return acknowledged('task', 'complete', a.id, { text: `${t.task_id} is ${t.status}.`, data: t });
    },
  );

  for (const blocked of [true, false]) {
    tool(
      blocked ? 'task_block' : 'task_unblock',
      blocked ? 'Mark an in-progress task blocked.' : 'Mark a blocked task in progress again.',
      { id: taskId, reason: z.string().optional().describe('what blocks it') },
      async (a) => {
        const t = await setTaskBlocked(store(), { id: a.id, by: me(ctx), blocked, reason: a.reason });
        return acknowledged('task', blocked ? 'block' : 'unblock', a.id, { text: `${t.task_id} is ${t.status}.`, data: t });
      },
    );
  }

  tool('task_release', 'Give an in-progress task back to the queue.', { id: taskId, force: force('release a task held by another instance') }, async (a) => {
    const t = await releaseTask(store(), { id: a.id, by: me(ctx), force: a.force });
    return acknowledged('task', 'release', a.id, { text: `Released ${t.task_id}; it is pending again.`, data: t });
  });

  // ------------------------------------------------------------------------------------------ messages
  tool(
    'msg_send',
    'Send a message from this instance to another instance, or to "all".',
    {
      to: MessageSchema.shape.to,
      subject: MessageSchema.shape.subject.min(1),
      message: MessageSchema.shape.message.min(1).describe('the body'),
      type: MessageSchema.shape.type.optional().describe(`default consultation_request; one of ${MESSAGE_TYPES.join(', ')}`),
      priority,
      requires_response: z.boolean().optional().describe('the recipient must answer (default for consultation requests and questions)'),
      task: z.string().optional().describe('related task'),
      files: strings('related files'),
      expect_by: when('when the answer is expected (default: in 4 hours)'),
    },
    async (a) => {
      const r = await sendMessage(store(), {
        from: me(ctx),
        to: a.to,
        subject: a.subject,
        body: a.message,
        type: a.type ?? 'consultation_request',
        priority: a.priority ?? 'medium',
        requiresResponse: a.requires_response,
        relatedTask: a.task,
        relatedFiles: a.files,
        expectBy: time(a.expect_by, 'response time'),
      });
      const nudged = await nudgeSessions(ctx, r.message.message_id);
      return { text: `Sent ${r.message.message_id} to ${a.to}${r.awaiting ? `; response expected by ${r.awaiting.expected_response_time}` : ''}.${nudged}`, data: r };
    },
  );

  tool(
    'msg_reply',
    'Answer a message sent to this instance.',
    {
      id: messageId,
      message: MessageSchema.shape.message.min(1).describe('the answer'),
      subject: z.string().optional().describe('default: Re: ...'),
      requires_response: z.boolean().optional().describe('ask for an answer back'),
    },
    async (a) => {
      const r = await replyToMessage(store(), { id: a.id, from: me(ctx), body: a.message, subject: a.subject, requiresResponse: a.requires_response || undefined });
      const nudged = await nudgeSessions(ctx, r.message.message_id);
      return acknowledged('msg', 'reply', a.id, { text: `Sent ${r.message.message_id} in reply to ${a.id}.${nudged}`, data: r });
    },
  );

  tool('msg_ack', 'Mark a message that needs no answer as read.', { id: messageId }, async (a) => {
    const r = await acknowledgeMessage(store(), { id: a.id, by: me(ctx) });
    return acknowledged('msg', 'ack', a.id, { text: r.changed ? `Acknowledged ${a.id}.` : `${a.id} was already acknowledged.`, data: r });
  });

  tool('msg_close', 'Acknowledge the answers to your request and close its thread.', { id: messageId, force: force('close a thread another instance started') }, async (a) => {
    const r = await closeThread(store(), { id: a.id, by: me(ctx), force: a.force });
    return acknowledged('msg', 'close', a.id, { text: r.closed.length ? `Closed the thread ${r.closed.join(', ')}.` : `The thread of ${a.id} was already closed.`, data: r });
  });

  tool(
    'msg_list',
    'List messages.',
    {
      to: z.string().optional(),
      from: z.string().optional(),
      status: MessageSchema.shape.status.optional(),
      task: z.string().optional().describe('related to this task'),
      mine: z.boolean().optional().describe('from or to this instance'),
      to_me: z.boolean().optional().describe('addressed to this instance (or to all)'),
      pending: z.boolean().optional().describe('only messages waiting for a response'),
    },
    async (a) => {
      const messages = await listMessages(ctx, { ...a, toMe: a.to_me });
      return { text: messagesTable(messages), data: { messages } };
    },
    true,
  );

  tool('msg_show', 'Show a message with its whole thread.', { id: messageId }, async (a) => {
    const r = await showThread(ctx, a.id);
    return acknowledged('msg', 'show', a.id, { text: threadText(r), data: r });
  }, true);

  // ------------------------------------------------------------------------------------------ decisions
  tool(
    'decision_propose',
    'Propose a decision with options and ask instances for input.',
    {
      title: z.string().min(1),
      options: z.array(z.string()).min(2).describe('the options (at least two)'),
      description: z.string().optional(),
      input_from: strings('instances whose input is needed'),
      deadline: when('deadline'),
      tasks: strings('related tasks'),
    },
    async (a) => {
      const d = await proposeDecision(store(), {
        by: me(ctx),
        title: a.title,
        description: a.description,
        options: a.options,
        inputFrom: a.input_from,
        deadline: time(a.deadline, 'deadline'),
        relatedTasks: a.tasks,
      });
      return { text: `Proposed ${d.decision_id}: ${d.title}${d.input_needed_from?.length ? ` (input needed from ${d.input_needed_from.join(', ')})` : ''}.`, data: d };
    },
  );

  tool(
    'decision_input',
    "Give this instance's input on a pending decision: a preferred option, a comment, or both.",
    { id: decisionId, option: z.string().optional().describe('the option you prefer'), text: z.string().optional().describe('your input') },
    async (a) => {
      const d = await giveInput(store(), { id: a.id, by: me(ctx), option: a.option, comment: a.text });
      const missing = missingInput(d);
      return { text: `Recorded input on ${a.id}.${missing.length ? ` Still waiting for ${missing.join(', ')}.` : ' All requested input is in.'}`, data: d };
    },
  );

  tool(
    'decision_decide',
    'Make the call on a pending decision and log it with its rationale.',
    {
      id: decisionId,
      option: z.string().optional().describe('the chosen option'),
      decision: z.string().optional().describe('the decision in words (default: the chosen option)'),
      rationale: z.string().min(1).describe('why'),
      affects: strings('affected instances, or ["all"] (default: proposer, those asked for input, and you)'),
      tasks: strings('related tasks'),
    },
    async (a) => {
      const r = await decide(store(), { id: a.id, by: me(ctx), option: a.option, decision: a.decision, rationale: a.rationale, affects: a.affects, relatedTasks: a.tasks });
      const note = r.missingInput.length ? ` (decided without input from ${r.missingInput.join(', ')})` : '';
      return { text: `Decided ${r.decision.decision_id}: ${r.decision.decision}${note}`, data: r };
    },
  );

  tool(
    'decision_list',
    'List decisions, pending first.',
    { pending: z.boolean().optional().describe('only pending decisions'), decided: z.boolean().optional().describe('only decisions made'), all: z.boolean().optional().describe('include superseded and revoked decisions') },
    async (a) => {
      const r = await listDecisions(ctx, a);
      return { text: decisionsTable(r.decisions, r.pending_decisions), data: r };
    },
    true,
  );

  // ------------------------------------------------------------------------------------------ health, targets
  tool(
    'health',
    'Check the coordination files (stale instances, overdue answers, broken references, cycles).',
    {
      stale_hours: z.number().positive().optional().describe(`active instances should check in within this many hours (default ${DEFAULT_STALE_HOURS})`),
      response_hours: z.number().positive().optional().describe(`messages should be answered within this many hours (default ${DEFAULT_RESPONSE_HOURS})`),
    },
    async (a) => {
      const report = await checkHealth(store(), { staleHours: a.stale_hours ?? DEFAULT_STALE_HOURS, responseHours: a.response_hours ?? DEFAULT_RESPONSE_HOURS });
      return { text: healthText(report, ctx.paths.root), data: report };
    },
    true,
  );

  tool('targets_status', 'The sync status of each registered target project (read-only).', {}, async () => {
    const list = await T.listTargets(ctx.paths);
    const statuses = list.length ? await T.targetStatuses(ctx.paths, (await T.loadRules(ctx.paths)).rules) : [];
    const text = statuses.length
      ? statuses.map((s) => `${s.name}: ${s.status} (${s.reason})`).join('\n')
      : `No targets registered (${T.registryFile(ctx.paths)}).`;
    return { text, data: { targets: statuses } };
  }, true);

  tool(
    'targets_detect',
    "Changed files of the main project by category and priority: since a commit, or since each target's last sync (read-only).",
    { since: z.string().optional().describe('compare with this commit'), target: z.string().optional().describe("only this target's last sync") },
    async (a) => {
      const rules = (await T.loadRules(ctx.paths)).rules;
      if (a.since) {
        const d = await T.detectChanges(ctx.paths, rules, a.since);
        return { text: detectText(d, 'Changes'), data: d };
      }
      const targets = a.target ? [await T.getTarget(ctx.paths, a.target)] : await T.listTargets(ctx.paths);
      if (!targets.length) throw new SyncordError('no targets registered; give since: <commit>', 'usage');
      const per = await T.detectForTargets(ctx.paths, rules, targets);
      return { text: per.map((d) => detectText(d, d.target)).join('\n\n'), data: { targets: per } };
    },
    true,
  );

  tool(
    'targets_verify',
    "Check a target's files and hashes, counts, Markdown links and config files against the main project (read-only: " +
      'it runs none of the verify commands of the rules and records nothing; `syncord sync verify` gives the verdict that counts).',
    {
      target: z.string().min(1).describe('the target'),
      components: strings('only these components'),
      tests: strings('only these check groups: docs, integration (files, links, config)'),
    },
    async (a) => {
      const rules = (await T.loadRules(ctx.paths)).rules;
      T.checkKindsOf(a.tests);
      const target = await T.getTarget(ctx.paths, a.target);
      const r = await T.verifyTarget(ctx.paths, rules, target, { components: a.components, runCommands: false, tests: a.tests });
      return { text: verifyLines(ctx, a.target, r, a.tests).join('\n'), data: r };
    },
    true,
  );

  // ------------------------------------------------------------------------------------------ resources
  for (const [key, file] of Object.entries(RESOURCE_FILES)) {
    const uri = resourceUri(file);
    server.registerResource(
      key,
      uri,
      { title: file, description: `${path.join(ctx.paths.coordinationDir, file)} (read-only)`, mimeType: 'application/json' },
      async () => ({ contents: [{ uri, mimeType: 'application/json', text: readResourceFile(path.join(ctx.paths.coordinationDir, file)) }] }),
    );
  }

  const subscribed = new Set<string>();
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscribed.add(req.params.uri);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  const stop = watchFiles(ctx, options.debounceMs ?? 150, (file) => {
    const uri = resourceUri(file);
    if (subscribed.has(uri)) void server.server.sendResourceUpdated({ uri }).catch(() => undefined);
  });
  return { server, close: stop };
}

/** A resource's text: the file as it is on disk (a symlink is not followed). */
function readResourceFile(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SyncordError(`${file} does not exist; initialize coordination first (\`syncord init\`)`, 'not-found', { file });
    if (code === 'ELOOP') throw new SyncordError(`${file} is a symlink; refusing to follow it`, 'conflict', { file });
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
  try {
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Watches the coordination folder and calls `changed` with the name of each resource file that changed, once per
 * burst of events (atomic writes rename a temporary file over it). Returns the function that stops watching.
 */
function watchFiles(ctx: CliContext, debounceMs: number, changed: (file: string) => void): () => void {
  const names = new Set<string>(Object.values(RESOURCE_FILES));
  const timers = new Map<string, NodeJS.Timeout>();
  const fire = (file: string) => {
    clearTimeout(timers.get(file));
    timers.set(
      file,
      setTimeout(() => {
        timers.delete(file);
        changed(file);
      }, debounceMs),
    );
  };
  let watcher: fs.FSWatcher;
  try {
    watcher = fs.watch(ctx.paths.coordinationDir, { persistent: false }, (_event, name) => {
      const file = name?.toString();
      if (!file) for (const n of names) fire(n);
      else if (names.has(file)) fire(file);
    });
  } catch (e) {
    ctx.logger.warn(`the coordination folder cannot be watched; resources will not report changes: ${(e as Error).message}`);
    return () => undefined;
  }
  watcher.on('error', (e) => ctx.logger.warn(`watching ${ctx.paths.coordinationDir} stopped: ${e.message}`));
  return () => {
    watcher.close();
    for (const t of timers.values()) clearTimeout(t);
  };
}

/** Runs the server on standard input and output until the client goes away. */
export async function serveMcp(ctx: CliContext): Promise<void> {
  const { server, close } = createMcpServer(ctx);
  const transport = new StdioServerTransport();
  const done = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await done;
  close();
  await server.close().catch(() => undefined);
}
