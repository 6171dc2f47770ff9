import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { SyncordError } from '../errors';
import { committedCacheDir, WorkspacePaths } from '../workspace';
import { ensureSyncordDir } from './syncordDir';
import { ChangeStatus, GitChange, gitFields, nameStatusParser, readHeadId, resolveCommit, streamChangesSince, workTreeStatus, WorkTreeStatus } from './git';
import { Priority, PRIORITIES, SyncRules } from './schema';
import { removeDeadTemps, writeFileAtomic } from '../store/atomic';

export interface ChangedFile {
  status: ChangeStatus;
  path: string;
  oldPath?: string;
  /** Categories whose patterns match the path (or, for renames, the old path). */
  categories: string[];
}

export interface CategoryChanges {
  category: string;
  priority: Priority;
  description?: string;
  /** Whether this category counts for `sync status`. */
  sync: boolean;
  files: ChangedFile[];
}

export interface DetectResult {
  /** The commit compared with (full id), or null when comparing with nothing (every file is new). */
  since: string | null;
  files: ChangedFile[];
  /** Categories with changes, highest priority first. */
  categories: CategoryChanges[];
  /** Changed files outside every category. */
  uncategorized: ChangedFile[];
}

type Matcher = (p: string) => boolean;

/**
 * A matcher that gives picomatch's answer for git's paths (POSIX, relative) with less work per path: each
 * pattern's literal leading folders are compared as a prefix before its regular expression runs.
 */
export function globMatcher(patterns: string[]): Matcher {
  const tests = patterns.map((pattern): Matcher => {
    const re = picomatch.makeRe(pattern, { dot: true });
    const base = literalBase(pattern);
    if (base) {
      const prefix = base + '/';
      return (p) => p === pattern || ((p.startsWith(prefix) || p === base) && re.test(p));
    }
    return (p) => p === pattern || re.test(p);
  });
  const one = tests.length === 1 ? tests[0] : (p: string) => tests.some((t) => t(p));
  return (p) => p !== '' && one(p);
}

const SAFE_PATH = /^[A-Za-z0-9_-][A-Za-z0-9_ .-]*(\/[A-Za-z0-9_ .-]+)*$/;
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

/** The literal folders a glob starts with (every match is below them), or undefined when there are none or it is not plain. */
function literalBase(pattern: string): string | undefined {
  const scan = picomatch.scan(pattern);
  return scan.isGlob && !scan.negated && SAFE_PATH.test(scan.base) && !DOT_SEGMENT.test(scan.base) ? scan.base : undefined;
}

/** The first path segment every match of `pattern` has, or undefined when it can vary. */
function firstSegment(pattern: string): string | undefined {
  const scan = picomatch.scan(pattern);
  const literal = !scan.isGlob ? (SAFE_PATH.test(pattern) && !DOT_SEGMENT.test(pattern) ? pattern : undefined) : literalBase(pattern);
  return literal === undefined ? undefined : literal.split('/')[0];
}

interface CompiledRules {
  names: string[];
  match: Matcher[];
  /** Per first path segment: the categories that can match there (in rule order). */
  bySegment: Map<string, number[]>;
  /** Categories whose patterns can match anywhere. */
  anywhere: number[];
}

/** Category matchers compiled once per rules object, indexed by the first path segment they can match. */
const compiled = new WeakMap<SyncRules, CompiledRules>();
function compile(rules: SyncRules): CompiledRules {
  let m = compiled.get(rules);
  if (m) return m;
  const entries = Object.entries(rules.categories);
  const segs = entries.map(([, c]) => {
    const s = c.patterns.map(firstSegment);
    return s.some((x) => x === undefined) ? undefined : new Set(s as string[]);
  });
  const anywhere = segs.flatMap((s, i) => (s ? [] : [i]));
  const bySegment = new Map<string, number[]>();
  for (const seg of new Set(segs.flatMap((s) => (s ? [...s] : [])))) {
    bySegment.set(seg, segs.flatMap((s, i) => (!s || s.has(seg) ? [i] : [])));
  }
  m = { names: entries.map(([n]) => n), match: entries.map(([, c]) => globMatcher(c.patterns)), bySegment, anywhere };
  compiled.set(rules, m);
  return m;
}

function candidates(m: CompiledRules, p: string): number[] {
  const slash = p.indexOf('/');
  return m.bySegment.get(slash < 0 ? p : p.slice(0, slash)) ?? m.anywhere;
}

/** Classifies changes one at a time (as git reports them), in arrival order. */
class Classifier {
  private readonly m: CompiledRules;
  readonly files: ChangedFile[] = [];
  readonly uncategorized: ChangedFile[] = [];
  readonly byCat = new Map<string, ChangedFile[]>();
  constructor(private readonly rules: SyncRules) {
    this.m = compile(rules);
  }

  readonly add = (c: GitChange): void => this.push(this.categorize(c));

