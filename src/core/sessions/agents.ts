import * as path from 'path';
import { RuntimeKind } from './runtimes';

/**
 * What Syncord knows of the agent programs behind the built-in runtimes (Claude Code, opencode): how they are
 * told to report their state to Syncord, what they may run without asking, and how the outcome of one
 * non-interactive run reads from their JSON output. Everything here is derived from Syncord's own files and
 * the program's output; nothing is taken from the session records.
 */

/** The `syncord` command line a hook or plugin runs, by the shim's absolute path (quoted for a POSIX shell). */
function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * Claude Code settings (given with `--settings`) whose hooks report the agent's state: a prompt taken or a tool
 * done means busy, the end of a turn idle, a notification asking the user (a permission) waiting. The hook
 * command reads Claude Code's JSON on its standard input; it always exits 0, so it never blocks the agent.
 */
export function claudeHookSettings(shim: string): unknown {
  const command = `${shellQuote(shim)} session hook claude`;
  const hook = [{ hooks: [{ type: 'command', command, timeout: 30 }] }];
  return { hooks: { UserPromptSubmit: hook, PostToolUse: hook, Stop: hook, Notification: hook } };
}

/** The state a Claude Code hook event means, or undefined when it says nothing about it. */
export function claudeHookState(event: unknown): { state: 'busy' | 'idle' | 'waiting'; agentSession?: string } | undefined {
  if (!event || typeof event !== 'object') return undefined;
  const e = event as { hook_event_name?: unknown; notification_type?: unknown; message?: unknown; session_id?: unknown };
  const agentSession = typeof e.session_id === 'string' ? e.session_id : undefined;
  switch (e.hook_event_name) {
    case 'UserPromptSubmit':
    case 'PostToolUse':
      return { state: 'busy', agentSession };
    case 'Stop':
      return { state: 'idle', agentSession };
    case 'Notification': {
      // "Claude needs your permission to use Bash", an elicitation: the agent stopped on the user. The reminder
      // that it has been idle a while says nothing new.
      const type = typeof e.notification_type === 'string' ? e.notification_type : '';
      if (type === 'idle_prompt') return undefined;
      if (type && type !== 'permission_prompt' && !type.startsWith('elicitation')) return undefined;
      if (!type && !/permission|input|waiting/i.test(String(e.message ?? ''))) return undefined;
      return { state: 'waiting', agentSession };
    }
    default:
      return undefined;
  }
}

/**
 * The opencode plugin (an ES module) that reports the agent's state and its conversation id, one report at a
 * time in order: `session.status` busy/idle, `permission.asked` waiting until the user replied.
 */
export function opencodePlugin(shim: string): string {
  return `// Written by Syncord: reports this opencode's state to its Syncord session (coordination/sessions.json).
// Runs only inside a session Syncord started (SYNCORD_SESSION is set); rewritten whenever a session starts.
import { spawn } from 'node:child_process';

const SYNCORD = ${JSON.stringify(shim)};

export const SyncordSessionState = async () => {
  if (!process.env.SYNCORD_SESSION) return {};
  let chain = Promise.resolve();
  let last = '';
  const report = (state, sessionID) => {
    const key = state + ' ' + (sessionID || '');
    if (key === last) return;
    last = key;
    const args = ['session', 'state', state];
    if (typeof sessionID === 'string' && sessionID) args.push('--agent-session', sessionID);
    chain = chain.then(
      () =>
        new Promise((resolve) => {
          const child = spawn(SYNCORD, args, { stdio: 'ignore' });
          child.on('error', () => resolve());
          child.on('exit', () => resolve());
        }),
    );
  };
  return {
    event: async ({ event }) => {
      const p = (event && event.properties) || {};
      switch (event && event.type) {
        case 'session.status':
          report(p.status && p.status.type === 'idle' ? 'idle' : 'busy', p.sessionID);
          break;
        case 'session.idle':
          report('idle', p.sessionID);
          break;
        case 'permission.asked':
        case 'permission.updated':
          report('waiting', p.sessionID);
          break;
        case 'permission.replied':
          report('busy', p.sessionID);
          break;
      }
    },
  };
};
`;
}

