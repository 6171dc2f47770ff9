import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { createFileOnce } from '../store/atomic';
import { locatePath, parseJsonc, validateValue } from '../store/jsonText';
import { SyncRules, SyncRulesSchema, TARGET_TYPES } from './schema';
import { inferredRulesText, ProjectFacts, scanProject } from './infer';

export const RULES_FILE = 'sync-rules.jsonc';
export const SITE_PACKAGES_BASE = 'python_embeded/Lib/site-packages/opencode/';
export const SOURCE_BASE = 'docs/opencode/';

/**
 * The `opencode_4py` preset: seed 002's rules for that one project, kept byte for byte as they were written
 * by earlier versions (so files written from them stay as they are). They follow the seed: the
 * CHANGE_PATTERNS categories and priorities, the Phase 3 documentation copy (docs, plans, RAG, README.md and
 * MISSION.md into `python_embeded/Lib/site-packages/opencode/` of a site-packages target; into `docs/opencode/`
 * of a source target, beside the target's own sessions/ and logs/), and the Phase 4 config merge table.
 */
export const RULES_TEMPLATE = `// Syncord sync rules (seed 002). Hand-edited; JSONC (comments and trailing commas are fine).
// Paths in "source" are relative to the main project; destinations are relative to the target root.
{
  // Change categories: a changed file belongs to every category whose glob patterns match it.
  // "sync": false keeps a category out of \`syncord sync status\` / \`sync check\`.
  "categories": {
    "provider": { "patterns": ["src/opencode/provider/*.py"], "priority": "high", "description": "Provider updates" },
    "tools": { "patterns": ["src/opencode/tool/*.py"], "priority": "high", "description": "Tool changes" },
    "session": { "patterns": ["src/opencode/core/session.py"], "priority": "high", "description": "Session management" },
    "config": { "patterns": ["src/opencode/core/config.py", "opencode.toml"], "priority": "medium", "description": "Configuration" },
    "cli": { "patterns": ["src/opencode/cli/**/*.py"], "priority": "medium", "description": "CLI commands" },
    "docs": { "patterns": ["docs/*.md", "plans/*.md"], "priority": "medium", "description": "Documentation and plans" },
    "rag": { "patterns": ["RAG/**/*.md"], "priority": "high", "description": "Troubleshooting RAG" },
  },

  // Components copied into targets. mode "mirror" = exact copy, deleting files the source no longer has;
  // mode "update" = add and overwrite only. A destination of null means "not for this target type".
  "components": {
    "docs": {
      "source": "docs/",
      "destination": { "site-packages": "${SITE_PACKAGES_BASE}docs/", "source": "${SOURCE_BASE}docs/" },
      "mode": "mirror",
    },
    "plans": {
      "source": "plans/",
      "destination": { "site-packages": "${SITE_PACKAGES_BASE}plans/", "source": "${SOURCE_BASE}plans/" },
      "mode": "mirror",
    },
    "rag": {
      "source": "RAG/",
      "destination": { "site-packages": "${SITE_PACKAGES_BASE}RAG/", "source": "${SOURCE_BASE}RAG/" },
      "mode": "mirror",
    },
    "readme": {
      "source": "README.md",
      "destination": { "site-packages": "${SITE_PACKAGES_BASE}README.md", "source": "${SOURCE_BASE}README.md" },
      "mode": "update",
    },
    "mission": {
      "source": "MISSION.md",
      "destination": { "site-packages": "${SITE_PACKAGES_BASE}MISSION.md", "source": "${SOURCE_BASE}MISSION.md" },
      "mode": "update",
    },
  },

  // Config files merged key by key, keeping the target's comments and formatting.
  // keep-target: never changed or added; merge: add what the target lacks, keep what it has;
  // take-source: replace with the main project's value.
  "config": {
    "opencode": {
      "source": "opencode.toml",
      "destination": { "site-packages": "opencode.toml", "source": "opencode.toml" },
      "strategies": {
        "default_model": "keep-target",
        "providers": "merge",
        "tools": "merge",
        "data_dir": "keep-target",
        "log_level": "keep-target",
      },
      "default_strategy": "merge",
    },
  },

  // Verification after sync. Commands run in the target root with a timeout; their output is kept.
  // Example: { "name": "pre-flight", "command": "python_embeded/python.exe check_prerequisites.py", "timeout_ms": 120000, "types": ["site-packages"] }
  "verify": {
    "commands": [],
    "check_links": true,
  },
}
`;

/** The `opencode_4py` preset's rules (seed 002). No longer what applies without a rules file: see loadRules. */
export const DEFAULT_RULES: SyncRules = SyncRulesSchema.parse(parseJsonc('(built-in rules)', RULES_TEMPLATE));

/** The presets `syncord sync rules --init --preset <name>` knows, with one line each. */
export const RULE_PRESETS = {
  auto: 'fitted to the main project: its documentation folders and files, its own config files, its source folders by language (the default)',
  minimal: 'the documentation folder (docs/, doc/ or documentation/) and the README only, when they exist',
  opencode_4py: "the rules of the opencode_4py project (src/opencode/..., opencode.toml, docs/ plans/ RAG/ README.md MISSION.md)",
} as const;
export type RulePreset = keyof typeof RULE_PRESETS;
export const DEFAULT_PRESET: RulePreset = 'auto';

