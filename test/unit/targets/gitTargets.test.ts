import * as assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RULES_TEMPLATE } from '../../../src/core/targets/rules';
import { git, makeWorkspace, read, Workspace, write } from './helpers';

/** SHA-256 of every file under a folder (the .git folder left out), by relative path. */
function hashes(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.git') continue;
      if (e.isDirectory()) walk(r);
      else out[r] = createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex');
    }
  };
  walk('');
  return out;
}

/** A git repository with its own identity and one commit of its own files. */
function initRepo(dir: string, identity = true): void {
  git(dir, 'init', '-q', '-b', 'main');
  if (identity) {
    git(dir, 'config', 'user.email', 'target@example.com');
    git(dir, 'config', 'user.name', 'Target Owner');
  }
  git(dir, 'config', 'commit.gpgsign', 'false');
  git(dir, 'config', 'tag.gpgsign', 'false');
  write(dir, 'app.py', 'print("app")\n');
  write(dir, 'own.txt', 'mine\n');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.email=target@example.com', '-c', 'user.name=Target Owner', 'commit', '-q', '-m', 'the app');
}

const SYNCED = [
  'docs/opencode/MISSION.md',
  'docs/opencode/RAG/troubleshooting/errors/E001.md',
  'docs/opencode/README.md',
  'docs/opencode/docs/INDEX.md',
  'docs/opencode/docs/SETUP.md',
  'docs/opencode/docs/api/REST.md',
  'docs/opencode/plans/SYNC_PLAN.md',
  'docs/opencode/plans/archive/OLD.md',
  'opencode.toml',
];

