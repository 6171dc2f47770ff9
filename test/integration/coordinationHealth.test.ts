// @fixture demo
// Health findings in the Problems panel: they come from the files the extension already holds, so a file
// that fails to parse hides only its own findings, and the thresholds follow the `syncord.health.*` settings
// in the Problems panel, the tree's stale marker and the status bar.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';

/** The part of the extension's exports (src/extension/coordination/api.ts) used here. */
interface Api {
  ensureLoaded(): Promise<void>;
  reload(): Promise<void>;
  tree(): { get(id: string): { label: string } | undefined } | undefined;
  statusBarText(): string | undefined;
}

function projectRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const pkg = path.join(d, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'syncord') return d;
  }
  throw new Error(`cannot find the Syncord package above ${__dirname}`);
}

const FILES = ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json'];
const file = (name: string) => path.join(workspaceRoot(), 'coordination', name);
/** What the Problems panel holds for a file, as `code line` (1-based) strings, sorted. */
const problems = (name: string) =>
  vscode.languages
    .getDiagnostics(vscode.Uri.file(file(name)))
    .filter((d) => d.source === 'Syncord')
    .map((d) => `${d.code} ${d.range.start.line + 1}`)
    .sort();
const stale = (name: string) => problems(name).filter((p) => p.startsWith('stale-checkin'));
/** The problem count the status bar shows (`Syncord: … N issues`), 0 when it shows none. */
const statusBarProblems = (api: Api) => Number(/([\d,]+) issues?$/.exec(api.statusBarText() ?? '')?.[1]?.replace(/,/g, '') ?? 0);