/** The preset name, checked; an unknown one is a usage error naming the known ones. */
export function checkPreset(name: string): RulePreset {
  if (!Object.prototype.hasOwnProperty.call(RULE_PRESETS, name)) {
    throw new SyncordError(`unknown preset ${JSON.stringify(name)} (known: ${Object.keys(RULE_PRESETS).join(', ')})`, 'usage');
  }
  return name as RulePreset;
}

/** What a preset would write for this project, with what the scan found (not for opencode_4py). */
export async function presetRules(paths: WorkspacePaths, preset: string = DEFAULT_PRESET): Promise<{ preset: RulePreset; text: string; facts?: ProjectFacts }> {
  const p = checkPreset(preset);
  if (p === 'opencode_4py') return { preset: p, text: RULES_TEMPLATE };
  const facts = await scanProject(paths.root, paths.coordinationDir);
  return { preset: p, text: inferredRulesText(facts, p), facts };
}

/** Label of the inferred rules in error messages (they are never read from a file). */
export const INFERRED_RULES_LABEL = '(rules inferred from the project)';

export function rulesFile(paths: WorkspacePaths): string {
  return path.join(paths.coordinationDir, RULES_FILE);
}

export interface LoadedRules {
  rules: SyncRules;
  /** The rules file, or undefined when the rules are inferred from the project. */
  file?: string;
  /** Without a rules file: what the `auto` preset found in the main project (the rules in effect). */
  inferred?: ProjectFacts;
}

/**
 * Reads the rules file. Without one, the rules in effect are the `auto` preset's for the main project as it is
 * now (the same folder contents give the same rules). Bad rules fail with file:line:col.
 */
export async function loadRules(paths: WorkspacePaths): Promise<LoadedRules> {
  const file = rulesFile(paths);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      const auto = await presetRules(paths, 'auto');
      return { rules: parseRules(INFERRED_RULES_LABEL, auto.text), inferred: auto.facts };
    }
    throw new SyncordError(`cannot read the rules: ${(e as Error).message}`, 'io', { file });
  }
  return { rules: parseRules(file, text), file };
}

/** Parses and checks rules text (schema, then safe and non-overlapping destinations). */
export function parseRules(file: string, text: string): SyncRules {
  const raw = parseJsonc(file, text);
  validateValue(file, text, raw, SyncRulesSchema);
  const rules = SyncRulesSchema.parse(raw);
  const fail = (msg: string, p: (string | number)[]): never => {
    throw new SyncordError(msg, 'invalid-file', locatePath(file, text, p));
  };
  for (const type of TARGET_TYPES) {
    const seen: { name: string; dest: string; key: (string | number)[] }[] = [];
    const add = (kind: 'components' | 'config', name: string, dest: string | null | undefined) => {
      if (dest === null || dest === undefined) return;
      const key = [kind, name, 'destination', type];
      const norm = checkRelative(dest);
      if (!norm) fail(`destination must be a relative path inside the target, without "..": ${JSON.stringify(dest)}`, key);
      // A target's git repository data (hooks, config) is never a place to copy files to.
      if (norm!.split('/').some((seg) => seg.toLowerCase() === '.git')) fail(`destination must not be inside a .git folder: ${JSON.stringify(dest)}`, key);
      for (const other of seen) {
        if (isInsideOrEqual(norm!, other.dest) || isInsideOrEqual(other.dest, norm!)) {
          fail(`destination ${JSON.stringify(dest)} overlaps the destination of ${other.name} for ${type} targets`, key);
        }
      }
      seen.push({ name: `${kind}.${name}`, dest: norm!, key });
    };
    for (const [name, c] of Object.entries(rules.components)) add('components', name, c.destination[type]);
    for (const [name, c] of Object.entries(rules.config)) add('config', name, c.destination[type]);
  }
  for (const [name, c] of Object.entries(rules.components)) {
    if (!checkRelative(c.source)) fail(`source must be a relative path inside the main project: ${JSON.stringify(c.source)}`, ['components', name, 'source']);
  }
  for (const [name, c] of Object.entries(rules.config)) {
    if (!checkRelative(c.source)) fail(`source must be a relative path inside the main project: ${JSON.stringify(c.source)}`, ['config', name, 'source']);
    if (rules.components[name]) fail(`"${name}" is both a component and a config file; use distinct names`, ['config', name]);
  }
  return rules;
}

/** Writes a preset's rules (default `auto`), with comments, to the rules file. Never overwrites an existing file. */
export async function initRules(paths: WorkspacePaths, preset: string = DEFAULT_PRESET): Promise<{ file: string; created: boolean; preset: RulePreset }> {
  const file = rulesFile(paths);
  const r = await presetRules(paths, preset);
  if (fs.existsSync(file)) return { file, created: false, preset: r.preset };
  parseRules(file, r.text); // never write rules that would be refused on the next read
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  return { file, created: createFileOnce(file, r.text), preset: r.preset };
}

/** Normalized POSIX relative path (without trailing slash), or undefined when absolute or escaping. */
export function checkRelative(p: string): string | undefined {
  if (path.isAbsolute(p) || path.win32.isAbsolute(p)) return undefined;
  const norm = path.posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (norm === '' || norm === '.' || norm === '..' || norm.startsWith('../')) return undefined;
  return norm;
}

function isInsideOrEqual(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/');
}