describe('targets: targets that are git repositories', () => {
  let ws: Workspace;
  const head = (dir: string, rev = 'HEAD') => git(dir, 'rev-parse', rev).trim();
  beforeEach(async () => {
    ws = makeWorkspace();
    initRepo(ws.src);
    assert.equal((await ws.run('target', 'add', 'app', '--path', ws.src, '--type', 'source')).code, 0);
  });
  afterEach(() => ws.cleanup());

  it('sync run --commit commits exactly the synced paths with the main project, version, commit and counts; the user’s other changes stay uncommitted', async () => {
    // The user's own uncommitted work in the target: a modified tracked file, a staged new file, an untracked file.
    write(ws.src, 'own.txt', 'mine, edited\n');
    write(ws.src, 'staged.txt', 'staged\n');
    git(ws.src, 'add', 'staged.txt');
    write(ws.src, 'notes.txt', 'notes\n');
    const statusBefore = git(ws.src, 'status', '--porcelain');
    const before = head(ws.src);
    const r = await ws.run('--json', 'sync', 'run', '--target', 'app', '--commit');
    assert.equal(r.code, 0, r.stderr);
    const c = r.json().gitCommit;
    assert.equal(c.status, 'committed');
    assert.equal(c.branch, 'main');
    assert.equal(c.commit, head(ws.src));
    assert.equal(head(ws.src, 'HEAD^'), before);
    const mainCommit = head(ws.main);
    assert.equal(
      git(ws.src, 'log', '-1', '--format=%B'),
      ['Sync main v1.0.0', '', `Synchronized from main v1.0.0, commit ${mainCommit}.`, '', 'docs: 3 written', 'plans: 2 written', 'rag: 1 written', 'readme: 1 written', 'mission: 1 written', 'config opencode: created', '', ''].join('\n'),
    );
    assert.equal(git(ws.src, 'log', '-1', '--format=%an <%ae>'), 'Target Owner <target@example.com>\n');
    assert.deepEqual(git(ws.src, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n'), SYNCED);
    // Nothing else was committed or unstaged: the user's changes are exactly as they were.
    assert.equal(git(ws.src, 'status', '--porcelain'), statusBefore);
    assert.equal(git(ws.src, 'diff', '--cached', '--name-only'), 'staged.txt\n');
    assert.equal(read(ws.src, 'own.txt'), 'mine, edited\n');

    // A second sync writes one file and deletes one: the commit says so and holds the deletion.
    fs.rmSync(path.join(ws.main, 'docs/SETUP.md'));
    write(ws.main, 'docs/INDEX.md', '# Index v2\n');
    ws.commit('docs v2');
    git(ws.main, 'tag', 'v1.1.0');
    const r2 = await ws.run('sync', 'run', '--target', 'app', '--commit');
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /Committed 2 files in app on branch main: [0-9a-f]{12} "Sync main v1\.1\.0"/);
    assert.equal(git(ws.src, 'log', '-1', '--format=%B'), `Sync main v1.1.0\n\nSynchronized from main v1.1.0, commit ${head(ws.main)}.\n\ndocs: 1 written, 1 deleted\n\n`);
    assert.equal(git(ws.src, 'show', '--name-status', '--format=', 'HEAD'), 'M\tdocs/opencode/docs/INDEX.md\nD\tdocs/opencode/docs/SETUP.md\n');
    assert.equal(git(ws.src, 'status', '--porcelain'), statusBefore);

    // Nothing changed since: reported as such, not as an error, and no commit is made.
    const top = head(ws.src);
    const r3 = await ws.run('--json', 'sync', 'run', '--target', 'app', '--commit');
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(r3.json().gitCommit.status, 'nothing');
    assert.equal(head(ws.src), top);
  });

  it("the target's git hooks do not run for the sync commit or the new branch", async () => {
    const marker = path.join(ws.dir, 'hook-ran');
    for (const hook of ['pre-commit', 'commit-msg', 'post-commit', 'post-checkout']) {
      write(ws.src, `.git/hooks/${hook}`, `#!/bin/sh\necho ${hook} >> "${marker}"\nexit 1\n`);
      fs.chmodSync(path.join(ws.src, '.git/hooks', hook), 0o755);
    }
    const r = await ws.run('--json', 'sync', 'run', '--target', 'app', '--commit', '--branch', 'sync/v1');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().gitCommit.status, 'committed');
    assert.equal(fs.existsSync(marker), false);
  });

  it('--branch creates the branch at HEAD and commits there; an existing other branch is refused before anything is written', async () => {
    const base = head(ws.src);
    const r = await ws.run('--json', 'sync', 'run', '--target', 'app', '--commit', '--branch', 'sync/v1.0.0');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json().gitCommit.createdBranch, 'sync/v1.0.0');
    assert.equal(git(ws.src, 'symbolic-ref', '--short', 'HEAD'), 'sync/v1.0.0\n');
    assert.equal(head(ws.src, 'main'), base, 'the branch the user was on is not moved');
    assert.equal(head(ws.src, 'sync/v1.0.0^'), base);
    assert.deepEqual(git(ws.src, 'show', '--name-only', '--format=', 'sync/v1.0.0').trim().split('\n'), SYNCED);

    // The current branch given again: no new branch, the commit goes on it.
    write(ws.main, 'MISSION.md', '# Mission v2\n');
    ws.commit('mission v2');
    const again = await ws.run('--json', 'sync', 'run', '--target', 'app', '--commit', '--branch', 'sync/v1.0.0');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json().gitCommit.createdBranch, undefined);
    assert.equal(git(ws.src, 'show', '--name-only', '--format=', 'sync/v1.0.0').trim(), 'docs/opencode/MISSION.md');

    // An existing branch that is not the current one: refused, nothing written, no ref moved.
    write(ws.main, 'MISSION.md', '# Mission v3\n');
    ws.commit('mission v3');
    const files = hashes(ws.src);
    const refs = git(ws.src, 'show-ref');
    const r2 = await ws.run('sync', 'run', '--target', 'app', '--commit', '--branch', 'main');
    assert.equal(r2.code, 5);
    assert.match(r2.stderr, /branch "main" already exists in target "app" and is not the current branch \(sync\/v1\.0\.0\); nothing was written/);
    assert.deepEqual(hashes(ws.src), files);
    assert.equal(git(ws.src, 'show-ref'), refs);
    assert.equal(git(ws.src, 'symbolic-ref', '--short', 'HEAD'), 'sync/v1.0.0\n');
    assert.equal((await ws.run('sync', 'run', '--target', 'app', '--branch', 'x')).code, 2, '--branch needs --commit');
  });

  it('a commit git refuses (no identity) is a clear error; the sync itself is done and its files are left for the user', async () => {
    const saved = { ...process.env };
    const dir = path.join(ws.dir, 'anon');
    fs.mkdirSync(dir);
    initRepo(dir, false);
    git(dir, 'config', 'user.useConfigOnly', 'true');
    assert.equal((await ws.run('target', 'add', 'anon', '--path', dir, '--type', 'source')).code, 0);
    try {
      process.env.GIT_CONFIG_GLOBAL = path.join(ws.dir, 'no-global-config');
      process.env.GIT_CONFIG_NOSYSTEM = '1';
      for (const k of ['GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL', 'EMAIL']) delete process.env[k];
      const before = head(dir);
      const r = await ws.run('sync', 'run', '--target', 'anon', '--commit');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /Synced anon: 8 written, 0 deleted, 1 config file merged\./);
      assert.match(r.stdout, /Commit in anon FAILED: git commit failed in .*(user\.useConfigOnly|identity|email)/i);
      assert.match(r.stdout, /The sync itself is done; its 9 changed files are left uncommitted in anon for you to commit\./);
      assert.equal(head(dir), before);
      assert.equal(read(dir, 'docs/opencode/docs/SETUP.md'), read(ws.main, 'docs/SETUP.md'));
      assert.equal(git(dir, 'status', '--porcelain'), '?? docs/\n?? opencode.toml\n');
      const reg = JSON.parse(read(ws.main, 'coordination/targets.json')).targets.find((t: { name: string }) => t.name === 'anon');
      assert.equal(reg.status, 'synchronized');
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it('refuses to sync over uncommitted changes in the paths it would write or delete (exit 5, paths listed, nothing written); --allow-dirty goes ahead', async () => {
    // Synced without --commit: the synced files are untracked in the target's repository.
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    write(ws.main, 'docs/NEW.md', '# New\n');
    fs.rmSync(path.join(ws.main, 'docs/api/REST.md'));
    write(ws.main, 'opencode.toml', read(ws.main, 'opencode.toml') + '\n[providers.local]\nbase_url = "http://localhost"\n');
    ws.commit('setup v2, new doc, no REST, local provider');
    write(ws.src, 'own.txt', 'unrelated edit\n');
    const files = hashes(ws.src);
    const r = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(r.code, 5);
    assert.match(
      r.stderr,
      /3 files the sync of target "app" would write or delete have uncommitted changes in its git repository .*: docs\/opencode\/docs\/SETUP\.md \(untracked\), docs\/opencode\/docs\/api\/REST\.md \(untracked\), opencode\.toml \(untracked\)\. Nothing was written\. Commit or stash them in the target first, or sync with --allow-dirty/,
    );
    assert.doesNotMatch(r.stderr, /own\.txt|NEW\.md/);
    assert.deepEqual(hashes(ws.src), files);
    const docs = await ws.run('sync', 'docs', 'app');
    assert.equal(docs.code, 5);
    assert.match(docs.stderr, /2 files .*: docs\/opencode\/docs\/SETUP\.md \(untracked\), docs\/opencode\/docs\/api\/REST\.md \(untracked\)\./);
    const dry = await ws.run('sync', 'run', '--target', 'app', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /3 of these files have uncommitted changes in the target's git repository; the sync would be refused without --allow-dirty/);
    assert.deepEqual(hashes(ws.src), files);

    // The user commits the synced files, then edits the config file: only that one is in the way now.
    git(ws.src, 'add', 'docs', 'opencode.toml');
    git(ws.src, 'commit', '-q', '-m', 'synced files');
    write(ws.src, 'opencode.toml', read(ws.src, 'opencode.toml') + '# my note\n');
    const cfgFiles = hashes(ws.src);
    const cfg = await ws.run('config', 'sync', 'app');
    assert.equal(cfg.code, 5);
    assert.match(cfg.stderr, /1 file .*: opencode\.toml \(modified\)\. Nothing was written/);
    assert.deepEqual(hashes(ws.src), cfgFiles);

    const ok = await ws.run('sync', 'run', '--target', 'app', '--allow-dirty');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Overwrote 1 file with uncommitted changes in the target \(--allow-dirty; the backup keeps them\): opencode\.toml \(modified\)/);
    assert.equal(read(ws.src, 'docs/opencode/docs/SETUP.md'), '# Setup v2\n');
    assert.equal(read(ws.src, 'docs/opencode/docs/NEW.md'), '# New\n');
    assert.equal(fs.existsSync(path.join(ws.src, 'docs/opencode/docs/api/REST.md')), false);
    assert.match(read(ws.src, 'opencode.toml'), /# my note\n[\s\S]*\[providers\.local\]|\[providers\.local\][\s\S]*# my note/);
    assert.equal(read(ws.src, 'own.txt'), 'unrelated edit\n');
  });

  it('a folder inside a larger repository is not a git target: no dirty check, --commit refused before anything is written', async () => {
    const outer = path.join(ws.dir, 'outer');
    const inner = path.join(outer, 'inner');
    fs.mkdirSync(inner, { recursive: true });
    initRepo(outer);
    assert.equal((await ws.run('target', 'add', 'inner', '--path', inner, '--type', 'source')).code, 0);
    // The synced files are untracked in the outer repository: that does not stop the next sync.
    assert.equal((await ws.run('sync', 'run', '--target', 'inner')).code, 0);
    write(ws.main, 'docs/SETUP.md', '# Setup v2\n');
    ws.commit('setup v2');
    const files = hashes(inner);
    const r = await ws.run('sync', 'run', '--target', 'inner', '--commit');
    assert.equal(r.code, 5);
    assert.match(r.stderr, /cannot commit: the folder of target "inner" .* is not the top level of a git repository; nothing was written/);
    assert.deepEqual(hashes(inner), files);
    const plain = await ws.run('sync', 'run', '--target', 'inner');
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(read(inner, 'docs/opencode/docs/SETUP.md'), '# Setup v2\n');
  });

  it('target tag creates the annotated git tag at HEAD, says "already tagged", never moves a tag, and skips a target whose synced files are uncommitted', async () => {
    assert.equal((await ws.run('sync', 'run', '--target', 'app', '--commit')).code, 0);
    const synced = head(ws.src);
    const mainCommit = head(ws.main);
    const t = await ws.run('--json', 'target', 'tag', 'app', '--version', 'v1.0.0');
    assert.equal(t.code, 0, t.stderr);
    assert.deepEqual(t.json().git, [{ name: 'app', tag: 'v1.0.0', status: 'created', commit: synced }]);
    assert.deepEqual(t.json().tagged, ['app']);
    assert.equal(git(ws.src, 'cat-file', '-t', 'v1.0.0'), 'tag\n');
    assert.equal(head(ws.src, 'v1.0.0^{commit}'), synced);
    assert.equal(git(ws.src, 'tag', '-l', '--format=%(contents)', 'v1.0.0'), `Synchronized with main v1.0.0 (${mainCommit})\n\n`);
    const again = await ws.run('target', 'tag', 'app', '--version', 'v1.0.0');
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /app: already tagged v1\.0\.0 at HEAD/);
    const bad = await ws.run('target', 'tag', 'app', '--version', 'v1..0');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"v1\.\.0" cannot be a git tag name/);

    // A tag of that name at another commit: a named target is refused (nothing recorded), --all skips it.
    const first = head(ws.src, 'HEAD^');
    git(ws.src, 'tag', 'v2.0.0', first);
    const regBefore = read(ws.main, 'coordination/targets.json');
    const named = await ws.run('target', 'tag', 'app', '--version', 'v2.0.0');
    assert.equal(named.code, 5);
    assert.match(named.stderr, /cannot tag target "app": tag v2\.0\.0 already exists at [0-9a-f]{12}, not at HEAD \([0-9a-f]{12}\); it was not moved; nothing was recorded/);
    assert.equal(read(ws.main, 'coordination/targets.json'), regBefore);
    const all = await ws.run('--json', 'target', 'tag', '--all', '--version', 'v2.0.0');
    assert.equal(all.code, 1);
    assert.equal(all.json().git[0].status, 'skipped');
    assert.match(all.json().git[0].reason, /already exists .* it was not moved/);
    assert.equal(head(ws.src, 'v2.0.0'), first);

    // Synced files with uncommitted changes: HEAD does not hold the sync, so no git tag.
    write(ws.src, 'docs/opencode/docs/INDEX.md', 'edited\n');
    const dirty = await ws.run('target', 'tag', 'app', '--version', 'v3.0.0');
    assert.equal(dirty.code, 1);
    assert.match(dirty.stdout, /app: git tag v3\.0\.0 NOT created: 1 synced file has uncommitted changes, so HEAD does not hold the sync: docs\/opencode\/docs\/INDEX\.md \(modified\); commit them \(or sync with: syncord sync run --target app --commit\)/);
    assert.equal(git(ws.src, 'tag', '-l', 'v3.0.0'), '');
  });

  it('tagging a target that is not a git repository only records sync_version', async () => {
    assert.equal((await ws.run('target', 'add', 'comfy', '--path', ws.sp, '--type', 'site-packages')).code, 0);
    assert.equal((await ws.run('sync', 'run', '--target', 'comfy')).code, 0);
    const t = await ws.run('--json', 'target', 'tag', 'comfy', '--version', 'v1.0.0');
    assert.equal(t.code, 0, t.stderr);
    assert.equal(t.json().git[0].status, 'not-a-repository');
    assert.equal(JSON.parse(read(ws.main, 'coordination/targets.json')).targets.find((x: { name: string }) => x.name === 'comfy').sync_version, 'v1.0.0');
  });

  it('sync rules may not put a destination inside a .git folder', async () => {
    write(ws.main, 'coordination/sync-rules.jsonc', RULES_TEMPLATE.replace('"source": "docs/opencode/docs/"', '"source": ".git/hooks/"'));
    const r = await ws.run('sync', 'run', '--target', 'app');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /sync-rules\.jsonc:\d+:\d+: destination must not be inside a \.git folder: "\.git\/hooks\/"/);
  });
});
