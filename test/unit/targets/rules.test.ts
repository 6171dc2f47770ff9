import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DEFAULT_RULES, parseRules, RULES_TEMPLATE } from '../../../src/core/targets/rules';
import { schemaFiles } from '../../../src/core/targets/schema';
import { parseJsonc } from '../../../src/core/store/jsonText';
import { makeWorkspace, read, repoRoot, Workspace, write } from './helpers';

describe('targets: sync rules', () => {
  let ws: Workspace;
  beforeEach(() => (ws = makeWorkspace()));
  afterEach(() => ws.cleanup());

  it("defaults follow the seed: CHANGE_PATTERNS, priorities, Phase 3 destinations, Phase 4 merge table", () => {
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

  it('`sync rules --init` writes the commented defaults once, and they load as the defaults', async () => {
    let r = await ws.run('sync', 'rules', '--init');
    assert.equal(r.code, 0, r.stderr);
    const text = read(ws.main, 'coordination/sync-rules.jsonc');
    assert.equal(text, RULES_TEMPLATE);
    assert.match(text, /^\s*\/\/ /m);
    assert.deepEqual(parseRules('x', text), DEFAULT_RULES);
    write(ws.main, 'coordination/sync-rules.jsonc', text.replace('"mode": "update"', '"mode": "mirror"'));
    r = await ws.run('sync', 'rules', '--init');
    assert.match(r.stdout, /already exists/);
    assert.notEqual(read(ws.main, 'coordination/sync-rules.jsonc'), text);
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
