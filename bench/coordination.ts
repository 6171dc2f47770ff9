/**
 * Coordination benchmarks. Each line prints Syncord's number beside a baseline measured in the same run:
 *  1. 8 processes adding tasks to task-queue.json at once (read-modify-write of a small file): ops/s and lost
 *     updates, Syncord's store against proper-lockfile + write-file-atomic (JSON.parse / JSON.stringify);
 *  2. 8 processes appending messages to a communication log that already holds 10,000 messages (about 5 MB),
 *     same comparison;
 *  3. one CLI call (`syncord msg send`, the bundled dist/cli.js) against `jq` doing the same append and
 *     against an empty `node -e ''`;
 *  4. health check of a large workspace against just parsing its four files;
 *  5. (`npm run bench -- agents`) 8 and 16 agents each calling `syncord msg send` one after another, a process per
 *     call as agents do: through the CLI, through the Node client and through the agents' own command (Perl) with
 *     the workspace's daemon running, and a plain Node script per call that appends under proper-lockfile (ops/s,
 *     p50, p99 of a call, lost). SYNCORD_BENCH_CALLS sets the calls per agent (default 50).
 * Targets: 0 lost; at least 1,000 ops/s on the small file; at least the baseline on the 10,000-message log.
 */
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkHealth } from '../src/core/coordination/health';
import { initCoordination } from '../src/core/coordination/init';
import { CoordinationStore } from '../src/core/coordination/store';
import { writeAgentFiles } from '../src/core/sessions/launch';
import { resolveWorkspace } from '../src/core/workspace';

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

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

interface CallsRow {
  ops: number;
  opsPerS: number;
  p50: number;
  p99: number;
  lost: number;
}

