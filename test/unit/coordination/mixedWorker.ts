/**
 * One agent of the concurrency test: `count` mixed operations through the core, as fast as it can.
 *   node mixedWorker.js <coordinationDir> <me> <next> <count>
 * Operation j: j % 3 == 0 sends a message to <next>, 1 checks in with current task t-<me>-<j>, 2 adds a task.
 */
import { checkIn } from '../../../src/core/coordination/instances';
import { sendMessage } from '../../../src/core/coordination/messages';
import { CoordinationStore } from '../../../src/core/coordination/store';
import { addTask } from '../../../src/core/coordination/tasks';

async function main(): Promise<void> {
  const [dir, me, next, count] = process.argv.slice(2);
  const store = new CoordinationStore(dir, { lockWaitMs: 60_000 });
  for (let j = 0; j < Number(count); j++) {
    if (j % 3 === 0) {
      await sendMessage(store, { from: me, to: next, subject: `s-${me}-${j}`, body: `body ${j}`, type: 'info' });
    } else if (j % 3 === 1) {
      await checkIn(store, { instance: me, task: `t-${me}-${j}` });
    } else {
      await addTask(store, { title: `T-${me}-${j}`, by: me, priority: 'low' });
    }
  }
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exitCode = 1;
});
