// A sync carried out by agents (seed 002, "Agent Coordination for Synchronization"), driven from the CLI the way
// the agents drive it: each instance acts with `--as`, and everything is read back from the four coordination
// files and the CLI's output.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { git, makeWorkspace, read, Workspace, write } from '../targets/helpers';

const INSTANCES = { lead: 'lead', coder: 'backend-coding', tester: 'qa', debugger: 'debugging', writer: 'docs' };

describe('CLI: sync request (a sync carried out by the agents)', function () {
  this.timeout(60_000);
  let ws: Workspace;
  const coord = (file: string) => JSON.parse(read(ws.main, `coordination/${file}`));
  const tasks = () => {
    const q = coord('task-queue.json');
    return [...q.pending_tasks, ...q.active_tasks, ...q.completed_tasks].map((t: any) => ({ ...t, list: q.pending_tasks.includes(t) ? 'pending' : q.active_tasks.includes(t) ? 'active' : 'completed' }));
  };
  const task = (id: string) => tasks().find((t: any) => t.task_id === id);
  const messages = () => coord('communication-log.json').messages as any[];
  const as = (who: string, ...args: string[]) => ws.run('--as', who, ...args);
  const ok = async (p: Promise<{ code: number; stdout: string; stderr: string }>) => {
    const r = await p;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    return r;
  };

  beforeEach(async () => {
    ws = makeWorkspace();
    await ok(ws.run('init'));
    await ok(ws.run('target', 'add', 'app', '--path', ws.src, '--type', 'source'));
    for (const [id, role] of Object.entries(INSTANCES)) await ok(ws.run('instance', 'add', id, '--role', role));
  });
  afterEach(() => ws.cleanup());

  /** The request every test starts with: wf_001 of app, asked by lead. */
  async function request(): Promise<void> {
    const r = await ok(as('lead', 'sync', 'request', 'app'));
    assert.match(r.stdout, /^Requested a sync of app by agents: wf_001 \(for lead\)\.$/m);
    assert.match(r.stdout, /^  task_001 apply  offered to coder$/m);
    assert.match(r.stdout, /^  task_002 verify offered to tester, after task_001$/m);
    assert.match(r.stdout, /^  task_003 docs   offered to writer, after task_002$/m);
    assert.match(r.stdout, /^  msg_001 → coder: "Sync wf_001 of app: apply — task task_001" \(no live session of coder: it finds it in `syncord inbox`\)$/m);
  }

  /** The Coding agent's step: start, sync the target, complete (which hands the verification to the tester). */
  async function apply(id: string, hands: RegExp): Promise<void> {
    await ok(as('coder', 'task', 'start', id));
    await ok(as('coder', 'sync', 'run', '--target', 'app'));
    const done = await ok(as('coder', 'task', 'complete', id));
    assert.match(done.stdout, hands);
  }

  it('requests apply → verify → docs, each step offered to the instance whose role fits and carrying the target, range, categories and checklist', async () => {
    await request();
    const head = git(ws.main, 'rev-parse', 'HEAD').trim();
    const [a, v, d] = ['task_001', 'task_002', 'task_003'].map(task);
    assert.deepEqual(
      [a, v, d].map((t: any) => [t.task_id, t.status, t.assigned_to, t.dependencies, t.sync_workflow.step, t.sync_workflow.agent, t.sync_workflow.target]),
      [
        ['task_001', 'assigned', 'coder', [], 'apply', 'coding', 'app'],
        ['task_002', 'assigned', 'tester', ['task_001'], 'verify', 'testing', 'app'],
        ['task_003', 'assigned', 'writer', ['task_002'], 'docs', 'documentation', 'app'],
      ],
    );
    const w = a.sync_workflow;
    assert.deepEqual([w.id, w.requested_by, w.since, w.until], ['wf_001', 'lead', null, head]);
    // The categories and priorities detected (every file: the target was never synced), and the task's priority is the highest.
    assert.deepEqual(
      w.categories.map((c: any) => `${c.category}:${c.priority}`),
      ['provider:high', 'rag:high', 'tools:high', 'cli:medium', 'config:medium', 'docs:medium'],
    );
    assert.equal(a.priority, 'high');
    assert.ok(w.checklist.includes('No broken links in copied documents (`syncord sync verify --target app`)'), w.checklist.join('\n'));
    // The hand-over of the first step, in the log, from the requester to the Coding agent.
    const [m] = messages();
    assert.deepEqual([m.from, m.to, m.type, m.context.related_task, m.sync_workflow], ['lead', 'coder', 'handoff', 'task_001', 'wf_001']);
    assert.match(m.message, /`syncord task start task_001`.*`syncord sync run --target app`.*`syncord task complete task_001`/);
    assert.equal(a.sync_workflow.handed_over, 'msg_001');
    // The coder sees it where every instance looks first.
    assert.match((await ok(as('coder', 'inbox'))).stdout, /task_001 {2}\[high\] {2}Apply the changes to app/);
    // A second request while this one is open is refused, and changes nothing.
    const before = read(ws.main, 'coordination/task-queue.json');
    const again = await as('lead', 'sync', 'request', 'app');
    assert.equal(again.code, 5);
    assert.match(again.stderr, /app already has a sync by agents under way: wf_001 \(0\/3 steps done\)/);
    assert.equal(read(ws.main, 'coordination/task-queue.json'), before);
  });

  it('pass path: apply, a passing verify completes its step and hands over the docs, the docs step reports to the requester', async () => {
    await request();
    // A verification before the changes are applied is not the workflow's: it fails, and nothing is opened.
    const early = await ws.run('sync', 'verify', '--target', 'app');
    assert.equal(early.code, 1);
    assert.doesNotMatch(early.stdout, /Sync by agents/);
    assert.equal(tasks().length, 3);

    await apply('task_001', /^  msg_002 → tester: "Sync wf_001 of app: verify — task task_002"/m);
    assert.equal(messages()[1].from, 'coder');
    assert.match((await ok(ws.run('sync', 'status'))).stdout, /^ {13}agents wf_001: verify waiting for tester \(1\/3\)$/m);

    await ok(as('tester', 'task', 'start', 'task_002'));
    assert.match((await ok(ws.run('sync', 'status'))).stdout, /agents wf_001: verify in progress by tester \(1\/3\)/);
    const v = await ok(as('tester', 'sync', 'verify', '--target', 'app'));
    assert.match(v.stdout, /^Verify app: PASSED$/m);
    assert.match(v.stdout, /^  Sync by agents wf_001: verification passed; task_002 completed, task_003 \(docs\) can start\.$/m);
    assert.match(v.stdout, /^  msg_003 → writer: "Sync wf_001 of app: docs — task task_003"/m);
    const verified = task('task_002');
    assert.deepEqual([verified.list, verified.status, verified.assigned_to, verified.sync_workflow.verify.passed], ['completed', 'completed', 'tester', true]);
    assert.equal(coord('instance-registry.json').instances.tester.current_task, null);

    await ok(as('writer', 'task', 'start', 'task_003'));
    await ok(as('writer', 'sync', 'docs', 'app', '--complete'));
    const done = await ok(as('writer', 'task', 'complete', 'task_003'));
    assert.match(done.stdout, /^  msg_004 → lead: "Sync wf_001 of app is done"/m);
    const report = messages()[3];
    assert.deepEqual([report.from, report.to, report.type, report.sync_workflow], ['writer', 'lead', 'info', 'wf_001']);
    assert.match(report.message, /Applied by coder; verified by tester \(passed at .*\); documentation synced by writer\./);
    assert.equal(task('task_003').sync_workflow.reported, 'msg_004');
    assert.match((await ok(as('lead', 'inbox'))).stdout, /msg_004 {2}from writer: Sync wf_001 of app is done/);
    const status = await ok(ws.run('--json', 'sync', 'status'));
    const app = JSON.parse(status.stdout).targets[0];
    assert.deepEqual([app.status, app.agents.id, app.agents.state, app.agents.done, app.agents.total], ['synchronized', 'wf_001', 'done', 3, 3]);
    // Post-push: once all are verified, the release tag.
    assert.match((await ok(ws.run('target', 'tag', '--all', '--version', 'v1.0.0'))).stdout, /Tagged app with v1\.0\.0/);
    // Completing more tasks writes nothing more: the workflow was reported once.
    const log = read(ws.main, 'coordination/communication-log.json');
    await ok(ws.run('task', 'add', 'Unrelated'));
    await ok(as('coder', 'task', 'claim', 'task_004'));
    await ok(as('coder', 'task', 'complete', 'task_004'));
    assert.equal(read(ws.main, 'coordination/communication-log.json'), log);
  });

  it('fail path: the failing checks go to the Debugging agent with file:line, the fix to the Coding agent, and the verification waits for the fix', async () => {
    await request();
    await apply('task_001', /msg_002 → tester/);
    // The target's own copy gets a broken link (kept by the sync as the target's edit; the links check fails).
    const index = path.join(ws.src, 'docs/opencode/docs/INDEX.md');
    const good = fs.readFileSync(index, 'utf8');
    fs.writeFileSync(index, `${good}- [Gone](GONE.md)\n`);

    await ok(as('tester', 'task', 'start', 'task_002'));
    const v = await as('tester', 'sync', 'verify', '--target', 'app');
    assert.equal(v.code, 1);
    assert.match(v.stdout, /^  Sync by agents wf_001: verification failed \(round 1\); task_004 \(debug\) and task_005 \(fix\) opened; task_002 verifies again after task_005\.$/m);
    assert.match(v.stdout, /^  msg_003 → debugger: "Sync wf_001 of app: debug — task task_004"/m);
    assert.match(v.stdout, /^  msg_004 → lead: "Sync wf_001 of app: verification failed \(round 1\)"/m);
    const debug = task('task_004');
    assert.deepEqual([debug.assigned_to, debug.dependencies, debug.sync_workflow.step, debug.sync_workflow.round], ['debugger', [], 'debug', 1]);
    assert.deepEqual(debug.sync_workflow.failures, [
      { check: 'links', detail: '8 Markdown files checked, 1 broken link', problems: ['docs/opencode/docs/INDEX.md:6:10: broken link: GONE.md'] },
    ]);
    assert.match(debug.description, /- links: .*\n {2}- docs\/opencode\/docs\/INDEX\.md:6:10: broken link: GONE\.md/);
    assert.match(messages()[2].message, /failed: links: 8 Markdown files checked, 1 broken link \(docs\/opencode\/docs\/INDEX\.md:6:10: broken link: GONE\.md\)/);
    const fix = task('task_005');
    assert.deepEqual([fix.assigned_to, fix.dependencies, fix.sync_workflow.step], ['coder', ['task_004'], 'fix']);
    // The verification goes back to the tester and waits for the fix.
    const again = task('task_002');
    assert.deepEqual([again.list, again.status, again.assigned_to, again.dependencies, again.sync_workflow.round, again.sync_workflow.handed_over], ['pending', 'assigned', 'tester', ['task_001', 'task_005'], 2, null]);
    assert.equal(coord('instance-registry.json').instances.tester.current_task, null);
    assert.equal((await as('tester', 'task', 'start', 'task_002')).code, 5);
    // Another verification meanwhile is not the workflow's (it waits for the fix): nothing more is opened.
    assert.equal((await as('tester', 'sync', 'verify', '--target', 'app')).code, 1);
    assert.equal(tasks().length, 5);
    assert.match((await ok(ws.run('sync', 'status'))).stdout, /agents wf_001: debug waiting for debugger \(1\/5\), round 2/);

    await ok(as('debugger', 'task', 'start', 'task_004'));
    const diagnosed = await ok(as('debugger', 'task', 'complete', 'task_004', '--note', 'Remove the link to GONE.md from INDEX.md'));
    assert.match(diagnosed.stdout, /msg_005 → coder: "Sync wf_001 of app: fix — task task_005"/);
    assert.match(messages()[4].message, /The Debugging agent suggests: "Remove the link to GONE\.md from INDEX\.md"\./);
    assert.equal(messages()[4].from, 'debugger');

    await ok(as('coder', 'task', 'start', 'task_005'));
    fs.writeFileSync(index, good);
    const fixed = await ok(as('coder', 'task', 'complete', 'task_005'));
    assert.match(fixed.stdout, /msg_006 → tester: "Sync wf_001 of app: verify \(round 2\) — task task_002"/);

    await ok(as('tester', 'task', 'start', 'task_002'));
    const pass = await ok(as('tester', 'sync', 'verify', '--target', 'app'));
    assert.match(pass.stdout, /verification passed; task_002 completed, task_003 \(docs\) can start/);
    await ok(as('writer', 'task', 'start', 'task_003'));
    const done = await ok(as('writer', 'task', 'complete', 'task_003'));
    assert.match(done.stdout, /msg_008 → lead: "Sync wf_001 of app is done"/);
    assert.match(messages()[7].message, /after 1 failed verification diagnosed by debugger and fixed by coder; documentation synced by writer/);
    assert.match((await ok(ws.run('sync', 'status'))).stdout, /agents wf_001: done \(5\/5\)/);
  });

  it('maps roles by the setting syncord.agentSync.roles in .vscode/settings.json, and refuses a bad one at its line and column', async () => {
    write(ws.main, '.vscode/settings.json', '{\n  // who verifies\n  "syncord.agentSync.roles": { "testing": ["doc*"] }\n}\n');
    await ok(as('lead', 'sync', 'request', 'app'));
    assert.deepEqual(['task_001', 'task_002', 'task_003'].map((id) => task(id).assigned_to), ['coder', 'writer', 'writer']);
    await ok(as('lead', 'task', 'cancel', 'task_001'));
    // A cancelled step ends the workflow: a new one may be requested.
    assert.match((await ok(ws.run('sync', 'status'))).stdout, /agents wf_001: cancelled \(0\/3\)/);
    write(ws.main, '.vscode/settings.json', '{\n  "syncord.agentSync.roles": { "testers": ["qa"] }\n}\n');
    const bad = await as('lead', 'sync', 'request', 'app');
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /settings\.json:2:\d+: .*testers/);
    assert.equal(tasks().length, 3);
  });

  it('refuses a task queue whose sync_workflow was edited into something else, at its line and column, and writes nothing', async () => {
    await request();
    const file = path.join(ws.main, 'coordination/task-queue.json');
    const good = fs.readFileSync(file, 'utf8');
    for (const [from, to, what] of [
      ['"step": "verify"', '"step": "deploy"', /task-queue\.json:(\d+):(\d+): .*step/],
      ['"target": "app"', '"target": "../../etc"', /task-queue\.json:(\d+):(\d+): .*target name/],
    ] as const) {
      const bad = good.replace(from, to);
      assert.notEqual(bad, good);
      fs.writeFileSync(file, bad);
      const line = bad.slice(0, bad.indexOf(to)).split('\n').length;
      for (const args of [['task', 'list'], ['sync', 'verify', '--target', 'app']]) {
        const r = await as('tester', ...args);
        assert.equal(r.code, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        // A verification is still printed and kept; only the workflow's reaction is refused.
        if (args[0] === 'sync') assert.match(r.stdout, /^Verify app: FAILED$[\s\S]*^ {2}Sync by agents: NOT moved on: /m);
        const m = what.exec(args[0] === 'sync' ? r.stdout : r.stderr);
        assert.ok(m, r.stderr);
        assert.equal(Number(m![1]), line);
      }
      assert.equal(fs.readFileSync(file, 'utf8'), bad);
    }
  });

  it('--all-targets requests the targets that need a sync and skips the synchronized ones; no fitting role leaves a step to whoever takes it', async () => {
    await ok(ws.run('target', 'add', 'comfy', '--path', ws.sp, '--type', 'site-packages'));
    await ok(ws.run('sync', 'run', '--target', 'comfy'));
    await ok(ws.run('instance', 'remove', 'writer'));
    const r = await ok(ws.run('sync', 'request', '--all-targets'));
    assert.match(r.stdout, /^Synchronized already \(nothing to request\): comfy$/m);
    assert.match(r.stdout, /^  task_003 docs   no instance's role fits the documentation agent: waiting for whoever takes it, after task_002$/m);
    assert.match(r.stdout, /No requester named \(--as\): the report goes to every instance\./);
    assert.deepEqual(tasks().map((t: any) => t.sync_workflow.target), ['app', 'app', 'app']);
    assert.equal(task('task_003').status, 'pending_assignment');
    assert.equal(messages()[0].from, 'syncord');
    // Asking again skips the target whose sync is under way (exit 0: nothing failed).
    const again = await ok(ws.run('sync', 'request', '--all-targets'));
    assert.match(again.stdout, /^Skipped app: app already has a sync by agents under way: wf_001/m);
    assert.equal((await ws.run('sync', 'request')).code, 2);
  });
});
