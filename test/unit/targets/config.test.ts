import * as assert from 'node:assert/strict';
import { parse } from 'smol-toml';
import { mergeConfig } from '../../../src/core/targets/configMerge';
import { DEFAULT_RULES } from '../../../src/core/targets/rules';
import { MAIN_TOML, makeWorkspace, read, Workspace, write } from './helpers';

const TARGET_TOML = `# ComfyUI portable: opencode settings (hand-tuned, keep!)
default_model = "llama3:8b"   # local model via ollama
data_dir = "./opencode_data"
log_level = "debug"
tools = [
  "read",  # file reading
  "write",
]

# Our proxy for OpenAI
[providers.openai]
api_key_env = "PROXY_KEY"
`;

describe('targets: config merge (config diff / config sync)', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    assert.equal((await ws.run('target', 'add', 'comfy', '--path', ws.sp, '--type', 'site-packages')).code, 0);
    write(ws.sp, 'opencode.toml', TARGET_TOML);
  });
  afterEach(() => ws.cleanup());

  it("keeps the target's values and comments, adds new providers, keys and tools", async () => {
    const diff = await ws.run('config', 'diff', 'comfy');
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^--- a\/opencode\.toml$/m);
    assert.match(diff.stdout, /^\+\[providers\.anthropic\]$/m);
    assert.match(diff.stdout, /^\+base_url = "https:\/\/api\.openai\.com\/v1"$/m);
    assert.match(diff.stdout, /^\+  "bash",$/m);
    assert.doesNotMatch(diff.stdout, /^[-+]default_model/m);
    assert.equal(read(ws.sp, 'opencode.toml'), TARGET_TOML, 'diff writes nothing');

    const r = await ws.run('config', 'sync', 'comfy', '--merge');
    assert.equal(r.code, 0, r.stderr);
    const text = read(ws.sp, 'opencode.toml');
    // Every line of the target is still there, in order (comments included).
    let at = 0;
    for (const line of TARGET_TOML.split('\n').filter(Boolean)) {
      const i = text.indexOf(line, at);
      assert.ok(i >= 0, `kept: ${line}`);
      at = i;
    }
    const v = parse(text) as any;
    assert.equal(v.default_model, 'llama3:8b');
    assert.equal(v.data_dir, './opencode_data');
    assert.equal(v.log_level, 'debug');
    assert.deepEqual(v.tools, ['read', 'write', 'bash']);
    assert.deepEqual({ ...v.providers.openai }, { api_key_env: 'PROXY_KEY', base_url: 'https://api.openai.com/v1' });
    assert.deepEqual({ ...v.providers.anthropic }, { api_key_env: 'ANTHROPIC_API_KEY' });
    // The diff printed before is exactly what was applied: a second diff is empty.
    const again = await ws.run('config', 'diff', 'comfy');
    assert.match(again.stdout, /opencode\.toml: no change/);
  });

  it('take-source replaces a table; JSON configs keep their comments too', () => {
    const out = mergeConfig({
      format: 'toml',
      sourceFile: 's.toml',
      sourceText: MAIN_TOML,
      targetFile: 't.toml',
      targetText: TARGET_TOML,
      strategies: { providers: 'take-source', default_model: 'take-source', tools: 'keep-target' },
      defaultStrategy: 'keep-target',
    });
    const v = parse(out.text) as any;
    assert.equal(v.default_model, 'claude-sonnet');
    assert.deepEqual(Object.keys(v.providers).sort(), ['anthropic', 'openai']);
    assert.equal(v.providers.openai.api_key_env, 'OPENAI_API_KEY');
    assert.deepEqual(v.tools, ['read', 'write']);
    assert.match(out.text, /^# ComfyUI portable/);
    const json = mergeConfig({
      format: 'jsonc',
      sourceFile: 's.json',
      sourceText: '{ "default_model": "a", "tools": ["read", "bash"], "providers": { "x": { "k": 1 } } }',
      targetFile: 't.json',
      targetText: '{\n  // mine\n  "default_model": "b",\n  "tools": ["read"]\n}\n',
      strategies: DEFAULT_RULES.config.opencode.strategies,
      defaultStrategy: 'merge',
    });
    assert.match(json.text, /\/\/ mine/);
    assert.match(json.text, /"default_model": "b"/);
    assert.deepEqual(JSON.parse(json.text.replace(/\/\/.*$/gm, '')), { default_model: 'b', tools: ['read', 'bash'], providers: { x: { k: 1 } } });
  });

  it('a target config that does not parse is reported with line:col and left untouched', async () => {
    const broken = TARGET_TOML.replace('log_level = "debug"', 'log_level = ');
    write(ws.sp, 'opencode.toml', broken);
    const r = await ws.run('sync', 'run', '--target', 'comfy');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /opencode\.toml:4:\d+: invalid TOML/);
    assert.equal(read(ws.sp, 'opencode.toml'), broken);
    const v = await ws.run('sync', 'verify', '--target', 'comfy', '--component', 'config');
    assert.equal(v.code, 1);
    assert.match(v.stdout, /FAIL  config:opencode/);
    assert.match(v.stdout, /opencode\.toml:4:\d+: invalid TOML/);
  });
});
