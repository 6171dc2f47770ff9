import * as assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_RULES, loadRules, parseRules, presetRules, RULES_TEMPLATE } from '../../../src/core/targets/rules';
import { resolveWorkspace } from '../../../src/core/workspace';
import { schemaFiles } from '../../../src/core/targets/schema';
import { parseJsonc } from '../../../src/core/store/jsonText';
import { cli, git, makeWorkspace, read, repoRoot, Workspace, write } from './helpers';

/** SHA-256 of the rules text earlier versions wrote with `sync rules --init` (and applied without a file). */
const OPENCODE_4PY_SHA256 = '9f42dc297a30fe73aa68e50a752e82a2b6b3be56c53a77da8f9d26619254117e';
const sha256 = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

describe('targets: sync rules', () => {
  let ws: Workspace;
  beforeEach(() => (ws = makeWorkspace({ rulesFile: false })));
  afterEach(() => ws.cleanup());

  it("the opencode_4py preset follows the seed: CHANGE_PATTERNS, priorities, Phase 3 destinations, Phase 4 merge table", () => {
    assert.deepEqual(DEFAULT_RULES.categories.provider.patterns, ['src/opencode/provider/*.py']);
    assert.deepEqual(DEFAULT_RULES.categories.config.patterns, ['src/opencode/core/config.py', 'opencode.toml']);
    assert.equal(DEFAULT_RULES.categories.rag.priority, 'high');
    assert.equal(DEFAULT_RULES.components.docs.destination['site-packages'], 'python_embeded/Lib/site-packages/opencode/docs/');
    assert.equal(DEFAULT_RULES.components.docs.mode, 'mirror');
    assert.equal(DEFAULT_RULES.components.readme.mode, 'update');
    assert.deepEqual(DEFAULT_RULES.config.opencode.strategies, {
      default_model: 'keep-target',
      providers: 'merge',
      tools: 'merge',
      data_dir: 'keep-target',
      log_level: 'keep-target',
    });
  });

  it('`sync rules --init --preset opencode_4py` writes the rules earlier versions wrote, byte for byte, once', async () => {
    let r = await ws.run('sync', 'rules', '--init', '--preset', 'opencode_4py');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote the opencode_4py rules to .*sync-rules\.jsonc/);
    const text = read(ws.main, 'coordination/sync-rules.jsonc');
    assert.equal(sha256(text), OPENCODE_4PY_SHA256);
    assert.equal(sha256(RULES_TEMPLATE), OPENCODE_4PY_SHA256);
    assert.match(text, /^\s*\/\/ /m);
    assert.deepEqual(parseRules('x', text), DEFAULT_RULES);
    write(ws.main, 'coordination/sync-rules.jsonc', text.replace('"mode": "update"', '"mode": "mirror"'));
    const edited = read(ws.main, 'coordination/sync-rules.jsonc');
    for (const preset of [[], ['--preset', 'opencode_4py'], ['--preset', 'minimal']]) {
      r = await ws.run('sync', 'rules', '--init', ...preset);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /already exists; left as it is/);
      assert.equal(read(ws.main, 'coordination/sync-rules.jsonc'), edited);
    }
  });

  it("the demo workspace's rules file is the opencode_4py preset", () => {
    assert.equal(sha256(fs.readFileSync(path.join(repoRoot(), 'demo', 'coordination', 'sync-rules.jsonc'))), OPENCODE_4PY_SHA256);
  });

  it('bad rules are refused with the file, line and column of the problem', async () => {
    const bad = RULES_TEMPLATE.replace('"priority": "medium", "description": "CLI commands"', '"priority": "urgent", "description": "CLI commands"');
    write(ws.main, 'coordination/sync-rules.jsonc', bad);
    const line = bad.split('\n').findIndex((l) => l.includes('"urgent"')) + 1;
    const r = await ws.run('sync', 'detect', '--since', 'HEAD');
    assert.equal(r.code, 3);
    assert.match(r.stderr, new RegExp(`sync-rules\\.jsonc:${line}:\\d+: categories\\.cli\\.priority`));
  });

  it('overlapping or escaping destinations are refused', () => {
    const overlap = RULES_TEMPLATE.replace('"source": "docs/opencode/plans/"', '"source": "docs/opencode/docs/plans/"');
    assert.throws(() => parseRules('r.jsonc', overlap), /r\.jsonc:\d+:\d+: destination "docs\/opencode\/docs\/plans\/" overlaps/);
    const escape = RULES_TEMPLATE.replace('"source": "docs/opencode/RAG/"', '"source": "../elsewhere/"');
    assert.throws(() => parseRules('r.jsonc', escape), /without "\.\."/);
  });

  it('the JSON Schemas in schemas/ are the ones generated from the code', () => {
    const dir = path.join(repoRoot(), 'schemas');
    for (const [name, text] of Object.entries(schemaFiles())) {
      assert.equal(fs.readFileSync(path.join(dir, name), 'utf8'), text, `${name} is stale: regenerate with schemaFiles() from src/core/targets/schema.ts`);
    }
    const s = parseJsonc('s', schemaFiles()['targets.schema.json']) as any;
    assert.deepEqual(s.properties.targets.items.properties.type.enum, ['site-packages', 'source']);
  });
});

