import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyncordError } from '../../../src/core/errors';
import { requireTrusted, runtimeDefinition, trustFile, trustStatus, trustWorkspace, untrustWorkspace, workspaceDefinitions } from '../../../src/core/trust';
import { resolveWorkspace } from '../../../src/core/workspace';

describe('trust: the commands a workspace defines', () => {
  let base: string;
  let root: string;
  let env: NodeJS.ProcessEnv;
  const paths = () => resolveWorkspace(root);
  const settings = (runtimes: Record<string, unknown>) => {
    fs.mkdirSync(path.join(root, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(root, '.vscode', 'settings.json'), JSON.stringify({ 'editor.tabSize': 2, 'syncord.sessions.runtimes': runtimes }, null, 2));
  };
  const refusal = (fn: () => void): SyncordError => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof SyncordError, String(e));
      return e;
    }
    assert.fail('not refused');
  };

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-trust-')));
    root = path.join(base, 'ws');
    fs.mkdirSync(path.join(root, 'coordination'), { recursive: true });
    env = { XDG_CONFIG_HOME: path.join(base, 'config') };
  });
  afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

  it('lists runtimes and verify commands with their file, line and column', () => {
    settings({ aider: { command: ['aider', '{prompt}'] } });
    fs.writeFileSync(path.join(root, 'coordination', 'sync-rules.jsonc'), '{\n  // checks\n  "verify": { "commands": [\n    { "name": "test", "command": "npm test" }\n  ] }\n}\n');
    const defs = workspaceDefinitions(paths());
    assert.deepEqual(
      defs.map((d) => [d.kind, d.name, path.relative(root, d.file), d.line, d.column, d.runs]),
      [
        ['runtime', 'aider', '.vscode/settings.json', 4, 5, { command: ['aider', '{prompt}'], headless: null, send: null }],
        ['verify', 'test', 'coordination/sync-rules.jsonc', 4, 5, { command: 'npm test' }],
      ],
    );
  });

  it('trusts each definition as it is: a changed or new one is refused again, an unchanged one stays trusted', () => {
    settings({ aider: { command: ['aider', '{prompt}'] }, other: { command: ['other'] } });
    const aider = runtimeDefinition(path.join(root, '.vscode', 'settings.json'), 'aider', { command: ['aider', '{prompt}'] });
    const e = refusal(() => requireTrusted(paths(), aider, env));
    assert.equal(e.code, 'untrusted');
    assert.equal(e.location?.line, 4);
    assert.match(e.message, /settings\.json:4:5: runtime "aider" is defined by this workspace .* you have not trusted/);

    trustWorkspace(paths(), workspaceDefinitions(paths()), new Date('2026-01-01T00:00:00Z'), env);
    requireTrusted(paths(), aider, env);
    assert.deepEqual(trustStatus(paths(), workspaceDefinitions(paths()), env).definitions.map((d) => d.state), ['trusted', 'trusted']);

    settings({ aider: { command: ['aider', '--yes-always', '{prompt}'] }, other: { command: ['other'] } });
    const changed = runtimeDefinition(path.join(root, '.vscode', 'settings.json'), 'aider', { command: ['aider', '--yes-always', '{prompt}'] });
    assert.match(refusal(() => requireTrusted(paths(), changed, env)).message, /it changed since you trusted this workspace/);
    assert.deepEqual(trustStatus(paths(), workspaceDefinitions(paths()), env).definitions.map((d) => d.state), ['changed', 'trusted']);

    assert.equal(untrustWorkspace(paths(), env).removed, true);
    assert.equal(untrustWorkspace(paths(), env).removed, false);
    assert.match(refusal(() => requireTrusted(paths(), aider, env)).message, /you have not trusted/);
  });

  it('keys the record by the real path: a link to the workspace is the same workspace, and another workspace is not trusted', () => {
    settings({ aider: { command: ['aider'] } });
    trustWorkspace(paths(), workspaceDefinitions(paths()), new Date(), env);
    const link = path.join(base, 'link');
    fs.symlinkSync(root, link);
    const def = runtimeDefinition(path.join(root, '.vscode', 'settings.json'), 'aider', { command: ['aider'] });
    requireTrusted(resolveWorkspace(link), def, env);
    const other = path.join(base, 'other');
    fs.mkdirSync(other);
    assert.equal(refusal(() => requireTrusted(resolveWorkspace(other), def, env)).code, 'untrusted');
  });

  it('a broken trust record is refused with file:line:col, never taken for trust', () => {
    const file = trustFile(env);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{\n  "workspaces": {\n    "x": { "trusted": 1, "definitions": {} }\n  }\n}\n');
    const e = refusal(() => requireTrusted(paths(), runtimeDefinition('s.json', 'a', { command: ['a'] }), env));
    assert.equal(e.code, 'invalid-file');
    assert.equal(e.location?.file, file);
    assert.equal(e.location?.line, 3);
  });
});
