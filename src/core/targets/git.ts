import { execFile } from 'child_process';
import { SyncordError } from '../errors';

/** Runs git in the main project and returns its standard output. */
export function git(cwd: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout, stderr) => {
      if (err) {
        if (opts.allowFail) return resolve('');
        const msg = (stderr || err.message).trim().split('\n')[0];
        return reject(new SyncordError(`git ${args[0]} failed in ${cwd}: ${msg}`, (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'io' : 'usage'));
      }
      resolve(stdout);
    });
  });
}

/** Runs git and returns its exit code and output; never rejects because git failed (only when it cannot start). */
export function gitResult(cwd: string, args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } }, (err, stdout) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new SyncordError(`git is not installed or not on PATH (needed in ${cwd})`, 'io'));
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code?: number }).code as number) : 1) : 0, stdout });
    });
  });
}

/** Whether `cwd` is inside a git work tree and its HEAD commit (undefined before the first commit), in one process. */
export async function repoState(cwd: string): Promise<{ repo: boolean; head?: string }> {
  const r = await gitResult(cwd, ['rev-parse', '--is-inside-work-tree', '--verify', '-q', 'HEAD']);
  const [inside, head] = r.stdout.split('\n');
  if (inside !== 'true') return { repo: false };
  return r.code === 0 && /^[0-9a-f]{40,64}$/.test(head ?? '') ? { repo: true, head } : { repo: true };
}

export async function isGitRepo(cwd: string): Promise<boolean> {
  return (await git(cwd, ['rev-parse', '--is-inside-work-tree'], { allowFail: true })).trim() === 'true';
}

/** The full commit id of a revision, or undefined when it does not name a commit. */
export async function resolveCommit(cwd: string, rev: string): Promise<string | undefined> {
  if (!rev || rev.startsWith('-')) return undefined;
  const out = (await git(cwd, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { allowFail: true })).trim();
  return out || undefined;
}

export async function headCommit(cwd: string): Promise<string | undefined> {
  return resolveCommit(cwd, 'HEAD');
}

/** `git describe --tags --always` of the main project (the recorded `sync_version`). */
export async function describeVersion(cwd: string): Promise<string | undefined> {
  return (await git(cwd, ['describe', '--tags', '--always'], { allowFail: true })).trim() || undefined;
}

export type ChangeStatus = 'A' | 'M' | 'D' | 'R' | 'C' | 'T' | 'U' | '?';

export interface GitChange {
  status: ChangeStatus;
  /** Path relative to the main project root (POSIX separators). For renames, the new path. */
  path: string;
  /** For renames and copies: the old path. */
  oldPath?: string;
  /** Rename/copy similarity, percent. */
  similarity?: number;
}

/** Parses `git diff --name-status -z` output. */
export function parseNameStatus(out: string): GitChange[] {
  const parts = out.split('\0');
  const changes: GitChange[] = [];
  for (let i = 0; i < parts.length; ) {
    const code = parts[i++];
    if (!code) continue;
    const letter = code[0] as ChangeStatus;
    if (letter === 'R' || letter === 'C') {
      const oldPath = parts[i++];
      const newPath = parts[i++];
      changes.push({ status: letter, path: newPath, oldPath, similarity: Number.parseInt(code.slice(1), 10) || undefined });
    } else {
      changes.push({ status: letter, path: parts[i++] });
    }
  }
  return changes;
}

/**
 * Changes in the working tree since a commit: one `git diff --name-status -M <since>` (committed and
 * uncommitted changes to tracked files, renames found by git) and untracked files from
 * `git ls-files --others --exclude-standard`, run side by side. Without `since`, every tracked file is "A".
 */
export async function changesSince(cwd: string, since: string | undefined, pathspecs: string[] = []): Promise<GitChange[]> {
  const spec = pathspecs.length ? ['--', ...pathspecs] : [];
  const tracked = since
    ? git(cwd, ['-c', 'core.quotepath=off', 'diff', '--name-status', '-z', '-M', since, ...spec]).then(parseNameStatus)
    : git(cwd, ['ls-files', '-z', ...spec]).then((o) => splitZ(o).map((p): GitChange => ({ status: 'A', path: p })));
  const untracked = git(cwd, ['ls-files', '-z', '--others', '--exclude-standard', ...spec]).then((o) =>
    splitZ(o).map((p): GitChange => ({ status: '?', path: p })),
  );
  const [a, b] = await Promise.all([tracked, untracked]);
  return a.concat(b);
}

/**
 * Paths that differ from HEAD in the index or the working tree, plus untracked files (not ignored), from one
 * `git status --porcelain -z --no-renames`: a rename shows as its old path deleted and its new path added.
 */
export async function dirtyPaths(cwd: string, pathspecs: string[] = []): Promise<GitChange[]> {
  const out = await git(cwd, ['-c', 'core.quotepath=off', 'status', '--porcelain', '-z', '--no-renames', '--untracked-files=all', ...(pathspecs.length ? ['--', ...pathspecs] : [])]);
  const changes: GitChange[] = [];
  for (const entry of splitZ(out)) {
    if (entry.length < 4) continue;
    const xy = entry.slice(0, 2);
    const p = entry.slice(3);
    changes.push({ status: xy === '??' ? '?' : ((xy[0] !== ' ' ? xy[0] : xy[1]) as ChangeStatus), path: p });
  }
  return changes;
}

function splitZ(out: string): string[] {
  const parts = out.split('\0');
  if (parts.length && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
