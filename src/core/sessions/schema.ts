import * as z from 'zod';

/**
 * `coordination/sessions.json`: the agent sessions Syncord started, one record each. Written by whoever starts,
 * supervises, feeds or stops a session (the CLI, the extension, the session's own supervisor process); read by
 * everyone. Like the coordination files it is plain JSON, edited under the file's lock, unknown fields kept.
 */

export const SESSION_STATES = ['spawning', 'running', 'idle', 'exited'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** What an agent reports of itself: in a turn, ready for work, or stopped on a question to the user. */
export const AGENT_STATES = ['busy', 'idle', 'waiting'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

/**
 * How the agent runs: in a VS Code terminal (interactive), as a detached process with its output logged, or on
 * another machine or server (`remote`: an `opencode serve` session, or a supervisor reached over ssh).
 */
export const SESSION_MODES = ['terminal', 'headless', 'remote'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

const iso = () => z.string().meta({ description: 'ISO 8601 time (UTC).' });

/**
 * An id read from the file, used in paths and process arguments: letters, digits, '.', '_' and '-', starting with
 * a letter or digit, no '..' — so never a '/', a NUL, a control character or a way out of a folder.
 */
export const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export function isSafeId(s: string): boolean {
  return SAFE_ID.test(s) && !s.includes('..');
}
const safeId = (what: string) =>
  z.string().refine(isSafeId, { message: `${what}: use letters, digits, '.', '_' and '-' only (no '/', '..', spaces or control characters)` });
/**
 * A runtime's own conversation id (opencode's `ses_…`, Claude Code's UUID), read from the file and given to the
 * runtime as an argument: it must never read as an option or carry anything but the id.
 */
export const AGENT_SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** A process id Syncord may signal: a positive integer (0 and negative ids name process groups). */
const pid = () => z.number().int().positive();

export const SessionSchema = z
  .looseObject({
    session_id: safeId('session id').meta({ description: "Syncord's id of the session (a UUID)." }),
    instance: safeId('instance id').meta({ description: 'The instance (instance-registry.json) the session works as.' }),
    runtime: safeId('runtime name').meta({ examples: ['claude', 'opencode'], description: 'The runtime that runs the agent.' }),
    mode: z.enum(SESSION_MODES),
    state: z.string().meta({ examples: [...SESSION_STATES], description: 'spawning, running, idle (headless, waiting for work) or exited.' }),
    host: z.string().meta({ description: 'The machine the processes run on; process ids mean something only there.' }),
    pid: pid().nullable().meta({ description: "The session's supervisor process, while one runs." }),
    pid_start: z.number().nullable().optional().meta({ description: 'Start time of that process, to tell it from a later process with the same id; a process is signalled only when it matches.' }),
    agent_pid: pid().nullable().optional(),
    agent_pid_start: z.number().nullable().optional().meta({ description: 'Start time of the agent process.' }),
    role: z.string().optional().meta({ description: 'The role of the instance when the session started (the {role} placeholder).' }),
    prompt: z.string().optional().meta({ description: 'The first prompt (the {prompt} placeholder of the first run).' }),
    terminal: z.string().nullable().optional().meta({ description: 'The VS Code terminal the session runs in (terminal mode).' }),
    cwd: z.string(),
    worktree: z.string().nullable().optional().meta({ description: 'The git worktree made for the session, if any.' }),
    log: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'Where the agent output goes (headless mode), for reading only: Syncord derives the path from the session id.' }),
    command: z.array(z.string()).meta({ description: 'The command line that started the agent: a record, never run from here.' }),
    send_command: z
      .array(z.string())
      .nullable()
      .optional()
      .meta({
        description:
          "The runtime's non-interactive form for this session ({prompt} stands for the work handed over): a record, never run from here — what runs is rebuilt from the runtime's definition.",
      }),
    started: iso(),
    updated: iso(),
    ended: iso().nullable().optional(),
    exit_code: z.number().int().nullable().optional(),
    end_reason: z.string().nullable().optional(),
    agent_state: z
      .string()
      .nullable()
      .optional()
      .meta({
        examples: [...AGENT_STATES],
        description:
          "What the agent itself last reported (Claude Code's hooks, Syncord's opencode plugin): busy (in a turn), idle (waiting for work) or waiting (for the user's answer, such as a permission). Missing until it first reports.",
      }),
    agent_state_at: iso().nullable().optional().meta({ description: 'When the agent reported that state.' }),
    agent_session: z
      .string()
      .refine((v) => AGENT_SESSION_ID.test(v), { message: "agent session id: letters, digits, '.', '_' and '-' only, not starting with '-' (it becomes a command argument)" })
      .nullable()
      .optional()
      .meta({ description: "The runtime's own id of the conversation (opencode's `ses_…`; Claude Code's is the session id), as the agent reported it: later hand-overs continue that conversation and no other." }),
    typing: z
      .looseObject({
        message: z.string(),
        at: iso(),
        enter_again: z.number().int().nonnegative().optional().meta({ description: 'How many times Enter was pressed again because the agent had not taken the prompt.' }),
      })
      .nullable()
      .optional()
      .meta({ description: "A prompt typed into the session's terminal that its agent has not taken yet (it is delivered when the agent reports itself busy)." }),
    remote: safeId('remote name')
      .nullable()
      .optional()
      .meta({ description: 'The remote (setting syncord.sessions.remotes) the session runs on, to find its kind and credentials again.' }),
    endpoint: z
      .string()
      .refine((v) => !hasCredentials(v), { message: 'endpoint: must not carry a user name, password or token' })
      .nullable()
      .optional()
      .meta({ description: "Where a remote session lives: the opencode server's session URL or the ssh destination; never with credentials in it." }),
    heartbeat_interval: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: 'Seconds between heartbeats (`updated`) of a remote session; older than 3 intervals it shows as unreachable.' }),
    stop_requested: iso().nullable().optional().meta({ description: 'Set by `syncord session stop` on a remote session; whoever supervises it stops the agent.' }),
    supervised_once: z.boolean().optional().meta({ description: 'Set once the first supervisor has started the agent.' }),
    /** Message ids waiting to be handed to the agent, oldest first. */
    queue: z.array(z.string()).optional(),
  })
  .meta({ id: 'Session' });