/** `agents` agents, each running `calls` processes one after another (`command(agent, i)`: the program and its arguments); the times of each call. */
async function callRace(agents: number, calls: number, command: (agent: number, i: number) => string[], cwd: string): Promise<{ ms: number; times: number[]; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  const one = (args: string[]) =>
    new Promise<void>((resolve) => {
      const t = process.hrtime.bigint();
      const child = spawn(args[0], args.slice(1), { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => {
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (code !== 0) {
          failed++;
          if (failed <= 3) process.stderr.write(`  a call failed (exit ${code}): ${err.trim().split('\n')[0]}\n`);
        }
        resolve();
      });
    });
  const [, total] = await timeAsync(() =>
    Promise.all(
      Array.from({ length: agents }, async (_, agent) => {
        for (let i = 0; i < calls; i++) await one(command(agent, i));
      }),
    ),
  );
  return { ms: total, times, failed };
}

/** `npm run bench -- agents`: many agents calling `syncord msg send` at once (item 5 above). */
export async function runAgentsBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-agents-'));
  try {
    await manyAgents(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function manyAgents(dir: string): Promise<void> {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const client = path.join(ROOT, 'dist', 'client.js');
  const plain = path.join(__dirname, 'plainSend.js');
  const calls = Number(process.env.SYNCORD_BENCH_CALLS) > 0 ? Number(process.env.SYNCORD_BENCH_CALLS) : 50;
  const [l1, l5] = os.loadavg();
  console.log(`many agents calling \`syncord msg send\`, a process per call, ${calls} calls each (load ${l1.toFixed(1)} / ${l5.toFixed(1)}, ${os.cpus().length} cores):`);
  console.log('  agents  way                            ops/s     p50      p99    lost');
  const ways = ['plain script', 'CLI', 'CLI + daemon (Node client)', "agents' command + daemon"] as const;
  for (const agents of [8, 16]) {
    const rows: Record<string, CallsRow> = {};
    for (const way of ways) {
      const ws = path.join(dir, `agents-${agents}-${way.replace(/\W+/g, '-')}`);
      const coordination = path.join(ws, 'coordination');
      await initCoordination(coordination);
      execFileSync(process.execPath, [cli, '-w', ws, 'instance', 'add', 'b', '--role', 'x']);
      for (let a = 0; a < agents; a++) execFileSync(process.execPath, [cli, '-w', ws, 'instance', 'add', `agent-${a}`, '--role', 'x']);
      const log = path.join(coordination, 'communication-log.json');
      const daemon = way.includes('daemon');
      if (daemon) execFileSync(process.execPath, [cli, '-w', ws, 'daemon', 'start']);
      // The command a spawned session's agent runs (coordination/.syncord/bin/syncord).
      const shim = writeAgentFiles(resolveWorkspace(ws), { node: process.execPath, script: cli }).shim;
      const send = (a: number, i: number) => ['--as', `agent-${a}`, 'msg', 'send', 'b', `m ${a} ${i}`, '-m', 'x', '--type', 'info'];
      const r = await callRace(
        agents,
        calls,
        (a, i) =>
          way === 'plain script'
            ? [process.execPath, plain, log, `agent-${a}`, 'b', `m ${a} ${i}`]
            : way === 'CLI'
              ? [process.execPath, cli, ...send(a, i)]
              : way === 'CLI + daemon (Node client)'
                ? [process.execPath, client, ...send(a, i)]
                : [shim, ...send(a, i)],
        ws,
      );
      if (daemon) execFileSync(process.execPath, [cli, '-w', ws, 'daemon', 'stop']);
      const ops = agents * calls;
      const kept = new Set((JSON.parse(fs.readFileSync(log, 'utf8')) as { messages: { subject: string }[] }).messages.map((m) => m.subject)).size;
      const row = { ops, opsPerS: (ops * 1000) / r.ms, p50: percentile(r.times, 50), p99: percentile(r.times, 99), lost: ops - kept };
      rows[way] = row;
      console.log(`  ${String(agents).padStart(6)}  ${way.padEnd(28)} ${row.opsPerS.toFixed(1).padStart(7)} ${ms(row.p50).padStart(8)} ${ms(row.p99).padStart(8)} ${String(row.lost).padStart(6)}`);
    }
    const base = rows['plain script'];
    for (const way of ways.slice(1)) {
      const row = rows[way];
      console.log(
        `          ${way} / plain script: ${(row.opsPerS / base.opsPerS).toFixed(2)}× ops/s, p50 ${(row.p50 / base.p50).toFixed(2)}×, p99 ${(row.p99 / base.p99).toFixed(2)}×, lost ${row.lost} vs ${base.lost}`,
      );
    }
  }
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

interface Race {
  ms: number;
}

/** Starts `agents` workers, lets them load, then starts them together; resolves with the time from start to last done. */
function race(mode: string, target: string, agents: string[], each: number): Promise<Race> {
  const children = agents.map((a) => spawn(process.execPath, [WORKER, mode, target, a, String(each)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  const seen = (child: ReturnType<typeof spawn>, word: string) =>
    new Promise<void>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes(word)) resolve();
      });
      child.stderr!.on('data', (d) => (err += d));
      child.on('exit', (code) => (code ? reject(new Error(`${mode} worker failed: ${err}`)) : resolve()));
    });
  return Promise.all(children.map((c) => seen(c, 'ready'))).then(async () => {
    const t = process.hrtime.bigint();
    const done = children.map((c) => seen(c, 'done'));
    for (const c of children) c.stdin!.write('go\n');
    await Promise.all(done);
    return { ms: Number(process.hrtime.bigint() - t) / 1e6 };
  });
}

function rate(ops: number, ms: number): string {
  return `${Math.round((ops / ms) * 1000)} ops/s`;
}

function countSurvivors(file: string): number {
  try {
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { messages: unknown[] }).messages.length;
  } catch {
    return -1; // the file itself was torn
  }
}

function taskCount(file: string): number {
  try {
    const q = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown[]>;
    return q.active_tasks.length + q.pending_tasks.length + q.completed_tasks.length;
  } catch {
    return -1;
  }
}

export async function runCoordinationBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-coord-'));
  try {
    const agents = Array.from({ length: 8 }, (_, i) => `agent-${i}`);
    const registry = {
      instances: Object.fromEntries(
        ['instance-1', ...agents].map((id) => [
          id,
          { role: 'bench', status: 'active', current_task: null, last_update: null, expertise_areas: [], available_for_consultation: true, current_session_id: null },
        ]),
      ),
      coordination_protocol_version: '1.0',
      last_registry_update: null,
    };
    const workspaceWith = async (name: string) => {
      const d = path.join(dir, name, 'coordination');
      await initCoordination(d);
      fs.writeFileSync(path.join(d, 'instance-registry.json'), JSON.stringify(registry, null, 2) + '\n');
      return d;
    };

    // 1. Read-modify-write of the small task queue by 8 processes at once.
    const each = Number(process.env.SYNCORD_BENCH_TASK_OPS ?? 150);
    const total = agents.length * each;
    const sDir = await workspaceWith('tasks-syncord');
    const bDir = await workspaceWith('tasks-baseline');
    const sRace = await race('syncord-tasks', sDir, agents, each);
    const bRace = await race('baseline-tasks', path.join(bDir, 'task-queue.json'), agents, each);
    const sKept = taskCount(path.join(sDir, 'task-queue.json'));
    const bKept = taskCount(path.join(bDir, 'task-queue.json'));
    console.log(`8 processes add ${each} tasks each to task-queue.json at once (${total} read-modify-writes):`);
    console.log(`  syncord store                             ${rate(total, sRace.ms).padStart(11)}   lost ${total - sKept}`);
    console.log(`  baseline: proper-lockfile + write-file-atomic ${rate(total, bRace.ms).padStart(7)}   lost ${bKept < 0 ? 'all (file torn)' : total - bKept}`);

    // 2. Appends to a log that already holds 10,000 messages.
    const eachLog = Number(process.env.SYNCORD_BENCH_LOG_OPS ?? 12);
    const totalLog = agents.length * eachLog;
    const sLogDir = await workspaceWith('log-syncord');
    const bLogDir = await workspaceWith('log-baseline');
    seedLog(path.join(sLogDir, 'communication-log.json'), 10_000);
    seedLog(path.join(bLogDir, 'communication-log.json'), 10_000);
    const mb = (fs.statSync(path.join(sLogDir, 'communication-log.json')).size / 1e6).toFixed(1);
    const sLog = await race('syncord-log', sLogDir, agents, eachLog);
    const bLog = await race('baseline-log', path.join(bLogDir, 'communication-log.json'), agents, eachLog);
    const sMsgs = countSurvivors(path.join(sLogDir, 'communication-log.json'));
    const bMsgs = countSurvivors(path.join(bLogDir, 'communication-log.json'));
    console.log(`8 processes append ${eachLog} messages each to a log of 10,000 messages (${mb} MB, ${totalLog} appends):`);
    console.log(`  syncord store                             ${rate(totalLog, sLog.ms).padStart(11)}   lost ${10_000 + totalLog - sMsgs}`);
    console.log(`  baseline: proper-lockfile + write-file-atomic ${rate(totalLog, bLog.ms).padStart(7)}   lost ${bMsgs < 0 ? 'all (file torn)' : 10_000 + totalLog - bMsgs}`);

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

    // 5. Many agents through the CLI, a process per call.
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
