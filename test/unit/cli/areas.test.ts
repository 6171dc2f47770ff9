// A verb loads only its own area of the CLI: the table in program.ts says which top-level verbs each area adds.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { AREAS, buildProgram, verbOf } from '../../../src/cli/program';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const DIST = path.join(ROOT, 'dist');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed004');

describe('CLI verb areas', () => {
  it('each area adds exactly the top-level verbs the table lists for it, and no verb is in two areas', async () => {
    const seen = new Map<string, string>();
    for (const area of AREAS) {
      const program = new Command('syncord');
      (await area.load())(program);
      const verbs = program.commands.map((c) => c.name()).sort();
      assert.deepEqual(verbs, [...area.verbs].sort(), `the area ${area.name} adds ${verbs.join(', ')}: update AREAS in src/cli/program.ts`);
      for (const v of verbs) {
        assert.ok(!seen.has(v), `${v} is in both ${seen.get(v)} and ${area.name}`);
        seen.set(v, area.name);
      }
    }
  });

  it('finds the verb after the root options and their values', () => {
    assert.equal(verbOf(['inbox']), 'inbox');
    assert.equal(verbOf(['--json', '-w', 'task', '--as', 'sync', 'task', 'list']), 'task');
    assert.equal(verbOf(['--workspace=x', '--coordination-dir', 'c', 'msg']), 'msg');
    assert.equal(verbOf(['--json']), undefined);
    assert.equal(verbOf(['--', 'mcp']), 'mcp');
  });

  it('builds only the area of the verb; help without a verb, or an unknown verb, gets the whole tree', async () => {
    const all = AREAS.flatMap((a) => a.verbs).sort();
    const names = async (argv?: string[]) => (await buildProgram(argv)).commands.map((c) => c.name()).sort();
    assert.deepEqual(await names(['--json', 'inbox']), AREAS.find((a) => a.name === 'coordination')!.verbs.slice().sort());
    assert.deepEqual(await names(['sync', '--help']), AREAS.find((a) => a.name === 'targets')!.verbs.slice().sort());
    assert.deepEqual(await names(['--help']), all);
    assert.deepEqual(await names(['no-such-verb']), all);
    assert.deepEqual(await names(), all);
  });

  it('the bundled `syncord inbox` and `task list` read only the coordination chunks, never the MCP server, the sync engine or zod', function () {
    if (!fs.existsSync(path.join(DIST, 'cli.js'))) assert.fail(`${DIST}/cli.js is missing: build with \`node esbuild.js\` first`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-areas-'));
    try {
      fs.mkdirSync(path.join(dir, 'coordination'));
      for (const f of fs.readdirSync(SEED)) fs.copyFileSync(path.join(SEED, f), path.join(dir, 'coordination', f));
      // Preloaded into the CLI's process: lists the files of dist/ it loaded when it exits.
      const hook = path.join(dir, 'loaded.js');
      fs.writeFileSync(hook, `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));\n`);
      const all = fs.readdirSync(path.join(DIST, 'chunks')).filter((f) => f.endsWith('.js'));
      const allBytes = all.reduce((n, f) => n + fs.statSync(path.join(DIST, 'chunks', f)).size, 0);
      for (const args of [['inbox', '--as', 'instance-2'], ['task', 'list', '--json']]) {
        const r = spawnSync(process.execPath, ['-r', hook, path.join(DIST, 'cli.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, SYNCORD_SESSION: '' } });
        assert.equal(r.status, 0, r.stderr);
        const loaded = (JSON.parse(/^LOADED (.*)$/m.exec(r.stderr)![1]) as string[]).filter((f) => f.startsWith(path.join(DIST, 'chunks') + path.sep)).map((f) => path.basename(f));
        assert.ok(loaded.some((f) => f.startsWith('coordination-')), `${args.join(' ')} loaded ${loaded.join(', ')}`);
        const others = loaded.filter((f) => /^(mcp|targets|sessions|trust)-/.test(f));
        assert.deepEqual(others, [], `${args.join(' ')} loaded other areas`);
        const bytes = loaded.reduce((n, f) => n + fs.statSync(path.join(DIST, 'chunks', f)).size, 0);
        assert.ok(bytes < allBytes / 2, `${args.join(' ')} read ${bytes} of the ${allBytes} bytes of dist/chunks`);
        // Valid files pass their generated checks: the schema library is not even read.
        const withZod = loaded.filter((f) => fs.readFileSync(path.join(DIST, 'chunks', f), 'utf8').includes('"$ZodType"'));
        assert.deepEqual(withZod, [], `${args.join(' ')} loaded zod`);
      }
      // A broken file loads the schemas to say what is wrong, where.
      const queue = path.join(dir, 'coordination', 'task-queue.json');
      fs.writeFileSync(queue, fs.readFileSync(queue, 'utf8').replace(/"created": "[^"]*"/, '"created": "yesterday"'));
      const r = spawnSync(process.execPath, [path.join(DIST, 'cli.js'), 'task', 'list', '--json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, SYNCORD_SESSION: '' } });
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /task-queue\.json:\d+:\d+: \w+_tasks\[\d+\]\.created: expected an ISO 8601 date or date-time/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
