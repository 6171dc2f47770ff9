import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { ResolvedTarget } from './registry';
import { checkRelative } from './rules';
import { ConfigRule, MergeStrategy, SyncRules } from './schema';
import { FileInfo, infoOf, lstatOrUndefined, lstatSyncOrUndefined, Slicer, walk } from './fsutil';
import { git, isGitRepo } from './git';

/** A component of the rules, resolved for one target. */
export interface ResolvedComponent {
  name: string;
  kind: 'dir' | 'file';
  mode: 'mirror' | 'update';
  /** Relative to the main project root, no trailing slash. */
  source: string;
  sourceAbs: string;
  /** Relative to the target root, no trailing slash. */
  destination: string;
  destAbs: string;
  /** Whether a path relative to the component (POSIX) takes part in the sync. */
  selects(rel: string): boolean;
  /** Identifies the rule as applied to this target (a change means a full comparison next time). */
  fingerprint: string;
}

export interface ResolvedConfig {
  name: string;
  source: string;
  sourceAbs: string;
  destination: string;
  destAbs: string;
  format: 'toml' | 'json' | 'jsonc';
  strategies: Record<string, MergeStrategy>;
  defaultStrategy: MergeStrategy;
}

/** Component names a user may pass: the components, the config entries, and "config" for all config files. */
export function componentNames(rules: SyncRules): string[] {
  return [...Object.keys(rules.components), ...Object.keys(rules.config), ...(Object.keys(rules.config).length && !rules.config.config ? ['config'] : [])];
}

export interface Selection {
  components: ResolvedComponent[];
  configs: ResolvedConfig[];
  /** True when every component and config file of the target type is selected. */
  all: boolean;
}

/** The components and config files that apply to a target, optionally limited to some names. */
export function selectComponents(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, only?: string[]): Selection {
  const known = componentNames(rules);
  for (const n of only ?? []) {
    if (!known.includes(n)) throw new SyncordError(`unknown component "${n}" (known: ${known.join(', ')})`, 'usage');
  }
  const want = (name: string, isConfig: boolean) => !only || only.includes(name) || (isConfig && only.includes('config'));
  const components: ResolvedComponent[] = [];
  const configs: ResolvedConfig[] = [];
  let all = true;
  for (const [name, c] of Object.entries(rules.components)) {
    const dest = c.destination[target.type];
    if (!dest) continue;
    if (!want(name, false)) {
      all = false;
      continue;
    }
    const source = checkRelative(c.source)!;
    const destination = checkRelative(dest)!;
    const kind = c.source.endsWith('/') ? 'dir' : 'file';
    const inc = c.include?.length ? picomatch(c.include, { dot: true }) : undefined;
    const exc = c.exclude?.length ? picomatch(c.exclude, { dot: true }) : undefined;
    components.push({
      name,
      kind,
      mode: c.mode,
      source,
      sourceAbs: path.join(paths.root, source),
      destination,
      destAbs: path.join(target.absPath, destination),
      selects: (rel) => (!inc || inc(rel)) && !(exc && exc(rel)),
      fingerprint: createHash('sha256')
        .update(JSON.stringify([target.absPath, kind, source, destination, c.mode, c.include ?? [], c.exclude ?? []]))
        .digest('hex')
        .slice(0, 16),
    });
  }
  for (const [name, c] of Object.entries(rules.config)) {
    const dest = c.destination[target.type];
    if (!dest) continue;
    if (!want(name, true)) {
      all = false;
      continue;
    }
    configs.push(resolveConfig(paths, target, name, c, dest));
  }
  if (only && !components.length && !configs.length) {
    throw new SyncordError(`none of ${only.join(', ')} applies to ${target.type} targets`, 'usage');
  }
  return { components, configs, all };
}

function resolveConfig(paths: WorkspacePaths, target: ResolvedTarget, name: string, c: ConfigRule, dest: string): ResolvedConfig {
  const source = checkRelative(c.source)!;
  const destination = checkRelative(dest)!;
  const ext = path.extname(source).toLowerCase();
  const format = c.format ?? (ext === '.toml' ? 'toml' : ext === '.jsonc' ? 'jsonc' : 'json');
  return {
    name,
    source,
    sourceAbs: path.join(paths.root, source),
    destination,
    destAbs: path.join(target.absPath, destination),
    format,
    strategies: c.strategies,
    defaultStrategy: c.default_strategy,
  };
}

/**
 * The files of a folder component in the main project, relative to the component: what git sees (tracked
 * and untracked files that are not ignored) that exists as a regular file. Symlinks are listed in `skipped`
 * and never followed. Outside a git repository, the folder is walked.
 */
export async function sourceFiles(root: string, comp: ResolvedComponent, useGit?: boolean): Promise<{ files: Map<string, FileInfo>; skipped: string[] }> {
  const files = new Map<string, FileInfo>();
  const skipped: string[] = [];
  if (comp.kind === 'file') {
    const st = await lstatOrUndefined(comp.sourceAbs);
    if (st?.isFile()) files.set('', infoOf(st));
    else if (st) skipped.push(comp.source);
    return { files, skipped };
  }
  const st = await lstatOrUndefined(comp.sourceAbs);
  if (!st) return { files, skipped };
  if (!st.isDirectory()) {
    skipped.push(comp.source);
    return { files, skipped };
  }
  if (useGit ?? (await isGitRepo(root))) {
    const out = await git(root, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', `${comp.source}/`]);
    const prefix = comp.source.length + 1;
    const slicer = new Slicer();
    // One pass over git's list, without intermediate arrays (an unmerged path is listed once per stage).
    let prev: string | undefined;
    for (let at = 0; at < out.length; ) {
      let end = out.indexOf('\0', at);
      if (end < 0) end = out.length;
      const rel = end - at > prefix ? out.slice(at + prefix, end) : '';
      at = end + 1;
      if (!rel || rel === prev || files.has(rel) || !comp.selects(rel)) continue;
      prev = rel;
      const s = lstatSyncOrUndefined(comp.sourceAbs + path.sep + rel);
      if (s?.isFile()) files.set(rel, infoOf(s));
      else if (s && !skipped.includes(rel)) skipped.push(rel); // (missing: deleted in the working tree)
      await slicer.tick();
    }
    return { files, skipped };
  }
  const w = await walk(comp.sourceAbs);
  for (const [rel, info] of w.files) {
    if (!comp.selects(rel)) continue;
    if (info.kind === 'file') files.set(rel, info);
    else skipped.push(rel);
  }
  return { files, skipped: skipped.concat(w.skipped) };
}

/** The files now in a component's destination in the target, relative to the destination. */
export async function destFiles(comp: ResolvedComponent): Promise<{ files: Map<string, FileInfo>; dirs: string[] }> {
  if (comp.kind === 'file') {
    const st = await lstatOrUndefined(comp.destAbs);
    const files = new Map<string, FileInfo>();
    if (st && !st.isDirectory()) files.set('', infoOf(st));
    return { files, dirs: [] };
  }
  const st = await lstatOrUndefined(comp.destAbs);
  if (!st || !st.isDirectory()) return { files: new Map(), dirs: [] };
  const w = await walk(comp.destAbs);
  const files = new Map<string, FileInfo>();
  for (const [rel, info] of w.files) if (comp.selects(rel)) files.set(rel, info);
  return { files, dirs: w.dirs };
}

/** Joins a component-relative path onto a base ('' is the component itself, for single files). */
export function joinRel(base: string, rel: string): string {
  return rel ? `${base}/${rel}` : base;
}

export async function readTextOrUndefined(file: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
