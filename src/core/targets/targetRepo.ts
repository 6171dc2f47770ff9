import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SyncordError } from '../errors';
import { WorkspacePaths } from '../workspace';
import { joinRel, selectComponents } from './components';
import { lstatSyncOrUndefined } from './fsutil';
import { git as mainGit } from './git';
import { getTarget, listTargets, ResolvedTarget } from './registry';
import { SyncRules } from './schema';
import { tagTargets, TagResult } from './status';
import type { SyncPlan, SyncResult } from './sync';
import { plural } from '../plural';

/*
 * Targets that are git repositories (seed 002: "Tag synchronized targets with the corresponding release").
 *
 * A target counts as a git repository only when its folder is the top level of a git work tree (its own
 * repository, a linked worktree or a submodule). A target folder somewhere inside a larger repository (a
 * home folder kept in git, a monorepo) is treated like any other folder: Syncord does not commit, tag or
 * check for uncommitted changes in a repository that holds more than the target.
 *
 * Git hooks: every git command that changes the target repository (switch, commit, tag) runs with
 * `core.hooksPath` pointed at an empty folder Syncord creates, so none of the repository's hooks run. A sync
 * commit holds byte-exact copies of the main project's files: a formatting or linting hook that rewrote them
 * would make the target differ from what `sync verify` expects, and a hook is a program found in a folder
 * Syncord writes into, which Syncord never runs on its own (the same rule as for commands found in workspace
 * files). Everything else comes from the repository's own configuration: the author and committer identity,
 * signing, the branch.
 */

/** Variables that would point git at another repository or index than the target's (set inside git hooks). */
const REPO_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_COMMON_DIR', 'GIT_NAMESPACE', 'GIT_PREFIX', 'GIT_QUARANTINE_PATH', 'GIT_GLOB_PATHSPECS', 'GIT_NOGLOB_PATHSPECS', 'GIT_ICASE_PATHSPECS'];

function repoEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of REPO_ENV) delete env[k];
  // Paths are paths, never patterns; git never asks on a terminal.
  return { ...env, GIT_LITERAL_PATHSPECS: '1', GIT_TERMINAL_PROMPT: '0', ...extra };
}

interface GitRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs git in a target repository; never rejects because git failed (only when git cannot start). */
function run(cwd: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: repoEnv(opts.env) }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new SyncordError(`git is not installed or not on PATH (needed in ${cwd})`, 'io'));
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    // (git may exit before reading its input: that is reported by its exit code, not as a broken pipe)
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** git's own words for a failure: the `fatal:`/`error:` lines first, else the first lines it printed. */
function gitMessage(r: GitRun): string {
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('hint:'));
  const key = lines.filter((l) => /^(fatal|error):/.test(l));
  const chosen = key.length ? [...lines.slice(0, 1).filter((l) => !key.includes(l)), ...key] : lines.slice(0, 3);
  return chosen.join(' ') || `exit code ${r.code}`;
}

async function must(cwd: string, args: string[], what: string, opts: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await run(cwd, args, opts);
  if (r.code !== 0) throw new SyncordError(`${what} failed in ${cwd}: ${gitMessage(r)}`, 'io');
  return r.stdout;
}

const nul = (list: string[]) => list.map((p) => p + '\0').join('');

export interface TargetRepo {
  /** The target folder, which is the top level of the work tree. */
  root: string;
  /** HEAD's commit; undefined before the first commit. */
  head?: string;
  /** The checked-out branch; undefined on a detached HEAD. */
  branch?: string;
}

/**
 * The git repository of a target, when the target folder is the top level of a git work tree; undefined for
 * a folder that is not in a repository or lies inside a larger one. A folder with a `.git` that git refuses
 * to read (e.g. "dubious ownership") is an error naming git's reason, never silently "not a repository".
 */
