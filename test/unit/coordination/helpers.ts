import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyncordError } from '../../../src/core/errors';
import { initCoordination } from '../../../src/core/coordination/init';
import { CoordinationStore } from '../../../src/core/coordination/store';

/** The project root: the nearest folder above the compiled test holding test/fixtures, else the current folder. */
export const PROJECT_ROOT = (() => {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'test', 'fixtures', 'seed004')) && fs.existsSync(path.join(d, 'package.json'))) return d;
  }
  return process.cwd();
})();

export const SEED_DIR = path.join(PROJECT_ROOT, 'test', 'fixtures', 'seed004');

export interface TestWorkspace {
  root: string;
  dir: string;
  store: CoordinationStore;
  /** Moves the store's clock. */
  setNow(iso: string): void;
  read(name: string): string;
  write(name: string, text: string): void;
  dispose(): void;
}

/** A temporary workspace whose coordination folder holds the seed's four files (or fresh empty ones). */
export async function workspace(opts: { seed?: boolean; now?: string } = {}): Promise<TestWorkspace> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-coord-'));
  const dir = path.join(root, 'coordination');
  let now = new Date(opts.now ?? '2024-01-15T12:00:00Z');
  try {
    if (opts.seed === false) await initCoordination(dir, now);
    else {
      fs.mkdirSync(dir);
      for (const f of fs.readdirSync(SEED_DIR)) fs.copyFileSync(path.join(SEED_DIR, f), path.join(dir, f));
    }
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const store = new CoordinationStore(dir, { clock: { now: () => now } });
  return {
    root,
    dir,
    store,
    setNow: (iso) => {
      now = new Date(iso);
    },
    read: (name) => fs.readFileSync(path.join(dir, name), 'utf8'),
    write: (name, text) => fs.writeFileSync(path.join(dir, name), text),
    dispose: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

export async function refusal(p: Promise<unknown>): Promise<SyncordError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SyncordError) return e;
    throw e;
  }
  throw new Error('expected the operation to be refused');
}

/** The SyncordError a synchronous call throws (fails when it throws nothing or something else). */
export function refusalOf(fn: () => unknown): SyncordError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SyncordError) return e;
    throw new Error(`expected a SyncordError, got ${String(e)}`);
  }
  throw new Error('expected the call to be refused');
}

/** Snapshot of the folder's files' bytes (not Syncord's private .syncord folder), to prove a refused operation wrote nothing. */
export function snapshot(ws: TestWorkspace): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(ws.dir)
      .filter((f) => fs.statSync(path.join(ws.dir, f)).isFile())
      .sort()
      .map((f) => [f, ws.read(f)]),
  );
}
