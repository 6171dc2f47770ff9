import * as assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { addBothTargets, makeWorkspace, read, snapshot, targetsApi, Workspace, write } from './helpers';

const DOCS = 'docs/opencode/docs';

/**
 * The files a sync and a backup keep between runs (`.syncord/state/<target>.json`, backup manifests): the form
 * they are written in, earlier forms still read, nothing rewritten for nothing, another writer's change kept,
 * and damaged files refused with their line and column.
 */
describe('targets: sync state and backup manifests on disk', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    await addBothTargets(ws);
  });
  afterEach(() => ws.cleanup());

  const stateFile = () => path.join(ws.main, '.syncord', 'state', 'app.json');
  const state = () => JSON.parse(fs.readFileSync(stateFile(), 'utf8'));
  const sync = async () => {
    const r = await ws.run('--json', 'sync', 'run', '--target', 'app');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.json<{ written: number }>();
  };
  const sha = (text: string) => createHash('sha256').update(text).digest('hex');

  it('the state is written on one line, and a state in the earlier indented form keeps its merge bases', async () => {
    await sync();
    const text = fs.readFileSync(stateFile(), 'utf8');
    assert.equal(text.indexOf('\n'), text.length - 1, 'one line');
    const first = JSON.parse(text);
    assert.equal(first.components.docs.bases['INDEX.md'], sha(read(ws.main, 'docs/INDEX.md')));
    // The form earlier versions wrote.
    fs.writeFileSync(stateFile(), JSON.stringify(first, null, 2) + '\n');
    write(ws.main, 'docs/SETUP.md', '# Setup, second edition\n');
    ws.commit('setup');
    assert.equal((await sync()).written, 1);
    const after = state();
    assert.equal(after.components.docs.bases['SETUP.md'], sha('# Setup, second edition\n'));
    const { 'SETUP.md': _old, ...others } = first.components.docs.bases;
    const { 'SETUP.md': _new, ...kept } = after.components.docs.bases;
    assert.deepEqual(kept, others, 'the bases of the files not synced this time are the ones the indented file held');
  });

  it('a sync that changes nothing leaves the state file as it was', async () => {
    await sync();
    const before = fs.statSync(stateFile());
    const bytes = fs.readFileSync(stateFile(), 'utf8');
    assert.equal((await sync()).written, 0);
    const after = fs.statSync(stateFile());
    assert.equal(fs.readFileSync(stateFile(), 'utf8'), bytes);
    assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], 'not rewritten');
  });

  it('a change another process makes to the state between the plan and the sync is kept beside the new merge bases', async () => {
    await sync();
    const { planSync, applySync, getTarget, paths, rules } = await targetsApi(ws);
    write(ws.main, 'docs/SETUP.md', '# Setup, third edition\n');
    ws.commit('setup');
    const target = await getTarget(paths, 'app');
    const plan = await planSync(paths, rules, target);
    // Meanwhile another Syncord (a conflict settled in the editor) records a base for a file of its own.
    const other = state();
    other.components.docs.bases['NOTES.md'] = null;
    fs.writeFileSync(stateFile(), JSON.stringify(other));
    const r = await applySync(paths, rules, target, { plan });
    assert.equal(r.ok, true, r.error);
    assert.equal(r.written, 1);
    const now = state();
    assert.equal(now.components.docs.bases['NOTES.md'], null, "the other process's change is still there");
    assert.equal(now.components.docs.bases['SETUP.md'], sha('# Setup, third edition\n'));
  });

  it('a state file that is a symlink is not read through, and the next sync replaces it with a file of its own', async () => {
    await sync();
    const outside = path.join(ws.dir, 'elsewhere.json');
    fs.renameSync(stateFile(), outside);
    const outsideText = fs.readFileSync(outside, 'utf8');
    fs.symlinkSync(outside, stateFile());
    write(ws.main, 'docs/SETUP.md', '# Setup, fourth edition\n');
    ws.commit('setup');
    assert.equal((await sync()).written, 1);
    assert.equal(fs.lstatSync(stateFile()).isFile(), true);
    assert.equal(fs.readFileSync(outside, 'utf8'), outsideText, 'the file the link pointed at is untouched');
    assert.equal(state().components.docs.bases['SETUP.md'], sha('# Setup, fourth edition\n'));
  });

  it('a file named __proto__ gets a merge base like any other', async () => {
    write(ws.main, 'docs/__proto__', 'one\ntwo\nthree\n');
    ws.commit('odd name');
    await sync();
    assert.equal(Object.prototype.hasOwnProperty.call(state().components.docs.bases, '__proto__'), true);
    // With its base known, the main project's change is brought over the unchanged copy (no conflict).
    write(ws.main, 'docs/__proto__', 'one\ntwo (main)\nthree\n');
    ws.commit('edit');
    assert.equal((await sync()).written, 1);
    assert.equal(read(ws.src, `${DOCS}/__proto__`), 'one\ntwo (main)\nthree\n');
  });

  describe('backup manifests', () => {
    let id: string;
    let manifestFile: string;
    beforeEach(async () => {
      await sync();
      const b = await ws.run('--json', 'target', 'backup', 'app');
      assert.equal(b.code, 0, b.stderr);
      id = b.json<{ id: string }>().id;
      manifestFile = path.join(ws.main, '.syncord', 'backups', 'app', 'manifests', `${id}.json`);
    });

    it('a manifest written out again with other spacing (same content, same digest) still restores', async () => {
      const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      fs.writeFileSync(manifestFile, JSON.stringify(m, null, 2) + '\n');
      write(ws.src, `${DOCS}/INDEX.md`, 'drifted\n');
      const r = await ws.run('--json', 'target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json<{ verified: boolean }>().verified, true);
      assert.equal(read(ws.src, `${DOCS}/INDEX.md`), read(ws.main, 'docs/INDEX.md'));
    });

    it('a manifest cut short is refused with its file, line and column, and the target is left as it is', async () => {
      const pretty = JSON.stringify(JSON.parse(fs.readFileSync(manifestFile, 'utf8')), null, 2);
      fs.writeFileSync(manifestFile, pretty.slice(0, Math.floor(pretty.length / 2)));
      write(ws.src, `${DOCS}/INDEX.md`, 'drifted\n');
      const before = snapshot(ws.src);
      const r = await ws.run('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${id}\\.json:\\d+:\\d+: backup manifest does not parse: invalid JSON`));
      const [, line] = new RegExp(`${id}\\.json:(\\d+):`).exec(r.stderr)!;
      assert.ok(Number(line) > 1, 'the line where the text ends, not the first');
      assert.deepEqual(snapshot(ws.src), before);
    });

    it('a manifest whose end was kept but one entry edited is reported as tampered', async () => {
      const text = fs.readFileSync(manifestFile, 'utf8');
      const m = JSON.parse(text);
      const hash = m.components.docs.files['INDEX.md'].hash;
      fs.writeFileSync(manifestFile, text.replace(hash, '0'.repeat(64)));
      const r = await ws.run('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${id}\\.json:1:\\d+: backup manifest ${id} was tampered with: its content does not match its recorded digest`));
    });

    it('a backup after a few changes stores only the changed bytes, and lists every file', async () => {
      const objects = path.join(ws.main, '.syncord', 'backups', 'app', 'objects');
      const count = () => fs.readdirSync(objects).reduce((n, d) => n + fs.readdirSync(path.join(objects, d)).length, 0);
      const before = count();
      write(ws.src, `${DOCS}/SETUP.md`, 'changed in the target\n');
      const b = await ws.run('--json', 'target', 'backup', 'app');
      assert.equal(b.code, 0, b.stderr);
      const s = b.json<{ files: number; newObjects: number; newBytes: number }>();
      assert.deepEqual([s.newObjects, s.newBytes], [1, Buffer.byteLength('changed in the target\n')]);
      assert.equal(count(), before + 1);
      assert.equal(s.files, JSON.parse(fs.readFileSync(manifestFile, 'utf8')).totals.files);
    });
  });
});
