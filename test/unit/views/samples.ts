// Plain values the view tests build trees from: the seed 004 coordination files, a target with every kind of
// node, and sessions in every state with hand-overs that did not arrive.
import * as fs from 'fs';
import * as path from 'path';
import type { CommunicationLog, DecisionLog, Message, Registry, Task, TaskQueue } from '../../../src/core/coordination/schemas';
import { REQUEST, VERIFIED, workflowToShow } from '../../../src/core/agentsync/workflow';
import type { CoordinationSnapshot } from '../../../src/core/coordination/snapshot';
import type { DeliveryRecord, HandOver } from '../../../src/core/sessions/deliveryLog';
import type { SessionView } from '../../../src/core/sessions/sessions';
import type { BackupSummary } from '../../../src/core/targets/backup';
import { componentsFor, TargetInfo, TargetsSnapshot } from '../../../src/core/targets/overview';
import { DEFAULT_RULES } from '../../../src/core/targets/rules';
import type { TargetStatus } from '../../../src/core/targets/status';
import type { VerifyResult } from '../../../src/core/targets/verify';

/** The seed 004 example files: found above the compiled test, else under the current folder (the project). */
function seedDir(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    const candidate = path.join(d, 'test', 'fixtures', 'seed004');
    if (fs.existsSync(candidate) && fs.existsSync(path.join(d, 'package.json'))) return candidate;
  }
  return path.resolve('test', 'fixtures', 'seed004');
}

export function readSeed<T>(name: string): { value: T; text: string } {
  const text = fs.readFileSync(path.join(seedDir(), name), 'utf8');
  return { value: JSON.parse(text) as T, text };
}

/** The seed's four files, read. */
export function seed(): CoordinationSnapshot {
  const ok = <T>(name: string) => ({ state: 'ok' as const, file: `/ws/coordination/${name}`, ...readSeed<T>(name) });
  return {
    exists: true,
    registry: ok<Registry>('instance-registry.json'),
    tasks: ok<TaskQueue>('task-queue.json'),
    messages: ok<CommunicationLog>('communication-log.json'),
    decisions: ok<DecisionLog>('decisions.json'),
  };
}

/** The seed plus a task of every status held by instance-1 (one of them blocked by an open task). */
export function seedWithTasksOf(me: string): CoordinationSnapshot {
  const snap = seed();
  if (snap.tasks.state !== 'ok') throw new Error('fixture');
  const q = snap.tasks.value;
  const task = (n: number, status: string, extra: Partial<Task> = {}): Task => ({
    task_id: `task_1${n}`,
    title: `Task ${n}`,
    assigned_to: me,
    status,
    priority: 'medium',
    created: '2024-01-15T10:00:00Z',
    ...extra,
  });
  q.pending_tasks.push(task(1, 'assigned'), task(2, 'accepted'), task(3, 'assigned', { dependencies: ['task_001'] }));
  q.active_tasks.push(task(4, 'in_progress'), task(5, 'blocked'));
  q.completed_tasks.push(task(6, 'completed'), task(7, 'cancelled'));
  return snap;
}

export const TARGETS_NOW = Date.parse('2026-02-27T12:00:00Z');

const backup: BackupSummary = { id: '20260227T110000000Z-ab12', target: 'portable', created: '2026-02-27T11:00:00Z', reason: 'pre-sync', partial: false, components: ['docs'], files: 3, bytes: 300, newObjects: 3, newBytes: 300 };

const verify: VerifyResult = {
  target: 'portable',
  passed: false,
  checks: [
    { name: 'files:docs', status: 'pass', detail: 'all present', problems: [] },
    { name: 'links', status: 'fail', detail: '1 broken link', problems: [{ file: '/ws/targets/portable/docs/index.md', line: 7, column: 3, message: 'broken link: missing.md' }] },
    { name: 'tests', status: 'skipped', detail: 'no command', problems: [], command: { name: 'tests', command: 'pytest', cwd: '/ws/targets/portable', exitCode: null, timedOut: false, passed: true, durationMs: 5, output: '', logFile: '/ws/main/.syncord/verify/portable/tests.log' } },
  ],
};