  /** The change with its categories (not yet added). */
  readonly categorize = (c: GitChange): ChangedFile => {
    const m = this.m;
    const cats: string[] = [];
    if (c.oldPath === undefined) {
      for (const i of candidates(m, c.path)) if (m.match[i](c.path)) cats.push(m.names[i]);
    } else {
      const a = candidates(m, c.path);
      const b = candidates(m, c.oldPath);
      for (let i = 0; i < m.names.length; i++) {
        if ((a.includes(i) && m.match[i](c.path)) || (b.includes(i) && m.match[i](c.oldPath))) cats.push(m.names[i]);
      }
    }
    const f: ChangedFile = { status: c.status, path: c.path, categories: cats };
    if (c.oldPath !== undefined) f.oldPath = c.oldPath;
    return f;
  };

  /** Adds a categorized change. */
  readonly push = (f: ChangedFile): void => {
    const cats = f.categories;
    this.files.push(f);
    if (!cats.length) this.uncategorized.push(f);
    for (const cat of cats) {
      let list = this.byCat.get(cat);
      if (!list) this.byCat.set(cat, (list = []));
      list.push(f);
    }
  };

  /** The result; `more` (classified with the same rules) is appended after this one's files. */
  result(more?: Classifier): Omit<DetectResult, 'since'> {
    const byCat = new Map(this.byCat);
    for (const [cat, list] of more?.byCat ?? []) byCat.set(cat, (byCat.get(cat) ?? []).concat(list));
    const categories: CategoryChanges[] = [...byCat.entries()].map(([category, fs]) => {
      const rule = this.rules.categories[category];
      const out: CategoryChanges = { category, priority: rule.priority, sync: rule.sync, files: fs };
      if (rule.description) out.description = rule.description;
      return out;
    });
    categories.sort((a, b) => PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority) || a.category.localeCompare(b.category));
    return {
      files: more ? this.files.concat(more.files) : this.files,
      categories,
      uncategorized: more ? this.uncategorized.concat(more.uncategorized) : this.uncategorized,
    };
  }
}

/** Classifies git changes into the rules' categories. */
export function classify(changes: GitChange[], rules: SyncRules): Omit<DetectResult, 'since'> {
  const c = new Classifier(rules);
  for (const ch of changes) c.add(ch);
  return c.result();
}

const FULL_ID = /^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/;

export { committedCacheDir } from '../workspace';

