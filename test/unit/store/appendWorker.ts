/**
 * A separate process for the concurrency tests: appends `count` entries tagged `tag` to the `items` array of
 * a JSON file through the store, one locked update each. Usage: node appendWorker.js <file> <tag> <count>
 */
import { z } from 'zod';
import { updateOne } from './update';

const schema = z.looseObject({ items: z.array(z.string()) });

async function main(): Promise<void> {
  const [file, tag, count] = process.argv.slice(2);
  for (let i = 0; i < Number(count); i++) {
    await updateOne({ file, schema }, (v) => {
      v.items.push(`${tag}-${i}`);
    });
  }
}

main().catch((e) => {
  process.stderr.write(String(e) + '\n');
  process.exitCode = 1;
});
