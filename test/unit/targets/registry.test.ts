import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { listTargets } from '../../../src/core/targets/registry';
import { keepVerify, lastVerify } from '../../../src/core/targets/verify';
import { lastVerifyFile, resolveWorkspace } from '../../../src/core/workspace';
import { makeWorkspace, read, repoRoot, Workspace, write } from './helpers';

describe('targets: registry (target list/add/remove/update)', () => {
  let ws: Workspace;
  beforeEach(() => (ws = makeWorkspace()));
  afterEach(() => ws.cleanup());

  it('adds, lists, updates and removes targets in coordination/targets.json', async () => {
    let r = await ws.run('target', 'add', 'ComfyUI_windows_portable', '--path', ws.sp, '--type', 'site-packages');
    assert.equal(r.code, 0, r.stderr);
    r = await ws.run('target', 'add', 'simple_python_app', '--path', ws.src, '--type', 'source');
    assert.equal(r.code, 0, r.stderr);
    const file = path.join(ws.main, 'coordination', 'targets.json');
    const reg = JSON.parse(read(file, ''));
    assert.deepEqual(
      reg.targets.map((t: any) => [t.name, t.path, t.type, t.status]),
      [
        ['ComfyUI_windows_portable', '../ComfyUI_windows_portable', 'site-packages', 'needs_sync'],
        ['simple_python_app', '../simple_python_app', 'source', 'needs_sync'],
      ],
    );
    r = await ws.run('--json', 'target', 'list');
    assert.deepEqual(r.json().targets.map((t: any) => t.absPath), [ws.sp, ws.src]);
    r = await ws.run('target', 'update', 'simple_python_app', '--status', 'synchronized');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(read(file, '')).targets[1].status, 'synchronized');
    r = await ws.run('target', 'remove', 'ComfyUI_windows_portable');
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(read(file, '')).targets.map((t: any) => t.name), ['simple_python_app']);
    r = await ws.run('target', 'remove', 'ComfyUI_windows_portable');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /no target named "ComfyUI_windows_portable"/);
  });

  it("reads the seed's registry and keeps unknown fields when writing", async () => {
    const seed = fs.readFileSync(path.join(repoRoot(), 'test/fixtures/seed002/targets.json'), 'utf8');
    // The seed keeps its targets inside the main project (for_testing/…): refused, since a sync there would
    // write into the main project itself.
    write(ws.main, 'coordination/targets.json', seed);
    let r = await ws.run('--json', 'target', 'list');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /targets\.json:5:7: targets\[0\]\.path: a target cannot be the main project or a folder inside it/);
    // The same registry with the target folders beside the main project.
    const reg = JSON.parse(seed);
    for (const t of reg.targets) t.path = `../${t.path}`;
    reg.owner = 'team-a';
    reg.targets[0].notes = 'portable build';
    write(ws.main, 'coordination/targets.json', JSON.stringify(reg, null, 2) + '\n');
    r = await ws.run('--json', 'target', 'list');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().targets.map((t: any) => [t.name, t.status, t.sync_version]), [
      ['ComfyUI_windows_portable', 'synchronized', 'v1.2.3'],
      ['simple_python_app', 'needs_sync', 'v1.2.2'],
    ]);
    r = await ws.run('target', 'update', 'simple_python_app', '--status', 'synchronized');
    assert.equal(r.code, 0, r.stderr);
    const after = JSON.parse(read(ws.main, 'coordination/targets.json'));
    assert.equal(after.owner, 'team-a');
    assert.equal(after.targets[0].notes, 'portable build');
    assert.equal(after.targets[1].status, 'synchronized');
    assert.equal(after.targets[1].last_sync, '2026-02-23T00:00:00Z');
  });

  it('refuses a target that is the main project, inside it, missing, or a duplicate', async () => {
    fs.mkdirSync(path.join(ws.main, 'for_testing'));
    for (const p of [ws.main, path.join(ws.main, 'for_testing'), path.join(ws.dir, 'nope')]) {
      const r = await ws.run('target', 'add', 'x', '--path', p, '--type', 'source');
      assert.equal(r.code, 2, `${p}: ${r.stderr}`);
    }
    assert.equal(fs.existsSync(path.join(ws.main, 'coordination', 'targets.json')), false);
    assert.equal((await ws.run('target', 'add', 'a', '--path', ws.src, '--type', 'source')).code, 0);
    const dup = await ws.run('target', 'add', 'a', '--path', ws.sp, '--type', 'source');
    assert.equal(dup.code, 5);
    const badType = await ws.run('target', 'add', 'b', '--path', ws.sp, '--type', 'wheel');
    assert.equal(badType.code, 2);
  });

  it('a broken registry gives file:line:col and is left byte-for-byte as it was', async () => {
    const broken = '{\n  "targets": [\n    { "name": "a", "path": "../a" "type": "source" }\n  ]\n}\n';
    write(ws.main, 'coordination/targets.json', broken);
    const r = await ws.run('target', 'add', 'b', '--path', ws.sp, '--type', 'source');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /coordination\/targets\.json:3:\d+: invalid JSON/);
    assert.equal(read(ws.main, 'coordination/targets.json'), broken);
    write(ws.main, 'coordination/targets.json', '{ "targets": [ { "name": "a", "path": "../a", "type": "wheel" } ] }');
    const r2 = await ws.run('target', 'list');
    assert.equal(r2.code, 3);
    assert.match(r2.stderr, /targets\.json:1:\d+: targets\[0\]\.type/);
  });

  it('a target removed and registered again under its name does not keep the old verification', async () => {
    let r = await ws.run('target', 'add', 'simple_python_app', '--path', ws.src, '--type', 'source');
    assert.equal(r.code, 0, r.stderr);
    const paths = resolveWorkspace(ws.main);
    const [target] = await listTargets(paths);
    await keepVerify(paths, target, { target: target.name, passed: true, checks: [] });
    assert.equal((await lastVerify(paths, target.name))?.result.passed, true);
    r = await ws.run('target', 'remove', 'simple_python_app');
    assert.equal(r.code, 0, r.stderr);
    r = await ws.run('target', 'add', 'simple_python_app', '--path', ws.src, '--type', 'source');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await lastVerify(paths, 'simple_python_app'), undefined);
    assert.ok(!fs.existsSync(lastVerifyFile(paths, 'simple_python_app')));
  });
});
