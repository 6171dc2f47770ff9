import { execFile, spawn } from 'child_process';
import * as fs from 'fs';
import { SyncordError } from '../errors';

const GIT_ENV = () => ({ ...process.env, GIT_OPTIONAL_LOCKS: '0' });

/** Runs git in the main project and returns its standard output. */
export function git(cwd: string, args: string[], opts: { allowFail?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: GIT_ENV() }, (err, stdout, stderr) => {
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
    execFile('git', args, { cwd, maxBuffer: 1 << 30, encoding: 'utf8', env: GIT_ENV() }, (err, stdout) => {
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

/**
 * Runs git and hands each NUL-terminated field of its output to `onField` as it arrives (so the caller's
 * work overlaps git's output). Rejects like `git` when git fails.
 */
export function gitFields(cwd: string, args: string[], onField: (field: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd, env: GIT_ENV(), stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    let stderr = '';
    let failed: unknown;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (failed !== undefined) return;
      let text = rest + chunk;
      let start = 0;
      try {
        for (let end = text.indexOf('\0'); end >= 0; end = text.indexOf('\0', start)) {
          onField(text.slice(start, end));
          start = end + 1;
        }
      } catch (e) {
        failed = e;
        child.kill();
      }
      rest = start ? text.slice(start) : text;
      text = '';
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      if (stderr.length < 4096) stderr += c;
    });
    child.on('error', (err: NodeJS.ErrnoException) => {
      failed ??= new SyncordError(`git ${args[0]} failed in ${cwd}: ${err.message}`, err.code === 'ENOENT' ? 'io' : 'usage');
      reject(failed); // ('close' may not follow when git could not be started)
    });
    child.on('close', (code) => {
      if (failed !== undefined) return reject(failed);
      if (code !== 0) {
        const msg = (stderr || `exit code ${code}`).trim().split('\n')[0];
        return reject(new SyncordError(`git ${args.find((a) => !a.startsWith('-') && !a.includes('=')) ?? args[0]} failed in ${cwd}: ${msg}`, 'usage'));
      }
      if (rest) onField(rest);
      resolve();
    });
  });
}

/** A parser of `git diff --name-status -z` fields: call it with each field; it calls `emit` per change. */
export function nameStatusParser(emit: (change: GitChange) => void): (field: string) => void {
  let code: string | undefined;
  let oldPath: string | undefined;
  return (field) => {
    if (code === undefined) {
      if (field) code = field;
      return;
    }
    const letter = code[0] as ChangeStatus;
    if (letter === 'R' || letter === 'C') {
      if (oldPath === undefined) {
        oldPath = field;
        return;
      }
      emit({ status: letter, path: field, oldPath, similarity: Number.parseInt(code.slice(1), 10) || undefined });
      oldPath = undefined;
    } else {
      emit({ status: letter, path: field });
    }
    code = undefined;
  };
}

/**
 * Changes in the working tree since a commit, streamed: one `git diff --name-status -M <since>` (committed
 * and uncommitted changes to tracked files, renames found by git) and untracked files from
 * `git ls-files --others --exclude-standard`, run side by side. Without `since`, every tracked file is "A".
 */
export function streamChangesSince(
  cwd: string,
  since: string | undefined,
  pathspecs: string[],
  onTracked: (change: GitChange) => void,
  onUntracked: (change: GitChange) => void,
): Promise<void> {
  const spec = pathspecs.length ? ['--', ...pathspecs] : [];
  const tracked = since
    ? gitFields(cwd, ['-c', 'core.quotepath=off', 'diff', '--name-status', '-z', '-M', since, ...spec], nameStatusParser(onTracked))
    : gitFields(cwd, ['ls-files', '-z', ...spec], (p) => onTracked({ status: 'A', path: p }));
  const untracked = gitFields(cwd, ['ls-files', '-z', '--others', '--exclude-standard', ...spec], (p) => onUntracked({ status: '?', path: p }));
  untracked.catch(() => undefined);
  return Promise.all([tracked, untracked]).then(() => undefined);
}

/** `streamChangesSince`, collected: tracked changes first, then untracked files. */
export async function changesSince(cwd: string, since: string | undefined, pathspecs: string[] = []): Promise<GitChange[]> {
  const a: GitChange[] = [];
  const b: GitChange[] = [];
  await streamChangesSince(cwd, since, pathspecs, (c) => a.push(c), (c) => b.push(c));
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

const OID = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/;

/**
 * HEAD's commit id read from the files of a plain `.git` folder at `root` (detached HEAD, loose ref or packed
 * ref), without starting git; undefined when `root` has no `.git` folder of that shape (a linked worktree, a
 * subfolder of a repository, an unborn branch, another ref storage). Callers confirm it with git's own answer.
 */
export async function readHeadId(root: string): Promise<string | undefined> {
  const gitDir = `${root}/.git`;
  try {
    const head = (await fs.promises.readFile(`${gitDir}/HEAD`, 'utf8')).trim();
    if (OID.test(head)) return head;
    const m = /^ref: (refs\/[^\0\s]+)$/.exec(head);
    if (!m || m[1].includes('..')) return undefined;
    const loose = await fs.promises.readFile(`${gitDir}/${m[1]}`, 'utf8').catch(() => undefined);
    if (loose !== undefined) return OID.test(loose.trim()) ? loose.trim() : undefined;
    const packed = await fs.promises.readFile(`${gitDir}/packed-refs`, 'utf8').catch(() => '');
    for (const line of packed.split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0 && line.slice(sp + 1) === m[1] && OID.test(line.slice(0, sp))) return line.slice(0, sp);
    }
  } catch {
    // no readable .git/HEAD here
  }
  return undefined;
}

export interface WorkTreeStatus {
  /** HEAD's commit id as git saw it, or undefined before the first commit. */
  head?: string;
  /** Tracked paths whose index or working-tree state differs from HEAD (renames appear as both paths). */
  dirty: string[];
  /** Untracked files that are not ignored (every file, not only the folder). */
  untracked: string[];
}

/** One `git status --porcelain=v2 --branch -z --untracked-files=all --no-renames`, parsed as it streams. */
export async function workTreeStatus(cwd: string): Promise<WorkTreeStatus> {
  const st: WorkTreeStatus = { dirty: [], untracked: [] };
  let origPathNext = false;
  const pathAfter = (field: string, spaces: number): string => {
    let i = -1;
    for (let k = 0; k < spaces; k++) i = field.indexOf(' ', i + 1);
    return field.slice(i + 1);
  };
  await gitFields(cwd, ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all', '--no-renames'], (f) => {
    if (origPathNext) {
      origPathNext = false;
      st.dirty.push(f);
      return;
    }
    switch (f[0]) {
      case '#':
        if (f.startsWith('# branch.oid ')) {
          const id = f.slice('# branch.oid '.length);
          if (OID.test(id)) st.head = id;
        }
        break;
      case '1':
        st.dirty.push(pathAfter(f, 8));
        break;
      case '2':
        st.dirty.push(pathAfter(f, 9));
        origPathNext = true;
        break;
      case 'u':
        st.dirty.push(pathAfter(f, 10));
        break;
      case '?':
        st.untracked.push(f.slice(2));
        break;
    }
  });
  return st;
}