export const SessionsFileSchema = z
  .looseObject({
    sessions: z.array(SessionSchema),
  })
  .meta({ title: 'Syncord sessions', description: 'coordination/sessions.json: agent sessions started by Syncord' });

export type SessionRecord = z.infer<typeof SessionSchema>;
export type SessionsFile = z.infer<typeof SessionsFileSchema>;

/**
 * pending: recorded, not yet taken by the runtime; delivered: the runtime took the prompt and reported no error
 * or permission denial; acknowledged: the agent itself ran a `syncord` verb about the task or message; failed:
 * the runtime reported an error or a denial, or the session could not take it (`error` says why).
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'acknowledged', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * A hand-over of a message to a session, recorded on the message in communication-log.json (`deliveries`), so
 * that a delivery that did not happen shows and can be sent again.
 */
export interface Delivery {
  session: string;
  instance: string;
  /** `terminal`: typed into the session's terminal; `prompt`: given to the runtime's non-interactive mode. */
  via: 'terminal' | 'prompt';
  status: DeliveryStatus;
  attempts: number;
  updated: string;
  error?: string | null;
}

export function sessionsJsonSchema(): unknown {
  return z.toJSONSchema(SessionsFileSchema, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
}

/** A URL with a user name or password, or a query naming a token, key or password. */
export function hasCredentials(endpoint: string): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false; // an ssh destination such as dev@box names a login, not a secret
  }
  if (!/^https?:$/.test(url.protocol)) return false;
  if (url.username || url.password) return true;
  return [...url.searchParams.keys()].some((k) => /token|key|pass|secret|auth/i.test(k));
}

/** Default seconds between heartbeats of a remote session. */
export const DEFAULT_HEARTBEAT_INTERVAL = 60;

/**
 * How a remote session's heartbeat reads at `now`: fresh; unreachable (older than 3 intervals, state unchanged);
 * timed out (older than `timeoutMs`: the next writer marks it exited with end_reason "heartbeat-timeout"). Local
 * sessions are always "fresh" here: their liveness is their process.
 */
export type Heartbeat = 'fresh' | 'unreachable' | 'timed-out';
export function heartbeatOf(s: SessionRecord, now: number, timeoutMs: number): Heartbeat {
  if (s.mode !== 'remote' || s.state === 'exited') return 'fresh';
  const age = now - Date.parse(s.updated);
  if (!(age >= 0)) return 'fresh';
  if (age > timeoutMs) return 'timed-out';
  return age > 3 * 1000 * (s.heartbeat_interval ?? DEFAULT_HEARTBEAT_INTERVAL) ? 'unreachable' : 'fresh';
}

export function isLive(s: SessionRecord): boolean {
  return s.state !== 'exited';
}