export async function targetRepo(target: ResolvedTarget): Promise<TargetRepo | undefined> {
  // git finds a work tree by a `.git` in the folder or one of its parents (the variables that point it
  // elsewhere are cleared for it): with none there, git is not asked.
  if (!gitEntryAbove(target.absPath)) return undefined;
  const r = await run(target.absPath, ['rev-parse', '--show-toplevel']);
  if (r.code !== 0) {
    if (lstatSyncOrUndefined(path.join(target.absPath, '.git'))) {
      throw new SyncordError(`git cannot read the repository of target "${target.name}" (${target.absPath}): ${gitMessage(r)}`, 'io');
    }
    return undefined;
  }
  const top = r.stdout.trim();
  if (!top || !sameFolder(top, target.absPath)) return undefined;
  const headR = await run(target.absPath, ['rev-parse', '--verify', '-q', 'HEAD']);
  const head = headR.code === 0 ? headR.stdout.trim() : undefined;
  const sym = await run(target.absPath, ['symbolic-ref', '-q', '--short', 'HEAD']);
  return { root: target.absPath, head, branch: sym.code === 0 ? sym.stdout.trim() : undefined };
}

/** Whether a `.git` (folder or file) is in `dir` or one of its parents. */
function gitEntryAbove(dir: string): boolean {
  for (let d = path.resolve(dir); ; ) {
    try {
      if (lstatSyncOrUndefined(path.join(d, '.git'))) return true;
    } catch {
      return true; // (a folder that cannot be looked into: git is asked)
    }
    const up = path.dirname(d);
    if (up === d) return false;
    d = up;
  }
}