/** Paths in git's output order (byte order of the UTF-8 path). */
function gitOrder(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Paths whose state in the dirty case is asked of git again, at most (more: one full comparison instead). */
const MAX_RECHECK = 1000;

/**
 * Files changed in the main project since a commit (committed, uncommitted, renamed, deleted and untracked),
 * classified into the rules' categories. Without `since`, every file counts as new.
 *
 * When the main project's root holds its `.git` folder, the working tree is compared with `since` in two
 * parts: `git status` (uncommitted changes and untracked files, one process) and the committed changes
 * between `since` and HEAD, a pure object comparison that never changes for a pair of commits and is kept in
 * `.syncord/cache/detect/` (a later run with the same HEAD only reads it). With no uncommitted changes the
 * committed changes are the answer; paths with uncommitted changes, and every path that can take part in a
 * rename, are compared with `since` again by git, so the result is the one of `git diff -M <since>`.
 */
export async function detectChanges(
  paths: WorkspacePaths,
  rules: SyncRules,
  since?: string,
  workTree: () => Promise<WorkTreeStatus> = () => workTreeStatus(paths.root),
): Promise<DetectResult> {
  if (since && !since.startsWith('-')) {
    const head = await readHeadId(paths.root);
    if (head) {
      const r = await detectFromHead(paths, rules, since, head, workTree);
      if (r) return r;
    }
  }
  return detectDirect(paths, rules, since);
}

/**
 * Detection for the targets of one command: each commit's changes are detected once, and every detection shares
 * one `git status` of the main project (the first that needs it runs it), instead of one per target.
 */
export function sharedDetection(paths: WorkspacePaths, rules: SyncRules): (since?: string) => Promise<DetectResult> {
  const results = new Map<string, Promise<DetectResult>>();
  let status: Promise<WorkTreeStatus> | undefined;
  const workTree = () => (status ??= workTreeStatus(paths.root));
  return (since) => {
    const key = since ?? '';
    let result = results.get(key);
    if (!result) results.set(key, (result = detectChanges(paths, rules, since, workTree)));
    return result;
  };
}

function notCommit(paths: WorkspacePaths, since: string): SyncordError {
  return new SyncordError(`"${since}" is not a commit of the main project (${paths.root})`, 'not-found');
}

/** `detectChanges` by status + committed changes (cached); undefined when HEAD is not the one read from `.git`. */
async function detectFromHead(
  paths: WorkspacePaths,
  rules: SyncRules,
  since: string,
  head: string,
  workTree: () => Promise<WorkTreeStatus>,
): Promise<DetectResult | undefined> {
  const root = paths.root;
  const status = workTree();
  status.catch(() => undefined);
  const fullId = FULL_ID.test(since) ? since.toLowerCase() : undefined;
  const sinceId = fullId ?? (await resolveCommit(root, since));
  if (!sinceId) throw notCommit(paths, since);

  // Committed changes, categorized while git status runs.
  const tracked = new Classifier(rules);
  const committed: { c: GitChange; f: ChangedFile }[] = [];
  const parse = nameStatusParser((c) => committed.push({ c, f: tracked.categorize(c) }));
  const cacheFile = path.join(committedCacheDir(paths), `${sinceId}-${head}.z`);
  const cached = await fs.promises.readFile(cacheFile, 'utf8').catch(() => undefined);
  let saved: Promise<void> | undefined;
  if (cached !== undefined) {
    for (const field of cached.split('\0')) parse(field);
  } else {
    const fields: string[] = [];
    try {
      await gitFields(root, ['-c', 'core.quotepath=off', 'diff', '--name-status', '-z', '-M', `${sinceId}^{commit}`, head], (f) => {
        fields.push(f);
        parse(f);
      });
    } catch (e) {
      throw fullId ? notCommit(paths, since) : e;
    }
    saved = saveCommitted(paths, cacheFile, head, fields.join('\0') + '\0').catch(() => undefined);
  }

  const st = await status;
  await saved;
  if (st.head !== head) return undefined;
  let files = committed.map((x) => x.f);
  if (st.dirty.length) {
    // Every path that differs between HEAD and the working tree, and every path a rename can start or end at.
    const recheck = new Set(st.dirty);
    for (const { c } of committed) {
      if (c.status === 'M' || c.status === 'T') continue;
      recheck.add(c.path);
      if (c.oldPath !== undefined) recheck.add(c.oldPath);
    }
    if (recheck.size > MAX_RECHECK) return undefined;
    const again: ChangedFile[] = [];
    const spec = [...recheck].map((p) => `:(literal)${p}`);
    await gitFields(root, ['-c', 'core.quotepath=off', 'diff', '--name-status', '-z', '-M', sinceId, '--', ...spec], nameStatusParser((c) => again.push(tracked.categorize(c))));
    const kept = committed.filter((x) => !recheck.has(x.c.path)).map((x) => x.f);
    files = [];
    let i = 0;
    let j = 0;
    while (i < kept.length || j < again.length) {
      if (j >= again.length || (i < kept.length && gitOrder(kept[i].path, again[j].path) < 0)) files.push(kept[i++]);
      else files.push(again[j++]);
    }
  }
  for (const f of files) tracked.push(f);
  const untracked = new Classifier(rules);
  for (const p of st.untracked) untracked.add({ status: '?', path: p });
  return { since: sinceId, ...tracked.result(untracked) };
}

/** Writes the committed changes for (since, HEAD) and removes those kept for other HEADs. */
async function saveCommitted(paths: WorkspacePaths, file: string, head: string, text: string): Promise<void> {
  await ensureSyncordDir(paths);
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  // A cache: no flush to disk (a lost file is computed again).
  writeFileAtomic(file, text, { fsync: false });
  removeDeadTemps(dir);
  for (const name of await fs.promises.readdir(dir)) {
    if (/^[0-9a-f]+-[0-9a-f]+\.z$/.test(name) && !name.endsWith(`-${head}.z`)) await fs.promises.rm(path.join(dir, name), { force: true });
  }
}

/** `detectChanges` by one `git diff -M <since>` of the working tree beside `git ls-files --others`. */
async function detectDirect(paths: WorkspacePaths, rules: SyncRules, since?: string): Promise<DetectResult> {
  // Changes are classified as git reports them; tracked changes are listed before untracked files.
  const tracked = new Classifier(rules);
  const untracked = new Classifier(rules);
  if (!since) {
    await streamChangesSince(paths.root, undefined, [], tracked.add, untracked.add);
    return { since: null, ...tracked.result(untracked) };
  }
  // The commit is resolved beside the diff (not before it): one process less on the critical path. A full
  // commit id needs no `rev-parse` at all: the diff of `<id>^{commit}` succeeds only for a commit.
  const diff = streamChangesSince(paths.root, `${since}^{commit}`, [], tracked.add, untracked.add);
  diff.catch(() => undefined);
  const fullId = FULL_ID.test(since) ? since.toLowerCase() : undefined;
  const id = fullId ?? (since.startsWith('-') ? undefined : await resolveCommit(paths.root, since));
  if (!id) throw notCommit(paths, since);
  try {
    await diff;
  } catch (e) {
    throw fullId ? notCommit(paths, since) : e;
  }
  return { since: id, ...tracked.result(untracked) };
}
