import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';

/**
 * Sync rules that fit a main project, inferred from what its root holds. The scan is cheap and deterministic:
 * the top level and one level down (plus the folders directly inside source folders, to see their languages
 * and Python packages), git-tracked or not, never following symlinks and skipping `.git`, `node_modules`,
 * `.syncord`, the coordination folder and every dot folder. The same folder contents give the same rules.
 */

/** Documentation folders that become mirrored components (matched case-insensitively; empty ones are skipped). */
export const DOC_DIRS = ['docs', 'doc', 'documentation', 'plans', 'RAG'] as const;

/** Documentation files at the root that become updated components: component name, then accepted file names. */
export const DOC_FILES: readonly (readonly [string, readonly string[]])[] = [
  ['readme', ['README.md', 'README.rst', 'README.txt', 'README']],
  ['mission', ['MISSION.md']],
  ['changelog', ['CHANGELOG.md']],
  ['contributing', ['CONTRIBUTING.md']],
  ['architecture', ['ARCHITECTURE.md']],
];

/** Folders whose code changes make targets need sync (with top-level Python packages). */
export const SOURCE_DIRS = ['src', 'lib', 'app', 'pkg', 'cmd', 'internal', 'source'] as const;

/** Config formats the merge understands. */
const CONFIG_EXTS = ['.toml', '.json', '.jsonc'];
/** Config file stems taken whatever the project is called. */
const CONFIG_STEMS = ['config', 'settings'];
/** Project manifests and tool configs: never merged into a target, whatever they are called. */
const NOT_CONFIG = new Set([
  'package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'tsconfig.json', 'jsconfig.json', 'pyproject.toml',
  'cargo.toml', 'composer.json', 'deno.json', 'deno.jsonc', 'bunfig.toml', 'lerna.json', 'nx.json', 'turbo.json',
]);

const LANGUAGES: readonly { id: string; label: string; exts: readonly string[]; markers: readonly string[] }[] = [
  { id: 'python', label: 'Python', exts: ['py', 'pyi'], markers: ['pyproject.toml', 'setup.py', 'setup.cfg', 'requirements.txt', 'Pipfile'] },
  { id: 'typescript', label: 'TypeScript', exts: ['ts', 'tsx', 'mts', 'cts'], markers: ['tsconfig.json'] },
  { id: 'javascript', label: 'JavaScript', exts: ['js', 'jsx', 'mjs', 'cjs'], markers: ['package.json'] },
  { id: 'go', label: 'Go', exts: ['go'], markers: ['go.mod'] },
  { id: 'rust', label: 'Rust', exts: ['rs'], markers: ['Cargo.toml'] },
  { id: 'java', label: 'Java', exts: ['java'], markers: ['pom.xml', 'build.gradle'] },
  { id: 'kotlin', label: 'Kotlin', exts: ['kt', 'kts'], markers: ['build.gradle.kts'] },
  { id: 'csharp', label: 'C#', exts: ['cs'], markers: [] },
  { id: 'cpp', label: 'C/C++', exts: ['c', 'h', 'cc', 'cpp', 'cxx', 'hpp', 'hh'], markers: ['CMakeLists.txt'] },
  { id: 'ruby', label: 'Ruby', exts: ['rb'], markers: ['Gemfile'] },
  { id: 'php', label: 'PHP', exts: ['php'], markers: ['composer.json'] },
  { id: 'swift', label: 'Swift', exts: ['swift'], markers: ['Package.swift'] },
];

/** Folders inside a source folder looked into (one readdir each), at most. */
const MAX_PEEK = 64;
const PY_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NOT_PACKAGES = new Set(['test', 'tests', 'testing', 'docs', 'doc', 'examples', 'scripts', 'build', 'dist']);

/** Where site-packages targets keep an installed Python package. */
export const SITE_PACKAGES_ROOT = 'python_embeded/Lib/site-packages/';

/** What the scan found in the main project. */
export interface ProjectFacts {
  /** The root folder's name as a safe path segment. */
  folderName: string;
  /** The name the destinations use: the Python package when there is exactly one, else `folderName`. */
  base: string;
  baseFrom: 'python-package' | 'folder';
  /** Whether site-packages targets make sense (Python markers, files or a package). */
  python: boolean;
  docDirs: { name: string; dir: string }[];
  docFiles: { name: string; file: string }[];
  configs: { name: string; file: string }[];
  sources: { dir: string; languages: string[] }[];
}

