import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addInstance } from '../../../src/core/coordination/instances';
import { allTasks } from '../../../src/core/coordination/tasks';
import { spoolDirOf } from '../../../src/core/workspace';
import { TestWorkspace, workspace } from './helpers';

const WORKER = path.join(__dirname, 'mixedWorker.js');

describe('coordination under concurrent writers', function () {
  this.timeout(240_000);
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await workspace();
  });
  afterEach(() => ws.dispose());

  it('8 processes × 200 mixed operations started together: nothing lost, no id twice, every file valid', async () => {
    const agents = Array.from({ length: 8 }, (_, i) => `agent-${i}`);
    for (const a of agents) await addInstance(ws.store, { id: a, role: 'worker' });
    const N = 200;
    const before = await ws.store.read('tasks', 'messages');
    await Promise.all(
      agents.map(
        (a, i) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [WORKER, ws.dir, a, agents[(i + 1) % agents.length], String(N)], { stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            child.stderr.on('data', (d) => (err += d));
            child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${a} exited ${code}: ${err}`))));
          }),
      ),
    );

    // Every file parses and matches its schema (read validates).
    const { registry, tasks, messages } = await ws.store.read('registry', 'tasks', 'messages', 'decisions');
    /** The operation numbers of kind k (0 send, 1 check-in, 2 task add) each agent ran. */
    const js = (_: number, k: number) => Array.from({ length: N }, (__, x) => x).filter((x) => x % 3 === k);

    const msgIds = messages.messages.map((m) => m.message_id);
    assert.equal(new Set(msgIds).size, msgIds.length, 'no message id twice');
    const taskIds = allTasks(tasks).map((t) => t.task_id);
    assert.equal(new Set(taskIds).size, taskIds.length, 'no task id twice');

    for (const a of agents) {
      const subjects = messages.messages.filter((m) => m.from === a).map((m) => m.subject);
      assert.deepEqual(subjects, js(0, 0).map((j) => `s-${a}-${j}`), `${a}'s messages, each once and in order`);
      const titles = tasks.pending_tasks.filter((t) => t.created_by === a).map((t) => t.title);
      assert.deepEqual(titles, js(0, 2).map((j) => `T-${a}-${j}`), `${a}'s tasks, each once and in order`);
      const lastCheckIn = js(0, 1).pop()!;
      assert.equal(registry.instances[a].current_task, `t-${a}-${lastCheckIn}`, `${a}'s last check-in`);
      assert.equal(registry.instances[a].status, 'active');
    }
    assert.equal(messages.messages.length, before.messages.messages.length + 8 * js(0, 0).length);
    assert.equal(allTasks(tasks).length, allTasks(before.tasks).length + 8 * js(0, 2).length);
    // Nothing is left pending.
    for (const f of ['instance-registry.json', 'task-queue.json', 'communication-log.json']) {
      const spool = spoolDirOf(path.join(ws.dir, f));
      assert.deepEqual(fs.existsSync(spool) ? fs.readdirSync(spool) : [], [], `${f}: nothing left in the queue`);
    }
  });
});
