import * as vscode from 'vscode';
import { DEFAULT_RESPONSE_HOURS, DEFAULT_STALE_HOURS } from '../core/coordination/health';
import { AgentRoles, parseAgentRolesSetting } from '../core/agentsync/roles';
import { SyncordError } from '../core/errors';
import { SessionsConfig, sessionsConfigFrom, SessionsSettingsSchema } from '../core/sessions/runtimes';
import { DEFAULT_COORDINATION_DIR } from '../core/workspace';

/** Every setting key Syncord reads, in one place. */
export const SettingKey = {
  coordinationDir: 'syncord.coordinationDir',
  instanceId: 'syncord.instanceId',
  healthStaleCheckinHours: 'syncord.health.staleCheckinHours',
  healthResponseHours: 'syncord.health.responseHours',
  sessionsDefaultRuntime: 'syncord.sessions.defaultRuntime',
  sessionsRuntimeMap: 'syncord.sessions.runtimeMap',
  sessionsRuntimes: 'syncord.sessions.runtimes',
  sessionsWorktreeFolder: 'syncord.sessions.worktreeFolder',
  sessionsRemotes: 'syncord.sessions.remotes',
  sessionsRemoteTimeout: 'syncord.sessions.remoteTimeout',
  mcpInstance: 'syncord.mcp.instance',
  agentSyncRoles: 'syncord.agentSync.roles',
} as const;

export interface SyncordSettings {
  coordinationDir: string;
  instanceId: string | undefined;
  /** Health thresholds: an active instance is stale past this many hours without a check-in… */
  staleCheckinHours: number;
  /** …and a message waiting for a response is overdue past this many hours (when it names no time itself). */
  responseHours: number;
}

/** A positive number of hours, else the default (a cleared or nonsensical setting means the seed's rule). */
function hours(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Reads the settings for the (first) workspace folder. */
export function readSettings(scope?: vscode.ConfigurationScope): SyncordSettings {
  const c = vscode.workspace.getConfiguration('syncord', scope);
  const instanceId = c.get<string>('instanceId')?.trim();
  return {
    coordinationDir: c.get<string>('coordinationDir')?.trim() || DEFAULT_COORDINATION_DIR,
    instanceId: instanceId || undefined,
    staleCheckinHours: hours(c.get('health.staleCheckinHours'), DEFAULT_STALE_HOURS),
    responseHours: hours(c.get('health.responseHours'), DEFAULT_RESPONSE_HOURS),
  };
}

/** The instance the MCP server contributed to VS Code acts as (`syncord.mcp.instance`); undefined: ask. */
export function readMcpInstance(scope?: vscode.ConfigurationScope): string | undefined {
  return vscode.workspace.getConfiguration('syncord', scope).get<string>('mcp.instance')?.trim() || undefined;
}

/**
 * The `syncord.sessions.*` settings as the core's SessionsConfig. A custom runtime with an unknown placeholder
 * is a SyncordError naming it (shown to the user by the caller).
 */
export function readSessionsConfig(scope?: vscode.ConfigurationScope): SessionsConfig {
  const c = vscode.workspace.getConfiguration(undefined, scope);
  const keys = [
    SettingKey.sessionsDefaultRuntime,
    SettingKey.sessionsRuntimeMap,
    SettingKey.sessionsRuntimes,
    SettingKey.sessionsWorktreeFolder,
    SettingKey.sessionsRemotes,
    SettingKey.sessionsRemoteTimeout,
  ];
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    const v = c.get<unknown>(key);
    if (v !== undefined && v !== null) values[key] = v;
  }
  const parsed = SessionsSettingsSchema.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
    throw new SyncordError(`the syncord.sessions settings are not valid (${problems})`, 'usage');
  }
  return sessionsConfigFrom(parsed.data);
}

/** Which instances act as seed 002's agents in a sync by agents (`syncord.agentSync.roles`, validated). */
export function readAgentRoles(scope?: vscode.ConfigurationScope): AgentRoles {
  return parseAgentRolesSetting(vscode.workspace.getConfiguration(undefined, scope).get<unknown>(SettingKey.agentSyncRoles));
}

/** Calls `listener` when any Syncord setting changes. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('syncord')) listener();
  });
}
