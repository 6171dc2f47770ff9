import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { git, makeWorkspace, Workspace, write } from './helpers';

describe('targets: change detection (sync detect / status / check)', () => {
  let ws: Workspace;
  beforeEach(() => (ws = makeWorkspace()));
  afterEach(() => ws.cleanup());

  it('finds modifications, renames, deletions and untracked files, classified by category and priority', async () => {
    const since = git(ws.main, 'rev-parse', 'HEAD').trim();
    write(ws.main, 'src/opencode/provider/anthropic.py', 'NAME = "anthropic"\nMODELS = []\n');
    git(ws.main, 'mv', 'docs/SETUP.md', 'docs/INSTALL.md');
    git(ws.main, 'rm', '-q', 'plans/SYNC_PLAN.md');
    ws.commit('changes');
    write(ws.main, 'RAG/troubleshooting/errors/E002.md', '# E002\n'); // untracked
    write(ws.main, 'docs/debug.log', 'ignored by .gitignore\n');
    write(ws.main, 'opencode.toml', '# edited, uncommitted\n' + fs.readFileSync(path.join(ws.main, 'opencode.toml'), 'utf8'));
    const r = await ws.run('--json', 'sync', 'detect', '--since', since.slice(0, 8));
    assert.equal(r.code, 0, r.stderr);
    const d = r.json();
    assert.equal(d.since, since);
    const byPath = Object.fromEntries(d.files.map((f: any) => [f.path, f]));
    assert.equal(byPath['docs/INSTALL.md'].status, 'R');
    assert.equal(byPath['docs/INSTALL.md'].oldPath, 'docs/SETUP.md');
    assert.equal(byPath['plans/SYNC_PLAN.md'].status, 'D');
    assert.equal(byPath['RAG/troubleshooting/errors/E002.md'].status, '?');
    assert.equal(byPath['opencode.toml'].status, 'M');
    assert.equal(byPath['docs/debug.log'], undefined);
    assert.deepEqual(
      d.categories.map((c: any) => [c.category, c.priority, c.files.map((f: any) => f.path).sort()]),
      [
        ['provider', 'high', ['src/opencode/provider/anthropic.py']],
        ['rag', 'high', ['RAG/troubleshooting/errors/E002.md']],
        ['config', 'medium', ['opencode.toml']],
        ['docs', 'medium', ['docs/INSTALL.md', 'plans/SYNC_PLAN.md']],
      ],
    );
    const human = await ws.run('sync', 'detect', '--since', since);
    assert.match(human.stdout, /R  docs\/SETUP\.md -> docs\/INSTALL\.md/);
    const bad = await ws.run('sync', 'detect', '--since', 'no-such-commit');
    assert.equal(bad.code, 4);
  });

  it("defaults to each target's last synced commit; sync check exits 1 when a target needs sync", async () => {
    assert.equal((await ws.run('target', 'add', 'app', '--path', ws.src, '--type', 'source')).code, 0);
    let check = await ws.run('sync', 'check');
    assert.equal(check.code, 1);
    assert.match(check.stdout, /needs_sync\s+app\s+\(\d+ to add, 1 config file to merge/);
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    check = await ws.run('sync', 'check');
    assert.equal(check.code, 0, check.stdout);
    assert.match(check.stdout, /synchronized app/);
    // A change outside every category and component does not make the target stale.
    write(ws.main, 'notes.txt', 'scratch\n');
    assert.equal((await ws.run('sync', 'check')).code, 0);
    write(ws.main, 'src/opencode/tool/write.py', 'def write(): pass\n');
    ws.commit('new tool');
    check = await ws.run('--json', 'sync', 'check');
    assert.equal(check.code, 1);
    const st = check.json().targets[0];
    assert.equal(st.status, 'needs_sync');
    assert.deepEqual(st.categories, ['tools']);
    const det = await ws.run('--json', 'sync', 'detect');
    assert.deepEqual(det.json().targets[0].categories.map((c: any) => c.category), ['tools']);
    const list = await ws.run('sync', 'checklist', '--target', 'app');
    assert.match(list.stdout, /## Verification Checklist for app/);
    assert.match(list.stdout, /\*\*tools\*\* \(high\)/);
    assert.match(list.stdout, /Reinstall in development mode \(tools changed\)/);
    assert.match(list.stdout, /Complete `docs\/` directory copied to `docs\/opencode\/docs\/` \(3 files, mirror\)/);
  });
});
