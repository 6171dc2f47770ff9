import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { git, gitResult } from '../targets/git';

/** Where an instance's worktree goes: `<folder>/<instance>`, the folder defaulting to `../<workspace>.worktrees`. */
export function worktreePathFor(root: string, instance: string, folder?: string): string {
  const base = folder ? path.resolve(root, folder) : path.join(path.dirname(root), `${path.basename(root)}.worktrees`);
  return path.join(base, instance);
}

/**
 * A git worktree of the main project for an instance, on branch `syncord/<instance>` (created from HEAD when it
 * does not exist). An existing worktree of this repository at that path is reused.
 */
export async function ensureWorktree(root: string, instance: string, folder?: string): Promise<{ path: string; branch: string; created: boolean }> {
  const inside = await gitResult(root, ['rev-parse', '--is-inside-work-tree']);
  if (inside.code !== 0 || inside.stdout.trim() !== 'true') {
    throw new SyncordError(`${root} is not a git repository, so a worktree cannot be made for ${instance}; spawn without --worktree`, 'usage');
  }
  const head = await gitResult(root, ['rev-parse', '--verify', '-q', 'HEAD']);
  if (head.code !== 0) throw new SyncordError(`${root} has no commit yet; commit once before giving an instance its own worktree`, 'conflict');
  const dir = worktreePathFor(root, instance, folder);
  const branch = `syncord/${instance}`;
  const list = await git(root, ['worktree', 'list', '--porcelain']);
  const known = list.split('\n').filter((l) => l.startsWith('worktree ')).map((l) => path.resolve(l.slice(9)));
  if (known.includes(path.resolve(dir))) return { path: dir, branch, created: false };
  if (fs.existsSync(dir) && fs.readdirSync(dir).length) {
    throw new SyncordError(`${dir} exists and is not a worktree of ${root}; move it away or set syncord.sessions.worktreeFolder`, 'conflict', { file: dir });
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const hasBranch = (await gitResult(root, ['rev-parse', '--verify', '-q', `refs/heads/${branch}`])).code === 0;
  await git(root, hasBranch ? ['worktree', 'add', dir, branch] : ['worktree', 'add', '-b', branch, dir]);
  return { path: dir, branch, created: true };
}