function sameFolder(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return fs.realpathSync.native(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
}

/** The paths (relative to the target root, POSIX) a plan writes or deletes; files whose time only is set are not among them. */
export function plannedPaths(plan: SyncPlan): { written: string[]; deleted: string[] } {
  const written: string[] = [];
  const deleted: string[] = [];
  for (const c of plan.components) {
    // (`merges`: files a three-way merge writes)
    for (const rel of [...c.adds, ...c.updates, ...c.merges]) written.push(joinRel(c.destination, rel));
    for (const rel of c.deletes) deleted.push(joinRel(c.destination, rel));
  }
  for (const c of plan.configs) if (c.changed) written.push(c.destination);
  return { written, deleted };
}

export interface DirtyPath {
  path: string;
  /** modified | staged | deleted | untracked | unmerged */
  state: string;
}

function stateOf(xy: string): string {
  if (xy === '??') return 'untracked';
  if (xy.includes('U') || xy === 'AA' || xy === 'DD') return 'unmerged';
  if (xy.includes('D')) return 'deleted';
  if (xy[1] === ' ') return 'staged';
  return 'modified';
}

/** Uncommitted changes (index or work tree against HEAD, untracked files not ignored) under some paths of a repository. */
async function uncommitted(root: string, pathspecs: string[]): Promise<DirtyPath[]> {
  if (!pathspecs.length) return [];
  const out = await must(root, ['-c', 'core.quotepath=off', 'status', '--porcelain', '-z', '--no-renames', '--untracked-files=all', '--ignore-submodules=none', '--', ...pathspecs], 'git status', { env: { GIT_OPTIONAL_LOCKS: '0' } });
  const list: DirtyPath[] = [];
  for (const entry of out.split('\0')) if (entry.length > 3) list.push({ path: entry.slice(3), state: stateOf(entry.slice(0, 2)) });
  return list;
}

/** The folders (or single files) the plan's components and changed config files live in, as pathspecs. */
function planSpecs(plan: SyncPlan): string[] {
  const specs = new Set<string>();
  for (const c of plan.components) if (c.adds.length || c.updates.length || c.deletes.length) specs.add(c.destination);
  for (const c of plan.configs) if (c.changed) specs.add(c.destination);
  return [...specs];
}

export interface DirtyCheck {
  /** Whether the target is a git repository (false: nothing was checked). */
  repository: boolean;
  /** Paths the plan writes or deletes that have uncommitted changes in the target's repository. */
  paths: DirtyPath[];
}

/**
 * Which of the paths a sync plan would write or delete have uncommitted changes in the target's repository:
 * modified or staged, deleted, unmerged, or untracked and not ignored. A target that is not a git repository
 * (or lies inside a larger one) has none.
 */
export async function dirtySyncedPaths(target: ResolvedTarget, plan: SyncPlan): Promise<DirtyCheck> {
  const repo = await targetRepo(target);
  if (!repo) return { repository: false, paths: [] };
  const { written, deleted } = plannedPaths(plan);
  const touched = new Set([...written, ...deleted]);
  if (!touched.size) return { repository: true, paths: [] };
  const status = await uncommitted(repo.root, planSpecs(plan));
  // (a path both staged as deleted and present untracked is listed once)
  const seen = new Set<string>();
  const paths = status.filter((d) => touched.has(d.path) && !seen.has(d.path) && !!seen.add(d.path));
  return { repository: true, paths: paths.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/** Paths, the first ten of them, for a message. */
export function listPaths(paths: DirtyPath[] | string[], max = 10): string {
  const shown = paths.slice(0, max).map((p) => (typeof p === 'string' ? p : `${p.path} (${p.state})`));
  return shown.join(', ') + (paths.length > max ? `, and ${paths.length - max} more` : '');
}

/** The refusal to sync over uncommitted changes, naming the paths and how to go on. */
export function dirtyRefusal(target: ResolvedTarget, dirty: DirtyPath[]): SyncordError {
  return new SyncordError(
    `${plural(dirty.length, 'file the sync of target "' + target.name + '" would write or delete has', 'files the sync of target "' + target.name + '" would write or delete have')} uncommitted changes in its git repository ${target.absPath}: ${listPaths(dirty)}. Nothing was written. Commit or stash them in the target first, or sync with --allow-dirty to overwrite them (the pre-sync backup keeps their current content).`,
    'conflict',
  );
}

/** A git operation left in progress in the repository (a commit now would mix with it), or undefined. */
async function operationInProgress(root: string): Promise<string | undefined> {
  const marks: [string, string][] = [
    ['MERGE_HEAD', 'a merge'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase or am'],
  ];
  const out = await must(root, ['rev-parse', ...marks.flatMap(([m]) => ['--git-path', m])], 'git rev-parse');
  const files = out.split('\n').filter(Boolean);
  for (let i = 0; i < marks.length; i++) {
    const p = files[i];
    if (p && lstatSyncOrUndefined(path.resolve(root, p))) return marks[i][1];
  }
  return undefined;
}

/** What `sync run --commit` checked in a target before anything is written. */
export interface CommitPreparation {
  target: string;
  /** undefined: the target is not a git repository (nothing will be committed). */
  repo?: TargetRepo;
  /** Why nothing will be committed in this target. */
  reason?: string;
  /** The branch to create and switch to before syncing (not yet the current one). */
  createBranch?: string;
}

/**
 * Checks, before a sync writes anything, that its changes can be committed in the target: the target is a
 * git repository (`required`: otherwise a refusal; else it is only reported), no merge, rebase or
 * cherry-pick is in progress, and `branch` (when given) is a valid new branch name or already the current
 * branch. An existing branch that is not the current one is refused: Syncord never switches to it (that
 * would change the user's files) and never moves it.
 */
export async function prepareCommit(target: ResolvedTarget, opts: { branch?: string; required?: boolean } = {}): Promise<CommitPreparation> {
  const repo = await targetRepo(target);
  if (!repo) {
    const reason = `the folder of target "${target.name}" (${target.absPath}) is not the top level of a git repository`;
    if (opts.required) throw new SyncordError(`cannot commit: ${reason}; nothing was written. Sync without --commit, or make the folder a git repository (git init).`, 'conflict');
    return { target: target.name, reason };
  }
  const op = await operationInProgress(repo.root);
  if (op) throw new SyncordError(`cannot commit in target "${target.name}": ${op} is in progress in ${repo.root}; nothing was written. Finish or abort it first.`, 'conflict');
  const prep: CommitPreparation = { target: target.name, repo };
  if (opts.branch !== undefined) {
    const b = opts.branch;
    const valid = !b.startsWith('-') && (await run(repo.root, ['check-ref-format', '--branch', b])).code === 0;
    if (!valid) throw new SyncordError(`invalid branch name "${b}"`, 'usage');
    if (repo.branch === b) return prep;
    const exists = await run(repo.root, ['show-ref', '--verify', '--quiet', `refs/heads/${b}`]);
    if (exists.code === 0) {
      throw new SyncordError(`branch "${b}" already exists in target "${target.name}" and is not the current branch (${repo.branch ?? 'detached HEAD'}); nothing was written. Switch to it yourself, or choose a new branch name.`, 'conflict');
    }
    prep.createBranch = b;
  }
  return prep;
}

/** An empty folder for `core.hooksPath` (no hook runs) and the temporary index; removed by the caller. */
function scratch(): { dir: string; hooks: string; index: string; done: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-git-'));
  const hooks = path.join(dir, 'no-hooks');
  fs.mkdirSync(hooks);
  return { dir, hooks, index: path.join(dir, 'index'), done: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Creates the prepared branch at the target's HEAD and switches to it (`git switch -c`: no file changes). */
export async function switchToNewBranch(prep: CommitPreparation): Promise<void> {
  if (!prep.repo || !prep.createBranch) return;
  const s = scratch();
  try {
    await must(prep.repo.root, ['-c', `core.hooksPath=${s.hooks}`, 'switch', '-q', '-c', prep.createBranch], 'git switch -c');
  } finally {
    s.done();
  }
  prep.repo.branch = prep.createBranch;
}

export interface SyncCommit {
  target: string;
  /**
   * committed; nothing (the sync changed no file git would commit); failed (git refused, e.g. no identity:
   * the synced files are left uncommitted); not-a-repository.
   */
  status: 'committed' | 'nothing' | 'failed' | 'not-a-repository';
  /** The new commit. */
  commit?: string;
  /** The branch it is on (undefined: detached HEAD). */
  branch?: string;
  /** The branch `--branch` created for it. */
  createdBranch?: string;
  /** The paths in the commit (relative to the target root). */
  paths: string[];
  message?: string;
  /** Why nothing was committed, or git's message when it failed. */
  reason?: string;
}

/** The version of the main project a commit was synced from: `git describe --tags --always <commit>`. */
async function mainVersion(paths: WorkspacePaths, commit: string | undefined): Promise<string | undefined> {
  if (!commit) return undefined;
  return (await mainGit(paths.root, ['describe', '--tags', '--always', commit], { allowFail: true })).trim() || undefined;
}

/** What a sync commit says: the main project (folder name), its version and full commit, and per component what changed. */
export function syncCommitMessage(mainName: string, version: string | undefined, plan: SyncPlan): string {
  const from = plan.commit ? `${mainName} ${version ?? plan.commit.slice(0, 12)}` : `${mainName} (not a git repository)`;
  const L = [`Sync ${from}`, ''];
  L.push(plan.commit ? `Synchronized from ${mainName} ${version ?? '(no tag)'}, commit ${plan.commit}.` : `Synchronized from ${mainName}, which is not a git repository (no commit).`);
  const dirty = Object.keys(plan.dirty ?? {});
  if (dirty.length) L.push(`Includes ${plural(dirty.length, 'file')} with uncommitted changes in ${mainName}.`);
  L.push('');
  for (const c of plan.components) {
    const w = c.adds.length + c.updates.length + c.merges.length;
    const d = c.deletes.length;
    if (!w && !d) continue;
    L.push(`${c.name}: ${[w ? `${w} written` : '', d ? `${d} deleted` : ''].filter(Boolean).join(', ')}`);
  }
  for (const c of plan.configs) if (c.changed) L.push(`config ${c.name}: ${c.created ? 'created' : 'merged'}`);
  return L.join('\n') + '\n';
}

/**
 * Commits exactly the paths a successful sync wrote or deleted, in the target's repository, on its current
 * branch: a temporary index made from HEAD gets those paths (ignored files left out), git commits it with the
 * repository's own identity and no hooks, and the real index is then brought up to the new commit for those
 * paths only. Whatever else the user had changed, staged or not, stays as it was. A failure of git (no
 * identity, a locked index) is returned as `failed` with git's message; the synced files stay in place.
 */
export async function commitSync(paths: WorkspacePaths, target: ResolvedTarget, result: SyncResult, prep: CommitPreparation): Promise<SyncCommit> {
  const base: SyncCommit = { target: target.name, status: 'not-a-repository', paths: [], ...(prep.createBranch ? { createdBranch: prep.createBranch } : {}) };
  if (!prep.repo) return { ...base, reason: prep.reason };
  if (!result.ok || result.dryRun) throw new SyncordError(`the sync of target "${target.name}" did not complete; nothing to commit`, 'usage');
  const root = prep.repo.root;
  const { written, deleted } = plannedPaths(result.plan);
  const nothing = (reason: string): SyncCommit => ({ ...base, status: 'nothing', branch: prep.repo!.branch, reason });
  if (!written.length && !deleted.length) return nothing('the sync changed no files');
  const s = scratch();
  try {
    return await commitPaths(paths, root, result, prep, base, s, written, deleted);
  } catch (e) {
    // The sync is done: a failure here is reported with it, never in its place.
    return { ...base, status: 'failed', branch: prep.repo.branch, reason: e instanceof Error ? e.message : String(e) };
  } finally {
    s.done();
  }
}

async function commitPaths(
  paths: WorkspacePaths,
  root: string,
  result: SyncResult,
  prep: CommitPreparation,
  base: SyncCommit,
  s: { hooks: string; index: string },
  written: string[],
  deleted: string[],
): Promise<SyncCommit> {
  const nothing = (reason: string): SyncCommit => ({ ...base, status: 'nothing', branch: prep.repo!.branch, reason });
  const idx = { GIT_INDEX_FILE: s.index };
  const head = (await run(root, ['rev-parse', '--verify', '-q', 'HEAD'])).stdout.trim() || undefined;
  await must(root, head ? ['read-tree', head] : ['read-tree', '--empty'], 'git read-tree', { env: idx });
  // Written files that git ignores (and does not track) are not committed, as `git add` would not.
  const present = written.filter((p) => lstatSyncOrUndefined(path.join(root, p)));
  // (check-ignore takes plain paths on stdin and refuses the literal-pathspec switch)
  const ign = await run(root, ['check-ignore', '--stdin', '-z'], { input: nul(present), env: { ...idx, GIT_LITERAL_PATHSPECS: '0' } });
  if (ign.code > 1) throw new SyncordError(`git check-ignore failed in ${root}: ${gitMessage(ign)}`, 'io');
  const ignored = new Set(ign.stdout.split('\0').filter(Boolean));
  const toAdd = present.filter((p) => !ignored.has(p));
  const gone = [...deleted, ...written.filter((p) => !present.includes(p))];
  if (toAdd.length) await must(root, ['add', '--pathspec-from-file=-', '--pathspec-file-nul'], 'git add', { input: nul(toAdd), env: idx });
  if (gone.length) await must(root, ['rm', '-q', '--cached', '--ignore-unmatch', '--pathspec-from-file=-', '--pathspec-file-nul'], 'git rm --cached', { input: nul(gone), env: idx });
  const diff = await run(root, ['diff', '--cached', '--name-only', '-z', '--no-renames', ...(head ? [head] : [])], { env: idx });
  if (diff.code !== 0) throw new SyncordError(`git diff failed in ${root}: ${gitMessage(diff)}`, 'io');
  const changed = diff.stdout.split('\0').filter(Boolean);
  if (!changed.length) {
    return nothing(ignored.size ? `${ignored.size === 1 ? 'the written file is' : `the ${ignored.size} written files are`} ignored by git in the target, and nothing else changed` : 'the files the sync wrote are already committed as they are');
  }
  const version = result.recorded?.sync_version ?? (await mainVersion(paths, result.plan.commit));
  const message = syncCommitMessage(path.basename(paths.root), version, result.plan);
  const c = await run(root, ['-c', `core.hooksPath=${s.hooks}`, 'commit', '-q', '--no-edit', '-F', '-'], { input: message, env: idx });
  if (c.code !== 0) {
    return { ...base, status: 'failed', branch: prep.repo!.branch, paths: changed, message, reason: `git commit failed in ${root}: ${gitMessage(c)}` };
  }
  const commit = (await must(root, ['rev-parse', 'HEAD'], 'git rev-parse')).trim();
  // The user's index: those paths as in the new commit; every other entry untouched.
  const reset = await run(root, ['reset', '-q', '--pathspec-from-file=-', '--pathspec-file-nul'], { input: nul(changed) });
  const out: SyncCommit = { ...base, status: 'committed', commit, branch: prep.repo!.branch, paths: changed, message };
  if (reset.code !== 0) out.reason = `committed, but git could not update the index for those paths (${gitMessage(reset)}); \`git status\` may show them staged until you run: git reset -q -- <paths>`;
  return out;
}

// ── Tags ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface TargetGitTag {
  name: string;
  /** created; already-tagged (the tag exists at HEAD); skipped (see reason); not-a-repository. */
  status: 'created' | 'already-tagged' | 'skipped' | 'not-a-repository';
  tag: string;
  /** The commit the tag points at (HEAD of the target). */
  commit?: string;
  reason?: string;
}

export interface RepoTagResult extends TagResult {
  /** Per target recorded in `tagged`: what happened to the git tag in its repository. */
  git: TargetGitTag[];
}

/**
 * The files sync manages in a target that have uncommitted changes: under mirror components every selected
 * path, under update components the paths the main project has, and the config files.
 */
export async function dirtyManagedPaths(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, repo: TargetRepo): Promise<DirtyPath[]> {
  const sel = selectComponents(paths, rules, target);
  const status = await uncommitted(repo.root, [...sel.components.map((c) => c.destination), ...sel.configs.map((c) => c.destination)]);
  return status.filter((d) => {
    if (sel.configs.some((c) => c.destination === d.path)) return true;
    for (const c of sel.components) {
      const rel = c.kind === 'file' ? (d.path === c.destination ? '' : undefined) : d.path.startsWith(c.destination + '/') ? d.path.slice(c.destination.length + 1) : undefined;
      if (rel === undefined) continue;
      if (c.kind === 'dir' && !c.selects(rel)) return false;
      return c.mode === 'mirror' || !!lstatSyncOrUndefined(joinRel(c.sourceAbs, rel))?.isFile();
    }
    return false;
  });
}

type TagPlan = { target: ResolvedTarget; repo?: TargetRepo; existing?: string; problem?: string };

async function tagPlanOf(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, tag: string): Promise<TagPlan> {
  const repo = await targetRepo(target);
  if (!repo) return { target };
  if (!repo.head) return { target, repo, problem: 'the repository has no commit yet' };
  const ex = await run(repo.root, ['rev-parse', '--verify', '-q', `refs/tags/${tag}^{commit}`]);
  const existing = ex.code === 0 ? ex.stdout.trim() : undefined;
  if (existing && existing !== repo.head) return { target, repo, existing, problem: `tag ${tag} already exists at ${existing.slice(0, 12)}, not at HEAD (${repo.head.slice(0, 12)}); it was not moved` };
  if (existing) return { target, repo, existing };
  const dirty = await dirtyManagedPaths(paths, rules, target, repo);
  if (dirty.length) {
    return { target, repo, problem: `${plural(dirty.length, 'synced file has', 'synced files have')} uncommitted changes, so HEAD does not hold the sync: ${listPaths(dirty)}; commit them (or sync with: syncord sync run --target ${target.name} --commit) and tag again` };
  }
  return { target, repo };
}

/**
 * `target tag`: records the version as the `sync_version` of synchronized targets (`tagTargets`) and, in each
 * tagged target that is a git repository, creates the annotated git tag `<version>` at its HEAD ("Synchronized
 * with <main project> <version> (<commit>)"), with the repository's own identity and no hooks. A tag that
 * already exists at HEAD is left as it is ("already tagged"); one at another commit is never moved: for a named
 * target that is a refusal before anything is recorded, with `'all'` the target is reported as skipped. A
 * target whose synced files have uncommitted changes (HEAD does not hold the sync) gets no git tag.
 */
export async function tagTargetsAndRepos(paths: WorkspacePaths, rules: SyncRules, which: string[] | 'all', version: string): Promise<RepoTagResult> {
  const v = version.trim();
  const scope = which === 'all' ? await listTargets(paths) : await Promise.all(which.map((n) => getTarget(paths, n)));
  const repos = await Promise.all(scope.map(async (t) => ({ t, repo: await targetRepo(t) })));
  if (v && repos.some((r) => r.repo) && (v.startsWith('-') || (await run(paths.root, ['check-ref-format', `refs/tags/${v}`])).code !== 0)) {
    throw new SyncordError(`"${v}" cannot be a git tag name (see git check-ref-format); the targets that are git repositories are tagged in git too`, 'usage');
  }
  if (which !== 'all' && v) {
    for (const { t } of repos) {
      const p = await tagPlanOf(paths, rules, t, v);
      if (p.existing && p.problem) throw new SyncordError(`cannot tag target "${t.name}": ${p.problem}; nothing was recorded. Choose another version, or move the tag yourself.`, 'conflict');
    }
  }
  const recorded = await tagTargets(paths, rules, which, version);
  const out: RepoTagResult = { ...recorded, git: [] };
  for (const name of recorded.tagged) {
    const target = await getTarget(paths, name);
    const p = await tagPlanOf(paths, rules, target, recorded.version);
    const base = { name, tag: recorded.version };
    if (!p.repo) {
      out.git.push({ ...base, status: 'not-a-repository', reason: 'not the top level of a git repository; only sync_version was recorded' });
    } else if (p.problem) {
      out.git.push({ ...base, status: 'skipped', commit: p.repo.head, reason: p.problem });
    } else if (p.existing) {
      out.git.push({ ...base, status: 'already-tagged', commit: p.existing });
    } else {
      const synced = target.last_sync_commit ?? undefined;
      const mainV = await mainVersion(paths, synced);
      const message = `Synchronized with ${path.basename(paths.root)} ${mainV ?? ''}${synced ? ` (${synced})` : ''}`.replace(/\s+/g, ' ').trim() + '\n';
      const s = scratch();
      try {
        const r = await run(p.repo.root, ['-c', `core.hooksPath=${s.hooks}`, 'tag', '-a', '-F', '-', recorded.version, p.repo.head!], { input: message });
        if (r.code !== 0) out.git.push({ ...base, status: 'skipped', commit: p.repo.head, reason: `git tag failed: ${gitMessage(r)}` });
        else out.git.push({ ...base, status: 'created', commit: p.repo.head });
      } finally {
        s.done();
      }
    }
  }
  return out;
}
