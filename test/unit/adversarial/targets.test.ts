import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, runSyncord } from '../cli/runSyncord';
import { makeWorkspace, read, snapshot, SP, Workspace, write } from '../targets/helpers';

/**
 * Files agents can write (coordination/targets.json, .syncord/) treated as an attacker or a careless agent
 * would, driving the real `syncord` process. Every case checks canary files outside the target by SHA-256
 * before and after, and what the user sees: the exit code and the message.
 */

/** SHA-256 of every file below `root` (symlinks by their text), keyed by relative path. */
function sha256Tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, r);
      if (e.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(abs)}`;
      else if (e.isDirectory()) {
        out[`${r}/`] = 'dir';
        walk(r);
      } else out[r] = createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
    }
  };
  if (fs.existsSync(root)) walk('');
  return out;
}

/** A pid that belonged to a process that has ended. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** The temp file names the one atomic writer uses. */
const TEMP = /^\..+\.syncord-\d+-[a-z0-9]+\.tmp$/;

function tempFiles(root: string): string[] {
  return Object.keys(sha256Tree(root)).filter((r) => TEMP.test(path.posix.basename(r)));
}

describe('adversarial: targets files written by agents are untrusted input', function () {
  this.timeout(180_000);
  let ws: Workspace;
  /** Canary files outside every target and outside the workspace. */
  let canary: string;
  let canaryBefore: Record<string, string>;
  const sy = (...args: string[]) => runSyncord(ws.main, ['-w', ws.main, ...args]);
  const registry = () => path.join(ws.main, 'coordination', 'targets.json');

  beforeEach(async () => {
    ws = makeWorkspace();
    canary = path.join(ws.dir, 'canary');
    write(canary, `${SP}/docs/INDEX.md`, 'canary index\n');
    write(canary, 'docs/opencode/docs/INDEX.md', 'canary docs\n');
    write(canary, 'opencode.toml', 'canary = true\n');
    write(canary, 'keep.txt', 'do not touch\n');
    canaryBefore = sha256Tree(canary);
    const add = await sy('target', 'add', 'app', '--path', ws.src, '--type', 'source');
    assert.equal(add.code, 0, add.stderr);
  });
  afterEach(() => {
    assert.deepEqual(sha256Tree(canary), canaryBefore, 'the canary files outside the target are unchanged');
    ws.cleanup();
  });

  describe('a target folder replaced by a symlink', () => {
    beforeEach(async () => {
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
      // The target folder now leads to the canary folder.
      fs.renameSync(ws.src, `${ws.src}.real`);
      fs.symlinkSync(canary, ws.src);
    });

    it('restore refuses it, writes and deletes nothing, and says it is a symlink', async () => {
      const list = JSON.parse((await sy('--json', 'target', 'backups', 'app')).stdout).backups;
      assert.ok(list.length > 0);
      const r = await sy('target', 'restore', 'app', '--backup', list[0].id);
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /is a symlink/);
    });

    it('backup refuses it', async () => {
      const r = await sy('target', 'backup', 'app');
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /is a symlink/);
    });

    it('sync run refuses it with "is a symlink", not "does not exist"', async () => {
      const r = await sy('sync', 'run', '--target', 'app');
      assert.equal(r.code, 5, r.stderr);
      assert.match(r.stderr, /is a symlink/);
      assert.doesNotMatch(r.stderr, /does not exist/);
      const status = await sy('sync', 'status');
      assert.match(status.stdout, /missing\s+app\s+\(the target folder .* is a symlink/);
    });
  });

  describe('a hand-written targets.json is checked on every read', () => {
    const setEntry = (patch: Record<string, unknown>) => {
      const reg = JSON.parse(fs.readFileSync(registry(), 'utf8'));
      Object.assign(reg.targets[0], patch);
      fs.writeFileSync(registry(), JSON.stringify(reg, null, 2) + '\n');
    };

    it('a target name that climbs out of .syncord is refused with file:line:col (exit 3), nothing written outside', async () => {
      setEntry({ name: '../../../../ESCAPED-state' });
      const before = sha256Tree(ws.dir);
      for (const args of [['sync', 'run', '--target', '../../../../ESCAPED-state'], ['sync', 'run', '--all-targets'], ['target', 'backup', '../../../../ESCAPED-state'], ['target', 'list'], ['sync', 'status']]) {
        const r = await sy(...args);
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /targets\.json:4:\d+: .*targets\[0\]\.name: a target name has letters, digits/);
      }
      assert.deepEqual(sha256Tree(ws.dir), before, 'no file was written anywhere');
      assert.equal(fs.existsSync(path.join(ws.dir, 'ESCAPED-state.json')), false);
    });

    for (const [label, p] of [
      ['the main project itself (".")', '.'],
      ['a folder inside the main project', 'docs'],
      ['the root of the file system', '/'],
      ['a system folder', '/etc'],
      ['a folder inside a system folder', '/usr/lib'],
      ['the home folder itself', os.homedir()],
    ] as const) {
      it(`a target path at ${label} is refused on read (exit 3, file:line:col)`, async () => {
        setEntry({ path: p });
        const before = sha256Tree(ws.main);
        const r = await sy('sync', 'run', '--target', 'app');
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /targets\.json:5:\d+: .*targets\[0\]\.path: a target cannot be/);
        const dry = await sy('sync', 'run', '--target', 'app', '--dry-run');
        assert.equal(dry.code, 3, dry.stderr);
        assert.deepEqual(sha256Tree(ws.main), before, 'the main project is unchanged');
      });
    }

    it('target add refuses a system folder, the root and the main project (exit 2)', async () => {
      for (const p of ['/etc', '/', ws.main, path.join(ws.main, 'docs')]) {
        const r = await sy('target', 'add', 'x', '--path', p, '--type', 'source');
        assert.equal(r.code, 2, `${p}: ${r.stderr}`);
        assert.match(r.stderr, /a target cannot be/);
      }
      const link = path.join(ws.dir, 'link-to-target');
      fs.mkdirSync(path.join(ws.dir, 'real-target'));
      fs.symlinkSync(path.join(ws.dir, 'real-target'), link);
      const r = await sy('target', 'add', 'y', '--path', link, '--type', 'source');
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /is a symlink/);
      assert.deepEqual(JSON.parse(fs.readFileSync(registry(), 'utf8')).targets.map((t: { name: string }) => t.name), ['app']);
    });
  });

  describe('edited backup manifests and objects', () => {
    let id: string;
    let manifestFile: string;
    beforeEach(async () => {
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
      const b = await sy('--json', 'target', 'backup', 'app');
      assert.equal(b.code, 0, b.stderr);
      id = JSON.parse(b.stdout).id;
      manifestFile = path.join(ws.main, '.syncord', 'backups', 'app', 'manifests', `${id}.json`);
    });

    /** Rewrites the manifest as an attacker who knows the format would: with a digest that matches again. */
    const forge = (change: (m: any) => void) => {
      const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      delete m.digest;
      change(m);
      const json = JSON.stringify(m);
      const digest = createHash('sha256').update(json).digest('hex');
      fs.writeFileSync(manifestFile, `${json.slice(0, -1)},"digest":"${digest}"}\n`);
    };

    it('a manifest entry with ../ is refused: restore writes and deletes nothing (exit 3, file:line:col)', async () => {
      forge((m) => {
        const docs = m.components.docs;
        const [first] = Object.keys(docs.files);
        docs.files[`../../../../canary/${SP}/docs/INDEX.md`] = docs.files[first];
        docs.absent = ['../../../../canary/keep.txt'];
      });
      const targetBefore = sha256Tree(ws.src);
      const r = await sy('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`${id}\\.json:1:\\d+: .*is not a plain relative path inside the component's destination`));
      assert.deepEqual(sha256Tree(ws.src), targetBefore, 'the target is unchanged');
      const destination = await sy('target', 'restore', 'app', '--backup', id, '--component', 'docs');
      assert.equal(destination.code, 3);
    });

    it('a manifest whose destination leads out of the target is refused', async () => {
      forge((m) => {
        m.components.docs.destination = '../canary';
      });
      const r = await sy('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /destination "\.\.\/canary" is not a plain relative path/);
    });

    it('a manifest edited by hand is reported as tampered', async () => {
      const text = fs.readFileSync(manifestFile, 'utf8');
      fs.writeFileSync(manifestFile, text.replace('"reason":"manual"', '"reason":"pre-sync"'));
      const targetBefore = sha256Tree(ws.src);
      for (const args of [['target', 'restore', 'app', '--backup', id], ['target', 'backups', 'app']]) {
        const r = await sy(...args);
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, new RegExp(`${id}\\.json:1:\\d+: backup manifest ${id} was tampered with: its content does not match its recorded digest`));
      }
      assert.deepEqual(sha256Tree(ws.src), targetBefore);
    });

    it('an edited object is refused before the restore changes anything', async () => {
      write(ws.src, 'docs/opencode/docs/INDEX.md', 'changed in the target\n');
      fs.rmSync(path.join(ws.src, 'docs/opencode/docs/SETUP.md'));
      write(ws.src, 'docs/opencode/docs/EXTRA.md', 'extra\n');
      const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      const hash = m.components.docs.files['INDEX.md'].hash;
      const obj = path.join(ws.main, '.syncord', 'backups', 'app', 'objects', hash.slice(0, 2), hash.slice(2));
      fs.chmodSync(obj, 0o644);
      fs.writeFileSync(obj, 'forged content\n');
      const targetBefore = sha256Tree(ws.src);
      const r = await sy('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`object ${hash} does not match its hash .*nothing was restored`));
      assert.deepEqual(sha256Tree(ws.src), targetBefore, 'nothing written or deleted');
    });

    it('an untouched backup still restores byte-exact', async () => {
      const good = snapshot(ws.src);
      write(ws.src, 'docs/opencode/docs/INDEX.md', 'changed\n');
      write(ws.src, 'docs/opencode/docs/EXTRA.md', 'extra\n');
      const r = await sy('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Verified: every restored file matches the backup by SHA-256/);
      assert.deepEqual(snapshot(ws.src), good);
    });
  });

  describe('temporary files of a killed run', () => {
    /** What a `sync run` killed mid-copy leaves: its record of the folders it wrote into, and a temp file there. */
    const leaveKilledSync = () => {
      const pid = deadPid();
      const temp = path.join(ws.src, 'docs/opencode/docs', `.SETUP.md.syncord-${pid}-abc123.tmp`);
      fs.writeFileSync(temp, 'half a fi');
      const work = path.join(ws.main, '.syncord', 'work', 'app');
      fs.mkdirSync(work, { recursive: true });
      fs.writeFileSync(path.join(work, `${pid}-0a1b2c3d.json`), JSON.stringify({ target: ['docs/opencode/docs'], store: [] }) + '\n');
      return temp;
    };

    beforeEach(async () => {
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
    });

    it('status and verify agree; the next sync removes the leftover, and only it', async () => {
      const temp = leaveKilledSync();
      // A temp file of a live process (this one) in the same folder, and a user's file with a similar name.
      const live = path.join(ws.src, 'docs/opencode/docs', `.INDEX.md.syncord-${process.pid}-zz9.tmp`);
      fs.writeFileSync(live, 'in progress');
      write(ws.src, 'docs/opencode/notes.syncord.tmp', 'mine\n');
      const status = await sy('sync', 'status');
      assert.match(status.stdout, /needs_sync\s+app\s+\(a sync, backup or restore of this target was interrupted/);
      const check = await sy('sync', 'check');
      assert.equal(check.code, 1);
      const verify = await sy('sync', 'verify', '--target', 'app', '--tests', 'files');
      assert.equal(verify.code, 1, 'verify sees the leftover');
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
      assert.equal(fs.existsSync(temp), false, 'the dead run\'s temp file is gone');
      assert.equal(fs.readFileSync(live, 'utf8'), 'in progress', 'a live process\'s temp file is kept');
      assert.equal(read(ws.src, 'docs/opencode/notes.syncord.tmp'), 'mine\n');
      fs.rmSync(live);
      assert.equal(fs.readdirSync(path.join(ws.main, '.syncord', 'work', 'app')).length, 0);
      assert.equal((await sy('sync', 'verify', '--target', 'app', '--tests', 'files')).code, 0);
      assert.match((await sy('sync', 'status')).stdout, /synchronized\s+app/);
    });

    it('backup and restore remove them too', async () => {
      const temp = leaveKilledSync();
      const b = await sy('--json', 'target', 'backup', 'app');
      assert.equal(b.code, 0, b.stderr);
      assert.equal(fs.existsSync(temp), false);
      const temp2 = leaveKilledSync();
      const r = await sy('target', 'restore', 'app', '--backup', JSON.parse(b.stdout).id);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(fs.existsSync(temp2), false);
    });

    it('a record naming a folder outside the target is refused and nothing is removed there', async () => {
      const pid = deadPid();
      const bait = path.join(canary, `.keep.txt.syncord-${pid}-abc.tmp`);
      fs.writeFileSync(bait, 'looks like a leftover');
      const work = path.join(ws.main, '.syncord', 'work', 'app');
      fs.mkdirSync(work, { recursive: true });
      fs.writeFileSync(path.join(work, `${pid}-0a1b2c3d.json`), JSON.stringify({ target: ['../canary'], store: [] }) + '\n');
      const r = await sy('sync', 'run', '--target', 'app');
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /leads outside/);
      assert.equal(fs.existsSync(bait), true);
      fs.rmSync(bait);
    });
  });

  describe('SIGKILL in the middle still leaves every file old or new', () => {
    const N = 400;
    beforeEach(async () => {
      for (let i = 0; i < N; i++) write(ws.main, `docs/many/f${i}.md`, `# ${i} old\n${'x'.repeat(2000)}\n`);
      ws.commit('many');
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
    });

    /** Starts `syncord <args>` and kills it once it records that it writes into the target (or when it ends). */
    const killWhenWriting = async (args: string[]): Promise<void> => {
      const work = path.join(ws.main, '.syncord', 'work', 'app');
      const child = spawn(process.execPath, [CLI, '-w', ws.main, ...args], { cwd: ws.main, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      let done = false;
      void exited.then(() => (done = true));
      while (!done) {
        const writing = fs.existsSync(work) && fs.readdirSync(work).some((n) => {
          try {
            return JSON.parse(fs.readFileSync(path.join(work, n), 'utf8')).target.length > 0;
          } catch {
            return false;
          }
        });
        if (writing) {
          child.kill('SIGKILL');
          break;
        }
        await new Promise((r) => setImmediate(r));
      }
      await exited;
    };

    const oldOrNew = (rel: string, i: number) => {
      const text = read(ws.src, rel);
      assert.ok(text === `# ${i} old\n${'x'.repeat(2000)}\n` || text === `# ${i} new\n${'y'.repeat(2000)}\n`, `${rel} is old or new, not torn`);
    };

    it('during sync: then status says so, the next sync cleans up and verify passes', async () => {
      for (let i = 0; i < N; i++) write(ws.main, `docs/many/f${i}.md`, `# ${i} new\n${'y'.repeat(2000)}\n`);
      ws.commit('new');
      await killWhenWriting(['sync', 'run', '--target', 'app']);
      for (let i = 0; i < N; i++) oldOrNew(`docs/opencode/docs/many/f${i}.md`, i);
      const run = await sy('sync', 'run', '--target', 'app');
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(tempFiles(ws.src), []);
      assert.equal((await sy('sync', 'verify', '--target', 'app', '--tests', 'files')).code, 0);
    });

    it('during restore: the next restore cleans up and restores byte-exact', async () => {
      const b = await sy('--json', 'target', 'backup', 'app');
      const id = JSON.parse(b.stdout).id;
      const good = snapshot(ws.src);
      for (let i = 0; i < N; i++) write(ws.src, `docs/opencode/docs/many/f${i}.md`, `# ${i} new\n${'y'.repeat(2000)}\n`);
      await killWhenWriting(['target', 'restore', 'app', '--backup', id]);
      for (let i = 0; i < N; i++) oldOrNew(`docs/opencode/docs/many/f${i}.md`, i);
      const r = await sy('target', 'restore', 'app', '--backup', id);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(tempFiles(ws.src), []);
      assert.deepEqual(snapshot(ws.src), good);
    });
  });
});
