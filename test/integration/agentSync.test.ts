// @fixture demo-agentsync
// A sync carried out by agents, in the real extension host: "Sync with Agents…" turns the sync of the demo's
// site-packages target into tasks, instances act through the `syncord` CLI as agents do, "Verify Target" moves the
// workflow on (a failure opens the debugging step, a pass the docs step), and the Targets tree shows the progress.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { TargetsApi } from '../../src/extension/targets/api';
import { fixtureRoot, waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';
const COMFY = 'ComfyUI_windows_portable';
const COMFY_DOCS = 'python_embeded/Lib/site-packages/opencode/docs';

async function api(): Promise<TargetsApi> {
  const ext = vscode.extensions.getExtension<{ targets: TargetsApi }>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed`);
  const exports = ext.isActive ? ext.exports : await ext.activate();
  await exports.targets.ensureLoaded();
  return exports.targets;
}

/** `syncord --as <who> <args>` with the extension's own CLI, as an agent runs it. */
function syncord(who: string | undefined, ...args: string[]): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  const as = who ? ['--as', who] : [];
  return execFileSync(process.execPath, [path.join(ext.extensionPath, 'dist', 'cli.js'), '-w', workspaceRoot(), ...as, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', SYNCORD_INSTANCE: '', SYNCORD_SESSION: '' },
  });
}

const queue = () => JSON.parse(fs.readFileSync(path.join(workspaceRoot(), 'coordination', 'task-queue.json'), 'utf8'));
const task = (id: string) => {
  const q = queue();
  return [...q.pending_tasks, ...q.active_tasks, ...q.completed_tasks].find((t: { task_id: string }) => t.task_id === id);
};
const log = () => JSON.parse(fs.readFileSync(path.join(workspaceRoot(), 'coordination', 'communication-log.json'), 'utf8')).messages as { subject: string; to: string; from: string }[];

/** The Agents row of the target, as the view renders it. */
function agentsRow(t: TargetsApi): string | undefined {
  const item = t.treeItem(`target:${COMFY}/agents`);
  return item ? String(item.description) : undefined;
}

describe('Sync with Agents in the extension host', function () {
  this.timeout(180_000);
  let first: string;

  before(async () => {
    for (const [id, role] of [['coder', 'coding'], ['tester', 'testing'], ['debugger', 'debugging'], ['writer', 'technical-writer']]) syncord(undefined, 'instance', 'add', id, '--role', role);
    // The demo's docs-opencode is an active "docs" instance, which the default patterns would prefer: the setting
    // names who documents here (and is read from VS Code's settings).
    await vscode.workspace.getConfiguration('syncord').update('agentSync.roles', { documentation: ['technical-*'] }, vscode.ConfigurationTarget.Workspace);
    first = queue().pending_tasks.length + queue().active_tasks.length + queue().completed_tasks.length;
  });

  it('Sync with Agents… requests apply → verify → docs for the target, and the tree shows an Agents row', async () => {
    const t = await api();
    const r = (await vscode.commands.executeCommand('syncord.syncWithAgents', { target: COMFY, confirm: false })) as {
      requested: boolean;
      workflow: { id: string };
      tasks: { task_id: string; assigned_to: string | null; sync_workflow: { step: string } }[];
    };
    assert.equal(r.requested, true);
    assert.deepEqual(r.tasks.map((x) => [x.sync_workflow.step, x.assigned_to]), [['apply', 'coder'], ['verify', 'tester'], ['docs', 'writer']]);
    await waitFor(() => agentsRow(t) === `${r.workflow.id}: apply waiting for coder (0/3)`, `the Agents row (now: ${agentsRow(t)})`);
    const steps = t.tree()!.children(`target:${COMFY}/agents`).map((n) => `${n.label}: ${n.description}`);
    assert.deepEqual(steps, r.tasks.map((x, i) => `${x.sync_workflow.step}: ${x.task_id} · ${i === 0 ? 'waiting for coder' : 'after its dependencies'}`));
    assert.equal(log().at(-1)!.to, 'coder');
  });

  it('the coder applies through the CLI; the tree follows the task queue by itself', async () => {
    const t = await api();
    const apply = `task_${String(first + 1).padStart(3, '0')}`;
    syncord('coder', 'task', 'start', apply);
    syncord('coder', 'sync', 'run', '--target', COMFY);
    assert.match(syncord('coder', 'task', 'complete', apply), /→ tester: "Sync wf_001 of ComfyUI_windows_portable: verify/);
    await waitFor(() => agentsRow(t) === 'wf_001: verify waiting for tester (1/3)', `the Agents row after apply (now: ${agentsRow(t)})`);
  });

  it('Verify Target with a broken link opens the debugging step, with the failure at its file and line', async () => {
    const t = await api();
    const doc = path.join(fixtureRoot(), 'targets', COMFY, COMFY_DOCS, 'index.md');
    const good = fs.readFileSync(doc, 'utf8');
    fs.writeFileSync(doc, `${good}\nSee [the old guide](old-guide.md) too.\n`);
    const line = fs.readFileSync(doc, 'utf8').split('\n').findIndex((l) => l.includes('old-guide.md')) + 1;
    const r = (await vscode.commands.executeCommand('syncord.verifyTarget', COMFY)) as { passed: boolean };
    assert.equal(r.passed, false);
    await waitFor(() => agentsRow(t) === 'wf_001: debug waiting for debugger (1/5), round 2', `the Agents row after the failure (now: ${agentsRow(t)})`);
    const debug = `task_${String(first + 4).padStart(3, '0')}`;
    const failures = task(debug).sync_workflow.failures as { check: string; problems: string[] }[];
    assert.deepEqual(failures.map((f) => f.check), ['links']);
    assert.match(failures[0].problems[0], new RegExp(`^${COMFY_DOCS}/index\\.md:${line}:\\d+: broken link: old-guide\\.md$`));
    // The debugger diagnoses, the coder fixes: the verification is the tester's again.
    syncord('debugger', 'task', 'start', debug);
    syncord('debugger', 'task', 'complete', debug, '--note', 'Drop the link to old-guide.md');
    const fix = `task_${String(first + 5).padStart(3, '0')}`;
    syncord('coder', 'task', 'start', fix);
    fs.writeFileSync(doc, good);
    syncord('coder', 'task', 'complete', fix);
    await waitFor(() => agentsRow(t) === 'wf_001: verify waiting for tester (3/5), round 2', `the Agents row after the fix (now: ${agentsRow(t)})`);
  });

  it('a passing Verify Target starts the docs step; completing it reports to the requester and the row says done', async () => {
    const t = await api();
    const r = (await vscode.commands.executeCommand('syncord.verifyTarget', COMFY)) as { passed: boolean };
    assert.equal(r.passed, true);
    await waitFor(() => agentsRow(t) === 'wf_001: docs waiting for writer (4/5), round 2', `the Agents row after the pass (the second verification round) (now: ${agentsRow(t)})`);
    const docs = `task_${String(first + 3).padStart(3, '0')}`;
    syncord('writer', 'task', 'start', docs);
    syncord('writer', 'task', 'complete', docs);
    await waitFor(() => /^wf_001: done \(5\/5\)/.test(agentsRow(t) ?? ''), `the Agents row when done (now: ${agentsRow(t)})`);
    assert.equal(log().at(-1)!.subject, `Sync wf_001 of ${COMFY} is done`);
    assert.equal(t.treeItem(`target:${COMFY}/agents`)!.contextValue, 'syncord.target.agents.done');
  });
});
