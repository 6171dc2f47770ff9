import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { SyncordError } from '../errors';
import { Registry } from '../coordination/schemas';
import { SYNC_AGENTS, SyncAgent } from '../coordination/vocabulary';
import { parseJsonc, stripBom, validateValue } from '../store/jsonText';

/**
 * Which instances act as the seed's Coding, Testing, Debugging and Documentation agents: the setting
 * `syncord.agentSync.roles` maps each agent to glob patterns matched (case-insensitively) against the instances'
 * roles. The editor reads it from its settings, the CLI from the workspace's `.vscode/settings.json`; either way
 * it is validated before use.
 */
export const AGENT_ROLES_SETTING = 'syncord.agentSync.roles';

export type AgentRoles = Record<SyncAgent, string[]>;

/** The defaults: the seed's agent names as roles, and the usual variants of them. */
export const DEFAULT_AGENT_ROLES: AgentRoles = {
  coding: ['coding', 'coding-*', '*-coding', 'coder', 'developer', '*-developer'],
  testing: ['testing', 'testing-*', '*-testing', 'tester', 'qa', '*-qa'],
  debugging: ['debugging', 'debugging-*', '*-debugging', 'debugger'],
  documentation: ['documentation', 'documentation-*', '*-documentation', 'docs', 'docs-*', '*-docs'],
};

const globs = z
  .array(z.string().regex(/\S/, { message: 'a role pattern must not be empty' }).max(200))
  .min(1, { message: 'give at least one role pattern' })
  .max(50);

/** The setting's value: for each agent (all optional; the default applies to those left out), role patterns. */
export const AgentRolesSettingSchema = z
  .strictObject({
    coding: globs.optional(),
    testing: globs.optional(),
    debugging: globs.optional(),
    documentation: globs.optional(),
  })
  .meta({ description: "Role patterns (globs, case-insensitive) of the instances that act as seed 002's agents in a sync carried out by agents." });

const SettingsFileSchema = z.looseObject({ [AGENT_ROLES_SETTING]: AgentRolesSettingSchema.optional() });

/** The roles in effect for a setting value (validated by the caller). */
export function agentRolesFrom(value: z.infer<typeof AgentRolesSettingSchema> | undefined): AgentRoles {
  const out = { ...DEFAULT_AGENT_ROLES };
  for (const a of SYNC_AGENTS) if (value?.[a]) out[a] = value[a]!;
  return out;
}

/** Validates a value the editor read from its settings; a bad one is an error naming the setting. */
export function parseAgentRolesSetting(value: unknown): AgentRoles {
  if (value === undefined || value === null) return agentRolesFrom(undefined);
  const r = AgentRolesSettingSchema.safeParse(value);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${[AGENT_ROLES_SETTING, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
    throw new SyncordError(`the setting ${AGENT_ROLES_SETTING} is not valid (${problems})`, 'usage');
  }
  return agentRolesFrom(r.data);
}

/**
 * Reads `syncord.agentSync.roles` from the workspace's `.vscode/settings.json` (as the CLI reads the other
 * settings). No file or no such setting: the defaults. A file that does not parse or a value of the wrong shape is
 * an error with its line and column.
 */
export function readWorkspaceAgentRoles(root: string): AgentRoles {
  const file = path.join(root, '.vscode', 'settings.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return agentRolesFrom(undefined);
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
  text = stripBom(text);
  if (!text.trim()) return agentRolesFrom(undefined);
  const value = validateValue(file, text, parseJsonc(file, text), SettingsFileSchema);
  return agentRolesFrom(value[AGENT_ROLES_SETTING]);
}

/** Whether an instance's role fits an agent's patterns. */
export function roleFits(role: string | undefined, patterns: readonly string[]): boolean {
  if (!role) return false;
  return patterns.some((p) => picomatch.isMatch(role, p, { nocase: true, dot: true }));
}

/**
 * The instance that acts as `agent`: among those whose role fits, one with a live session first, then an active
 * one, then one available for consultation, then the first registered. Undefined when no role fits.
 */
export function instanceFor(registry: Registry, roles: AgentRoles, agent: SyncAgent, live: ReadonlySet<string> = new Set()): string | undefined {
  let best: { id: string; score: number } | undefined;
  for (const [id, rec] of Object.entries(registry.instances)) {
    if (!roleFits(rec.role, roles[agent])) continue;
    const score = (live.has(id) ? 4 : 0) + (rec.status === 'active' ? 2 : 0) + (rec.available_for_consultation ? 1 : 0);
    if (!best || score > best.score) best = { id, score };
  }
  return best?.id;
}

/** The instance for each agent (undefined where no role fits). */
export function instancesFor(registry: Registry, roles: AgentRoles, live: ReadonlySet<string> = new Set()): Record<SyncAgent, string | null> {
  const out = {} as Record<SyncAgent, string | null>;
  for (const a of SYNC_AGENTS) out[a] = instanceFor(registry, roles, a, live) ?? null;
  return out;
}
