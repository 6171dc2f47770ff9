// The merge driver with real git: a bare repository as the shared remote and clones that each work on the
// coordination files with `syncord`, then pull and push.
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Run, runSyncord } from '../cli/runSyncord';
import { SEED_DIR } from './helpers';

type Obj = Record<string, any>;

/** git with a configuration of its own (no user or system config), so the machine's settings never leak in. */
let gitEnv: NodeJS.ProcessEnv;

function git(cwd: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
function gitOk(cwd: string, args: string[]): string {
  const r = git(cwd, args);
  assert.equal(r.code, 0, `git ${args.join(' ')} failed in ${cwd}: ${r.stderr}`);
  return r.stdout;
}

async function syncord(cwd: string, args: string[]): Promise<Run> {
  return runSyncord(cwd, args, { env: gitEnv as Record<string, string> });
}
async function ok(cwd: string, args: string[]): Promise<Run> {
  const r = await syncord(cwd, args);
  assert.equal(r.code, 0, `syncord ${args.join(' ')}: ${r.stderr}`);
  return r;
}
const json = async (cwd: string, args: string[]) => JSON.parse((await ok(cwd, [...args, '--json'])).stdout);

describe('coordination files merged by git with the Syncord merge driver', function () {
  this.timeout(240_000);
  let root: string;
  let remote: string;
  let savedGlobal: string | undefined;

  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-merge-git-'));
    const globalConfig = path.join(root, 'gitconfig');
    fs.writeFileSync(globalConfig, '[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[pull]\n\trebase = false\n');
    gitEnv = { ...process.env, GIT_CONFIG_GLOBAL: globalConfig, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };
    savedGlobal = process.env.GIT_CONFIG_GLOBAL;
  });
  after(() => {
    if (savedGlobal === undefined) delete process.env.GIT_CONFIG_GLOBAL;
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A fresh remote holding the seed and the .gitattributes line, and `n` clones with the driver installed. */
  async function setup(name: string, n: number): Promise<string[]> {
    remote = path.join(root, `${name}.git`);
    gitOk(root, ['init', '-q', '--bare', remote]);
    const first = path.join(root, `${name}-0`);
    gitOk(root, ['clone', '-q', remote, first]);
    fs.mkdirSync(path.join(first, 'coordination'));
    for (const f of fs.readdirSync(SEED_DIR)) fs.copyFileSync(path.join(SEED_DIR, f), path.join(first, 'coordination', f));
    fs.writeFileSync(path.join(first, '.gitattributes'), '*.png binary\n');
    await ok(first, ['merge-driver', 'install']);
    gitOk(first, ['add', '.gitattributes', 'coordination']);
    gitOk(first, ['commit', '-q', '-m', 'seed']);
    gitOk(first, ['push', '-q', 'origin', 'HEAD:main']);
    const clones = [first];
    for (let i = 1; i < n; i++) {
      const c = path.join(root, `${name}-${i}`);
      gitOk(root, ['clone', '-q', '-b', 'main', remote, c]);
      await ok(c, ['merge-driver', 'install']);
      clones.push(c);
    }
    return clones;
  }

  const commit = (cwd: string, msg: string) => {
    gitOk(cwd, ['add', 'coordination']);
    gitOk(cwd, ['commit', '-q', '-m', msg]);
  };

  it('installs idempotently beside the other .gitattributes lines, and uninstalls both the line and the config', async () => {
    const [a] = await setup('install', 1);
    await ok(a, ['merge-driver', 'install']);
    assert.equal(fs.readFileSync(path.join(a, '.gitattributes'), 'utf8'), '*.png binary\ncoordination/*.json merge=syncord\n');
    const driver = gitOk(a, ['config', '--get', 'merge.syncord.driver']).trim();
    assert.equal(driver, `${process.execPath} ${fs.realpathSync(path.resolve(__dirname, '../../../src/cli/main.js'))} merge-driver run %O %A %B %P`);
    assert.equal(gitOk(a, ['check-attr', 'merge', 'coordination/task-queue.json']).trim(), 'coordination/task-queue.json: merge: syncord');
    const r = await ok(a, ['merge-driver', 'uninstall']);
    assert.match(r.stdout, /Removed the merge=syncord line/);
    assert.equal(fs.readFileSync(path.join(a, '.gitattributes'), 'utf8'), '*.png binary\n');
    assert.equal(git(a, ['config', '--get', 'merge.syncord.driver']).code, 1);
  });

  it('merges two clones\' messages, tasks, check-ins and decision input: nothing lost, colliding ids renumbered with their references', async () => {
    const [a, b] = await setup('clean', 2);
    // Clone A: a reply (msg_002), a task depending on task_001 (task_004) and one on it (task_005), a message about task_005.
    await ok(a, ['--as', 'instance-1', 'msg', 'reply', 'msg_001', 'REST first.']);
    await ok(a, ['--as', 'instance-1', 'task', 'add', '--title', 'A: schema', '--depends-on', 'task_001']);
    await ok(a, ['--as', 'instance-1', 'task', 'add', '--title', 'A: endpoints', '--depends-on', 'task_004']);
    await ok(a, ['--as', 'instance-1', 'msg', 'send', '--to', 'instance-2', '--subject', 'Plan', '--task', 'task_005', '--type', 'info', 'task_005 next']);
    await ok(a, ['--as', 'instance-3', 'checkin', '--task', 'ui-research']);
    await ok(a, ['--as', 'instance-1', 'decision', 'input', 'dec_002', '--option', 'REST API', '--text', 'Simpler']);
    commit(a, 'A works');
    gitOk(a, ['push', '-q', 'origin', 'main']);

    // Clone B, from the same base: the same next ids for different records.
    await ok(b, ['--as', 'instance-3', 'msg', 'send', '--to', 'instance-1', '--subject', 'Palette', '--type', 'question', 'Blue or green?']);
    await ok(b, ['--as', 'instance-1', 'msg', 'reply', 'msg_002', 'Blue.']);
    await ok(b, ['--as', 'instance-2', 'task', 'add', '--title', 'B: tokens', '--depends-on', 'task_002']);
    await ok(b, ['--as', 'instance-2', 'task', 'add', '--title', 'B: storage', '--depends-on', 'task_004']);
    await ok(b, ['--as', 'instance-2', 'msg', 'send', '--to', 'instance-6', '--subject', 'Review task_005', '--task', 'task_005', '--type', 'info', 'Please review task_005']);
    await ok(b, ['--as', 'instance-4', 'checkin', '--task', 'models']);
    await ok(b, ['--as', 'instance-6', 'decision', 'input', 'dec_002', '--option', 'GraphQL Federation', '--text', 'Flexible']);
    commit(b, 'B works');

    const pull = git(b, ['pull', '--no-rebase', 'origin', 'main']);
    assert.equal(pull.code, 0, pull.stdout + pull.stderr);
    assert.equal(gitOk(b, ['status', '--porcelain']), '', 'the merge is committed, nothing left over');
    assert.match(pull.stderr, /task-queue\.json: renumbered the other side's task_004 → task_006, task_005 → task_007/);

    // Every record of both sides, read back with Syncord's own reader.
    const tasks = (await json(b, ['task', 'list'])) as Obj[];
    assert.deepEqual(
      tasks.map((t) => `${t.task_id} ${t.title} [${t.dependencies}]`).sort(),
      [
        'task_001 Design BikeNode AI Agent Architecture []',
        'task_002 Implement Backend API for Agent Coordination [task_001]',
        'task_003 Design Agent UI/UX Interface [task_001,task_002]',
        'task_004 B: tokens [task_002]',
        'task_005 B: storage [task_004]',
        'task_006 A: schema [task_001]',
        'task_007 A: endpoints [task_006]',
      ],
    );
    const msgs = (await json(b, ['msg', 'list'])) as Obj[];
    const line = (m: Obj) => `${m.message_id} ${m.subject} ${m.context?.related_task ?? '-'} ${m.in_reply_to ?? '-'}`;
    assert.deepEqual(msgs.map(line).sort(), [
      'msg_001 API Design for Agent Coordination task_002 -',
      'msg_002 Palette - -',
      'msg_003 Re: Palette - msg_002',
      'msg_004 Review task_005 task_005 -',
      'msg_005 Re: API Design for Agent Coordination task_002 msg_001',
      'msg_006 Plan task_007 -',
    ]);
    assert.equal(msgs.find((m) => m.message_id === 'msg_006')!.message, 'task_007 next', "theirs' text follows the renumbered task");
    const times = msgs.map((m) => Date.parse(m.timestamp));
    assert.deepEqual(times, [...times].sort((x, y) => x - y), 'messages stay in time order');
    const dec = await json(b, ['decision', 'show', 'dec_002']);
    assert.deepEqual((dec.decision.inputs as Obj[]).map((i) => i.from).sort(), ['instance-1', 'instance-6']);
    const instances = (await json(b, ['instance', 'list'])) as Obj[];
    const byId = new Map(instances.map((i) => [i.id, i]));
    assert.equal(byId.get('instance-3')!.current_task, 'ui-research');
    assert.equal(byId.get('instance-4')!.current_task, 'models');

    const health = await syncord(b, ['health', '--json']);
    const codes = (JSON.parse(health.stdout).findings as Obj[]).map((f) => f.code);
    for (const bad of ['merge-conflict', 'duplicate-id', 'unknown-dependency', 'unknown-task', 'unknown-message', 'misplaced-task']) {
      assert.ok(!codes.includes(bad), `health finds ${bad}: ${health.stdout}`);
    }

    // And back: A pulls the merge as a fast-forward and sees the same files.
    gitOk(b, ['push', '-q', 'origin', 'main']);
    gitOk(a, ['pull', '-q', 'origin', 'main']);
    assert.deepEqual(((await json(a, ['task', 'list'])) as Obj[]).map((t) => t.task_id).sort(), tasks.map((t) => t.task_id).sort());
  });

  it('keeps references right when a rebase replays several local commits', async () => {
    const [a, b] = await setup('rebase', 2);
    await ok(a, ['--as', 'instance-1', 'task', 'add', '--title', 'Upstream']);
    commit(a, 'upstream');
    gitOk(a, ['push', '-q', 'origin', 'main']);
    await ok(b, ['--as', 'instance-2', 'task', 'add', '--title', 'Local one']); // task_004 here
    commit(b, 'local 1');
    await ok(b, ['--as', 'instance-2', 'task', 'add', '--title', 'Local two', '--depends-on', 'task_004']); // task_005
    await ok(b, ['--as', 'instance-2', 'msg', 'send', '--to', 'instance-1', '--subject', 'Local one', '--task', 'task_004', '--type', 'info', 'Started task_004']);
    commit(b, 'local 2');
    // Replaying "local 2": only it changed the message file, so git takes that file as it was; the driver (which
    // renumbered the tasks) stops the rebase and names the references left to rewrite.
    const pull = git(b, ['pull', '--rebase', 'origin', 'main']);
    assert.notEqual(pull.code, 0);
    assert.match(pull.stderr, /communication-log\.json came from the other side as it was and still names renumbered ids \(task_004 → task_005, task_005 → task_006\)/);
    const health = await syncord(b, ['health']);
    assert.match(health.stdout, /error: communication-log\.json came from the other side/);
    const res = await ok(b, ['merge-driver', 'resolve', 'communication-log.json']);
    assert.match(res.stdout, /^Rewrote task_004 → task_005, task_005 → task_006 in communication-log\.json\.\nNo merge conflicts left/);
    gitOk(b, ['add', 'coordination']);
    gitOk(b, ['-c', 'core.editor=true', 'rebase', '--continue']);
    const tasks = (await json(b, ['task', 'list'])) as Obj[];
    assert.deepEqual(tasks.filter((t) => t.task_id >= 'task_004').map((t) => `${t.task_id} ${t.title} [${t.dependencies}]`), [
      'task_004 Upstream []',
      'task_005 Local one []',
      'task_006 Local two [task_005]',
    ]);
    const m = ((await json(b, ['msg', 'list'])) as Obj[]).find((x) => x.subject === 'Local one')!;
    assert.equal(m.context.related_task, 'task_005');
    assert.equal(m.message, 'Started task_005');
  });

  it('reports two different assignees as a git conflict in a valid file that health names, until resolved', async () => {
    const [a, b] = await setup('conflict', 2);
    await ok(a, ['task', 'assign', 'task_002', 'instance-1']);
    await ok(a, ['--as', 'instance-1', 'msg', 'send', '--to', 'instance-2', '--subject', 'A', '--type', 'info', 'a']);
    commit(a, 'A assigns');
    gitOk(a, ['push', '-q', 'origin', 'main']);
    await ok(b, ['task', 'assign', 'task_002', 'instance-3']);
    await ok(b, ['--as', 'instance-3', 'msg', 'send', '--to', 'instance-2', '--subject', 'B', '--type', 'info', 'b']);
    commit(b, 'B assigns');

    const pull = git(b, ['pull', '--no-rebase', 'origin', 'main']);
    assert.notEqual(pull.code, 0);
    assert.match(pull.stdout, /CONFLICT \(content\): Merge conflict in coordination\/task-queue\.json/);
    assert.match(pull.stderr, /merge conflict in task_002: assigned_to is "instance-3" here, "instance-1" on the other side/);
    const status = gitOk(b, ['status', '--porcelain']);
    assert.match(status, /^UU coordination\/task-queue\.json$/m);
    assert.match(status, /^M  coordination\/communication-log\.json$/m, 'the messages merged cleanly');
    const text = fs.readFileSync(path.join(b, 'coordination', 'task-queue.json'), 'utf8');
    assert.doesNotMatch(text, /^(<<<<<<<|=======|>>>>>>>)/m);
    const value = JSON.parse(text);
    assert.equal(value.pending_tasks.find((t: Obj) => t.task_id === 'task_002').assigned_to, 'instance-3', 'ours is kept');

    const health = await syncord(b, ['health']);
    assert.equal(health.code, 1);
    assert.match(health.stdout, /coordination\/task-queue\.json:\d+:\d+: error: merge conflict in task_002: assigned_to is "instance-3" here, "instance-1" on the other side; keep one with `syncord merge-driver resolve task_002 --ours` or `--theirs` \[merge-conflict\]/);
    const listed = await syncord(b, ['merge-driver', 'conflicts', '--json']);
    assert.equal(listed.code, 1);
    assert.deepEqual((JSON.parse(listed.stdout) as Obj[]).map((c) => [c.id, c.file]), [['task_002', 'task-queue.json']]);

    const missingSide = await syncord(b, ['merge-driver', 'resolve', 'task_002']);
    assert.equal(missingSide.code, 2);
    const res = await ok(b, ['merge-driver', 'resolve', 'task_002', '--theirs']);
    assert.match(res.stdout, /Resolved task_002 in task-queue\.json: assigned_to = "instance-1"\.\nNo merge conflicts left/);
    assert.equal((await json(b, ['task', 'show', 'task_002'])).assigned_to, 'instance-1');
    const after = await syncord(b, ['health', '--json']);
    assert.ok(!(JSON.parse(after.stdout).findings as Obj[]).some((f) => f.code === 'merge-conflict'));
    assert.equal((await ok(b, ['merge-driver', 'conflicts'])).stdout.trim(), 'No merge conflicts.');
    gitOk(b, ['add', 'coordination']);
    gitOk(b, ['commit', '-q', '--no-edit']);
    assert.deepEqual(((await json(b, ['msg', 'list'])) as Obj[]).map((m) => m.subject).slice(1).sort(), ['A', 'B']);
  });

  it('refuses a side that is not valid JSON with its file, line and column, leaving ours whole and the conflict to git', async () => {
    const [a, b] = await setup('broken', 2);
    const file = path.join(a, 'coordination', 'task-queue.json');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"completed_tasks": []', '"completed_tasks": [,]'));
    commit(a, 'broken by hand');
    gitOk(a, ['push', '-q', 'origin', 'main']);
    await ok(b, ['--as', 'instance-2', 'task', 'add', '--title', 'B']);
    commit(b, 'B');
    const oursText = fs.readFileSync(path.join(b, 'coordination', 'task-queue.json'), 'utf8');
    const pull = git(b, ['pull', '--no-rebase', 'origin', 'main']);
    assert.notEqual(pull.code, 0);
    const brokenLine = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('[,]')) + 1;
    assert.match(pull.stderr, new RegExp(`syncord: error: coordination/task-queue\\.json \\(theirs\\):${brokenLine}:\\d+: invalid JSON: expected a value; the merge of coordination/task-queue\\.json stops here: ours is left as it was`));
    assert.match(gitOk(b, ['status', '--porcelain']), /^UU coordination\/task-queue\.json$/m);
    assert.equal(fs.readFileSync(path.join(b, 'coordination', 'task-queue.json'), 'utf8'), oursText);
  });

  it('syncs through a coordination branch, merging and pushing again when a push is rejected', async () => {
    const [a, b, c] = await setup('sync', 3);
    await ok(a, ['--as', 'instance-1', 'msg', 'send', '--to', 'instance-2', '--subject', 'From A', '--type', 'info', 'a']);
    const first = await ok(a, ['coordination', 'sync', '--branch', 'syncord/coordination']);
    assert.match(first.stdout, /^Committed the coordination files \([0-9a-f]{7}\); merged origin\/syncord\/coordination 0 times; pushed to origin syncord\/coordination \(1 try\)\.$/m);

    // B's first push is beaten by C (a pre-push hook pushes C's work first): B fetches, merges and pushes again.
    gitOk(c, ['fetch', '-q', 'origin', 'syncord/coordination']);
    gitOk(c, ['checkout', '-q', '-b', 'syncord/coordination', 'FETCH_HEAD']);
    await ok(c, ['--as', 'instance-3', 'msg', 'send', '--to', 'instance-2', '--subject', 'From C', '--type', 'info', 'c']);
    commit(c, 'C');
    const marker = path.join(root, 'sync-hook-ran');
    const hook = path.join(b, '.git', 'hooks', 'pre-push');
    fs.writeFileSync(hook, `#!/bin/sh\nif [ ! -e '${marker}' ]; then touch '${marker}'; git -C '${c}' push -q origin syncord/coordination; fi\nexit 0\n`, { mode: 0o755 });
    await ok(b, ['--as', 'instance-2', 'msg', 'send', '--to', 'instance-1', '--subject', 'From B', '--type', 'info', 'b']);
    const second = await ok(b, ['coordination', 'sync', '--branch', 'syncord/coordination']);
    assert.ok(fs.existsSync(marker), 'the hook pushed C first');
    assert.match(second.stdout, /merged origin\/syncord\/coordination 2 times; pushed to origin syncord\/coordination \(2 tries\)\./);

    gitOk(a, ['fetch', '-q', 'origin', 'syncord/coordination']);
    const log = JSON.parse(gitOk(a, ['show', 'FETCH_HEAD:coordination/communication-log.json'])) as Obj;
    assert.deepEqual((log.messages as Obj[]).map((m) => `${m.message_id} ${m.subject}`), ['msg_001 API Design for Agent Coordination', 'msg_002 From A', 'msg_003 From C', 'msg_004 From B']);
  });
});