/** One target with pending changes, components, config files, backups and a failed verify, and a registry error. */
export function targetsSnapshot(): TargetsSnapshot {
  const status: TargetStatus = {
    name: 'portable',
    path: '',
    absPath: '',
    type: 'site-packages',
    status: 'needs_sync',
    reason: 'new commits',
    since: 'abc',
    changes: [
      { status: 'M', path: 'docs/configuration.md', categories: ['docs'], action: 'update' },
      { status: 'D', path: 'docs/old.md', categories: ['docs'], action: 'delete' },
      { status: 'U', path: 'docs/both.md', categories: ['docs'], action: 'conflict', targetPath: 'docs/opencode/docs/both.md', detail: 'changed on both sides; 1 overlapping change' },
    ],
    categories: ['docs'],
    kept: [],
    notApplicable: [],
  };
  const info: TargetInfo = {
    target: { name: 'portable', path: '../targets/portable', absPath: '/ws/targets/portable', type: 'site-packages', last_sync: '2026-02-20T12:00:00Z', sync_version: 'v1', status: 'needs_sync' },
    status,
    components: componentsFor(DEFAULT_RULES, 'site-packages'),
    backups: [backup],
    verify: { result: verify, at: '2026-02-27T11:58:00Z' },
  };
  return {
    root: '/ws/main',
    registryFile: '/ws/main/coordination/targets.json',
    registryExists: true,
    targets: [info],
    rules: DEFAULT_RULES,
    errors: [{ message: 'sync-rules.jsonc: unknown key', file: '/ws/main/coordination/sync-rules.jsonc', line: 3, column: 5 }],
  };
}

/** The same target with a file changed on both sides since the last sync: a conflict waiting for the user's choice. */
export function targetsConflictSnapshot(): TargetsSnapshot {
  const snap = targetsSnapshot();
  const info = snap.targets[0];
  const dest = 'python_embeded/Lib/site-packages/opencode/docs/guide.md';
  info.status = {
    ...info.status!,
    status: 'conflict',
    reason: '1 file changed on both sides need your choice',
    changes: [...info.status!.changes, { status: 'U', path: 'docs/guide.md', categories: ['docs'], action: 'conflict', targetPath: dest, detail: 'changed on both sides; 1 overlapping change' }],
  };
  return { ...snap, errors: [] };
}

export function session(id: string, extra: Partial<SessionView> = {}): SessionView {
  return {
    session_id: id,
    instance: 'instance-1',
    runtime: 'claude',
    mode: 'terminal',
    state: 'running',
    host: 'here',
    pid: 100,
    cwd: '/ws/main',
    command: ['claude'],
    started: '2026-02-27T10:00:00Z',
    updated: '2026-02-27T10:00:00Z',
    instance_status: 'active',
    current_task: 'task_001',
    ...extra,
  };
}

export function handOver(messageId: string, delivery: Partial<DeliveryRecord> & { instance: string }): HandOver {
  const message: Message = { message_id: messageId, from: 'syncord', to: delivery.instance, type: 'task_assignment', timestamp: '2026-02-27T10:00:00Z', subject: `Work ${messageId}`, message: 'Do it', status: 'sent' };
  return { message, delivery: { session: null, via: null, status: 'pending', attempts: 0, updated: '2026-02-27T10:00:00Z', prompt: 'Do it', ...delivery } };
}

/**
 * A terminal session here, a headless one with a log, an exited one, and hand-overs pending, failed, delivered
 * but not acknowledged, and orphaned.
 */
