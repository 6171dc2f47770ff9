import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { git, makeWorkspace, read, snapshot, SP, Workspace, write } from './helpers';

describe('targets: backup, sync, verify, rollback, restore', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    assert.equal((await ws.run('target', 'add', 'comfy', '--path', ws.sp, '--type', 'site-packages')).code, 0);
  });
  afterEach(() => ws.cleanup());

  it('full cycle: detect -> backup -> sync -> verify -> break -> rollback -> verify', async () => {
    write(ws.sp, `${SP}/docs/OLD_ONLY_IN_TARGET.md`, 'orphan\n');
    write(ws.sp, `${SP}/README.md`, 'old readme\n');
    assert.equal((await ws.run('sync', 'detect')).code, 0);
    const b = await ws.run('--json', 'target', 'backup', 'comfy');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.json().files, 2);
    // Files the target has that no sync put there are conflicts: listed, left alone, exit 5.
    const dry = await ws.run('sync', 'run', '--target', 'comfy', '--dry-run');
    assert.equal(dry.code, 5);
    assert.match(dry.stdout, new RegExp(`! ${SP}/docs/OLD_ONLY_IN_TARGET\\.md  CONFLICT: not in the main project, and not put there by a sync`));
    assert.match(dry.stdout, new RegExp(`! ${SP}/README\\.md  CONFLICT: differs from the main project, and no earlier sync of it is known`));
    assert.deepEqual(fs.readdirSync(path.join(ws.sp, SP, 'docs')), ['OLD_ONLY_IN_TARGET.md']);
    // The user chooses the main project's versions.
    const run = await ws.run('--json', 'sync', 'run', '--target', 'comfy', '--take-source');
    assert.equal(run.code, 0, run.stderr);
    const r = run.json();
    assert.equal(r.ok, true);
    assert.equal(r.recorded.sync_version, 'v1.0.0');
    assert.equal(read(ws.sp, `${SP}/docs/api/REST.md`), '# REST\n');
    assert.equal(read(ws.sp, `${SP}/README.md`), read(ws.main, 'README.md'));
    assert.equal(read(ws.sp, `${SP}/RAG/troubleshooting/errors/E001.md`), '# E001\n');
    assert.equal(read(ws.sp, 'opencode.toml'), read(ws.main, 'opencode.toml'));
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'docs/OLD_ONLY_IN_TARGET.md')), false, 'mirror removes orphans');
    const reg = JSON.parse(read(ws.main, 'coordination/targets.json')).targets[0];
    assert.equal(reg.status, 'synchronized');
    assert.equal(reg.sync_version, 'v1.0.0');
    assert.equal(reg.last_sync_commit, git(ws.main, 'rev-parse', 'HEAD').trim());
    let v = await ws.run('sync', 'verify', '--target', 'comfy');
    assert.equal(v.code, 0, v.stdout);
    const good = snapshot(path.join(ws.sp, SP, 'docs'));

    // A second sync after a change: backup of the touched files, then the change.
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n\nBack to [index](INDEX.md).\n');
    ws.commit('setup v2');
    const run2 = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(run2.code, 0, run2.stderr);
    assert.deepEqual(run2.json().plan.components[0].updates, ['SETUP.md']);
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), '# Setup v2\n\nBack to [index](INDEX.md).\n');

    // Break the target: verify fails, naming the file; rollback restores the pre-sync state of docs.
    write(ws.sp, `${SP}/docs/SETUP.md`, 'garbage\n');
    fs.rmSync(path.join(ws.sp, SP, 'docs/api/REST.md'));
    v = await ws.run('sync', 'verify', '--target', 'comfy');
    assert.equal(v.code, 1);
    assert.match(v.stdout, /FAIL  files:docs/);
    // An edit of the target's own is kept by syncs, and verify says so; a missing file fails.
    assert.match(v.stdout, new RegExp(`1 kept with the target's own edits \\(${SP}/docs/SETUP\\.md\\)`));
    assert.match(v.stdout, /docs\/api\/REST\.md: missing/);
    const rb = await ws.run('sync', 'rollback', '--target', 'comfy', '--component', 'docs');
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /Verified: every restored file matches the backup by SHA-256/);
    // The rollback undoes the last sync of docs: the files it changed are back as they were before it
    // (SETUP v1); REST.md, which that sync did not touch, stays as the user left it until the next sync.
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), '# Setup\n\nBack to [index](INDEX.md).\n');
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'docs/api/REST.md')), false);
    assert.equal((await ws.run('--json', 'sync', 'status')).json().targets[0].status, 'needs_sync');
    // The next sync brings SETUP.md over the rolled-back version (it is the base now, not a target edit)
    // and REST.md back, and verify passes.
    const run3 = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(run3.code, 0, run3.stdout);
    assert.deepEqual([run3.json().plan.components[0].updates, run3.json().plan.components[0].adds], [['SETUP.md'], ['api/REST.md']]);
    v = await ws.run('sync', 'verify', '--target', 'comfy');
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual(snapshot(path.join(ws.sp, SP, 'docs')), { ...good, 'SETUP.md': snapshot(path.join(ws.sp, SP, 'docs'))['SETUP.md'] });
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), '# Setup v2\n\nBack to [index](INDEX.md).\n');
  });

  it('mirror deletes files the source no longer has; update does not', async () => {
    await ws.run('sync', 'run', '--target', 'comfy');
    write(ws.sp, `${SP}/plans/TARGET_NOTES.md`, 'extra\n');
    write(ws.sp, `${SP}/EXTRA_BESIDE_README.md`, 'not managed\n');
    fs.rmSync(path.join(ws.main, 'docs/SETUP.md'));
    fs.rmSync(path.join(ws.main, 'MISSION.md'));
    ws.commit('remove');
    // A file the target added inside a mirrored folder is its own: a conflict until the user chooses.
    const first = await ws.run('sync', 'run', '--target', 'comfy', '--full');
    assert.equal(first.code, 5, first.stdout);
    assert.equal(read(ws.sp, `${SP}/plans/TARGET_NOTES.md`), 'extra\n');
    const r = await ws.run('sync', 'run', '--target', 'comfy', '--take-source');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'docs/SETUP.md')), false, 'mirror (docs) deletes');
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'plans/TARGET_NOTES.md')), false, 'mirror (plans) deletes extras');
    assert.equal(read(ws.sp, `${SP}/MISSION.md`), '# Mission\n', 'update (mission) keeps the file');
    assert.equal(read(ws.sp, `${SP}/EXTRA_BESIDE_README.md`), 'not managed\n', 'outside every component: untouched');
  });

  it('restore finds a file rewritten in place with its size and modification time set back', async () => {
    await ws.run('sync', 'run', '--target', 'comfy');
    const file = path.join(ws.sp, SP, 'docs/SETUP.md');
    const before = fs.readFileSync(file, 'utf8');
    // An hour old: the backup records its inode (it was not being written), as for most files of a real target.
    // (Whole seconds, so that the time put back below is exactly the recorded one.)
    const hourAgo = Math.floor(Date.now() / 1000) - 3600;
    fs.utimesSync(file, hourAgo, hourAgo);
    const b = (await ws.run('--json', 'target', 'backup', 'comfy')).json();
    const ino = fs.statSync(file).ino;
    // Same length, same inode (written in place), the old modification time put back.
    fs.writeFileSync(file, before.replace(/[a-z]/, (c) => (c === 'x' ? 'y' : 'x')));
    fs.utimesSync(file, hourAgo, hourAgo);
    assert.equal(fs.statSync(file).ino, ino);
    assert.equal(fs.statSync(file).mtimeMs, hourAgo * 1000);
    assert.notEqual(fs.readFileSync(file, 'utf8'), before);
    const r = await ws.run('--json', 'target', 'restore', 'comfy', '--backup', b.id);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().written, 1);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });

  it('restore makes the target byte-equal to the backup, and unchanged files cost no new space', async () => {
    await ws.run('sync', 'run', '--target', 'comfy');
    fs.chmodSync(path.join(ws.sp, SP, 'docs/SETUP.md'), 0o600);
    const b1 = (await ws.run('--json', 'target', 'backup', 'comfy')).json();
    const before = snapshot(ws.sp);
    const b2 = (await ws.run('--json', 'target', 'backup', 'comfy')).json();
    assert.equal(b2.newObjects, 0);
    assert.equal(b2.newBytes, 0);
    write(ws.sp, `${SP}/docs/SETUP.md`, 'changed\n');
    write(ws.sp, `${SP}/docs/new/ADDED.md`, 'added\n');
    fs.rmSync(path.join(ws.sp, SP, 'plans'), { recursive: true });
    write(ws.sp, 'opencode.toml', 'broken = \n');
    const b3 = (await ws.run('--json', 'target', 'backup', 'comfy')).json();
    assert.equal(b3.newObjects, 3); // SETUP.md, ADDED.md, opencode.toml
    const list = (await ws.run('--json', 'target', 'backups', 'comfy')).json().backups;
    assert.deepEqual(list.slice(0, 3).map((x: any) => x.id), [b3.id, b2.id, b1.id]);
    assert.equal(list[3].reason, 'pre-sync');
    const r = await ws.run('target', 'restore', 'comfy', '--backup', b1.id);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Verified/);
    assert.deepEqual(snapshot(ws.sp), before);
    // The restore itself can be undone.
    const pre = /saved as backup (\S+)\./.exec(r.stdout)![1];
    // That snapshot holds what the restore changed (3 files rewritten or removed, the folder it brought back), not
    // the whole target.
    const preBackup = (await ws.run('--json', 'target', 'backups', 'comfy')).json().backups.find((x: any) => x.id === pre);
    assert.equal(preBackup.reason, 'pre-restore');
    assert.equal(preBackup.files, 3);
    assert.equal((await ws.run('target', 'restore', 'comfy', '--backup', pre)).code, 0);
    assert.equal(read(ws.sp, 'opencode.toml'), 'broken = \n');
    assert.equal(read(ws.sp, `${SP}/docs/new/ADDED.md`), 'added\n');
    assert.equal(read(ws.sp, `${SP}/docs/SETUP.md`), 'changed\n');
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'plans')), false, 'the folder the restore brought back is gone again');
    const missing = await ws.run('target', 'restore', 'comfy', '--backup', '20990101T000000000Z-0000');
    assert.equal(missing.code, 4);
  });

  it('never follows symlinks out of the source or the target', async () => {
    const outside = path.join(ws.dir, 'outside');
    fs.mkdirSync(outside);
    fs.writeFileSync(path.join(outside, 'secret.md'), 'secret\n');
    fs.symlinkSync(path.join(outside, 'secret.md'), path.join(ws.main, 'docs/LINKED.md'));
    fs.symlinkSync(outside, path.join(ws.main, 'docs/linkdir'));
    ws.commit('symlinks');
    const r = await ws.run('--json', 'sync', 'run', '--target', 'comfy');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json().plan.components[0].skipped.sort(), ['LINKED.md', 'linkdir']);
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'docs/LINKED.md')), false);
    assert.equal(fs.existsSync(path.join(ws.sp, SP, 'docs/linkdir')), false);
    // A destination folder that is a symlink pointing outside the target is refused, and nothing is written there.
    fs.rmSync(path.join(ws.sp, SP, 'plans'), { recursive: true });
    fs.symlinkSync(outside, path.join(ws.sp, SP, 'plans'));
    const before = snapshot(outside);
    const r2 = await ws.run('sync', 'run', '--target', 'comfy', '--full');
    assert.equal(r2.code, 5);
    assert.match(r2.stderr, /symlink/);
    assert.deepEqual(snapshot(outside), before);
  });

  it('a cancelled sync reports what it did and the backup that restores the target exactly', async () => {
    const { applySync, getTarget, loadRules } = await import('../../../src/core/targets');
    const { resolveWorkspace } = await import('../../../src/core/workspace');
    write(ws.sp, `${SP}/docs/SETUP.md`, 'target version\n');
    const before = snapshot(ws.sp);
    const paths = resolveWorkspace(ws.main);
    const ac = new AbortController();
    const res = await applySync(paths, (await loadRules(paths)).rules, await getTarget(paths, 'comfy'), {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'apply') ac.abort();
      },
    });
    assert.equal(res.ok, false);
    assert.equal(res.cancelled, true);
    assert.ok(res.backup, 'a backup was taken first');
    assert.ok(res.written >= 1, 'files already started were written and reported');
    assert.equal(res.configsWritten, 0, 'nothing started after the cancel');
    assert.equal(fs.existsSync(path.join(ws.sp, 'opencode.toml')), false);
    assert.match(res.restoreCommand!, /^syncord target restore comfy --backup /);
    assert.equal(JSON.parse(read(ws.main, 'coordination/targets.json')).targets[0].status, 'sync_failed');
    const r = await ws.run('target', 'restore', 'comfy', '--backup', res.backup!.id);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(ws.sp), before);
  });
});
