/**
 * Coordination benchmarks. Each line prints Syncord's number beside a reference measured in the same run:
 *  1. one agent appending messages: the store (lock, re-read, validate, minimal edit, fsync, rename) against a
 *     bare JSON.parse / writeFileSync round trip;
 *  2. four agents appending at once: how many messages survive, store against the bare round trip;
 *  3. one CLI call (`syncord msg send`, the bundled dist/cli.js) against `jq` doing the same append and
 *     against an empty `node -e ''`;
 *  4. health check of a large workspace against just parsing its four files.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkHealth } from '../src/core/coordination/health';
import { initCoordination } from '../src/core/coordination/init';
import { CommunicationLogSchema } from '../src/core/coordination/schemas';
import { CoordinationStore } from '../src/core/coordination/store';
import { updateJsonFile } from '../src/core/store';

/** The project root: above the compiled bench (out/bench) when it holds package.json, else the current folder. */
const ROOT = fs.existsSync(path.resolve(__dirname, '..', '..', 'package.json')) ? path.resolve(__dirname, '..', '..') : process.cwd();
const WORKER = path.join(__dirname, 'coordinationWorker.js');

function ms(n: number): string {
  return n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(0)} ms`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

function seedLog(file: string, messages: number): void {
  const log = {
    messages: Array.from({ length: messages }, (_, i) => ({
      message_id: `msg_${String(i + 1).padStart(3, '0')}`,
      from: `instance-${(i % 6) + 1}`,
      to: `instance-${((i + 1) % 6) + 1}`,
      type: 'info',
      timestamp: '2024-01-15T11:20:00Z',
      subject: `subject ${i}`,
      message: 'A message body of ordinary length, about one sentence long, as agents write them.',
      priority: 'medium',
      requires_response: false,
      context: { related_task: null, related_files: [] },
      status: 'sent',
    })),
    response_queue: [],
  };
  fs.writeFileSync(file, JSON.stringify(log, null, 2) + '\n');
}

function runWorkers(mode: string, file: string, agents: number, each: number): Promise<number> {
  const t = Date.now();
  return Promise.all(
    Array.from(
      { length: agents },
      (_, a) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [WORKER, mode, file, `agent${a}`, String(each)], { stdio: ['ignore', 'ignore', 'pipe'] });
          let err = '';
          child.stderr.on('data', (d) => (err += d));
          child.on('close', (code) => (code === 0 || mode === 'naive' ? resolve() : reject(new Error(err))));
        }),
    ),
  ).then(() => Date.now() - t);
}

function countSurvivors(file: string): number {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { messages: unknown[] }).messages.length;
  } catch {
    return -1; // the file itself was torn
  }
}

export async function runCoordinationBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-coord-'));
  try {
    // 1. Sequential appends to a log of 500 messages.
    const N = 100;
    const storeFile = path.join(dir, 'store.json');
    const naiveFile = path.join(dir, 'naive.json');
    seedLog(storeFile, 500);
    seedLog(naiveFile, 500);
    const storeTimes: number[] = [];
    for (let i = 0; i < N; i++) {
      const [, t] = await timeAsync(() =>
        updateJsonFile({ file: storeFile, schema: CommunicationLogSchema }, (log) => {
          log.messages.push({ message_id: `x_${i}`, from: 'a', to: 'b', type: 'info', timestamp: '2024-01-15T11:20:00Z', subject: 's', message: 'm', status: 'sent' });
        }),
      );
      storeTimes.push(t);
    }
    const naiveTimes: number[] = [];
    for (let i = 0; i < N; i++) {
      const [, t] = time(() => {
        const log = JSON.parse(fs.readFileSync(naiveFile, 'utf8')) as { messages: unknown[] };
        log.messages.push({ message_id: `x_${i}` });
        fs.writeFileSync(naiveFile, JSON.stringify(log, null, 2) + '\n');
      });
      naiveTimes.push(t);
    }
    console.log(`append 1 message to a 500-message log (median of ${N}):`);
    console.log(`  syncord store (lock + re-read + validate + minimal edit + fsync + rename)  ${ms(median(storeTimes))}`);
    console.log(`  reference: JSON.parse + writeFileSync, no lock, no fsync                   ${ms(median(naiveTimes))}`);

    // 2. Four agents appending 40 messages each at the same time.
    const agents = 4;
    const each = 40;
    const contended = path.join(dir, 'contended-store.json');
    const contendedNaive = path.join(dir, 'contended-naive.json');
    seedLog(contended, 0);
    seedLog(contendedNaive, 0);
    const storeMs = await runWorkers('store', contended, agents, each);
    const naiveMs = await runWorkers('naive', contendedNaive, agents, each);
    const kept = countSurvivors(contended);
    const keptNaive = countSurvivors(contendedNaive);
    console.log(`${agents} agents append ${each} messages each at once (${agents * each} sent):`);
    console.log(`  syncord store  kept ${kept}/${agents * each} in ${storeMs} ms`);
    console.log(`  reference: bare read-modify-write  kept ${keptNaive < 0 ? 'nothing (file torn)' : `${keptNaive}/${agents * each}`} in ${naiveMs} ms`);

    // 3. One CLI call against jq and against node's own start-up.
    const cli = path.join(ROOT, 'dist', 'cli.js');
    const ws = path.join(dir, 'ws');
    await initCoordination(path.join(ws, 'coordination'));
    execFileSync(process.execPath, [cli, '-w', ws, 'instance', 'add', 'a', '--role', 'x']);
    execFileSync(process.execPath, [cli, '-w', ws, 'instance', 'add', 'b', '--role', 'x']);
    const runs = 7;
    const cliTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [, t] = time(() => execFileSync(process.execPath, [cli, '-w', ws, '--as', 'a', 'msg', 'send', 'b', 'hi', '-m', 'x', '--type', 'info']));
      cliTimes.push(t);
    }
    const nodeTimes: number[] = [];
    for (let i = 0; i < runs; i++) nodeTimes.push(time(() => execFileSync(process.execPath, ['-e', '']))[1]);
    console.log(`one CLI call (median of ${runs}):`);
    console.log(`  syncord msg send                       ${ms(median(cliTimes))}`);
    const log = path.join(ws, 'coordination', 'communication-log.json');
    if (spawnSync('jq', ['--version']).status === 0) {
      const jqTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        const [, t] = time(() => {
          const out = execFileSync('jq', ['.messages += [{"message_id":"j","from":"a","to":"b","subject":"hi","message":"x"}]', log]);
          fs.writeFileSync(log + '.tmp', out);
          fs.renameSync(log + '.tmp', log);
        });
        jqTimes.push(t);
      }
      console.log(`  reference: jq append + rename, no lock  ${ms(median(jqTimes))}`);
    } else {
      console.log('  reference: jq is not installed');
    }
    console.log(`  reference: node -e '' (start-up alone)  ${ms(median(nodeTimes))}`);

    // 4. Health of a busy workspace.
    const big = path.join(dir, 'big', 'coordination');
    await initCoordination(big);
    const instances = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [`instance-${i}`, { role: 'r', status: 'active', current_task: null, last_update: '2024-01-15T10:00:00Z', expertise_areas: [], available_for_consultation: true, current_session_id: null }]),
    );
    fs.writeFileSync(path.join(big, 'instance-registry.json'), JSON.stringify({ instances, coordination_protocol_version: '1.0', last_registry_update: null }, null, 2));
    const task = (i: number, status: string) => ({
      task_id: `task_${i}`,
      title: `Task ${i}`,
      description: 'Something to do',
      assigned_to: status === 'pending_assignment' ? null : `instance-${i % 20}`,
      status,
      priority: 'medium',
      created: '2024-01-15T10:00:00Z',
      due: '2024-02-15T10:00:00Z',
      dependencies: i > 0 ? [`task_${i - 1}`] : [],
    });
    fs.writeFileSync(
      path.join(big, 'task-queue.json'),
      JSON.stringify({ active_tasks: [], pending_tasks: Array.from({ length: 1000 }, (_, i) => task(i + 2000, 'pending_assignment')), completed_tasks: Array.from({ length: 2000 }, (_, i) => task(i, 'completed')) }, null, 2),
    );
    seedLog(path.join(big, 'communication-log.json'), 5000);
    const store = new CoordinationStore(big);
    const healthTimes: number[] = [];
    for (let i = 0; i < 3; i++) healthTimes.push((await timeAsync(() => checkHealth(store, { now: new Date('2024-01-15T12:00:00Z') })))[1]);
    const parseTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      parseTimes.push(time(() => ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json'].forEach((f) => JSON.parse(fs.readFileSync(path.join(big, f), 'utf8'))))[1]);
    }
    const size = ['task-queue.json', 'communication-log.json'].reduce((s, f) => s + fs.statSync(path.join(big, f)).size, 0);
    console.log(`health of 20 instances, 3000 tasks, 5000 messages (${(size / 1e6).toFixed(1)} MB, median of 3):`);
    console.log(`  syncord health (parse + validate + all checks + line numbers)  ${ms(median(healthTimes))}`);
    console.log(`  reference: JSON.parse of the four files                        ${ms(median(parseTimes))}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
