/**
 * Writes the JSON Schemas of the coordination files to schemas/ from their zod definitions
 * (src/core/coordination/schemas.ts). The extension registers them through `contributes.jsonValidation`, so
 * VS Code validates and completes the files as people and agents edit them.
 *
 *   npm run schemas            regenerate
 *   npm run schemas -- --check exit 1 when schemas/ is out of date
 */
import * as fs from 'fs';
import * as path from 'path';
import { coordinationJsonSchemas } from '../src/core/coordination/schemas';
import { sessionsJsonSchema } from '../src/core/sessions/schema';

/** The project root: above this script (scripts/ or out/scripts/), else the current folder. */
function projectRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'package.json')) && fs.existsSync(path.join(d, 'src', 'core'))) return d;
  }
  if (fs.existsSync(path.join(process.cwd(), 'src', 'core'))) return process.cwd();
  throw new Error('cannot find the project root; run this from the project folder');
}

export function renderSchemas(): Record<string, string> {
  const all = { ...coordinationJsonSchemas(), 'sessions.schema.json': sessionsJsonSchema() };
  return Object.fromEntries(Object.entries(all).map(([name, schema]) => [name, JSON.stringify(schema, null, 2) + '\n']));
}

function main(): void {
  const dir = path.join(projectRoot(), 'schemas');
  const check = process.argv.includes('--check');
  let stale = 0;
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(renderSchemas())) {
    const file = path.join(dir, name);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === text) continue;
    stale++;
    if (check) console.error(`schemas/${name} is out of date; run npm run schemas`);
    else {
      fs.writeFileSync(file, text);
      console.log(`wrote schemas/${name}`);
    }
  }
  if (check && stale) process.exitCode = 1;
}

if (require.main === module) main();
