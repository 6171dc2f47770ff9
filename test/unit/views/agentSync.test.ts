// The Targets tree shows a target's sync by agents: a row with the workflow's progress and its steps under it,
// built from the task queue the core's own changes wrote (samples.ts).
import * as assert from 'node:assert/strict';
import { workflowsIn } from '../../../src/core/agentsync/workflow';
import { workflowProgressText, workflowStepLines } from '../../../src/views/agentSync';
import { ContextValue } from '../../../src/views/ids';
import { buildTree } from '../../../src/views/targets';
import { agentSyncQueue, TARGETS_NOW, targetsAgentsSnapshot, targetsSnapshot } from './samples';

const C = ContextValue.targets;

describe('views: the Targets tree shows syncs by agents', () => {
  it('puts an Agents row first under the target, with the open workflow’s progress and its steps expanded', () => {
    const tree = buildTree(targetsAgentsSnapshot(), TARGETS_NOW);
    const children = tree.children('target:portable');
    assert.deepEqual(children.map((n) => n.label), ['Agents', 'Pending changes', 'Components', 'Backups', 'Last verify']);
    const agents = children[0];
    assert.deepEqual(
      [agents.id, agents.description, agents.contextValue, agents.collapsible, agents.icon?.id],
      ['target:portable/agents', 'wf_001: debug in progress by debugger (1/5), round 2', `${C.agents}.open`, 'expanded', 'organization'],
    );
    assert.match(agents.tooltip!, /^Sync by agents wf_001, requested 2h ago by lead\nChanges aaaaaaaaaaaa\.\.bbbbbbbbbbbb: docs \(medium\) 3\nProgress: debug in progress by debugger \(1\/5\), round 2$/);
    assert.deepEqual(
      tree.children(agents.id).map((n) => [n.label, n.description, n.icon?.id, n.taskId]),
      [
        ['apply', 'task_001 · completed by coder', 'pass', 'task_001'],
        ['verify (round 2)', 'task_002 · after its dependencies', 'clock', 'task_002'],
        ['docs', 'task_003 · after its dependencies', 'clock', 'task_003'],
        ['debug', 'task_004 · in progress by debugger', 'loading~spin', 'task_004'],
        ['fix', 'task_005 · after its dependencies', 'clock', 'task_005'],
      ],
    );
    // The target's tooltip says it too.
    assert.match(tree.get('target:portable')!.tooltip!, /\nSync by agents wf_001: debug in progress by debugger \(1\/5\), round 2$/);
    for (const n of tree.all()) if (n.parentId) assert.equal(tree.parent(n.id)?.id, n.parentId);
  });

  it('shows a finished workflow collapsed, as done, with every step completed', () => {
    const tree = buildTree(targetsAgentsSnapshot(), TARGETS_NOW);
    const agents = tree.get('target:app/agents')!;
    assert.deepEqual([agents.description, agents.contextValue, agents.collapsible, agents.icon?.id], ['wf_002: done (3/3)', `${C.agents}.done`, 'collapsed', 'pass']);
    assert.deepEqual(tree.children(agents.id).map((n) => n.description), ['task_006 · completed by coder', 'task_007 · completed by tester', 'task_008 · completed by writer']);
  });

  it('shows no Agents row for a target without a sync by agents', () => {
    const tree = buildTree(targetsSnapshot(), TARGETS_NOW);
    assert.equal(tree.get('target:portable/agents'), undefined);
  });

  it('words the progress for the CLI the same way, per workflow and per step', () => {
    const [open, done] = workflowsIn(agentSyncQueue());
    assert.equal(workflowProgressText(open), 'debug in progress by debugger (1/5), round 2');
    assert.equal(workflowProgressText(done), 'done (3/3)');
    assert.deepEqual(workflowStepLines(open), [
      'task_001 apply — completed by coder',
      'task_002 verify (round 2) — after its dependencies',
      'task_003 docs — after its dependencies',
      'task_004 debug — in progress by debugger',
      'task_005 fix — after its dependencies',
    ]);
  });
});