/**
 * What an opencode agent may run without asking: `syncord` commands. Added to the user's own setting
 * (OPENCODE_PERMISSION), never widening anything else.
 */
export function opencodePermission(existing: string | undefined): string {
  const allow = { 'syncord *': 'allow' };
  let base: unknown;
  try {
    base = existing ? JSON.parse(existing) : undefined;
  } catch {
    base = undefined;
  }
  if (!base || typeof base !== 'object' || Array.isArray(base)) return JSON.stringify({ bash: allow });
  const b = base as Record<string, unknown>;
  const bash = b.bash;
  const merged = typeof bash === 'string' ? { '*': bash, ...allow } : bash && typeof bash === 'object' ? { ...(bash as object), ...allow } : allow;
  return JSON.stringify({ ...b, bash: merged });
}

/** The name Syncord's MCP server has in the agents' configurations (its tools are `mcp__syncord__…` in Claude Code). */
export const MCP_SERVER_NAME = 'syncord';

/** Whom a session's MCP server serves: the workspace, the session's instance and the session itself. */
export interface McpServerFor {
  /** The `syncord` shim (as the hooks run it). */
  shim: string;
  root: string;
  coordinationDir: string;
  instance: string;
  session: string;
}

/**
 * How an agent starts Syncord's MCP server acting as its instance: through the same `syncord` shim its hooks run,
 * with the workspace named (the agent may work in a worktree with coordination files of its own).
 */
export function mcpServerCommand(s: McpServerFor): string[] {
  return [s.shim, '--workspace', s.root, '--coordination-dir', s.coordinationDir, 'mcp', '--as', s.instance];
}

/**
 * The Claude Code MCP configuration (given with `--mcp-config`) naming Syncord's MCP server for the session's
 * instance; its session id lets the server acknowledge hand-overs as the `syncord` command does in the session.
 */
export function claudeMcpConfig(s: McpServerFor): unknown {
  const [command, ...args] = mcpServerCommand(s);
  return { mcpServers: { [MCP_SERVER_NAME]: { type: 'stdio', command, args, env: { SYNCORD_SESSION: s.session } } } };
}

/**
 * The user's inline opencode config (OPENCODE_CONFIG_CONTENT) with Syncord's plugin added and, given `mcp`,
 * Syncord's MCP server (acting as the session's instance) beside the user's own servers.
 */
export function opencodeConfigContent(existing: string | undefined, pluginFile: string, mcp?: McpServerFor): string | undefined {
  const plugin = `file://${pluginFile.split(path.sep).join('/')}`;
  let base: unknown = {};
  if (existing) {
    try {
      base = JSON.parse(existing);
    } catch {
      // The user's own inline config is not JSON: leave it alone (opencode reports it); no state reports then.
      return undefined;
    }
  }
  if (!base || typeof base !== 'object' || Array.isArray(base)) return undefined;
  const b = base as { plugin?: unknown; mcp?: unknown };
  const plugins = Array.isArray(b.plugin) ? b.plugin.filter((p) => p !== plugin) : [];
  const out: Record<string, unknown> = { ...b, plugin: [...plugins, plugin] };
  if (mcp) {
    const servers = b.mcp && typeof b.mcp === 'object' && !Array.isArray(b.mcp) ? (b.mcp as Record<string, unknown>) : {};
    out.mcp = { ...servers, [MCP_SERVER_NAME]: { type: 'local', command: mcpServerCommand(mcp), environment: { SYNCORD_SESSION: mcp.session }, enabled: true } };
  }
  return JSON.stringify(out);
}

/** The environment a runtime of this kind gets on top of the agent's own. */
export function kindEnv(
  kind: RuntimeKind | undefined,
  base: Record<string, string | undefined>,
  files: { opencodePlugin: string },
  mcp: McpServerFor,
): Record<string, string> {
  if (kind !== 'opencode') return {};
  const env: Record<string, string> = { OPENCODE_PERMISSION: opencodePermission(base.OPENCODE_PERMISSION) };
  const content = opencodeConfigContent(base.OPENCODE_CONFIG_CONTENT, files.opencodePlugin, mcp);
  if (content) env.OPENCODE_CONFIG_CONTENT = content;
  return env;
}

