import * as path from 'node:path';
import { PROJECT_ROOT } from '../coordination/helpers';

/** The stand-in `claude` and `opencode` executables (test/fixtures/runtimes). */
export const FAKES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'runtimes', 'bin');

/** Waits for a condition the agents bring about in their own processes (no fixed sleeps, no timing assertions). */
export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let value: T | undefined | false;
    try {
      value = probe();
    } catch {
      value = undefined;
    }
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
