import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { z } from 'zod';
import { SyncordError } from '../errors';
import { SessionsFileSchema } from '../sessions/schema';
import { writeFileAtomic } from '../store/atomic';
import { decodeUtf8, parseJsonText, stripBom, validateValue } from '../store/jsonText';
import { renderUpdate } from '../store/render';
import { gitResult } from '../targets/git';
import { fileNameOf, mentionsAny, mergeCoordinationFile, MergeKind, mergeKindOf, MERGE_KINDS, newRecordIds, renumbering } from './merge';
import { CommunicationLogSchema, DecisionLogSchema, MergeConflict, RegistrySchema, TaskQueueSchema } from './schemas';
import { listMergeConflicts, resolveMergeConflict } from './mergeConflicts';
import { CoordinationStore } from './store';
import { isoTime } from './time';

/**
 * Syncord's git merge driver for the coordination files (`syncord merge-driver run %O %A %B %P`): git hands it
 * the base, ours and theirs versions of one file; it merges them by record (merge.ts) and writes the result
 * over ours. Exit 0 when clean; otherwise the file is valid JSON holding ours where the sides disagree, with the
 * conflicts in its `merge_conflicts`, and git reports the file as conflicted.
 *
 * References across files (a message naming a task theirs renumbered) need the other files' three versions:
 * the driver finds the commits being merged (git's GITHEAD_* variables for a merge, the commit being replayed
 * for a rebase or cherry-pick) and reads them with `git show`. A file git takes from theirs as it was (only
 * theirs changed it) cannot be rewritten here: when it names a renumbered id, the merge is reported as a
 * conflict of kind `references`, which `syncord merge-driver resolve` rewrites.
 */

const SCHEMAS: Record<MergeKind, z.ZodType> = {
  registry: RegistrySchema,
  tasks: TaskQueueSchema,
  messages: CommunicationLogSchema,
  decisions: DecisionLogSchema,
  sessions: SessionsFileSchema,
};

export interface DriverInput {
  /** The files git gives: %O, %A, %B (relative to `cwd` or absolute). */
  base: string;
  ours: string;
  theirs: string;
  /** %P: the file's path in the repository. */
  path: string;
  /** Where git runs the driver: the top of the work tree. */
  cwd: string;
  now?: Date;
}

export interface DriverOutcome {
  /** False when the file is not one Syncord merges by record (git's own text merge was run instead). */
  byRecord: boolean;
  /** Exit code for git: 0 clean, 1 conflicted. */
  code: number;
  conflicts: MergeConflict[];
  /** Theirs' ids renumbered in this file, old → new. */
  renames: Record<string, string>;
  /** Things worth saying (how references across files were found). */
  notes: string[];
}

/** One side as read: its text and value (undefined for an empty base: the file is new on both sides). */
function readSide(file: string, label: string, schema: z.ZodType, allowEmpty: boolean): { text: string; value: unknown; bom: boolean } | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new SyncordError(`could not read ${label}: ${(e as Error).message}`, 'io', { file: label });
  }
  const raw = decodeUtf8(label, bytes);
  const text = stripBom(raw);
  if (allowEmpty && text.trim() === '') return undefined;
  const parsed = parseJsonText(label, text);
  return { text, value: validateValue(label, text, parsed.value, schema), bom: raw.length !== text.length };
}

