// `npm run package` (scripts/package.js) produces a small .vsix holding only what VS Code needs.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
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

  it('makes a .vsix smaller than 1 MB', () => {
    assert.ok(fs.statSync(vsix).size < 1024 * 1024, `the .vsix is ${fs.statSync(vsix).size} bytes`);
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
