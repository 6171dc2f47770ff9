import * as assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { addBothTargets, makeWorkspace, read, targetsApi, Workspace, write } from './helpers';

/**
 * A target's status is one promise: "synchronized" exactly when a sync would change nothing; verify agrees
 * with sync; and a target's own edits are never overwritten without the user choosing it.
 */
const DOCS = 'docs/opencode/docs';
const sha = (root: string, rel: string) => createHash('sha256').update(fs.readFileSync(path.join(root, rel))).digest('hex');

async function statusOf(ws: Workspace, name: string): Promise<{ status: string; reason: string; changes: { path: string; action: string }[] }> {
  const r = await ws.run('sync', 'status', '--json');
  return r.json().targets.find((t: { name: string }) => t.name === name);
}

describe('targets: a status that is always true', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    await addBothTargets(ws);
  });
  afterEach(() => ws.cleanup());

  it('a rule whose source does not exist is not applicable in plan, sync, verify, checklist and status alike', async () => {
    fs.rmSync(path.join(ws.main, 'opencode.toml'));
    fs.rmSync(path.join(ws.main, 'RAG'), { recursive: true });
    ws.commit('no opencode.toml, no RAG');
    const run = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /opencode \(config merge\) -> opencode\.toml: not applicable: opencode\.toml does not exist in the main project/);
    assert.match(run.stdout, /rag \(mirror\) -> docs\/opencode\/RAG\/: not applicable: RAG\/ does not exist/);
    const verify = await ws.run('sync', 'verify', '--target', 'app', '--json');
    assert.equal(verify.code, 0, verify.stdout);
    const checks = verify.json().checks as { name: string; status: string; detail: string }[];
    assert.deepEqual(checks.filter((c) => c.status === 'skipped').map((c) => c.name).sort(), ['config:opencode', 'files:rag']);
    assert.ok(checks.every((c) => c.status !== 'fail'));
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'synchronized', s.reason);
    assert.match(s.reason, /not applicable \(no source in the main project\): rag, opencode/);
    const checklist = await ws.run('sync', 'checklist', '--target', 'app');
    assert.match(checklist.stdout, /Not applicable: `RAG\/` does not exist in the main project/);
    assert.match(checklist.stdout, /Not applicable: `opencode\.toml` does not exist/);
  });

  it('says so when the rules copy nothing into a kind of target', async () => {
    write(ws.main, 'coordination/sync-rules.jsonc', JSON.stringify({ categories: {}, components: { docs: { source: 'docs/', destination: { source: 'docs/x/', 'site-packages': null } } }, config: {} }));
    const s = await statusOf(ws, 'comfy');
    assert.equal(s.status, 'synchronized');
    assert.equal(s.reason, 'nothing to keep in step: the sync rules copy nothing into site-packages targets (see syncord sync rules)');
  });

  it('is synchronized exactly when a sync would change nothing, whatever targets.json says', async () => {
    // Recorded as synchronized by hand, never synced: status, checklist and plan agree that 8 files are missing.
    assert.equal((await ws.run('target', 'update', 'app', '--status', 'synchronized')).code, 0);
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'needs_sync');
    const plan = (await ws.run('sync', 'run', '--target', 'app', '--dry-run', '--json')).json().plan;
    assert.equal(s.changes.filter((c) => c.action === 'add').length, plan.totals.adds);
    assert.match(s.reason, new RegExp(`^${plan.totals.adds} to add, 1 config file to merge`));
    const checklist = await ws.run('sync', 'checklist', '--target', 'app');
    assert.match(checklist.stdout, new RegExp(`Pending: ${plan.totals.adds + 1} files to synchronize`));
    const list = await ws.run('target', 'list');
    assert.match(list.stdout, /- app .* status: needs_sync \(\d+ to add.*\) \[recorded: synchronized\]/);
    assert.equal((await ws.run('sync', 'check')).code, 1);
    // After the sync, nothing is left: every view says synchronized, and a dry run plans nothing.
    assert.equal((await ws.run('sync', 'run', '--all-targets')).code, 0);
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
    const again = (await ws.run('sync', 'run', '--target', 'app', '--dry-run', '--json')).json().plan.totals;
    assert.deepEqual(again, { adds: 0, updates: 0, deletes: 0, merges: 0, conflicts: 0, kept: 0, configs: 0 });
    assert.equal((await ws.run('sync', 'check')).code, 0);
    // A file deleted in the target is seen at once (no commit in the main project needed).
    fs.rmSync(path.join(ws.src, DOCS, 'SETUP.md'));
    const s2 = await statusOf(ws, 'app');
    assert.equal(s2.status, 'needs_sync');
    assert.deepEqual(s2.changes.map((c) => [c.action, c.path]), [['add', 'docs/SETUP.md']]);
  });

  it('after a restore that equals the synced state it is synchronized, and the last verify is kept', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    const backup = (await ws.run('target', 'backup', 'app', '--json')).json().id as string;
    assert.equal((await ws.run('sync', 'verify', '--target', 'app')).code, 0);
    write(ws.src, `${DOCS}/SETUP.md`, '# broken by hand\n');
    const restore = await ws.run('target', 'restore', 'app', '--backup', backup);
    assert.equal(restore.code, 0, restore.stdout + restore.stderr);
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'synchronized', s.reason);
    const { paths, lastVerify } = await targetsApi(ws);
    const kept = await lastVerify(paths, 'app');
    assert.equal(kept?.result.passed, true);
  });

  it('after a rollback, syncing the component again makes the target synchronized', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('setup v2');
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    assert.equal(read(ws.src, `${DOCS}/SETUP.md`), '# Setup v2\n');
    assert.equal((await ws.run('sync', 'rollback', '--target', 'app', '--component', 'docs')).code, 0);
    assert.equal(read(ws.src, `${DOCS}/SETUP.md`), '# Setup\n\nBack to [index](INDEX.md).\n');
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'needs_sync');
    assert.deepEqual(s.changes.map((c) => [c.action, c.path]), [['update', 'docs/SETUP.md']], 'the rolled-back file is an update, not an edit of the target');
    const docs = await ws.run('sync', 'docs', 'app', '--complete');
    assert.equal(docs.code, 0, docs.stdout);
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
  });
});