/** What one non-interactive run of an agent came to, read from what it printed. */
export interface RunOutcome {
  /** The runtime's own words for an error or a permission it was denied; undefined when it reported none. */
  error?: string;
  /** An error the runtime reported or its exit code (not a denial): the prompt was not worked on. */
  runtimeError?: string;
  /** The runtime's id of the conversation, when it printed one. */
  agentSession?: string;
}

/** Reads a run's JSON output line by line (bounded: lines past `maxLine` characters are skipped). */
export class OutcomeReader {
  private partial = '';
  private skipping = false;
  private result: Record<string, unknown> | undefined;
  private readonly errors: string[] = [];
  private readonly denials: string[] = [];
  private agentSession: string | undefined;

  constructor(
    readonly kind: RuntimeKind,
    private readonly maxLine = 8 * 1024 * 1024,
  ) {}

  push(chunk: string): void {
    let text = this.partial + chunk;
    this.partial = '';
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (this.skipping) this.skipping = false;
      else this.line(line);
    }
    if (text.length > this.maxLine) {
      this.skipping = true;
      text = '';
    }
    this.partial = text;
  }

  /** The outcome, given the exit code of the run. */
  finish(code: number): RunOutcome {
    if (this.partial && !this.skipping) this.line(this.partial);
    this.partial = '';
    const out: RunOutcome = { agentSession: this.agentSession };
    const errors = [...this.errors];
    if (this.kind === 'claude' && !this.result && !errors.length) errors.push(code === 0 ? 'claude printed no result' : `claude exited with code ${code}`);
    if (!errors.length && code !== 0) errors.push(`${this.kind} exited with code ${code}`);
    if (errors.length) out.runtimeError = [...new Set(errors)].join('; ');
    const reasons = [...errors, ...[...new Set(this.denials)].map((d) => `permission denied: ${d}`)];
    if (reasons.length) out.error = [...new Set(reasons)].join('; ');
    return out;
  }

  private line(raw: string): void {
    const line = raw.trim();
    if (!line.startsWith('{')) return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) return;
    if (this.kind === 'claude') this.claude(v as Record<string, unknown>);
    else this.opencode(v as Record<string, unknown>);
  }

  private claude(v: Record<string, unknown>): void {
    if (v.type !== 'result') return;
    this.result = v;
    if (typeof v.session_id === 'string') this.agentSession = v.session_id;
    if (v.is_error === true) this.errors.push(typeof v.result === 'string' && v.result ? v.result : `claude reported an error (${String(v.subtype ?? 'unknown')})`);
    if (Array.isArray(v.permission_denials)) {
      for (const d of v.permission_denials as { tool_name?: unknown; tool_input?: { command?: unknown } }[]) {
        const tool = typeof d?.tool_name === 'string' ? d.tool_name : 'a tool';
        const cmd = typeof d?.tool_input?.command === 'string' ? ` (${d.tool_input.command})` : '';
        this.denials.push(`${tool}${cmd}`);
      }
    }
  }

  private opencode(v: Record<string, unknown>): void {
    if (!this.agentSession && typeof v.sessionID === 'string') this.agentSession = v.sessionID;
    if (v.type === 'error') {
      const err = v.error as { name?: unknown; message?: unknown; data?: { message?: unknown } } | undefined;
      const msg = typeof err?.data?.message === 'string' ? err.data.message : typeof err?.message === 'string' ? err.message : typeof err?.name === 'string' ? err.name : 'opencode reported an error';
      this.errors.push(msg);
      return;
    }
    if (v.type === 'tool_use') {
      const part = v.part as { tool?: unknown; state?: { status?: unknown; error?: unknown; input?: { command?: unknown } } } | undefined;
      const st = part?.state;
      if (st?.status === 'error' && typeof st.error === 'string' && /rejected permission|permission.*(denied|rejected)/i.test(st.error)) {
        const cmd = typeof st.input?.command === 'string' ? ` (${st.input.command})` : '';
        this.denials.push(`${typeof part?.tool === 'string' ? part.tool : 'a tool'}${cmd}`);
      }
    }
  }
}
