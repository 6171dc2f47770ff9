/**
 * A separate process for the lock and crash tests.
 *   node lockWorker.js hold <file>                 take the lock, print "held", keep it until killed
 *   node lockWorker.js take <file> <holdMs>        take the lock (waiting), hold it, print {from, to, tookOver}
 *   node lockWorker.js write <file> <tag> <count>  append items <tag>-0, <tag>-1, ... one change at a time,
 *                                                  alternating combined and classic writes; prints "ready"
 *                                                  after the first (count 0: forever)
 */
import { z } from 'zod';
import { CombinedFile, submitOperation } from '../../../src/core/store/combine';
import { updateOne } from './update';
import { acquireLock } from '../../../src/core/store/lock';

const schema = z.looseObject({ items: z.array(z.string()) });

function listFile(file: string): CombinedFile<{ items: string[] }> {
  return {
    spec: { file, schema },
    operations: {
      push: (draft, input: { item: string }) => {
        draft.items.push(input.item);
        return draft.items.length;
      },
    },
  };
}

async function main(): Promise<void> {
  const [mode, file, a, b] = process.argv.slice(2);
  if (mode === 'hold') {
    await acquireLock(file);
    process.stdout.write('held\n');
    setInterval(() => undefined, 1000);
    return;
  }
  if (mode === 'take') {
    const lock = await acquireLock(file, { waitMs: 20_000 });
    const from = Date.now();
    await new Promise((r) => setTimeout(r, Number(a)));
    const to = Date.now();
    await lock.release();
    process.stdout.write(JSON.stringify({ from, to, tookOver: lock.tookOver }) + '\n');
    return;
  }
  if (mode === 'write') {
    const target = listFile(file);
    const count = Number(b) || Infinity;
    for (let i = 0; i < count; i++) {
      const item = `${a}-${i}`;
      if (i % 2 === 0) await submitOperation(target, 'push', { item }, new Date().toISOString(), { waitMs: 20_000 });
      else await updateOne({ file, schema }, (v) => v.items.push(item), { waitMs: 20_000 });
      if (i === 0) process.stdout.write('ready\n');
    }
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exitCode = 1;
});