async function blobOf(cwd: string, rev: string, rel: string): Promise<string | undefined> {
  const r = await gitResult(cwd, ['rev-parse', '-q', '--verify', `${rev}:${rel}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function hashFile(cwd: string, file: string): Promise<string | undefined> {
  const r = await gitResult(cwd, ['hash-object', '--', file]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

interface Sides {
  base: string;
  ours: string;
  theirs: string;
}

/** The commits being merged, proved by the blobs git gave the driver; undefined when they cannot be found. */
async function findSides(cwd: string, rel: string, input: DriverInput, emptyBase: boolean): Promise<Sides | undefined> {
  const [hb, ho, ht] = await Promise.all([emptyBase ? undefined : hashFile(cwd, input.base), hashFile(cwd, input.ours), hashFile(cwd, input.theirs)]);
  if ((await blobOf(cwd, 'HEAD', rel)) !== ho) return undefined;
  const ours = (await gitResult(cwd, ['rev-parse', 'HEAD'])).stdout.trim();
  const candidates: { rev: string; merge: boolean }[] = [];
  for (const k of Object.keys(process.env)) {
    const m = /^GITHEAD_([0-9a-f]{40,64})$/.exec(k);
    if (m) candidates.push({ rev: m[1], merge: true });
  }
  candidates.push({ rev: 'MERGE_HEAD', merge: true }, { rev: 'REBASE_HEAD', merge: false }, { rev: 'CHERRY_PICK_HEAD', merge: false });
  const gitDir = (await gitResult(cwd, ['rev-parse', '--git-dir'])).stdout.trim();
  try {
    const done = fs.readFileSync(path.resolve(cwd, gitDir, 'rebase-merge', 'done'), 'utf8').trim().split('\n').pop() ?? '';
    const m = /^\S+\s+([0-9a-f]{7,64})\b/.exec(done);
    if (m) candidates.push({ rev: m[1], merge: false });
  } catch {
    // not rebasing
  }
  for (const c of candidates) {
    if ((await blobOf(cwd, c.rev, rel)) !== ht) continue;
    const theirs = (await gitResult(cwd, ['rev-parse', '-q', '--verify', `${c.rev}^{commit}`])).stdout.trim();
    if (!theirs) continue;
    const base = c.merge ? (await gitResult(cwd, ['merge-base', ours, theirs])).stdout.trim() : (await gitResult(cwd, ['rev-parse', '-q', '--verify', `${theirs}^`])).stdout.trim();
    if (!base) continue;
    if ((await blobOf(cwd, base, rel)) !== hb) continue;
    return { base, ours, theirs };
  }
  return undefined;
}

async function showJson(cwd: string, rev: string, rel: string): Promise<unknown> {
  const r = await gitResult(cwd, ['show', `${rev}:${rel}`]);
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(stripBom(r.stdout));
  } catch {
    return undefined;
  }
}

/**
 * Runs the merge driver on one file. Throws a SyncordError naming the side, file, line and column when a side
 * does not parse or match its schema; ours is then left as it was (never a half-merged file).
 */
export async function runMergeDriver(input: DriverInput): Promise<DriverOutcome> {
  const cwd = input.cwd;
  const abs = (f: string) => path.resolve(cwd, f);
  const rel = input.path.split(path.sep).join('/');
  const kind = mergeKindOf(path.posix.basename(rel));
  if (!kind) {
    // Not a file Syncord knows: git's own line merge, with its conflict markers.
    const r = await gitResult(cwd, ['merge-file', '-L', 'ours', '-L', 'base', '-L', 'theirs', abs(input.ours), abs(input.base), abs(input.theirs)]);
    return { byRecord: false, code: r.code === 0 ? 0 : 1, conflicts: [], renames: {}, notes: [] };
  }
  const schema = SCHEMAS[kind];
  const base = readSide(abs(input.base), `${rel} (base)`, schema, true);
  const ours = readSide(abs(input.ours), `${rel} (ours)`, schema, false)!;
  const theirs = readSide(abs(input.theirs), `${rel} (theirs)`, schema, false)!;
  const notes: string[] = [];
  const sides = await findSides(cwd, rel, input, base === undefined);
  const dir = path.posix.dirname(rel);
  const sibling = (name: string) => (dir === '.' ? name : `${dir}/${name}`);

  // Renumbering of the other files, so that references to their records are rewritten here too.
  const renames = new Map<string, string>();
  const baseRenames = new Map<string, string>();
  if (sides) {
    for (const other of ['tasks', 'messages', 'decisions'] as const) {
      if (other === kind) continue;
      const name = sibling(fileNameOf(other));
      const [b, o, t] = await Promise.all([showJson(cwd, sides.base, name), showJson(cwd, sides.ours, name), showJson(cwd, sides.theirs, name)]);
      if (o === undefined || t === undefined) continue;
      const r = renumbering(other, b, o, t);
      for (const [from, to] of r.theirs) renames.set(from, to);
      for (const [from, to] of r.base) baseRenames.set(from, to);
    }
  } else {
    notes.push(`could not tell which commits are being merged: references in ${path.posix.basename(rel)} to ids renumbered in the other coordination files are not rewritten`);
  }

  const now = isoTime(input.now ?? new Date());
  const merged = mergeCoordinationFile(kind, base?.value, ours.value, theirs.value, { now, theirsCommit: sides?.theirs, renames, baseRenames });
  const conflicts = [...merged.conflicts];

  // Files git takes from theirs as they are, naming ids renumbered here: their references must be rewritten.
  if (merged.renames.size && sides) {
    const renamed = new Set(merged.renames.keys());
    for (const name of Object.keys(MERGE_KINDS)) {
      if (name === path.posix.basename(rel)) continue;
      const p = sibling(name);
      const [b, o, t] = await Promise.all([blobOf(cwd, sides.base, p), blobOf(cwd, sides.ours, p), blobOf(cwd, sides.theirs, p)]);
      if (t === undefined || t === b || o !== b) continue;
      const theirsValue = await showJson(cwd, sides.theirs, p);
      if (!mentionsAny(theirsValue, renamed)) continue;
      const otherKind = mergeKindOf(name)!;
      const c: MergeConflict = {
        id: name,
        kind: 'references',
        file: name,
        renames: Object.fromEntries(merged.renames),
        records: newRecordIds(otherKind, await showJson(cwd, sides.base, p), theirsValue),
        theirs_commit: sides.theirs,
        merged_at: now,
      };
      conflicts.push(c);
      const list = (merged.value.merge_conflicts as MergeConflict[] | undefined) ?? [];
      merged.value.merge_conflicts = [...list.filter((x) => x.id !== c.id), c];
    }
  }

  const check = schema.safeParse(merged.value);
  if (!check.success) {
    throw new SyncordError(`the merged ${rel} would not match its schema (${check.error.issues[0]?.message}); ours is left as it was`, 'invalid-file', { file: rel });
  }
  const text = renderUpdate(ours.text, ours.value, merged.value);
  if (text !== ours.text) writeFileAtomic(abs(input.ours), ours.bom ? `\ufeff${text}` : text);
  return { byRecord: true, code: conflicts.length ? 1 : 0, conflicts, renames: Object.fromEntries(merged.renames), notes };
}

// ------------------------------------------------------------------------------------------ install

/** The attribute line that sends the coordination files to the driver. */
export function attributeLine(coordinationDir: string): string {
  const p = coordinationDir.split(path.sep).join('/').replace(/^\.\/?/, '');
  // Anchored: a pattern without a slash would match JSON files in every folder.
  return `${p ? `${p}/` : '/'}*.json merge=syncord`;
}

/** Quotes a word for the POSIX shell git runs the driver with. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-./:=@%+]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The driver's command line: this node and this CLI file, by absolute paths (git hooks have no npm PATH). */
export function driverCommand(node: string, cli: string): string {
  return `${shellQuote(node)} ${shellQuote(cli)} merge-driver run %O %A %B %P`;
}

async function gitOk(cwd: string, args: string[]): Promise<string> {
  const r = await gitResult(cwd, args);
  if (r.code !== 0) throw new SyncordError(`git ${args.join(' ')} failed in ${cwd}`, 'io');
  return r.stdout;
}

/** `dir` relative to the top of its work tree (it need not exist yet). */
function relativeTo(root: string, dir: string): string {
  let at = path.resolve(dir);
  const tail: string[] = [];
  while (!fs.existsSync(at) && path.dirname(at) !== at) {
    tail.unshift(path.basename(at));
    at = path.dirname(at);
  }
  return path.join(path.relative(fs.realpathSync(root), fs.realpathSync(at)), ...tail);
}

/** The top of the git work tree holding `dir`. */
export async function repoRoot(dir: string): Promise<string> {
  let at = path.resolve(dir);
  while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
  const r = await gitResult(at, ['rev-parse', '--show-toplevel']);
  if (r.code !== 0) throw new SyncordError(`${dir} is not inside a git work tree`, 'usage');
  return r.stdout.trim();
}

export interface InstallResult {
  root: string;
  attributes: string;
  line: string;
  /** Whether the line was added (false: it was there already). */
  added: boolean;
  command: string;
  scope: 'local' | 'global';
}

/** Registers the merge driver: the .gitattributes line (added once, other lines kept) and git config. */
export async function installMergeDriver(opts: { coordinationDir: string; node: string; cli: string; global?: boolean }): Promise<InstallResult> {
  const root = await repoRoot(opts.coordinationDir);
  const rel = relativeTo(root, opts.coordinationDir);
  if (rel.startsWith('..')) throw new SyncordError(`${opts.coordinationDir} is outside the repository ${root}`, 'usage');
  const line = attributeLine(rel);
  const attributes = path.join(root, '.gitattributes');
  const before = fs.existsSync(attributes) ? fs.readFileSync(attributes, 'utf8') : '';
  const lines = before.split(/\r?\n/);
  const added = !lines.some((l) => l.trim() === line);
  if (added) {
    const eol = before.includes('\r\n') ? '\r\n' : '\n';
    writeFileAtomic(attributes, `${before}${before && !before.endsWith('\n') ? eol : ''}${line}${eol}`);
  }
  const command = driverCommand(opts.node, opts.cli);
  const scope = opts.global ? '--global' : '--local';
  await gitOk(root, ['config', scope, 'merge.syncord.name', 'Syncord: merge coordination files by record']);
  await gitOk(root, ['config', scope, 'merge.syncord.driver', command]);
  return { root, attributes, line, added, command, scope: opts.global ? 'global' : 'local' };
}

export interface UninstallResult {
  root: string;
  /** Whether the .gitattributes line was there and removed. */
  removedLine: boolean;
  /** Whether git config held the driver and it was removed. */
  removedConfig: boolean;
}

/** Removes the .gitattributes line and the git config of the driver. */
export async function uninstallMergeDriver(opts: { coordinationDir: string; global?: boolean }): Promise<UninstallResult> {
  const root = await repoRoot(opts.coordinationDir);
  const attributes = path.join(root, '.gitattributes');
  let removedLine = false;
  if (fs.existsSync(attributes)) {
    const before = fs.readFileSync(attributes, 'utf8');
    const eol = before.includes('\r\n') ? '\r\n' : '\n';
    const kept = before.split(/\r?\n/).filter((l) => !/^\S+\s+merge=syncord\s*$/.test(l.trim()));
    const after = kept.join(eol);
    if (after !== before) {
      removedLine = true;
      if (after.trim() === '') fs.rmSync(attributes);
      else writeFileAtomic(attributes, after);
    }
  }
  const r = await gitResult(root, ['config', opts.global ? '--global' : '--local', '--remove-section', 'merge.syncord']);
  return { root, removedLine, removedConfig: r.code === 0 };
}

// ------------------------------------------------------------------------------------------ sync through a branch

function run(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new SyncordError('git is not installed or not on PATH', 'io'));
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr });
    });
  });
}

const firstLine = (s: string) => s.trim().split('\n').filter(Boolean).pop() ?? '';

/**
 * During a stopped rebase: when the only conflicts are files git took as they were that name renumbered ids,
 * rewrites them, stages the coordination files and returns true (the rebase can continue).
 */
async function settleReferences(root: string, rel: string, coordinationDir: string): Promise<boolean> {
  const unmerged = (await run(root, ['diff', '--name-only', '--diff-filter=U'])).stdout.trim().split('\n').filter(Boolean);
  const prefix = rel === '.' ? '' : `${rel.split(path.sep).join('/')}/`;
  if (!unmerged.length || unmerged.some((f) => !f.startsWith(prefix))) return false;
  const store = new CoordinationStore(coordinationDir);
  const conflicts = await listMergeConflicts(store);
  if (!conflicts.length || conflicts.some((c) => c.conflict.kind !== 'references')) return false;
  for (const c of conflicts) await resolveMergeConflict(store, { id: c.conflict.id, side: 'theirs', file: c.file });
  await run(root, ['add', '--', rel]);
  return true;
}

export interface SyncInput {
  coordinationDir: string;
  remote?: string;
  /** The branch on the remote that carries the coordination files (default: the current branch). */
  branch?: string;
  /** The commit message for local changes. */
  message?: string;
  /** How many times to fetch, merge and push again after a rejected push (default 4). */
  retries?: number;
}

export interface SyncResult {
  remote: string;
  branch: string;
  /** The commit made of local changes to the coordination files, if any. */
  committed?: string;
  /** How many times the remote's changes were merged in. */
  merges: number;
  /** Pushes tried (the last one succeeded). */
  pushes: number;
  head: string;
}

/**
 * Sends the coordination files through a branch of a remote: commits local changes to them, fetches the branch
 * and replays the local commits on it (the merge driver merges the files by record), pushes, and after a
 * rejected push (someone pushed in between) fetches, merges and pushes again. Conflicts stop it with the
 * rebase in progress and the conflicts in the files.
 */
export async function syncCoordination(input: SyncInput): Promise<SyncResult> {
  const root = await repoRoot(input.coordinationDir);
  const rel = relativeTo(root, input.coordinationDir) || '.';
  const remote = input.remote ?? 'origin';
  if ((await run(root, ['config', '--get', 'merge.syncord.driver'])).code !== 0) {
    throw new SyncordError('the merge driver is not installed here: run `syncord merge-driver install` first, or merges of the coordination files will conflict line by line', 'usage');
  }
  const current = (await run(root, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim();
  const branch = input.branch ?? current;
  if (!branch) throw new SyncordError('HEAD is detached: name the branch to sync with --branch', 'usage');
  const unmerged = (await run(root, ['diff', '--name-only', '--diff-filter=U'])).stdout.trim();
  if (unmerged) throw new SyncordError(`a merge is not finished (${unmerged.split('\n').join(', ')}): resolve it (\`syncord merge-driver conflicts\`), then \`git add\` and \`git commit\``, 'conflict');

  let committed: string | undefined;
  await run(root, ['add', '-A', '--', rel]);
  if ((await run(root, ['diff', '--cached', '--quiet', '--', rel])).code !== 0) {
    const c = await run(root, ['commit', '--quiet', '-m', input.message ?? 'Coordination update', '--', rel]);
    if (c.code !== 0) throw new SyncordError(`git commit failed: ${firstLine(c.stderr || c.stdout)}`, 'io');
    committed = (await run(root, ['rev-parse', 'HEAD'])).stdout.trim();
  }
  const retries = input.retries ?? 4;
  let merges = 0;
  let pushes = 0;
  for (let attempt = 0; ; attempt++) {
    const f = await run(root, ['fetch', '--quiet', remote, `refs/heads/${branch}`]);
    if (f.code === 0) {
      // Local commits are replayed on the branch: the records not pushed yet are the ones renumbered, so ids
      // that others have already seen never change.
      let m = await run(root, ['rebase', '--quiet', 'FETCH_HEAD']);
      // A stop whose only conflicts are references to renumbered ids is settled here: they are rewritten.
      while (m.code !== 0 && (await settleReferences(root, rel, input.coordinationDir))) {
        m = await run(root, ['-c', 'core.editor=true', 'rebase', '--continue']);
      }
      if (m.code !== 0) {
        const files = (await run(root, ['diff', '--name-only', '--diff-filter=U'])).stdout.trim().split('\n').filter(Boolean);
        if (files.length) {
          throw new SyncordError(
            `replaying the local commits on ${remote}/${branch} left conflicts in ${files.join(', ')}: see \`syncord merge-driver conflicts\`, resolve them, then \`git add\` them, \`git rebase --continue\` and sync again`,
            'conflict',
          );
        }
        await run(root, ['rebase', '--abort']);
        throw new SyncordError(`git rebase onto ${remote}/${branch} failed: ${firstLine(m.stderr || m.stdout)}`, 'io');
      }
      merges++;
    } else if (!/couldn't find remote ref|could not find remote ref/i.test(f.stderr)) {
      throw new SyncordError(`git fetch ${remote} ${branch} failed: ${firstLine(f.stderr)}`, 'io');
    }
    pushes++;
    const p = await run(root, ['push', '--quiet', remote, `HEAD:refs/heads/${branch}`]);
    if (p.code === 0) break;
    const rejected = /rejected|non-fast-forward|fetch first/i.test(p.stderr);
    if (!rejected || attempt >= retries) throw new SyncordError(`git push to ${remote} ${branch} failed${rejected ? ` after ${pushes} tries` : ''}: ${firstLine(p.stderr)}`, 'io');
  }
  return { remote, branch, committed, merges, pushes, head: (await run(root, ['rev-parse', 'HEAD'])).stdout.trim() };
}
