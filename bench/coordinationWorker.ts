/**
 * One competing agent for the coordination benchmark. It loads, prints "ready", waits for "go" on standard
 * input, runs `count` read-modify-write operations, and prints "done".
 *   node coordinationWorker.js syncord-tasks <coordinationDir> <agent> <count>   addTask through the store
 *   node coordinationWorker.js baseline-tasks <task-queue.json> <agent> <count>  proper-lockfile + write-file-atomic
 *   node coordinationWorker.js syncord-log <coordinationDir> <agent> <count>     sendMessage through the store
 *   node coordinationWorker.js baseline-log <communication-log.json> <agent> <count>
 */
import * as fs from 'fs';
import * as lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { sendMessage } from '../src/core/coordination/messages';
import { CoordinationStore } from '../src/core/coordination/store';
import { addTask } from '../src/core/coordination/tasks';

async function baselineUpdate(file: string, change: (v: any) => void): Promise<void> {
  const release = await lockfile.lock(file, { realpath: false, retries: { retries: 100_000, minTimeout: 1, maxTimeout: 20, factor: 1.5 } });
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'));
    change(v);
    await writeFileAtomic(file, JSON.stringify(v, null, 2) + '\n');
  } finally {
    await release();
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function run(mode: string, target: string, agent: string, count: number): Promise<void> {
  const store = mode.startsWith('syncord') ? new CoordinationStore(target, { lockWaitMs: 120_000 }) : undefined;
  for (let i = 0; i < count; i++) {
    if (mode === 'syncord-tasks') {
      await addTask(store!, { title: `${agent}-${i}`, description: 'benchmark task', priority: 'medium' });
    } else if (mode === 'baseline-tasks') {
      await baselineUpdate(target, (q) => {
        q.pending_tasks.push({
          task_id: `task_${String(q.pending_tasks.length + q.active_tasks.length + q.completed_tasks.length + 1).padStart(3, '0')}`,
          title: `${agent}-${i}`,
          description: 'benchmark task',
          assigned_to: null,
          status: 'pending_assignment',
          priority: 'medium',
          created: now(),
          due: null,
          dependencies: [],
        });
      });
    } else if (mode === 'syncord-log') {
      await sendMessage(store!, { from: agent, to: 'instance-1', subject: `${agent}-${i}`, body: 'status: all good', type: 'info' });
    } else if (mode === 'baseline-log') {
      await baselineUpdate(target, (log) => {
        log.messages.push({
          message_id: `msg_${String(log.messages.length + 1).padStart(3, '0')}`,
          from: agent,
          to: 'instance-1',
          type: 'info',
          timestamp: now(),
          subject: `${agent}-${i}`,
          message: 'status: all good',
          priority: 'medium',
          requires_response: false,
          context: { related_task: null, related_files: [] },
          status: 'sent',
        });
      });
    } else throw new Error(`unknown mode ${mode}`);
  }
}

async function main(): Promise<void> {
  const [mode, target, agent, count] = process.argv.slice(2);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await run(mode, target, agent, Number(count));
  process.stdout.write('done\n');
  process.stdin.destroy();
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exitCode = 1;
});
