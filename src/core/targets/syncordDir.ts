import * as fs from 'fs';
import * as path from 'path';
import { ChangedOnDiskError, writeFileAtomic } from '../store/atomic';
import { syncordDir, WorkspacePaths } from '../workspace';

/** Creates `.syncord/` with a `.gitignore` that keeps it out of git. */
export async function ensureSyncordDir(paths: WorkspacePaths): Promise<string> {
  const dir = syncordDir(paths);
  await fs.promises.mkdir(dir, { recursive: true });
  const ignore = path.join(dir, '.gitignore');
  if (!fs.existsSync(ignore)) {
    try {
      writeFileAtomic(ignore, '# Syncord backups and sync state (local only)\n*\n', { expect: null, fsync: false });
    } catch (e) {
      if (!(e instanceof ChangedOnDiskError)) throw e;
    }
  }
  return dir;
}
