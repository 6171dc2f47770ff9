import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import picomatch from 'picomatch';
import { addBothTargets, git, makeWorkspace, read, snapshot, SP, targetsApi, Workspace, write } from './helpers';


/**
 * The shortcuts that make sync, backup and detection fast must give the same results as the slow way:
 * backups that trust unchanged metadata, incremental syncs from git's list of changes, files created in
 * place, and the prefix-first glob matching of detection.
 */
describe('targets: fast paths give the same results', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    await addBothTargets(ws);
  });
  afterEach(() => ws.cleanup());

  const api = () => targetsApi(ws);

  /** Sets a file's modification time to `secondsAgo` in the past (older than a backup's racy window). */
  const age = (file: string, secondsAgo: number) => {
    const t = Date.now() / 1000 - secondsAgo;
    fs.utimesSync(file, t, t);
  };

  it('a backup that reuses the hashes of unchanged files still restores byte-exact, and notices every kind of change', async () => {
    const { backupTarget, loadManifest, restoreBackup, getTarget, paths, rules } = await api();
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    const docs = path.join(ws.sp, SP, 'docs');
    for (const f of ['INDEX.md', 'SETUP.md', 'api/REST.md']) age(path.join(docs, f), 60);
    write(ws.sp, `${SP}/docs/big.bin`, ''); // larger than the one-call read limit: the streaming path
    fs.writeFileSync(path.join(docs, 'big.bin'), Buffer.alloc(1_500_000, 7));
    age(path.join(docs, 'big.bin'), 60);
    const b1 = await backupTarget(paths, rules, 'comfy');
    const m1 = await loadManifest(paths, 'comfy', b1.id);
    assert.equal(typeof m1.components.docs.files['SETUP.md'].ino, 'number', 'old enough to be trusted next time');
    const before = snapshot(ws.sp);

    // Unchanged: nothing new is stored.
    const b2 = await backupTarget(paths, rules, 'comfy');
    assert.equal(b2.newObjects, 0);
    assert.equal(b2.files, b1.files);

    // Same size, new content, modification time set back: a new file (new inode), so it is read again.
    const setup = path.join(docs, 'SETUP.md');
    const old = fs.statSync(setup);
    const replacement = path.join(docs, '.SETUP.tmp');
    fs.writeFileSync(replacement, read(docs, 'SETUP.md').replace('Setup', 'SETUP'));
    fs.utimesSync(replacement, old.atime, old.mtime);
    fs.renameSync(replacement, setup);
    // Same size and inode, edited in place just now (inside the racy window): recorded without an inode...
    const rest = path.join(docs, 'api/REST.md');
    fs.writeFileSync(rest, '# rest\n');
    const b3 = await backupTarget(paths, rules, 'comfy');
    assert.equal(b3.newObjects, 2);
    const m3 = await loadManifest(paths, 'comfy', b3.id);
    assert.equal(m3.components.docs.files['api/REST.md'].ino, undefined, 'too fresh to vouch for its content');
    // ...so editing it again in place with the same size and time is still noticed by the next backup.
    const restTime = fs.statSync(rest);
    fs.writeFileSync(rest, '# REsT\n');
    fs.utimesSync(rest, restTime.atime, restTime.mtime);
    const b4 = await backupTarget(paths, rules, 'comfy');
    assert.equal(b4.newObjects, 1);
    const m4 = await loadManifest(paths, 'comfy', b4.id);
    assert.notEqual(m4.components.docs.files['api/REST.md'].hash, m3.components.docs.files['api/REST.md'].hash);

    // A grown big file is stored again; the restore brings back every byte of the first snapshot.
    fs.appendFileSync(path.join(docs, 'big.bin'), 'x');
    fs.rmSync(path.join(docs, 'INDEX.md'));
    const r = await restoreBackup(paths, await getTarget(paths, 'comfy'), b1.id);
    assert.equal(r.verified, true, r.mismatches.join(', '));
    assert.deepEqual(snapshot(ws.sp), before);
  });

  it('an incremental sync from git’s list of changes leaves the target exactly as a full sync does', async () => {
    const { applySync, getTarget, paths, rules } = await api();
    const first = await applySync(paths, rules, await getTarget(paths, 'app'));
    assert.equal(first.ok, true, first.error);
    // Every kind of change: committed edit, add, delete, rename; uncommitted edit; untracked file; ignored file.
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    write(ws.main, 'docs/new/ADDED.md', '# Added\n');
    fs.rmSync(path.join(ws.main, 'plans/archive/OLD.md'));
    git(ws.main, 'mv', 'docs/api/REST.md', 'docs/api/HTTP.md');
    ws.commit('changes');
    write(ws.main, 'docs/INDEX.md', '# Index, uncommitted\n');
    write(ws.main, 'docs/UNTRACKED.md', '# Not in git yet\n');
    write(ws.main, 'docs/debug.log', 'ignored\n');
    const inc = await applySync(paths, rules, await getTarget(paths, 'app'));
    assert.equal(inc.ok, true, inc.error);

    // The same main project synced in full into a fresh copy of the first state of the target.
    const fresh = path.join(ws.dir, 'fresh');
    fs.mkdirSync(fresh);
    assert.equal((await ws.run('target', 'add', 'fresh', '--path', fresh, '--type', 'source')).code, 0);
    const full = await applySync(paths, rules, await getTarget(paths, 'fresh'), { full: true });
    assert.equal(full.ok, true, full.error);
    assert.deepEqual(snapshot(ws.src), snapshot(fresh));
    assert.equal(read(ws.src, 'docs/opencode/docs/INDEX.md'), '# Index, uncommitted\n');
    assert.equal(fs.existsSync(path.join(ws.src, 'docs/opencode/docs/api/REST.md')), false);
    assert.equal(fs.existsSync(path.join(ws.src, 'docs/opencode/plans/archive/OLD.md')), false);
    // And a full comparison of the incrementally synced target finds nothing left to do.
    const again = await applySync(paths, rules, await getTarget(paths, 'app'), { full: true, dryRun: true });
    assert.deepEqual(again.plan.totals, { adds: 0, updates: 0, deletes: 0, merges: 0, conflicts: 0, kept: 0, configs: 0 });
    assert.ok(again.plan.components.every((c) => c.retime.length === 0));
  });

  for (const parallelCopies of [false, true]) {
  const how = parallelCopies ? ' (copies in parallel)' : ' (copies one by one)';
  it('updates replace files by rename (a hard link to the old file keeps the old bytes); adds are created new' + how, async () => {
    const { applySync, getTarget, paths, rules } = await api();
    assert.equal((await applySync(paths, rules, await getTarget(paths, 'app'), { parallelCopies })).ok, true);
    const target = path.join(ws.src, 'docs/opencode/docs/SETUP.md');
    const keep = path.join(ws.dir, 'kept-link.md');
    fs.linkSync(target, keep);
    const oldText = read(ws.src, 'docs/opencode/docs/SETUP.md');
    write(ws.main, 'docs/SETUP.md', '# Setup, rewritten\n');
    fs.chmodSync(path.join(ws.main, 'docs/SETUP.md'), 0o640);
    write(ws.main, 'docs/ADDED.md', '# Added\n');
    ws.commit('update and add');
    const r = await applySync(paths, rules, await getTarget(paths, 'app'), { parallelCopies });
    assert.equal(r.ok, true, r.error);
    assert.equal(read(ws.src, 'docs/opencode/docs/SETUP.md'), '# Setup, rewritten\n');
    assert.equal(fs.readFileSync(keep, 'utf8'), oldText, 'the old file was not written in place');
    const src = fs.statSync(path.join(ws.main, 'docs/SETUP.md'));
    const dst = fs.statSync(target);
    assert.equal(dst.mode & 0o777, 0o640);
    assert.ok(Math.abs(src.mtimeMs - dst.mtimeMs) < 1, 'modification time carried over');
    assert.equal(read(ws.src, 'docs/opencode/docs/ADDED.md'), '# Added\n');
    assert.deepEqual(fs.readdirSync(path.join(ws.src, 'docs/opencode/docs')).filter((n) => n.endsWith('.tmp')), [], 'no temp files left');
  });

  it('a source file that becomes a symlink during the sync is not followed' + how, async () => {
    const { applySync, getTarget, paths, rules } = await api();
    const outside = path.join(ws.dir, 'outside-secret.md');
    fs.writeFileSync(outside, 'secret\n');
    // Enough files that the swapped one is still waiting when the first copy is reported (even with 8 in flight).
    for (let i = 0; i < 40; i++) write(ws.main, `docs/many/n${String(i).padStart(2, '0')}.md`, `# ${i}\n`);
    ws.commit('many');
    const last = 'docs/many/n39.md';
    let swapped = false;
    const r = await applySync(paths, rules, await getTarget(paths, 'app'), {
      parallelCopies,
      onProgress: (p) => {
        if (p.phase === 'apply' && !swapped) {
          swapped = true;
          // The last file of the docs component, not copied yet: now a link to a file outside.
          fs.rmSync(path.join(ws.main, last));
          fs.symlinkSync(outside, path.join(ws.main, last));
        }
      },
    });
    assert.equal(swapped, true);
    assert.equal(r.ok, false);
    assert.match(r.error!, /symlink/);
    const copied = path.join(ws.src, 'docs/opencode/docs/many/n39.md');
    assert.ok(!fs.existsSync(copied), 'not copied through the link');
    assert.ok(r.backup, 'the backup taken first restores the target');
  });
  }

  it('detection matches categories exactly as picomatch does', async () => {
    const { classify } = await api();
    const patterns = [
      'src/opencode/provider/*.py',
      'src/opencode/cli/**/*.py',
      'RAG/**/*.md',
      'docs/*.md',
      'opencode.toml',
      '**/*.json',
      '*.md',
      'a/{b,c}/*.txt',
      '!x/*.md',
      './docs/*.md',
      'docs/[ab]*.md',
      'src/**',
    ];
    const paths = [
      'src/opencode/provider/anthropic.py',
      'src/opencode/provider/sub/x.py',
      'src/opencode/cli/main.py',
      'src/opencode/cli/a/b/c.py',
      'RAG/x.md',
      'RAG/a/.hidden.md',
      'RAG.md',
      'docs/SETUP.md',
      'docs/api/REST.md',
      'docs/.dot.md',
      'opencode.toml',
      'x/opencode.toml',
      'package.json',
      'a/b/c/d.json',
      'README.md',
      'a/b/x.txt',
      'a/d/x.txt',
      'x/y.md',
      'docs/a1.md',
      'docs/c1.md',
      'src',
      'src/x',
      'srcx/y',
    ];
    for (const pattern of patterns) {
      const rules = { categories: { only: { patterns: [pattern], priority: 'high', sync: true } } } as any;
      const got = classify(
        paths.map((p) => ({ status: 'M' as const, path: p })),
        rules,
      ).files.map((f) => f.categories.length > 0);
      const want = paths.map((p) => picomatch(pattern, { dot: true })(p));
      assert.deepEqual(got, want, pattern);
    }
    // Renames count for the categories of the old and the new path.
    const rules = { categories: { docs: { patterns: ['docs/*.md'], priority: 'high', sync: true }, rag: { patterns: ['RAG/**/*.md'], priority: 'low', sync: true } } } as any;
    const r = classify([{ status: 'R', path: 'RAG/x/a.md', oldPath: 'docs/a.md' }], rules);
    assert.deepEqual(r.files[0].categories, ['docs', 'rag']);
  });
});
