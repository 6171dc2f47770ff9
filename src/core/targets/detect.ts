import picomatch from 'picomatch';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { ChangeStatus, GitChange, resolveCommit, streamChangesSince } from './git';
import { Priority, PRIORITIES, SyncRules } from './schema';

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

  readonly add = (c: GitChange): void => {
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

/**
 * Files changed in the main project since a commit (committed, uncommitted, renamed, deleted and untracked),
 * classified into the rules' categories. Without `since`, every file counts as new.
 */
export async function detectChanges(paths: WorkspacePaths, rules: SyncRules, since?: string): Promise<DetectResult> {
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
  const fullId = /^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(since) ? since.toLowerCase() : undefined;
  const id = fullId ?? (since.startsWith('-') ? undefined : await resolveCommit(paths.root, since));
  const notCommit = () => new SyncordError(`"${since}" is not a commit of the main project (${paths.root})`, 'not-found');
  if (!id) throw notCommit();
  try {
    await diff;
  } catch (e) {
    throw fullId ? notCommit() : e;
  }
  return { since: id, ...tracked.result(untracked) };
}
