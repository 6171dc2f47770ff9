// `npm run package` (scripts/package.js) produces a small .vsix holding only what VS Code needs, the extension and
// the CLI sharing one copy of their code, and the CLI in it runs as unpacked.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

const ROOT = path.resolve(__dirname, '..', '..', '..');

interface ZipEntry {
  name: string;
  data: () => Buffer;
}

/** Reads a zip's central directory (enough for a .vsix: stored or deflated entries). */
function readZip(file: string): ZipEntry[] {
  const buf = fs.readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  assert.ok(eocd >= 0, `${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    assert.equal(buf.readUInt32LE(p), 0x02014b50, 'corrupt central directory');
    const method = buf.readUInt16LE(p + 10);
    const compressed = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    entries.push({
      name,
      data: () => {
        const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
        const raw = buf.subarray(start, start + compressed);
        return method === 0 ? raw : zlib.inflateRawSync(raw);
      },
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

describe('npm run package', function () {
  this.timeout(120_000);
  let dir: string;
  let vsix: string;
  let names: string[];
  let entries: ZipEntry[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-vsix-'));
    vsix = path.join(dir, 'syncord.vsix');
    execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'package.js'), '--out', vsix], { cwd: ROOT, stdio: 'pipe' });
    entries = readZip(vsix);
    names = entries.map((e) => e.name);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // The budget: about 400 KB of compressed code in some 60 files (Syncord's own, zod, the MCP SDK, commander,
  // markdown-it: each CLI verb area and each library loaded on demand is a chunk of its own, compressed apart), 60 KB
  // of codicon font for the webview, 50 KB of manifest, README and schemas. A library bundled whole by mistake (zod's
  // locales: 250 KB, ajv: 130 KB) goes over it.
  it('makes a .vsix smaller than 560 KB, its extension.js smaller than 500 KB', () => {
    assert.ok(fs.statSync(vsix).size < 560 * 1024, `the .vsix is ${fs.statSync(vsix).size} bytes`);
    const ext = entries.find((e) => e.name === 'extension/dist/extension.js')!.data();
    assert.ok(ext.length < 500 * 1024, `extension.js is ${ext.length} bytes`);
  });

  /**
   * The files of dist/ that `file` loads, itself included, following its `require("./…")` calls and the
   * `__dirname + "/…"` paths of the modules it requires only when needed (esbuild.js, `lazyModules`).
   */
  function loads(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file)) return seen;
    seen.add(file);
    const entry = entries.find((e) => e.name === file);
    assert.ok(entry, `${file} is required but missing from the .vsix`);
    const code = entry.data().toString('utf8');
    for (const m of code.matchAll(/require\(\s*"(\.\.?\/[^"]+)"\s*\)|__dirname\s*\+\s*"\/([^"]+\.js)"/g)) {
      loads(path.posix.join(path.posix.dirname(file), m[1] ?? m[2]), seen);
    }
    return seen;
  }

  it('ships the code the extension and the CLI share once: the CLI verbs load the chunks the extension loads', () => {
    const extension = loads('extension/dist/extension.js');
    const cli = new Set<string>();
    for (const f of names.filter((n) => /^extension\/dist\/chunks\/(coordination|targets|sessions)-[^/]+\.js$/.test(n))) loads(f, cli);
    const shared = [...extension].filter((f) => cli.has(f));
    assert.ok(shared.length >= 3, `the extension and the CLI share ${shared.join(', ') || 'no file'}`);
    // Entry points of their own: the webview's script, and the small client the agents' `syncord` command runs
    // (it hands calls to a running daemon, else loads cli.js), which loads no chunk at all.
    assert.deepEqual([...loads('extension/dist/client.js')], ['extension/dist/client.js'], 'client.js loads chunks of the bundle');
    const js = names.filter((n) => n.endsWith('.js') && n.startsWith('extension/dist/') && n !== 'extension/dist/webview.js' && n !== 'extension/dist/client.js');
    const unused = js.filter((f) => !extension.has(f) && !loads('extension/dist/cli.js').has(f) && !cli.has(f) && !/\/mcp-[^/]+\.js$/.test(f));
    assert.deepEqual(unused, [], 'files of dist/ that neither the extension nor the CLI loads');
  });

  it('carries no ajv: the MCP server validates with a validator of its own', () => {
    for (const f of names.filter((n) => n.endsWith('.js'))) {
      // Option names that only ajv's code holds.
      assert.ok(!/strictTypes|unicodeRegExp/.test(entries.find((e) => e.name === f)!.data().toString('utf8')), `${f} holds ajv`);
    }
  });

  it("carries none of zod's message locales but English", () => {
    for (const f of names.filter((n) => n.endsWith('.js'))) {
      const text = entries.find((e) => e.name === f)!.data().toString('utf8');
      // German and French words of zod's locales: "Ungültige Eingabe", "Entrée invalide".
      assert.ok(!/Ungültige Eingabe|Entrée invalide/.test(text), `${f} holds a zod locale other than English`);
    }
  });

  it('runs the CLI as shipped: unpacked, `syncord --version` and `syncord task list --json` on the seed files work', () => {
    const root = path.join(dir, 'unpacked');
    for (const e of entries.filter((x) => x.name.startsWith('extension/dist/'))) {
      fs.mkdirSync(path.join(root, path.dirname(e.name)), { recursive: true });
      fs.writeFileSync(path.join(root, e.name), e.data());
    }
    const cli = path.join(root, 'extension', 'dist', 'cli.js');
    const version = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version);
    const ws = path.join(dir, 'workspace');
    fs.mkdirSync(path.join(ws, 'coordination'), { recursive: true });
    const seed = path.join(ROOT, 'test', 'fixtures', 'seed004');
    for (const f of fs.readdirSync(seed)) fs.copyFileSync(path.join(seed, f), path.join(ws, 'coordination', f));
    const list = spawnSync(process.execPath, [cli, '--workspace', ws, 'task', 'list', '--json'], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const ids = (JSON.parse(list.stdout) as { task_id: string }[]).map((t) => t.task_id).sort();
    const queue = JSON.parse(fs.readFileSync(path.join(seed, 'task-queue.json'), 'utf8')) as Record<string, { task_id: string }[]>;
    assert.deepEqual(ids, [...queue.active_tasks, ...queue.pending_tasks, ...queue.completed_tasks].map((t) => t.task_id).sort());
  });

  it('holds the manifest, the three bundles and the media', () => {
    for (const f of ['extension/package.json', 'extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/webview.js']) {
      assert.ok(names.includes(f), `${f} is missing from the .vsix (has: ${names.join(', ')})`);
    }
    assert.ok(names.some((n) => n.startsWith('extension/media/') && n.endsWith('.svg')), 'no icons under media/');
    const manifest = JSON.parse(entries.find((e) => e.name === 'extension/package.json')!.data().toString('utf8'));
    assert.equal(manifest.name, 'syncord');
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('holds no sources, tests, scripts, source maps or dependencies', () => {
    const unwanted = names.filter((n) =>
      /^extension\/(src|test|out|scripts|demo|bench|node_modules|\.vscode-test|\.demo|test-output|\.ci)\//.test(n) ||
      /\.(ts|map)$/.test(n) ||
      /(^|\/)(tsconfig[^/]*\.json|esbuild\.js|package-lock\.json)$/.test(n),
    );
    assert.deepEqual(unwanted, []);
  });
});
