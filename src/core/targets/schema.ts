import * as z from 'zod';
import { TARGET_NAME } from '../workspace';

/**
 * The target registry, `<coordinationDir>/targets.json`, in the shape of seed 002's appendix. Extra fields on
 * the file and on each target are allowed and kept when Syncord writes the file.
 */
export const TARGET_TYPES = ['site-packages', 'source'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

export const TargetEntrySchema = z
  .object({
    name: z
      .string()
      .max(200)
      .regex(TARGET_NAME, 'a target name has letters, digits, ".", "_" and "-" only, and starts with a letter or digit')
      .describe('Unique name of the target project (letters, digits, ".", "_", "-"; it names its backup folder).'),
    path: z
      .string()
      .min(1)
      .describe('Folder of the target project; a relative path is relative to the main project root. Never the main project, a folder inside or around it, the home folder itself or a system folder.'),
    type: z
      .enum(TARGET_TYPES)
      .describe('How the target integrates the main project: installed into site-packages, or from source.'),
    last_sync: z
      .string()
      .nullable()
      .optional()
      .describe('When the target was last synchronized (ISO 8601), or null if never.'),
    sync_version: z
      .string()
      .nullable()
      .optional()
      .describe('`git describe --tags --always` of the main project at the last sync.'),
    status: z
      .string()
      .optional()
      .describe('synchronized, needs_sync, sync_failed, or any status set by hand with `syncord target update`.'),
    last_sync_commit: z
      .string()
      .optional()
      .describe('Full commit id of the main project at the last sync (written by Syncord; used by change detection).'),
  })
  .passthrough();

export const TargetRegistrySchema = z
  .object({
    targets: z.array(TargetEntrySchema).describe('The registered target projects.'),
  })
  .passthrough()
  .describe('Syncord target registry: the target projects kept in sync with this main project.');

export type TargetEntry = z.infer<typeof TargetEntrySchema>;
export type TargetRegistry = z.infer<typeof TargetRegistrySchema>;

/** Priorities of the seed's change tables, highest first. */
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

const PerType = z
  .object({
    'site-packages': z.string().nullable().optional().describe('Destination for site-packages targets (null: not synced).'),
    source: z.string().nullable().optional().describe('Destination for source targets (null: not synced).'),
  })
  .strict();

export const CategorySchema = z
  .object({
    patterns: z.array(z.string().min(1)).min(1).describe('Glob patterns (picomatch), relative to the main project root.'),
    priority: z.enum(PRIORITIES).describe('Sync priority of changes in this category.'),
    description: z.string().optional(),
    sync: z
      .boolean()
      .default(true)
      .describe('Whether changes in this category make a target need sync (`syncord sync status` / `sync check`).'),
  })
  .strict();

export const ComponentSchema = z
  .object({
    source: z
      .string()
      .min(1)
      .describe('A folder (ending in "/") or a single file, relative to the main project root.'),
    destination: PerType.describe(
      'Where the component goes in the target, per target type, relative to the target root. `syncord sync rules --init` puts a project\'s documentation under docs/<name>/ of source targets and, for a Python project, under python_embeded/Lib/site-packages/<package>/ of site-packages targets; the opencode_4py preset uses docs/opencode/ and python_embeded/Lib/site-packages/opencode/.',
    ),
    mode: z
      .enum(['mirror', 'update'])
      .default('mirror')
      .describe('mirror: exact copy including deletions of files the source no longer has; update: add and overwrite only.'),
    include: z.array(z.string()).optional().describe('Only files matching these globs (relative to the component source).'),
    exclude: z.array(z.string()).optional().describe('Files matching these globs are neither copied nor deleted.'),
  })
  .strict();

export const MERGE_STRATEGIES = ['keep-target', 'merge', 'take-source'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

export const ConfigFileSchema = z
  .object({
    source: z.string().min(1).describe('Config file in the main project (TOML, JSON or JSONC).'),
    destination: PerType.describe('Config file in the target, per target type, relative to the target root.'),
    format: z.enum(['toml', 'json', 'jsonc']).optional().describe('Defaults to the file extension.'),
    strategies: z
      .record(z.string(), z.enum(MERGE_STRATEGIES))
      .default({})
      .describe(
        'Per top-level key: keep-target (never changed or added), merge (add missing keys/tables/array items, keep existing values), take-source (replace with the main project value).',
      ),
    default_strategy: z.enum(MERGE_STRATEGIES).default('merge').describe('Strategy for keys not listed in strategies.'),
  })
  .strict();

export const VerifyCommandSchema = z
  .object({
    name: z.string().min(1),
    command: z.string().min(1).describe('Shell command run in the target root.'),
    timeout_ms: z.number().int().positive().default(120000),
    types: z.array(z.enum(TARGET_TYPES)).optional().describe('Only for these target types (default: all).'),
  })
  .strict();

export const SyncRulesSchema = z
  .object({
    $schema: z.string().optional(),
    categories: z.record(z.string(), CategorySchema).describe("Change categories: glob patterns with a priority, by which changes are grouped."),
    components: z.record(z.string(), ComponentSchema).describe('What `syncord sync run` copies into targets.'),
    config: z.record(z.string(), ConfigFileSchema).describe('Config files merged key by key.'),
    verify: z
      .object({
        commands: z.array(VerifyCommandSchema).default([]),
        check_links: z.boolean().default(true).describe('Check relative links in synced Markdown files.'),
      })
      .strict()
      .default({ commands: [], check_links: true }),
  })
  .strict()
  .describe('Syncord sync rules: categories, components, config merge, verification.');

export type SyncRules = z.infer<typeof SyncRulesSchema>;
export type CategoryRule = z.infer<typeof CategorySchema>;
export type ComponentRule = z.infer<typeof ComponentSchema>;
export type ConfigRule = z.infer<typeof ConfigFileSchema>;
export type VerifyCommandRule = z.infer<typeof VerifyCommandSchema>;

/** JSON Schemas of the two workspace files, generated from the definitions above. */
export function targetsJsonSchema(): object {
  return z.toJSONSchema(TargetRegistrySchema, { io: 'input' });
}
export function syncRulesJsonSchema(): object {
  return z.toJSONSchema(SyncRulesSchema, { io: 'input' });
}

/** The schema files as written to `schemas/` (checked by a unit test, so they never drift from the code). */
export function schemaFiles(): Record<string, string> {
  return {
    'targets.schema.json': JSON.stringify(targetsJsonSchema(), null, 2) + '\n',
    'sync-rules.schema.json': JSON.stringify(syncRulesJsonSchema(), null, 2) + '\n',
  };
}