interface Entry {
  name: string;
  kind: 'dir' | 'file' | 'other';
}

const byName = (a: Entry, b: Entry) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

async function list(dir: string): Promise<Entry[]> {
  let ents: fs.Dirent[];
  try {
    ents = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES' || code === 'EPERM') return [];
    throw new SyncordError(`cannot read ${dir} to infer the sync rules: ${(e as Error).message}`, 'io', { file: dir });
  }
  return ents
    .map((d): Entry => ({ name: d.name, kind: d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other' }))
    .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules' && e.name !== '__pycache__')
    .sort(byName);
}

/** The folder name as one safe path segment (letters, digits, ".", "_", "-"; starts with a letter or digit). */
export function safeSegment(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[._-]+$/, '')
    .slice(0, 100);
  return s || 'project';
}

const extOf = (file: string) => {
  const i = file.lastIndexOf('.');
  return i > 0 ? file.slice(i + 1).toLowerCase() : '';
};
const findCI = <T extends Entry>(entries: T[], name: string, kind: Entry['kind']) => entries.find((e) => e.kind === kind && e.name.toLowerCase() === name.toLowerCase());

/** Scans the main project root (see the top of this file for what is looked at). */
export async function scanProject(root: string, coordinationDir: string): Promise<ProjectFacts> {
  const coordRel = path.relative(root, coordinationDir).split(path.sep);
  const coordTop = coordRel[0] && coordRel[0] !== '..' && !path.isAbsolute(coordRel[0]) ? coordRel[0] : undefined;
  const top = (await list(root)).filter((e) => e.name !== coordTop);
  const children = new Map<string, Entry[]>();
  for (const e of top) if (e.kind === 'dir') children.set(e.name, await list(path.join(root, e.name)));
  const has = (dir: string, file: string) => (children.get(dir) ?? []).some((c) => c.kind === 'file' && c.name === file);
  const rootFiles = top.filter((e) => e.kind === 'file');
  const markers = new Set(rootFiles.map((f) => f.name));
  const markerLangs = LANGUAGES.filter((l) => l.markers.some((m) => markers.has(m)) || (l.id === 'csharp' && rootFiles.some((f) => /\.(csproj|sln)$/i.test(f.name))))
    .map((l) => l.id)
    .filter((id, _i, all) => !(id === 'javascript' && all.includes('typescript')));

  // Source folders: the usual names, and top-level Python packages.
  const topPackages = top.filter((e) => e.kind === 'dir' && PY_IDENT.test(e.name) && !NOT_PACKAGES.has(e.name.toLowerCase()) && has(e.name, '__init__.py')).map((e) => e.name);
  const sourceDirs = [...new Set([...top.filter((e) => e.kind === 'dir' && SOURCE_DIRS.some((s) => s === e.name.toLowerCase())).map((e) => e.name), ...topPackages])].sort();
  const sources: ProjectFacts['sources'] = [];
  const srcPackages: string[] = [];
  const seenLangs = new Set<string>();
  for (const dir of sourceDirs) {
    const inside = children.get(dir) ?? [];
    const exts = new Set(inside.filter((e) => e.kind === 'file').map((e) => extOf(e.name)));
    for (const sub of inside.filter((e) => e.kind === 'dir').slice(0, MAX_PEEK)) {
      const subEntries = await list(path.join(root, dir, sub.name));
      for (const f of subEntries) if (f.kind === 'file') exts.add(extOf(f.name));
      if (dir.toLowerCase() === 'src' && PY_IDENT.test(sub.name) && subEntries.some((f) => f.kind === 'file' && f.name === '__init__.py')) srcPackages.push(sub.name);
    }
    const found = LANGUAGES.filter((l) => l.exts.some((x) => exts.has(x))).map((l) => l.id);
    found.forEach((l) => seenLangs.add(l));
    sources.push({ dir, languages: found.length ? found : markerLangs });
  }

  const folderName = safeSegment(path.basename(root));
  const pkg = srcPackages.length === 1 ? srcPackages[0] : !srcPackages.length && topPackages.length === 1 ? topPackages[0] : undefined;
  const python = !!pkg || markerLangs.includes('python') || seenLangs.has('python');

  const docDirs: ProjectFacts['docDirs'] = [];
  for (const want of DOC_DIRS) {
    const e = findCI(top, want, 'dir');
    if (e && (children.get(e.name) ?? []).length && !docDirs.some((d) => d.dir === e.name)) docDirs.push({ name: want.toLowerCase(), dir: e.name });
  }
  const docFiles: ProjectFacts['docFiles'] = [];
  for (const [name, files] of DOC_FILES) {
    const e = files.map((f) => findCI(rootFiles, f, 'file')).find(Boolean);
    if (e) docFiles.push({ name, file: e.name });
  }

  const base = pkg ?? folderName;
  // Config files are the project's own: named after it (folder, Python package, a folder in src/) or config/settings.
  const srcDir = sourceDirs.find((d) => d.toLowerCase() === 'src');
  const srcNames = (srcDir ? children.get(srcDir) ?? [] : []).filter((e) => e.kind === 'dir' && PY_IDENT.test(e.name)).map((e) => e.name.toLowerCase());
  const names = new Set([base.toLowerCase(), folderName.toLowerCase(), ...srcNames, ...CONFIG_STEMS]);
  const prefix = folderName.split(/[._-]/)[0].toLowerCase();
  if (prefix.length >= 3) names.add(prefix);
  const taken = new Set<string>([...docDirs.map((d) => d.name), ...docFiles.map((d) => d.name)]);
  const configs: ProjectFacts['configs'] = [];
  for (const f of rootFiles) {
    const ext = path.extname(f.name).toLowerCase();
    const stem = f.name.slice(0, f.name.length - ext.length).toLowerCase();
    if (!CONFIG_EXTS.includes(ext) || NOT_CONFIG.has(f.name.toLowerCase()) || !names.has(stem)) continue;
    let name = stem.replace(/[^a-z0-9_-]+/g, '_') || 'config';
    if (taken.has(name)) name = `${name}-${ext.slice(1)}`;
    for (let i = 2; taken.has(name); i++) name = `${stem}-${ext.slice(1)}-${i}`;
    taken.add(name);
    configs.push({ name, file: f.name });
  }

  return { folderName, base, baseFrom: pkg ? 'python-package' : 'folder', python, docDirs, docFiles, configs, sources };
}

/** JSON on one line with a space after ":" and "," (strings, null, arrays and objects of them). */
function j(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(j).join(', ')}]`;
  if (v && typeof v === 'object') {
    const e = Object.entries(v);
    return e.length ? `{ ${e.map(([k, x]) => `${JSON.stringify(k)}: ${j(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

/** The rules text ("auto" or "minimal") for the scanned project. Always valid rules (see parseRules). */
export function inferredRulesText(facts: ProjectFacts, preset: 'auto' | 'minimal'): string {
  const minimal = preset === 'minimal';
  const docDirs = minimal ? facts.docDirs.filter((d) => d.name !== 'plans' && d.name !== 'rag').slice(0, 1) : facts.docDirs;
  const docFiles = minimal ? facts.docFiles.filter((d) => d.name === 'readme') : facts.docFiles;
  const configs = minimal ? [] : facts.configs;
  const sources = minimal ? [] : facts.sources;
  const srcBase = `docs/${facts.base}/`;
  const spBase = facts.python ? `${SITE_PACKAGES_ROOT}${facts.base}/` : undefined;
  const L: string[] = [];
  L.push(`// Syncord sync rules for "${facts.folderName}" (preset "${preset}": inferred from what the project holds).`);
  L.push('// Hand-edited; JSONC (comments and trailing commas are fine). `syncord sync rules --init` never overwrites it.');
  L.push('// Paths in "source" are relative to the main project; destinations are relative to the target root.');
  L.push('{');

  // Categories.
  const cats: string[] = [];
  const langLabel = (ids: string[]) => ids.map((id) => LANGUAGES.find((l) => l.id === id)!.label).join(', ');
  const srcPatterns: string[] = [];
  const srcLangs: string[] = [];
  for (const s of sources) {
    if (!s.languages.length) srcPatterns.push(`${s.dir}/**`);
    for (const id of s.languages) {
      const exts = LANGUAGES.find((l) => l.id === id)!.exts;
      srcPatterns.push(exts.length === 1 ? `${s.dir}/**/*.${exts[0]}` : `${s.dir}/**/*.{${exts.join(',')}}`);
      if (!srcLangs.includes(id)) srcLangs.push(id);
    }
  }
  if (srcPatterns.length) cats.push(`    "source": { "patterns": ${j(srcPatterns)}, "priority": "high", "description": ${j(`Source code${srcLangs.length ? ` (${langLabel(srcLangs)})` : ''}`)} },`);
  const rag = docDirs.filter((d) => d.name === 'rag');
  if (rag.length) cats.push(`    "rag": { "patterns": ${j(rag.map((d) => `${d.dir}/**`))}, "priority": "high", "description": "Troubleshooting RAG" },`);
  if (configs.length) cats.push(`    "config": { "patterns": ${j(configs.map((c) => c.file))}, "priority": "medium", "description": "Configuration" },`);
  const docPatterns = [...docDirs.filter((d) => d.name !== 'rag').map((d) => `${d.dir}/**`), ...docFiles.map((f) => f.file)];
  if (docPatterns.length) cats.push(`    "docs": { "patterns": ${j(docPatterns)}, "priority": "medium", "description": "Documentation and plans" },`);
  L.push('  // Change categories: a changed file belongs to every category whose glob patterns match it.');
  L.push('  // "sync": false keeps a category out of `syncord sync status` / `sync check`.');
  if (!cats.length) L.push('  // Nothing found to watch; e.g. "source": { "patterns": ["src/**"], "priority": "high" }');
  L.push(cats.length ? '  "categories": {' : '  "categories": {},');
  if (cats.length) L.push(...cats, '  },');
  L.push('');

  // Components.
  const dest = (rel: string) => j({ 'site-packages': spBase ? spBase + rel : null, source: srcBase + rel });
  const comps: string[] = [];
  for (const d of docDirs) comps.push(`    ${j(d.name)}: { "source": ${j(d.dir + '/')}, "destination": ${dest(d.dir + '/')}, "mode": "mirror" },`);
  for (const f of docFiles) comps.push(`    ${j(f.name)}: { "source": ${j(f.file)}, "destination": ${dest(f.file)}, "mode": "update" },`);
  L.push('  // Components copied into targets. mode "mirror" = exact copy, deleting files the source no longer has;');
  L.push('  // mode "update" = add and overwrite only. A destination of null means "not for this target type".');
  L.push(`  // Source targets receive them under ${srcBase} (beside the target's own files there).`);
  L.push(
    spBase
      ? `  // Site-packages targets under ${spBase}\n  // (where the Python package "${facts.base}" is installed in a portable Python).`
      : '  // Site-packages targets: none (no Python package found; they receive a Python project installed by pip).',
  );
  if (!comps.length) L.push('  // No documentation found; e.g. "docs": { "source": "docs/", "destination": { "source": "docs/<name>/docs/" } }');
  L.push(comps.length ? '  "components": {' : '  "components": {},');
  if (comps.length) L.push(...comps, '  },');
  L.push('');

  // Config files.
  L.push('  // Config files merged key by key, keeping the target\'s comments and formatting.');
  L.push('  // keep-target: never changed or added; merge: add what the target lacks, keep what it has;');
  L.push('  // take-source: replace with the main project\'s value. Per key in "strategies", e.g. { "log_level": "keep-target" }.');
  if (!configs.length) L.push('  "config": {},');
  else {
    L.push('  "config": {');
    for (const c of configs) {
      const d = j({ 'site-packages': spBase ? c.file : null, source: c.file });
      L.push(`    ${j(c.name)}: { "source": ${j(c.file)}, "destination": ${d}, "strategies": {}, "default_strategy": "merge" },`);
    }
    L.push('  },');
  }
  L.push('');
  L.push('  // Verification after sync. Commands run in the target root with a timeout; their output is kept.');
  L.push('  // Example: { "name": "smoke", "command": "python -c \\"import sys\\"", "timeout_ms": 120000, "types": ["source"] }');
  L.push('  "verify": {');
  L.push('    "commands": [],');
  L.push('    "check_links": true,');
  L.push('  },');
  L.push('}');
  return L.join('\n') + '\n';
}
