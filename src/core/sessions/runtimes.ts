import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import which from 'which';
import * as z from 'zod';
import { SyncordError } from '../errors';
import { parseJsonc, stripBom, validateValue } from '../store/jsonText';
import { remoteDefinition, requireTrusted, runtimeDefinition } from '../trust';
import { WorkspacePaths } from '../workspace';
import { RemoteSetting, RemoteSpec, RemotesSettingSchema, remoteSpec } from './remotes';

/**
 * A runtime is a command-line agent Syncord can start: built-in `claude` and `opencode`, or one defined in the
 * settings. Each form is an argument list whose items may hold placeholders:
 * `{prompt}` the first prompt or the work to hand over, `{instance}` the instance id, `{cwd}` the working
 * folder, `{session}` Syncord's session id (a UUID), `{role}` the instance's role, `{agent_session}` the
 * runtime's own id of the session's conversation (as the agent reported it), `{settings}` the Claude Code
 * settings file through which Syncord's hooks learn the agent's state (runtimes of kind `claude`), `{mcp_config}`
 * the Claude Code MCP configuration naming Syncord's MCP server for the session's instance (`--mcp-config`).
 */
export interface RuntimeSpec {
  name: string;
  /** Starts an interactive session (in a terminal). */
  command: string[];
  /** Starts a session that runs without a terminal and ends when its prompt is done. */
  headless?: string[];
  /** Hands a prompt to an existing session without a terminal (its non-interactive mode). */
  send?: string[];
  /** Said when the command is not installed. */
  install?: string;
  /**
   * The program behind the runtime, when Syncord knows it: `claude` (Claude Code) or `opencode`. Syncord then
   * reads the outcome of each non-interactive run from its JSON output (errors and permission denials make a
   * hand-over failed), learns the agent's state from the agent (Claude Code hooks, an opencode plugin) and lets
   * it run `syncord` commands without asking. Without a kind, only the exit code tells.
   */
  kind?: RuntimeKind;
}