/** A folder named `name` in a fresh temporary folder, holding `files` (path -> text); a git repository if `gitRepo`. */
function project(name: string, files: Record<string, string>, gitRepo = false): { root: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-infer-'));
  const root = path.join(dir, name);
  fs.mkdirSync(root);
  for (const [rel, text] of Object.entries(files)) write(root, rel, text);
  if (gitRepo) {
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', '-A');
    git(root, '-c', 'user.email=dev@example.com', '-c', 'user.name=Dev', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'initial');
  }
  return { root, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Destinations of the components and config files, per target type. */
function destinations(rules: ReturnType<typeof parseRules>): Record<string, [string | null | undefined, string | null | undefined]> {
  const out: Record<string, [string | null | undefined, string | null | undefined]> = {};
  for (const [n, c] of Object.entries({ ...rules.components, ...rules.config })) out[n] = [c.destination['site-packages'], c.destination.source];
  return out;
}

describe('targets: sync rules inferred from the main project (preset auto)', () => {
  const made: { cleanup(): void }[] = [];
  afterEach(() => made.splice(0).forEach((p) => p.cleanup()));
  const make = (...a: Parameters<typeof project>) => {
    const p = project(...a);
    made.push(p);
    return p;
  };

  it('a Node project with docs/ and README.md gets its docs and README under docs/<folder>/, its TypeScript as source, and no config merge', async () => {
    const p = make('my web-app!', {
      'package.json': '{ "name": "web" }\n',
      'package-lock.json': '{}\n',
      'tsconfig.json': '{}\n',
      'src/index.ts': 'export {};\n',
      'src/util/strings.ts': 'export {};\n',
      'docs/guide.md': '# Guide\n',
      'docs/api/REST.md': '# REST\n',
      'README.md': '# Web\n',
      'CHANGELOG.md': '# Changes\n',
      'node_modules/left-pad/README.md': '# left-pad\n',
      '.github/workflows/ci.yml': 'on: push\n',
      'coordination/task-queue.json': '{}\n',
      'plans/.keep/x.md': 'hidden\n',
    }, true);
    const paths = resolveWorkspace(p.root);
    const loaded = await loadRules(paths);
    assert.equal(loaded.file, undefined);
    assert.equal(loaded.inferred?.base, 'my_web-app');
    assert.deepEqual(destinations(loaded.rules), {
      docs: [null, 'docs/my_web-app/docs/'],
      readme: [null, 'docs/my_web-app/README.md'],
      changelog: [null, 'docs/my_web-app/CHANGELOG.md'],
    });
    assert.equal(loaded.rules.components.docs.mode, 'mirror');
    assert.equal(loaded.rules.components.readme.mode, 'update');
    assert.deepEqual(loaded.rules.config, {});
    assert.deepEqual(
      Object.entries(loaded.rules.categories).map(([n, c]) => [n, c.priority, c.patterns]),
      [
        ['source', 'high', ['src/**/*.{ts,tsx,mts,cts}']],
        ['docs', 'medium', ['docs/**', 'README.md', 'CHANGELOG.md']],
      ],
    );
    // The written file is the same rules, with comments, and reads back as what applied without it.
    const r = await cli(['-w', p.root, 'sync', 'rules', '--init']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Wrote the auto rules to /);
    const text = read(p.root, 'coordination/sync-rules.jsonc');
    assert.match(text, /^\s*\/\/ Components copied into targets/m);
    assert.match(text, /"site-packages": null/);
    assert.deepEqual(parseRules('sync-rules.jsonc', text), loaded.rules);
    assert.deepEqual((await loadRules(paths)).rules, loaded.rules);
    assert.equal((await loadRules(paths)).file, path.join(p.root, 'coordination', 'sync-rules.jsonc'));
  });

  it('a Python project with src/ and opencode.toml gets site-packages destinations under its package, and merges opencode.toml', async () => {
    const p = make('assistant', {
      'pyproject.toml': '[project]\nname = "assistant"\n',
      'ruff.toml': 'line-length = 100\n',
      'opencode.toml': 'default_model = "x"\n',
      'src/opencode/__init__.py': '',
      'src/opencode/cli.py': 'def main(): pass\n',
      'src/opencode/provider/openai.py': 'NAME = "openai"\n',
      'docs/index.md': '# Index\n',
      'plans/SYNC_PLAN.md': '# Plan\n',
      'RAG/troubleshooting/E1.md': '# E1\n',
      'README.md': '# Assistant\n',
      'MISSION.md': '# Mission\n',
      'tests/test_cli.py': 'pass\n',
    });
    const loaded = await loadRules(resolveWorkspace(p.root));
    assert.equal(loaded.inferred?.base, 'opencode');
    const sp = 'python_embeded/Lib/site-packages/opencode/';
    assert.deepEqual(destinations(loaded.rules), {
      docs: [`${sp}docs/`, 'docs/opencode/docs/'],
      plans: [`${sp}plans/`, 'docs/opencode/plans/'],
      rag: [`${sp}RAG/`, 'docs/opencode/RAG/'],
      readme: [`${sp}README.md`, 'docs/opencode/README.md'],
      mission: [`${sp}MISSION.md`, 'docs/opencode/MISSION.md'],
      opencode: ['opencode.toml', 'opencode.toml'],
    });
    assert.equal(loaded.rules.config.opencode.source, 'opencode.toml');
    assert.equal(loaded.rules.config.opencode.default_strategy, 'merge');
    assert.deepEqual(
      Object.entries(loaded.rules.categories).map(([n, c]) => [n, c.priority, c.patterns]),
      [
        ['source', 'high', ['src/**/*.{py,pyi}']],
        ['rag', 'high', ['RAG/**']],
        ['config', 'medium', ['opencode.toml']],
        ['docs', 'medium', ['docs/**', 'plans/**', 'README.md', 'MISSION.md']],
      ],
    );
    // The same folder contents give the same text.
    const a = await presetRules(resolveWorkspace(p.root), 'auto');
    const b = await presetRules(resolveWorkspace(p.root), 'auto');
    assert.equal(a.text, b.text);
    assert.deepEqual(parseRules('x', a.text), loaded.rules);
    // minimal: the documentation folder and the README only.
    const min = parseRules('m', (await presetRules(resolveWorkspace(p.root), 'minimal')).text);
    assert.deepEqual(destinations(min), { docs: [`${sp}docs/`, 'docs/opencode/docs/'], readme: [`${sp}README.md`, 'docs/opencode/README.md'] });
    assert.deepEqual(Object.keys(min.categories), ['docs']);
    assert.deepEqual(min.config, {});
  });

  it('an empty folder gets empty rules that still parse, and `sync rules` says they are inferred', async () => {
    const p = make('empty', {});
    const loaded = await loadRules(resolveWorkspace(p.root));
    assert.deepEqual([loaded.rules.categories, loaded.rules.components, loaded.rules.config], [{}, {}, {}]);
    assert.deepEqual(loaded.rules.verify, { commands: [], check_links: true });
    const r = await cli(['-w', p.root, 'sync', 'rules']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^No rules file; rules inferred from the project apply/);
    assert.match(r.stdout, /components: none/);
    assert.match(r.stdout, /write them down with: syncord sync rules --init/);
    assert.equal(fs.existsSync(path.join(p.root, 'coordination')), false, 'looking wrote nothing');
  });
});

