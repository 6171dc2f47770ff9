import * as fs from 'fs';
import * as path from 'path';
import { createFileOnce } from '../store/atomic';
import { syncordDir, WorkspacePaths } from '../workspace';

/** Creates `.syncord/` with a `.gitignore` that keeps it out of git. */
export async function ensureSyncordDir(paths: WorkspacePaths): Promise<string> {
  const dir = syncordDir(paths);
  await fs.promises.mkdir(dir, { recursive: true });
  const ignore = path.join(dir, '.gitignore');
  if (!fs.existsSync(ignore)) createFileOnce(ignore, '# Syncord backups and sync state (local only)\n*\n', { fsync: false });
  return dir;
}
