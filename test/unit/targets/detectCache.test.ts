import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import { committedCacheDir, detectChanges, sharedDetection } from '../../../src/core/targets/detect';
import { changesSince } from '../../../src/core/targets/git';
import { DEFAULT_RULES } from '../../../src/core/targets/rules';
import { resolveWorkspace } from '../../../src/core/workspace';
import { git, makeWorkspace, Workspace, write } from './helpers';

/** The answer of one `git diff -M <since>` of the working tree plus `git ls-files --others`, in git's order. */
async function direct(root: string, since: string) {
  return (await changesSince(root, since)).map((c) => ({ status: c.status, path: c.path, oldPath: c.oldPath }));
}

async function detected(root: string, since: string) {
  const r = await detectChanges(resolveWorkspace(root), DEFAULT_RULES, since);
  return { since: r.since, files: r.files.map((f) => ({ status: f.status, path: f.path, oldPath: f.oldPath })) };
}

const cached = (root: string) => {
  const dir = committedCacheDir(resolveWorkspace(root));
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
};

describe('targets: change detection with the committed changes cached', () => {
  let ws: Workspace;
  beforeEach(() => (ws = makeWorkspace()));
  afterEach(() => ws.cleanup());

  it('gives the answer of a direct comparison, cold and warm, clean and with every kind of uncommitted change', async () => {
    const since = git(ws.main, 'rev-parse', 'HEAD').trim();
    write(ws.main, 'docs/SETUP.md', '# Setup, edited\n\nBack to [index](INDEX.md).\n');
    write(ws.main, 'src/opencode/provider/openai.py', 'NAME = "openai"\n');
    write(ws.main, 'docs/added.md', '# Added in the range\n');
    git(ws.main, 'mv', 'plans/archive/OLD.md', 'plans/archive/OLDER.md');
    git(ws.main, 'rm', '-q', 'src/opencode/cli/main.py');
    ws.commit('range');
    const head = git(ws.main, 'rev-parse', 'HEAD').trim();

    // Clean working tree: cold (fills the cache), then warm (reads it).
    assert.deepEqual(cached(ws.main), []);
    const cold = await detected(ws.main, since);
    assert.deepEqual(cold, { since, files: await direct(ws.main, since) });
    assert.deepEqual(cached(ws.main), [`${since}-${head}.z`]);
    assert.deepEqual(await detected(ws.main, since), cold);
    assert.deepEqual(await detected(ws.main, since.slice(0, 8)), cold);

    // Uncommitted: a file edited back to its content at `since`, a committed rename renamed again, a file
    // added in the range deleted, an uncommitted rename, a staged new file, a type change, untracked files.
    write(ws.main, 'docs/SETUP.md', '# Setup\n\nBack to [index](INDEX.md).\n');
    git(ws.main, 'mv', 'plans/archive/OLDER.md', 'plans/OLDEST.md');
    fs.rmSync(`${ws.main}/docs/added.md`);
    git(ws.main, 'mv', 'docs/api/REST.md', 'docs/api/HTTP.md');
    write(ws.main, 'docs/staged.md', '# Staged\n');
    git(ws.main, 'add', 'docs/staged.md');
    fs.rmSync(`${ws.main}/MISSION.md`);
    fs.symlinkSync('README.md', `${ws.main}/MISSION.md`);
    write(ws.main, 'RAG/troubleshooting/errors/E009.md', '# untracked\n');
    write(ws.main, 'a-untracked.txt', 'untracked\n');
    write(ws.main, 'docs/debug.log', 'ignored\n');
    const expected = { since, files: await direct(ws.main, since) };
    assert.ok(expected.files.some((f) => f.status === 'R' && f.path === 'plans/OLDEST.md'));
    assert.ok(!expected.files.some((f) => f.path === 'docs/SETUP.md' || f.path === 'docs/added.md'));
    assert.deepEqual(cached(ws.main), [`${since}-${head}.z`]);
    assert.deepEqual(await detected(ws.main, since), expected);
  });

  it('is not used when HEAD moved, and keeps only the entries of the current HEAD', async () => {
    const since = git(ws.main, 'rev-parse', 'HEAD').trim();
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('one');
    const first = await detected(ws.main, since);
    assert.deepEqual(first.files.map((f) => f.path), ['docs/SETUP.md']);
    write(ws.main, 'src/opencode/tool/write.py', 'def write(): pass\n');
    ws.commit('two');
    const head = git(ws.main, 'rev-parse', 'HEAD').trim();
    const second = await detected(ws.main, since);
    assert.deepEqual(second, { since, files: await direct(ws.main, since) });
    assert.deepEqual(second.files.map((f) => f.path), ['docs/SETUP.md', 'src/opencode/tool/write.py']);
    assert.deepEqual(cached(ws.main), [`${since}-${head}.z`]);
    // Packed refs are read too.
    git(ws.main, 'pack-refs', '--all');
    assert.deepEqual(await detected(ws.main, since), second);
    // A detached HEAD elsewhere gives that commit's answer.
    git(ws.main, 'checkout', '-q', '--detach', 'HEAD~1');
    assert.deepEqual((await detected(ws.main, since)).files.map((f) => f.path), ['docs/SETUP.md']);
  });

  it('a since that is not a commit is a not-found error, with or without a cache', async () => {
    const ws2 = resolveWorkspace(ws.main);
    const blob = git(ws.main, 'rev-parse', 'HEAD:README.md').trim();
    for (const since of ['no-such-commit', '0'.repeat(40), blob, 'HEAD:README.md']) {
      await assert.rejects(detectChanges(ws2, DEFAULT_RULES, since), (e: any) => e.code === 'not-found' && /not a commit/.test(e.message), since);
    }
    await detected(ws.main, 'HEAD');
    await assert.rejects(detectChanges(ws2, DEFAULT_RULES, blob), /not a commit/);
  });

  it('detecting for targets synced at different commits in one command gives each the answer of its own comparison', async () => {
    const first = git(ws.main, 'rev-parse', 'HEAD').trim();
    write(ws.main, 'docs/one.md', '# Added in the first range only\n');
    ws.commit('one');
    const second = git(ws.main, 'rev-parse', 'HEAD').trim();
    write(ws.main, 'src/opencode/provider/openai.py', 'NAME = "openai"\n');
    ws.commit('two');
    // Uncommitted and untracked changes, seen by both detections through the one look at the working tree.
    write(ws.main, 'docs/SETUP.md', '# Setup, edited again\n');
    write(ws.main, 'RAG/new.md', '# untracked\n');
    const detect = sharedDetection(resolveWorkspace(ws.main), DEFAULT_RULES);
    const shape = (r: Awaited<ReturnType<typeof detect>>) => ({ since: r.since, files: r.files.map((f) => ({ status: f.status, path: f.path, oldPath: f.oldPath })) });
    const [a, b, again] = await Promise.all([detect(first), detect(second), detect(first)]);
    assert.deepEqual(shape(a), { since: first, files: await direct(ws.main, first) });
    assert.deepEqual(shape(b), { since: second, files: await direct(ws.main, second) });
    assert.equal(again, a);
    assert.notDeepEqual(shape(a).files, shape(b).files);
  });
});