describe('Coordination health in the Problems panel', function () {
  let api: Api;
  const seed = () => path.join(projectRoot(), 'test', 'fixtures', 'seed004');

  before(async () => {
    for (const f of FILES) fs.copyFileSync(path.join(seed(), f), file(f));
    const ext = vscode.extensions.getExtension<{ coordination: Api }>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is not installed`);
    api = (await ext.activate()).coordination;
    await api.ensureLoaded();
    await api.reload();
  });

  after(async () => {
    for (const f of FILES) fs.copyFileSync(path.join(seed(), f), file(f));
    await api?.reload();
  });

  it('keeps the findings of the other files when one file fails to parse', async () => {
    // The seed as it is, long after its dates: stale check-ins, overdue tasks and an overdue decision.
    const healthy = (await waitFor(() => {
      const p = { registry: problems('instance-registry.json'), tasks: problems('task-queue.json'), decisions: problems('decisions.json') };
      return p.registry.length && p.tasks.length && p.decisions.length ? p : undefined;
    }, 'findings on the seed files'))!;
    assert.deepEqual(healthy.registry, ['never-checked-in 21', 'never-checked-in 30', 'never-checked-in 39', 'never-checked-in 48', 'stale-checkin 16', 'stale-checkin 7']);
    assert.deepEqual(healthy.tasks, ['overdue-task 11', 'overdue-task 28', 'overdue-task 41']);
    assert.deepEqual(healthy.decisions, ['decision-overdue 34']);

    // An agent leaves decisions.json half-written.
    fs.writeFileSync(file('decisions.json'), '{\n  "decisions": [\n    { "decision_id": "dec_001", \n');
    await waitFor(() => problems('decisions.json').some((p) => p.startsWith('invalid-file')), 'the parse error of decisions.json in Problems');
    assert.equal(problems('decisions.json').length, 1, 'only the parse error is shown on the broken file');
    // The other files' findings stay where they were.
    assert.deepEqual(problems('instance-registry.json'), healthy.registry);
    assert.deepEqual(problems('task-queue.json'), healthy.tasks);
    assert.deepEqual(problems('communication-log.json'), ['overdue-response 17']);

    fs.copyFileSync(path.join(seed(), 'decisions.json'), file('decisions.json'));
    await waitFor(() => problems('decisions.json').join() === healthy.decisions.join(), 'the decision findings to come back');
  });

  it('follows syncord.health.staleCheckinHours in Problems, the tree and the status bar', async () => {
    await waitFor(() => stale('instance-registry.json').length === 2 && api.tree()?.get('instance:instance-1')?.label === 'instance-1 (stale)', 'the seed instances to be stale');
    const before = await waitFor(() => statusBarProblems(api), 'the status bar to count problems');
    const config = vscode.workspace.getConfiguration('syncord');
    // A threshold far beyond the seed's 2024 dates: nobody is stale any more.
    await config.update('health.staleCheckinHours', 10_000_000, vscode.ConfigurationTarget.Workspace);
    try {
      await waitFor(() => stale('instance-registry.json').length === 0, 'the stale check-ins to leave Problems');
      await waitFor(() => api.tree()?.get('instance:instance-1')?.label === 'instance-1', 'the stale marker to leave the tree');
      assert.equal(api.tree()?.get('instance:instance-2')?.label, 'instance-2');
      await waitFor(() => statusBarProblems(api) === before - 2, `the status bar to count ${before - 2} problems`);
    } finally {
      await config.update('health.staleCheckinHours', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor(() => stale('instance-registry.json').join() === 'stale-checkin 16,stale-checkin 7', 'the stale check-ins to come back');
    await waitFor(() => api.tree()?.get('instance:instance-1')?.label === 'instance-1 (stale)', 'the stale marker to come back');
  });

  it('shows a conflict the git merge driver left (two assignees of one task) as an error at the task, until it is resolved', async function () {
    this.timeout(60_000);
    const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(projectRoot(), 'dist', 'cli.js'), ...args], { cwd: workspaceRoot(), encoding: 'utf8' });
    // Two clones assigned task_002 to different instances since their common version; git runs the driver as
    // `syncord merge-driver run %O %A %B %P`, with ours being the workspace's file.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-merge-'));
    const assign = (to: string) => {
      const q = JSON.parse(fs.readFileSync(path.join(seed(), 'task-queue.json'), 'utf8'));
      q.pending_tasks.find((t: { task_id: string }) => t.task_id === 'task_002').assigned_to = to;
      return JSON.stringify(q, null, 2) + '\n';
    };
    fs.copyFileSync(path.join(seed(), 'task-queue.json'), path.join(dir, 'base.json'));
    fs.writeFileSync(path.join(dir, 'theirs.json'), assign('instance-2'));
    fs.writeFileSync(file('task-queue.json'), assign('instance-1'));
    try {
      const run = cli('merge-driver', 'run', path.join(dir, 'base.json'), file('task-queue.json'), path.join(dir, 'theirs.json'), 'coordination/task-queue.json');
      assert.equal(run.status, 1, `the driver should report the conflict: ${run.stdout}${run.stderr}`);
      JSON.parse(fs.readFileSync(file('task-queue.json'), 'utf8')); // still valid JSON
      const conflict = () => vscode.languages.getDiagnostics(vscode.Uri.file(file('task-queue.json'))).find((d) => d.source === 'Syncord' && d.code === 'merge-conflict');
      const d = (await waitFor(conflict, 'the merge conflict to show in the Problems panel'))!;
      assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
      assert.match(d.message, /task_002/);
      assert.match(d.message, /instance-1/);
      assert.match(d.message, /instance-2/);
      const resolved = cli('merge-driver', 'resolve', 'task_002', '--theirs');
      assert.equal(resolved.status, 0, resolved.stderr);
      await waitFor(() => !conflict(), 'the conflict to leave the Problems panel once resolved');
      assert.equal(JSON.parse(fs.readFileSync(file('task-queue.json'), 'utf8')).pending_tasks.find((t: { task_id: string }) => t.task_id === 'task_002').assigned_to, 'instance-2');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.copyFileSync(path.join(seed(), 'task-queue.json'), file('task-queue.json'));
    }
  });
});
