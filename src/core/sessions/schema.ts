import { z } from 'zod';

/**
 * `coordination/sessions.json`: the agent sessions Syncord started, one record each. Written by whoever starts,
 * supervises, feeds or stops a session (the CLI, the extension, the session's own supervisor process); read by
 * everyone. Like the coordination files it is plain JSON, edited under the file's lock, unknown fields kept.
 */

export const SESSION_STATES = ['spawning', 'running', 'idle', 'exited'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** How the agent runs: in a VS Code terminal (interactive), or as a detached process with its output logged. */
export const SESSION_MODES = ['terminal', 'headless'] as const;
export type SessionMode = (typeof SESSION_MODES)[number];

const iso = () => z.string().meta({ description: 'ISO 8601 time (UTC).' });

export const SessionSchema = z
  .looseObject({
    session_id: z.string().min(1),
    instance: z.string().min(1).meta({ description: 'The instance (instance-registry.json) the session works as.' }),
    runtime: z.string().min(1).meta({ examples: ['claude', 'opencode'], description: 'The runtime that runs the agent.' }),
    mode: z.enum(SESSION_MODES),
    state: z.string().meta({ examples: [...SESSION_STATES], description: 'spawning, running, idle (headless, waiting for work) or exited.' }),
    host: z.string().meta({ description: 'The machine the processes run on; process ids mean something only there.' }),
    pid: z.number().int().nullable().meta({ description: "The session's supervisor process, while one runs." }),
    pid_start: z.number().nullable().optional().meta({ description: 'Start time of that process, to tell it from a later process with the same id.' }),
    agent_pid: z.number().int().nullable().optional(),
    terminal: z.string().nullable().optional().meta({ description: 'The VS Code terminal the session runs in (terminal mode).' }),
    cwd: z.string(),
    worktree: z.string().nullable().optional().meta({ description: 'The git worktree made for the session, if any.' }),
    log: z.string().nullable().optional().meta({ description: 'The file the agent output goes to (headless mode).' }),
    command: z.array(z.string()).meta({ description: 'The command line that started the agent.' }),
    send_command: z
      .array(z.string())
      .nullable()
      .optional()
      .meta({ description: "The runtime's non-interactive form for this session; {prompt} stands for the work handed over." }),
    started: iso(),
    updated: iso(),
    ended: iso().nullable().optional(),
    exit_code: z.number().int().nullable().optional(),
    end_reason: z.string().nullable().optional(),
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

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
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

export function isLive(s: SessionRecord): boolean {
  return s.state !== 'exited';
}