describe('targets: drift detection and three-way merge', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    write(ws.main, 'docs/a.md', 'one\ntwo\nthree\nfour\nfive\n');
    ws.commit('a.md');
    await addBothTargets(ws);
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
  });
  afterEach(() => ws.cleanup());

  it("keeps the target's own edit, and says so, when only the target changed a file", async () => {
    write(ws.src, `${DOCS}/a.md`, 'one\ntwo (target)\nthree\nfour\nfive\n');
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'synchronized', 'a sync would change nothing');
    assert.match(s.reason, /1 file with the target's own edits kept/);
    const run = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(run.code, 0);
    assert.match(run.stdout, /= docs\/opencode\/docs\/a\.md {2}\(the target's own edit, kept\)/);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one\ntwo (target)\nthree\nfour\nfive\n');
    assert.equal((await ws.run('sync', 'verify', '--target', 'app', '--tests', 'files')).code, 0);
  });

  it('merges edits of different lines made on both sides, line by line', async () => {
    write(ws.main, 'docs/a.md', 'one\ntwo\nthree\nfour\nfive (main)\n');
    ws.commit('main edits five');
    write(ws.src, `${DOCS}/a.md`, 'one (target)\ntwo\nthree\nfour\nfive\n');
    const dry = await ws.run('sync', 'run', '--target', 'app', '--dry-run');
    assert.match(dry.stdout, /M docs\/opencode\/docs\/a\.md {2}\(changed on both sides; merged line by line\)/);
    const run = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(run.code, 0, run.stdout);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one (target)\ntwo\nthree\nfour\nfive (main)\n');
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'synchronized', s.reason);
    // The next change of the main project merges again from the new base.
    write(ws.main, 'docs/a.md', 'one\ntwo\nthree (main)\nfour\nfive (main)\n');
    ws.commit('main edits three');
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one (target)\ntwo\nthree (main)\nfour\nfive (main)\n');
  });

  it('stops for overlapping edits (exit 5, the target untouched), syncs the rest, and settles them as the user chooses', async () => {
    write(ws.main, 'docs/a.md', 'one\ntwo (main)\nthree\nfour\nfive\n');
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('main edits two and setup');
    write(ws.src, `${DOCS}/a.md`, 'one\ntwo (target)\nthree\nfour\nfive\n');
    const before = sha(ws.src, `${DOCS}/a.md`);
    const run = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(run.code, 5, run.stdout + run.stderr);
    assert.match(run.stdout, /! docs\/opencode\/docs\/a\.md {2}CONFLICT: changed on both sides; 1 overlapping change/);
    assert.match(run.stdout, /1 conflict in app left untouched \(the rest was synced\)/);
    assert.match(run.stdout, /--take-source \[paths\]/);
    assert.equal(sha(ws.src, `${DOCS}/a.md`), before, "the target's edit is untouched");
    assert.equal(read(ws.src, `${DOCS}/SETUP.md`), '# Setup v2\n', 'the rest was synced');
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'conflict');
    assert.deepEqual(s.changes.map((c) => [c.action, c.path]), [['conflict', 'docs/a.md']]);
    assert.equal((await ws.run('sync', 'check')).code, 1);
    // Naming a file that is no conflict is refused.
    assert.equal((await ws.run('sync', 'run', '--target', 'app', '--keep-target', `${DOCS}/nope.md`)).code, 2);
    // Keep the target's copy: nothing written, and the conflict is gone for good.
    const keep = await ws.run('sync', 'run', '--target', 'app', '--keep-target', `${DOCS}/a.md`);
    assert.equal(keep.code, 0, keep.stdout);
    assert.equal(sha(ws.src, `${DOCS}/a.md`), before);
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
    // A later overlapping change conflicts again; this time the main project's version is taken.
    write(ws.main, 'docs/a.md', 'one\ntwo (main, again)\nthree\nfour\nfive\n');
    ws.commit('again');
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 5);
    const take = await ws.run('sync', 'run', '--target', 'app', '--take-source');
    assert.equal(take.code, 0, take.stdout);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one\ntwo (main, again)\nthree\nfour\nfive\n');
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
  });

  it('a mirror deletion of a file the target changed, and a file the target added, are conflicts', async () => {
    fs.rmSync(path.join(ws.main, 'docs/a.md'));
    ws.commit('a.md deleted');
    write(ws.src, `${DOCS}/a.md`, 'changed in the target\n');
    write(ws.src, `${DOCS}/mine.md`, 'the target added this\n');
    const run = await ws.run('sync', 'run', '--target', 'app', '--json');
    assert.equal(run.code, 5);
    const conflicts = run.json().conflicts as { path: string; reason: string }[];
    assert.deepEqual(conflicts.map((c) => [c.path, c.reason]).sort(), [
      [`${DOCS}/a.md`, 'deleted-in-source'],
      [`${DOCS}/mine.md`, 'added-in-target'],
    ]);
    assert.equal(read(ws.src, `${DOCS}/mine.md`), 'the target added this\n');
    const settle = await ws.run('sync', 'run', '--target', 'app', '--take-source', `${DOCS}/a.md`, '--keep-target', `${DOCS}/mine.md`);
    assert.equal(settle.code, 0, settle.stdout);
    assert.equal(fs.existsSync(path.join(ws.src, DOCS, 'a.md')), false);
    assert.equal(read(ws.src, `${DOCS}/mine.md`), 'the target added this\n');
    const s = await statusOf(ws, 'app');
    assert.equal(s.status, 'synchronized', s.reason);
    assert.match(s.reason, /1 file with the target's own edits kept/);
  });

  it('settles a conflict with a merged text from an editor, refusing a target copy changed meanwhile', async () => {
    write(ws.main, 'docs/a.md', 'one\ntwo (main)\nthree\nfour\nfive\n');
    ws.commit('main');
    write(ws.src, `${DOCS}/a.md`, 'one\ntwo (target)\nthree\nfour\nfive\n');
    const api = await targetsApi(ws);
    const target = await api.getTarget(api.paths, 'app');
    const inputs = await api.conflictInputs(api.paths, api.rules, target, `${DOCS}/a.md`);
    assert.equal(inputs.base?.toString('utf8'), 'one\ntwo\nthree\nfour\nfive\n');
    assert.equal(inputs.sourceFile, path.join(ws.main, 'docs/a.md'));
    await assert.rejects(api.settleConflict(api.paths, api.rules, target, `${DOCS}/a.md`, { text: 'x\n' }, 'f'.repeat(64)), /changed in the target since the conflict was shown/);
    const r = await api.settleConflict(api.paths, api.rules, target, `${DOCS}/a.md`, { text: 'one\ntwo (both)\nthree\nfour\nfive\n' }, inputs.targetHash);
    assert.equal(r.written, true);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one\ntwo (both)\nthree\nfour\nfive\n');
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
  });

  it('a file that differs and was never synced by Syncord is a conflict, not overwritten', async () => {
    write(ws.sp, 'python_embeded/Lib/site-packages/opencode/docs/SETUP.md', '# the target wrote this before any sync\n');
    const run = await ws.run('sync', 'run', '--target', 'comfy');
    assert.equal(run.code, 5, run.stdout);
    assert.match(run.stdout, /SETUP\.md {2}CONFLICT: differs from the main project, and no earlier sync of it is known/);
    assert.equal(read(ws.sp, 'python_embeded/Lib/site-packages/opencode/docs/SETUP.md'), '# the target wrote this before any sync\n');
  });

  it('a hand-edited state file is checked on read: bad entries are ignored, never used as paths or git arguments', async () => {
    const stateFile = path.join(ws.main, '.syncord', 'state', 'app.json');
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    const docs = state.components.docs;
    const out = path.join(ws.dir, 'written-by-git.txt');
    docs.commit = `--output=${out}`;
    docs.earlier = ['HEAD', `--output=${out}`];
    docs.bases['../../outside.md'] = 'a'.repeat(64);
    docs.bases['a.md'] = 'not a hash';
    fs.writeFileSync(stateFile, JSON.stringify(state));
    write(ws.main, 'docs/a.md', 'one\ntwo (main)\nthree\nfour\nfive\n');
    ws.commit('main');
    write(ws.src, `${DOCS}/a.md`, 'one\ntwo\nthree\nfour\nfive (target)\n');
    // Without a usable base for a.md, the registry's last synced commit gives it: a clean merge.
    const run = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(read(ws.src, `${DOCS}/a.md`), 'one\ntwo (main)\nthree\nfour\nfive (target)\n');
    assert.equal(fs.existsSync(out), false, 'no option-like value from the file reached git');
    assert.equal(fs.existsSync(path.join(ws.dir, 'outside.md')), false);
    // Garbage instead of JSON costs only the recorded bases.
    fs.writeFileSync(stateFile, '{ not json');
    assert.equal((await statusOf(ws, 'app')).status, 'synchronized');
  });
});
