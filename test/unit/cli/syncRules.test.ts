// `syncord sync rules` as a real process: presets, --print --preset, --init that never overwrites, usage errors.
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSyncord } from './runSyncord';

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
/** What `sync rules --init` wrote before presets existed (now the opencode_4py preset). */
const OPENCODE_4PY_SHA256 = '9f42dc297a30fe73aa68e50a752e82a2b6b3be56c53a77da8f9d26619254117e';

describe('syncord sync rules (presets)', () => {
  let dir: string;
  let root: string;
  const rulesFile = () => path.join(root, 'coordination', 'sync-rules.jsonc');
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-rules-'));
    root = path.join(dir, 'notes-site');
    for (const [rel, text] of Object.entries({ 'docs/index.md': '# Notes\n', 'README.md': '# Notes site\n', 'plans/next.md': '# Next\n', 'lib/build.js': 'module.exports = 1;\n' })) {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--presets lists auto, minimal and opencode_4py with one line each; --help shows them too', async () => {
    const r = await runSyncord(root, ['sync', 'rules', '--presets']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['auto', 'minimal', 'opencode_4py']);
    assert.ok(lines.every((l) => l.length > 20), r.stdout);
    const help = await runSyncord(root, ['sync', 'rules', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Presets \(--preset <name>\):\n\s+auto\s+fitted to the main project/);
    assert.match(help.stdout, /\n\s+opencode_4py\s+the rules of the opencode_4py project/);
  });

  it('--print --preset shows what a preset would write here, and writes nothing', async () => {
    const min = await runSyncord(root, ['sync', 'rules', '--print', '--preset', 'minimal']);
    assert.equal(min.code, 0, min.stderr);
    assert.match(min.stdout, /^\/\/ Syncord sync rules for "notes-site" \(preset "minimal"/);
    assert.match(min.stdout, /"docs": \{ "source": "docs\/", "destination": \{ "site-packages": null, "source": "docs\/notes-site\/docs\/" \}, "mode": "mirror" \}/);
    assert.doesNotMatch(min.stdout, /"plans"/);
    const seed = await runSyncord(root, ['sync', 'rules', '--print', '--preset', 'opencode_4py']);
    assert.equal(sha256(seed.stdout), OPENCODE_4PY_SHA256);
    const auto = await runSyncord(root, ['--json', 'sync', 'rules', '--print', '--preset', 'auto']);
    assert.equal(auto.code, 0, auto.stderr);
    const j = JSON.parse(auto.stdout);
    assert.equal(j.preset, 'auto');
    assert.deepEqual(Object.keys(j.rules.components), ['docs', 'plans', 'readme']);
    assert.deepEqual(j.rules.categories.source.patterns, ['lib/**/*.{js,jsx,mjs,cjs}']);
    assert.equal(fs.existsSync(path.join(root, 'coordination')), false);
  });

  it('without a rules file the auto rules apply; --init writes them and they read back the same; a second --init leaves the file', async () => {
    const say = await runSyncord(root, ['sync', 'rules']);
    assert.equal(say.code, 0, say.stderr);
    assert.match(say.stdout, /^No rules file; rules inferred from the project apply \(preset auto, base name "notes-site"\)/);
    assert.match(say.stdout, /components: docs, plans, readme/);
    const before = await runSyncord(root, ['sync', 'rules', '--print']);
    const init = await runSyncord(root, ['sync', 'rules', '--init']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^Wrote the auto rules to .*sync-rules\.jsonc/);
    const written = fs.readFileSync(rulesFile());
    const printed = await runSyncord(root, ['sync', 'rules', '--print', '--preset', 'auto']);
    assert.equal(printed.stdout, written.toString('utf8'));
    const after = await runSyncord(root, ['sync', 'rules', '--print']);
    assert.equal(after.stdout, before.stdout);
    assert.match((await runSyncord(root, ['sync', 'rules'])).stdout, /^Rules: .*sync-rules\.jsonc/);
    const again = await runSyncord(root, ['sync', 'rules', '--init', '--preset', 'opencode_4py']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already exists; left as it is/);
    assert.equal(sha256(fs.readFileSync(rulesFile())), sha256(written));
  });

  it('an unknown preset, or --preset alone, is a usage error (exit 2) that names the known presets; nothing is written', async () => {
    for (const args of [['--init', '--preset', 'django'], ['--print', '--preset', 'django']]) {
      const r = await runSyncord(root, ['sync', 'rules', ...args]);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stderr, /unknown preset "django" \(known: auto, minimal, opencode_4py\)/);
    }
    const alone = await runSyncord(root, ['sync', 'rules', '--preset', 'auto']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--preset goes with --init \(write\) or --print \(show\)/);
    assert.equal(fs.existsSync(rulesFile()), false);
  });
});
