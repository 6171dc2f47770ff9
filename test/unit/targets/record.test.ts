import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { addBothTargets, git, makeWorkspace, read, snapshot, SP, targetsApi, Workspace, write } from './helpers';


/**
 * What the registry records around a sync (restoring a pre-sync backup rewinds it, tagging adds the release),
 * the checklist counting like `sync status`, a confirmed plan applied only as confirmed, and verify groups.
 */
describe('targets: sync record, checklist counts, confirmed plans, tag and verify groups', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    await addBothTargets(ws);
  });
  afterEach(() => ws.cleanup());

  const api = () => targetsApi(ws);
  const registry = (name: string) => JSON.parse(read(ws.main, 'coordination/targets.json')).targets.find((t: { name: string }) => t.name === name);
  const pendingPaths = async (name: string) => {
    const { targetStatuses, paths, rules } = await api();
    const s = (await targetStatuses(paths, rules)).find((x) => x.name === name)!;
    return { status: s.status, files: s.changes.map((f) => `${f.status} ${f.path}`).sort() };
  };

  it('restoring every component of a pre-sync backup sets the sync record back, so the pending changes are the real files again', async () => {
    const first = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(first.code, 0, first.stderr);
    const before = registry('comfy');
    assert.equal(before.last_sync_commit, git(ws.main, 'rev-parse', 'HEAD').trim());

    write(ws.main, 'docs/SETUP.md', '# Setup v2\n\nBack to [index](INDEX.md).\n');
    write(ws.main, 'docs/NEW.md', '# New\n');
    fs.rmSync(path.join(ws.main, 'plans/SYNC_PLAN.md'));
    ws.commit('docs v2');
    git(ws.main, 'tag', 'v1.1.0');
    const { detectChanges, lastSyncedCommit, getTarget, paths, rules } = await api();
    const detectedBefore = (await detectChanges(paths, rules, await lastSyncedCommit(paths, await getTarget(paths, 'comfy')))).files.map((f) => `${f.status} ${f.path}`).sort();
    const pendingBefore = await pendingPaths('comfy');
    assert.equal(pendingBefore.status, 'needs_sync');
    assert.deepEqual(pendingBefore.files, ['A docs/NEW.md', 'D plans/SYNC_PLAN.md', 'M docs/SETUP.md']);
    const targetBefore = snapshot(path.join(ws.sp, SP));

    const second = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(await pendingPaths('comfy'), { status: 'synchronized', files: [] });
    assert.equal(registry('comfy').sync_version, 'v1.1.0');
    const backupId = second.json().backup.id;

    const restore = await ws.run('--json', 'target', 'restore', 'comfy', '--backup', backupId);
    assert.equal(restore.code, 0, restore.stderr);
    assert.equal(restore.json().verified, true);
    assert.deepEqual(restore.json().syncRecord, { last_sync_commit: before.last_sync_commit, sync_version: 'v1.0.0', last_sync: before.last_sync });
    assert.deepEqual(snapshot(path.join(ws.sp, SP)), targetBefore, 'the target is as it was before the sync');
    const after = registry('comfy');
    assert.equal(after.last_sync_commit, before.last_sync_commit);
    assert.equal(after.sync_version, 'v1.0.0');
    assert.equal(after.last_sync, before.last_sync);
    assert.equal(after.status, 'needs_sync');
    // The same pending files as before that sync, computed from git (not only from the needs_sync mark).
    const pendingAfter = await pendingPaths('comfy');
    assert.deepEqual(pendingAfter, pendingBefore);
    const status = await ws.run('--json', 'sync', 'status');
    assert.match(status.json().targets.find((t: { name: string }) => t.name === 'comfy').reason, /^1 to add, 1 to update, 1 to delete$/);
    const detectedAfter = (await detectChanges(paths, rules, await lastSyncedCommit(paths, await getTarget(paths, 'comfy')))).files.map((f) => `${f.status} ${f.path}`).sort();
    assert.deepEqual(detectedAfter, detectedBefore);
    // The next sync brings the same files over again.
    const third = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(third.code, 0, third.stderr);
    assert.equal(read(ws.sp, `${SP}/docs/NEW.md`), '# New\n');
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'plans/SYNC_PLAN.md')), false);
  });

  it('restoring the pre-sync backup of the first sync forgets the sync record entirely', async () => {
    const first = await ws.run('--json', 'sync', 'run', '--target', 'app');
    assert.equal(first.code, 0, first.stderr);
    const restore = await ws.run('--json', 'target', 'restore', 'app', '--backup', first.json().backup.id);
    assert.equal(restore.code, 0, restore.stderr);
    const after = registry('app');
    assert.equal('last_sync_commit' in after, false);
    assert.equal(after.sync_version, null);
    assert.equal(after.last_sync, null);
    const s = await pendingPaths('app');
    assert.equal(s.status, 'needs_sync');
    assert.ok(s.files.includes('A docs/SETUP.md'), s.files.join(', '));
  });

  it('a component rollback keeps the sync record and only marks the target as needing sync', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('setup v2');
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    const synced = registry('comfy');
    const rb = await ws.run('--json', 'sync', 'rollback', '--target', 'comfy', '--component', 'docs');
    assert.equal(rb.code, 0, rb.stderr);
    assert.equal(rb.json().syncRecord, undefined);
    const after = registry('comfy');
    assert.equal(after.last_sync_commit, synced.last_sync_commit);
    assert.equal(after.last_sync, synced.last_sync);
    assert.equal(after.status, 'needs_sync');
    // The rolled-back file is what the sync would bring again: an update, not an edit of the target's own.
    assert.deepEqual(await pendingPaths('comfy'), { status: 'needs_sync', files: ['M docs/SETUP.md'] });
  });

  it('the checklist counts the changed files that `sync status` counts, and lists the others apart', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    write(ws.main, 'docs/api/REST.md', '# REST v2\n'); // in the docs component, outside every category
    write(ws.main, 'src/opencode/tool/read.py', 'def read(): return 1\n');
    write(ws.main, 'scripts/build.sh', 'echo build\n'); // neither in a category nor in a component
    write(ws.main, 'tests/test_x.py', 'pass\n');
    ws.commit('mixed changes');
    const status = (await ws.run('--json', 'sync', 'status')).json().targets.find((t: { name: string }) => t.name === 'comfy');
    assert.equal(status.changes.length, 3);
    const detect = (await ws.run('--json', 'sync', 'detect', '--target', 'comfy')).json().targets[0];
    const others: string[] = detect.files.map((f: { path: string }) => f.path).filter((p: string) => !status.changes.some((c: { path: string }) => c.path === p));
    assert.deepEqual(others, ['coordination/targets.json', 'scripts/build.sh', 'tests/test_x.py']);

    const cl = await ws.run('--json', 'sync', 'checklist', '--target', 'comfy');
    assert.equal(cl.code, 0, cl.stderr);
    const md: string = cl.json().markdown;
    assert.equal(md.split('\n')[0], '# Sync checklist for comfy');
    const count = Number(/Pending: (\d+) files? to synchronize/.exec(md)?.[1]);
    assert.equal(count, status.changes.length);
    assert.match(md, /\*\*component files outside every category\*\*:\n {2}- update `docs\/api\/REST\.md`/);
    assert.match(md, /\| tools \| High \| 1 \|/);
    assert.match(md, /Not synchronized \(outside synced categories and components, not counted above\): 3 files, e\.g\. `coordination\/targets\.json`, `scripts\/build\.sh`, `tests\/test_x\.py`/);
    const changesSection = md.slice(md.indexOf('### Changes to Synchronize'), md.indexOf('Not synchronized'));
    assert.doesNotMatch(changesSection, /build\.sh/);
  });

  it('applies a confirmed plan only while the files are as they were when it was made', async () => {
    const { planSync, applySync, getTarget, listBackups, paths, rules } = await api();
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('setup v2');
    const target = await getTarget(paths, 'comfy');
    const plan = await planSync(paths, rules, target);
    assert.deepEqual(plan.components.find((c) => c.name === 'docs')!.updates, ['SETUP.md']);
    const targetBefore = snapshot(ws.sp);
    const backupsBefore = (await listBackups(paths, 'comfy')).length;

    // An edit the plan did not include: the fresh plan would also update INDEX.md.
    write(ws.main, 'docs/INDEX.md', '# Index v2\n');
    await assert.rejects(applySync(paths, rules, target, { plan }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'conflict');
      assert.match(e.message, /files changed since the plan was made for target "comfy" \(docs\/INDEX\.md changed in the main project\); nothing was written\. Plan the sync again/);
      return true;
    });
    assert.deepEqual(snapshot(ws.sp), targetBefore, 'nothing written to the target');
    assert.equal((await listBackups(paths, 'comfy')).length, backupsBefore, 'no backup made');
    assert.equal(registry('comfy').last_sync_commit, git(ws.main, 'rev-parse', 'HEAD~1').trim());

    // A planned file edited again (same list of files, other content) is refused too.
    const plan2 = await planSync(paths, rules, target);
    write(ws.main, 'docs/SETUP.md', '# Setup v3, longer\n');
    await assert.rejects(applySync(paths, rules, target, { plan: plan2 }), /\(docs\/SETUP\.md changed in the main project\); nothing was written/);
    assert.deepEqual(snapshot(ws.sp), targetBefore);

    // A plan of the files as they are applies, and does what it said.
    const plan3 = await planSync(paths, rules, target);
    const r = await applySync(paths, rules, target, { plan: plan3 });
    assert.equal(r.ok, true, r.error);
    assert.deepEqual(r.plan.components.find((c) => c.name === 'docs')!.updates, ['INDEX.md', 'SETUP.md']);
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), '# Setup v3, longer\n');
    assert.equal(read(ws.sp, `${SP}/docs/INDEX.md`), '# Index v2\n');
  });

  it('a target file edited after the plan is never overwritten, before or during the apply', async () => {
    const { planSync, applySync, getTarget, paths, rules } = await api();
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    write(ws.main, 'docs/INDEX.md', '# Index v2\n');
    ws.commit('v2');
    const target = await getTarget(paths, 'comfy');
    // Edited before the apply starts: refused before anything is written.
    const plan = await planSync(paths, rules, target);
    const indexBefore = read(ws.sp, `${SP}/docs/INDEX.md`);
    write(ws.sp, `${SP}/docs/SETUP.md`, 'edited in the target\n');
    await assert.rejects(applySync(paths, rules, target, { plan }), /\(python_embeded\/Lib\/site-packages\/opencode\/docs\/SETUP\.md changed in the target\); nothing was written/);
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), 'edited in the target\n');
    assert.equal(read(ws.sp, `${SP}/docs/INDEX.md`), indexBefore, 'the other planned file was not written either');
    // Edited while the sync runs (after its check, during its backup): that file is left as it was edited.
    // (First the target's copy goes back to what the last sync wrote: an edit made before a plan is a conflict of its own.)
    write(ws.sp, `${SP}/docs/SETUP.md`, '# Setup\n\nBack to [index](INDEX.md).\n');
    const plan2 = await planSync(paths, rules, target);
    let edited = false;
    const r = await applySync(paths, rules, target, {
      plan: plan2,
      onProgress: (p) => {
        if (p.phase === 'backup' && !edited) {
          edited = true;
          write(ws.sp, `${SP}/docs/SETUP.md`, 'edited again, during the sync\n');
        }
      },
    });
    assert.equal(edited, true);
    assert.equal(r.ok, false);
    assert.match(r.error!, /SETUP\.md changed in the target\); the sync stopped there/);
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), 'edited again, during the sync\n');
    assert.ok(r.backup, 'its backup undoes what it wrote');
  });

  it('writes the merged config text the plan carries, and only over the version it merged into', async () => {
    const { planSync, applySync, getTarget, paths, rules } = await api();
    write(ws.sp, 'opencode.toml', '# target config\nlog_level = "debug"\n');
    const target = await getTarget(paths, 'comfy');
    const plan = await planSync(paths, rules, target, { components: ['config'] });
    const cfg = plan.configs.find((c) => c.destination === 'opencode.toml')!;
    assert.equal(cfg.changed, true);
    assert.match(cfg.text!, /log_level = "debug"/);
    const r = await applySync(paths, rules, target, { plan });
    assert.equal(r.ok, true, r.error);
    assert.equal(read(ws.sp, 'opencode.toml'), cfg.text);
    assert.equal(r.plan.configs[0].text, undefined, 'results leave the merged text out');
    // A config edited after its plan: refused, the edit kept.
    write(ws.sp, 'opencode.toml', '# target config\nlog_level = "warn"\n');
    const plan2 = await planSync(paths, rules, target, { components: ['config'] });
    write(ws.sp, 'opencode.toml', '# target config\nlog_level = "error"\n');
    await assert.rejects(applySync(paths, rules, target, { plan: plan2 }), /opencode\.toml changed in the target\); nothing was written/);
    assert.equal(read(ws.sp, 'opencode.toml'), '# target config\nlog_level = "error"\n');
  });

  it('tags synchronized targets with a release version: --all skips the others, a named one must be synchronized', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    const synced = registry('comfy');
    const all = await ws.run('--json', 'target', 'tag', '--all', '--version', 'v2.0.0');
    assert.equal(all.code, 1, 'a skipped target is reported with exit code 1');
    assert.deepEqual(all.json().tagged, ['comfy']);
    assert.deepEqual(all.json().skipped.map((s: { name: string; status: string }) => [s.name, s.status]), [['app', 'needs_sync']]);
    assert.equal(registry('comfy').sync_version, 'v2.0.0');
    assert.equal(registry('comfy').last_sync_commit, synced.last_sync_commit);
    assert.equal(registry('app').sync_version, null);
    assert.equal((await ws.run('--json', 'sync', 'status')).json().targets.find((t: { name: string }) => t.name === 'comfy').status, 'synchronized');

    const human = await ws.run('target', 'tag', '--all', '--version', 'v2.0.1');
    assert.match(human.stdout, /Tagged comfy with v2\.0\.1/);
    assert.match(human.stdout, /Skipped app: needs_sync \(\d+ to add, 1 config file to merge\)/);

    const refused = await ws.run('target', 'tag', 'app', '--version', 'v2.0.0');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /only synchronized targets can be tagged: "app" is needs_sync/);
    assert.equal(registry('app').sync_version, null);

    const one = await ws.run('target', 'tag', 'comfy', '--version', 'v2.1.0');
    assert.equal(one.code, 0, one.stderr);
    assert.equal(registry('comfy').sync_version, 'v2.1.0');
    assert.notEqual((await ws.run('target', 'tag', '--version', 'v3')).code, 0, 'a name or --all is required');
    assert.notEqual((await ws.run('target', 'tag', 'nope', '--version', 'v3')).code, 0);
  });

  it('verify --tests runs only the named check groups', async () => {
    const { DEFAULT_RULES } = await api();
    const rules = { ...DEFAULT_RULES, verify: { ...DEFAULT_RULES.verify, commands: [{ name: 'smoke', command: 'node -e "process.exit(0)"', timeout_ms: 60000 }] } };
    write(ws.main, 'coordination/sync-rules.jsonc', JSON.stringify(rules, null, 2));
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    // Commands from the workspace's rules run once the user trusted them (the record in a temporary config folder).
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = path.join(ws.dir, 'config');
    try {
      assert.equal((await ws.run('trust')).code, 0);
      await verifyGroups();
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  async function verifyGroups(): Promise<void> {
    const names = async (...tests: string[]) => {
      const r = await ws.run('--json', 'target', 'verify', 'comfy', ...tests);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return (r.json().checks as { name: string; status: string }[]).map((c) => `${c.name} ${c.status}`);
    };
    assert.deepEqual(await names('--tests', 'core'), ['command:smoke pass']);
    assert.deepEqual(await names('--tests', 'integration'), ['config:opencode pass']);
    assert.deepEqual(await names('--tests', 'docs'), ['files:docs pass', 'files:plans pass', 'files:rag pass', 'files:readme pass', 'files:mission pass', 'links pass']);
    assert.deepEqual(await names('--tests', 'core,integration'), ['config:opencode pass', 'command:smoke pass']);
    assert.equal((await names()).length, 8);

    const bad = await ws.run('sync', 'verify', '--target', 'comfy', '--tests', 'core,speed');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown verify test group "speed" \(known: core, integration, docs, files, links, config, commands\)/);
    const help = await ws.run('target', 'verify', '--help');
    assert.match(help.stdout, /core {9}commands/);
    assert.match(help.stdout, /docs {9}files \+ links/);
    assert.match(help.stdout, /integration {2}config/);
  }
});