export const RUNTIME_KINDS = ['claude', 'opencode'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export const PLACEHOLDERS = ['prompt', 'instance', 'cwd', 'session', 'role', 'agent_session', 'settings', 'mcp_config'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Record<Placeholder, string>;

/**
 * The least a Claude Code agent needs to coordinate: running `syncord` (any subcommand) without a prompt.
 * Everything else stays as the user's own Claude Code permissions say.
 */
export const CLAUDE_ALLOWED_TOOLS = 'Bash(syncord:*)';
/** The tools of Syncord's MCP server (`syncord mcp`, named `syncord` in the `--mcp-config` file), allowed as the shell form is. */
export const CLAUDE_MCP_TOOLS = 'mcp__syncord__*';
const CLAUDE_COMMON = ['--settings', '{settings}', '--mcp-config', '{mcp_config}', '--allowedTools', CLAUDE_ALLOWED_TOOLS, CLAUDE_MCP_TOOLS];

export const BUILTIN_RUNTIMES: Record<string, RuntimeSpec> = {
  claude: {
    name: 'claude',
    kind: 'claude',
    // --mcp-config and --allowedTools take several values: `--` ends them, so the prompt is never read as a tool.
    command: ['claude', '--session-id', '{session}', ...CLAUDE_COMMON, '--', '{prompt}'],
    headless: ['claude', '--print', '--output-format', 'json', '--session-id', '{session}', ...CLAUDE_COMMON, '--', '{prompt}'],
    send: ['claude', '--print', '--output-format', 'json', '--resume', '{agent_session}', ...CLAUDE_COMMON, '--', '{prompt}'],
    install: 'install Claude Code (npm install -g @anthropic-ai/claude-code)',
  },
  opencode: {
    name: 'opencode',
    kind: 'opencode',
    command: ['opencode', '{cwd}', '--prompt', '{prompt}'],
    // No `--` before the prompt (opencode does not need it: Syncord's prompts never start with '-').
    headless: ['opencode', 'run', '--format', 'json', '--dir', '{cwd}', '--title', '{instance} {session}', '{prompt}'],
    // The session's own conversation, by its id: never "the latest session of the folder" (`--continue`).
    send: ['opencode', 'run', '--format', 'json', '--dir', '{cwd}', '--session', '{agent_session}', '{prompt}'],
    install: 'install opencode (npm install -g opencode-ai)',
  },
};

/** The default mapping from instance id or role to runtime: the runtime's name appearing in either picks it. */
export const DEFAULT_RUNTIME_MAP: Record<string, string> = { '*opencode*': 'opencode', '*claude*': 'claude' };
export const DEFAULT_RUNTIME = 'claude';

const argv = z
  .array(z.string())
  .min(1, { message: 'needs at least the command' })
  .refine((a) => Boolean(a[0]?.trim()), { message: 'the command (its first item) must not be empty' });
export const RuntimeSettingSchema = z.strictObject({
  command: argv.meta({ description: 'Starts an interactive session, e.g. ["my-agent", "--cwd", "{cwd}", "{prompt}"].' }),
  headless: argv.optional().meta({ description: 'Starts a session without a terminal that ends when its prompt is done.' }),
  send: argv.optional().meta({ description: "Hands a prompt to an existing session (the runtime's non-interactive mode)." }),
  install: z.string().optional().meta({ description: 'How to install the command, said when it is missing.' }),
  kind: z
    .enum(RUNTIME_KINDS)
    .optional()
    .meta({ description: 'The program behind it when Syncord knows it (claude, opencode): its results, state and permissions are then read and set as for the built-in runtime.' }),
});

/** The `syncord.sessions.*` settings, as the extension and the CLI (from .vscode/settings.json) read them. */
export const SessionsSettingsSchema = z.looseObject({
  'syncord.sessions.defaultRuntime': z.string().min(1).optional(),
  'syncord.sessions.runtimeMap': z.record(z.string(), z.string()).optional(),
  'syncord.sessions.runtimes': z.record(z.string(), RuntimeSettingSchema).optional(),
  'syncord.sessions.worktreeFolder': z.string().optional(),
  'syncord.sessions.remotes': RemotesSettingSchema.optional(),
  'syncord.sessions.remoteTimeout': z.number().int().min(1).optional(),
});

export interface SessionsConfig {
  defaultRuntime: string;
  /** Glob (matched against the instance id, then its role) → runtime name; the first match wins. */
  runtimeMap: Record<string, string>;
  /** Runtimes from the settings, by name; a built-in name overrides the built-in. */
  runtimes: Record<string, Omit<RuntimeSpec, 'name'>>;
  /** Where worktrees go; relative paths from the workspace root. Default: `../<workspace name>.worktrees`. */
  worktreeFolder?: string;
  /** Where agents can run besides this machine's processes (`syncord spawn --remote <name>`), by name. */
  remotes?: Record<string, RemoteSetting>;
  /** Seconds a remote session may go without a heartbeat before it is ended (default 15 minutes). */
  remoteTimeout?: number;
  /** Where the settings came from, for error messages. */
  source?: string;
  /**
   * Set when the runtimes were read from the workspace's own settings file by Syncord (the CLI): a runtime
   * defined there runs only once the user trusted it (`syncord trust`). The editor's settings carry none: VS
   * Code's workspace trust gates them there.
   */
  needsTrust?: boolean;
}

export function defaultSessionsConfig(): SessionsConfig {
  return { defaultRuntime: DEFAULT_RUNTIME, runtimeMap: { ...DEFAULT_RUNTIME_MAP }, runtimes: {} };
}

/** Builds the config from setting values (either face); checks custom runtimes' placeholders. */
export function sessionsConfigFrom(values: z.infer<typeof SessionsSettingsSchema>, source?: string): SessionsConfig {
  const config: SessionsConfig = {
    defaultRuntime: values['syncord.sessions.defaultRuntime']?.trim() || DEFAULT_RUNTIME,
    runtimeMap: Object.fromEntries(
      Object.entries(values['syncord.sessions.runtimeMap'] ?? DEFAULT_RUNTIME_MAP).map(([glob, runtime]) => [glob.trim(), runtime.trim()]),
    ),
    runtimes: values['syncord.sessions.runtimes'] ?? {},
    worktreeFolder: values['syncord.sessions.worktreeFolder']?.trim() || undefined,
    remotes: values['syncord.sessions.remotes'] as Record<string, RemoteSetting> | undefined,
    remoteTimeout: values['syncord.sessions.remoteTimeout'],
    source,
  };
  for (const [name, spec] of Object.entries(config.runtimes)) {
    for (const form of ['command', 'headless', 'send'] as const) {
      for (const arg of spec[form] ?? []) {
        for (const m of arg.matchAll(/\{([^{}]*)\}/g)) {
          if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) {
            throw new SyncordError(
              `runtime ${JSON.stringify(name)}: unknown placeholder {${m[1]}} in its ${form} (known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')})`,
              'invalid-file',
              source ? { file: source } : undefined,
            );
          }
        }
      }
    }
  }
  return config;
}

/**
 * Reads the `syncord.sessions.*` settings of a workspace from `.vscode/settings.json`, so the CLI starts agents
 * as the editor would. A missing file means the defaults; a broken one is an error with line and column.
 */
export function readWorkspaceSessionsConfig(root: string): SessionsConfig {
  const file = path.join(root, '.vscode', 'settings.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return defaultSessionsConfig();
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
  text = stripBom(text);
  if (!text.trim()) return defaultSessionsConfig();
  const value = validateValue(file, text, parseJsonc(file, text), SessionsSettingsSchema);
  return { ...sessionsConfigFrom(value, file), needsTrust: true };
}

export function runtimeNames(config: SessionsConfig): string[] {
  return [...new Set([...Object.keys(BUILTIN_RUNTIMES), ...Object.keys(config.runtimes)])].sort();
}

export function runtimeSpec(config: SessionsConfig, name: string): RuntimeSpec {
  const own = <T>(o: Record<string, T>): T | undefined => (Object.prototype.hasOwnProperty.call(o, name) ? o[name] : undefined);
  const custom = own(config.runtimes);
  if (custom) return { ...custom, name };
  const builtin = own(BUILTIN_RUNTIMES);
  if (builtin) return builtin;
  throw new SyncordError(
    `unknown runtime ${JSON.stringify(name)} (known: ${runtimeNames(config).join(', ')}); define it in the setting syncord.sessions.runtimes`,
    'usage',
    config.source ? { file: config.source } : undefined,
  );
}

/**
 * The runtime `name` as the user defined it (built in, or in the settings), ready to run: a runtime the
 * workspace's settings file defines must be trusted by the user as it is now (`syncord trust`), else
 * `untrusted` is thrown. This, never a command line read from sessions.json, is what sessions run.
 */
export function runnableRuntime(config: SessionsConfig, name: string, paths: WorkspacePaths): RuntimeSpec {
  const spec = runtimeSpec(config, name);
  if (config.needsTrust && Object.prototype.hasOwnProperty.call(config.runtimes, name)) {
    requireTrusted(paths, runtimeDefinition(config.source ?? path.join(paths.root, '.vscode', 'settings.json'), name, spec));
  }
  return spec;
}

/**
 * The remote `name` as the user defined it, ready to use: one the workspace's settings file defines must be
 * trusted by the user as it is now (`syncord trust`), since Syncord sends it prompts and the password named by
 * its passwordEnv; else `untrusted` is thrown.
 */
export function runnableRemote(config: SessionsConfig, name: string, paths: WorkspacePaths): RemoteSpec {
  const spec = remoteSpec(config.remotes ?? {}, name, config.source);
  if (config.needsTrust) requireTrusted(paths, remoteDefinition(config.source ?? path.join(paths.root, '.vscode', 'settings.json'), name, spec));
  return spec;
}

export interface RuntimeChoice {
  runtime: string;
  /** Why this runtime: `explicit`, `map <glob>` or `default`. */
  reason: string;
}

/** The runtime for an instance: the explicit one, else the first mapping glob matching its id or role, else the default. */
export function chooseRuntime(config: SessionsConfig, input: { instance: string; role?: string; explicit?: string }): RuntimeChoice {
  if (input.explicit?.trim()) {
    runtimeSpec(config, input.explicit.trim());
    return { runtime: input.explicit.trim(), reason: 'explicit' };
  }
  for (const subject of [input.instance, input.role]) {
    if (!subject) continue;
    for (const [glob, runtime] of Object.entries(config.runtimeMap)) {
      if (picomatch.isMatch(subject, glob, { nocase: true, dot: true })) {
        runtimeSpec(config, runtime);
        return { runtime, reason: `map ${glob}` };
      }
    }
  }
  runtimeSpec(config, config.defaultRuntime);
  return { runtime: config.defaultRuntime, reason: 'default' };
}

/** Fills the placeholders of a command form. */
export function expandArgs(template: readonly string[], values: PlaceholderValues): string[] {
  return template.map((arg) => arg.replace(/\{(prompt|instance|cwd|session|role|agent_session|settings|mcp_config)\}/g, (_, k: Placeholder) => values[k]));
}

/**
 * The full path of a runtime's command on PATH (or as given, when it names a file), or a clear error saying
 * it is not installed and how to install it.
 */
export function resolveCommand(spec: RuntimeSpec, env: NodeJS.ProcessEnv = process.env, cwd?: string): string {
  const cmd = spec.command[0];
  const how = spec.install ? `; ${spec.install}` : '';
  const missing = () =>
    new SyncordError(
      `runtime ${spec.name}: the command ${JSON.stringify(cmd)} is not installed (not found on PATH)${how}, or choose another runtime with --runtime`,
      'not-found',
    );
  // A command with a folder in it names a file (relative to the working folder); a bare name is looked up on PATH.
  if (cmd.includes('/') || cmd.includes(path.sep)) {
    const file = path.resolve(cwd ?? process.cwd(), cmd);
    const found = which.sync(file, { nothrow: true, path: path.dirname(file) });
    if (!found) throw missing();
    return found;
  }
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH');
  const searchPath = pathKey ? env[pathKey] : undefined;
  if (!searchPath) throw missing();
  const found = which.sync(cmd, { nothrow: true, path: searchPath, pathExt: env.PATHEXT });
  if (!found || !path.isAbsolute(found)) throw missing();
  return found;
}