export function sessionsSample(): { sessions: SessionView[]; undelivered: HandOver[]; here: (id: string) => boolean } {
  const sessions = [
    session('aaaaaaaa-1', { terminal: 'Syncord: instance-1' }),
    session('bbbbbbbb-2', { instance: 'instance-2', mode: 'headless', state: 'idle', log: '/ws/main/.syncord/logs/b.log', current_task: null }),
    session('cccccccc-3', { instance: 'instance-3', state: 'exited', exit_code: 0, pid: null }),
  ];
  const undelivered = [
    handOver('msg_010', { instance: 'instance-1', session: 'aaaaaaaa-1', via: 'terminal', status: 'pending' }),
    handOver('msg_011', { instance: 'instance-2', status: 'failed', error: 'no live session', attempts: 2 }),
    handOver('msg_012', { instance: 'instance-9', status: 'pending' }),
    handOver('msg_013', { instance: 'instance-2', session: 'bbbbbbbb-2', via: 'prompt', status: 'delivered', attempts: 1, updated: '2026-02-27T10:05:00Z' }),
  ];
  return { sessions, undelivered, here: (id) => id === 'aaaaaaaa-1' };
}

/**
 * Two syncs by agents, made by the core's own changes on files in memory: wf_001 of portable, whose first
 * verification failed and whose debugging step is under way (round 2), and wf_002 of app, done and reported.
 */
export function agentSyncQueue(): TaskQueue {
  const role = (r: string) => ({ role: r, status: 'active', current_task: null, last_update: null });
  const files = {
    registry: { instances: { lead: role('lead'), coder: role('coding'), tester: role('testing'), debugger: role('debugging'), writer: role('docs') }, coordination_protocol_version: '1.0', last_registry_update: null } as Registry,
    tasks: { active_tasks: [], pending_tasks: [], completed_tasks: [] } as TaskQueue,
    messages: { messages: [], response_queue: [] } as CommunicationLog,
    decisions: { decisions: [], pending_decisions: [] } as DecisionLog,
  };
  const assignees = { coding: 'coder', testing: 'tester', debugging: 'debugger', documentation: 'writer' };
  const request = (target: string, at: string) =>
    REQUEST.apply(files, { target, requestedBy: 'lead', since: 'a'.repeat(40), until: 'b'.repeat(40), categories: [{ category: 'docs', priority: 'medium', files: 3 }], checklist: ['docs (medium)'], assignees }, at);
  const move = (id: string, status: string, to: 'active_tasks' | 'completed_tasks') => {
    for (const list of ['pending_tasks', 'active_tasks'] as const) {
      const i = files.tasks[list].findIndex((t) => t.task_id === id);
      if (i < 0) continue;
      const [t] = files.tasks[list].splice(i, 1);
      t.status = status;
      if (status === 'completed') t.completed_at = '2026-02-27T11:00:00Z';
      files.tasks[to].push(t);
    }
  };
  request('portable', '2026-02-27T10:00:00Z');
  move('task_001', 'completed', 'completed_tasks');
  VERIFIED.apply(files, { target: 'portable', passed: false, at: '2026-02-27T11:30:00Z', by: 'tester', failures: [{ check: 'links', detail: '1 broken link', problems: ['docs/index.md:7:3: broken link: missing.md'] }], assignees }, '2026-02-27T11:30:00Z');
  move('task_004', 'in_progress', 'active_tasks');
  request('app', '2026-02-26T10:00:00Z');
  for (const id of ['task_006', 'task_007', 'task_008']) move(id, 'completed', 'completed_tasks');
  return files.tasks;
}

/** The targets snapshot with the targets' syncs by agents, as the extension reads them from the task queue. */
export function targetsAgentsSnapshot(): TargetsSnapshot {
  const snap = targetsSnapshot();
  const queue = agentSyncQueue();
  const [portable] = snap.targets;
  portable.agents = workflowToShow(queue, 'portable');
  const app: TargetInfo = { target: { ...portable.target, name: 'app', absPath: '/ws/targets/app', type: 'source' }, components: [], backups: [], agents: workflowToShow(queue, 'app') };
  snap.targets.push(app);
  return snap;
}
