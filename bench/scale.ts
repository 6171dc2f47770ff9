/**
 * Scale: a 100,000-message communication log and a 20,000-task queue (valid under the coordination schemas),
 * read by whole `syncord` processes (dist/cli.js) beside a plain Node script that reads the same files with
 * JSON.parse and does the same work (the same filters, a table or JSON printed, the claimed task moved or the
 * message appended and the files written back). Each command and its plain script run interleaved; prints the median wall time, the ratio
 * to the plain script, the peak RSS (`/usr/bin/time -f %M`, or the process's own maxRSS where that is missing),
 * the size of the files the command reads and the peak RSS over that size.
 * Targets: time within about 1.3× of the plain script; peak RSS under 3× the files' size.
 *   SYNCORD_BENCH_RUNS      rounds (default 5)
 *   SYNCORD_BENCH_MESSAGES  messages in the log (default 100000)
 *   SYNCORD_BENCH_TASKS     tasks in the queue (default 20000)
 *   SYNCORD_BENCH_BEFORE    another build's cli.js, measured in the same rounds (e.g. the previous commit's)
 *   SYNCORD_BENCH_ONLY      only the commands whose name contains this (e.g. "msg send")
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The project root: above the compiled bench (out/bench) when it holds package.json, else the current folder. */
const ROOT = fs.existsSync(path.resolve(__dirname, '..', '..', 'package.json')) ? path.resolve(__dirname, '..', '..') : process.cwd();

const INSTANCES = ['instance-1', 'instance-2', 'instance-3', 'instance-4', 'instance-5', 'instance-6'];
const ME = 'instance-2';
const OTHER = 'instance-1';
const pad = (n: number) => String(n).padStart(6, '0');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Writes the four coordination files of a large, long-running workspace into `dir`. */
export function writeScaleWorkspace(dir: string, messageCount: number, taskCount: number): { claimable: string } {
  const instances: Record<string, unknown> = {};
  for (const id of INSTANCES) {
    instances[id] = {
      role: `role of ${id}`,
      status: 'active',
      current_task: null,
      last_update: '2024-03-01T10:00:00Z',
      expertise_areas: ['backend', 'api-design'],
      available_for_consultation: true,
      current_session_id: `${id}_session`,
    };
  }
  const registry = { instances, coordination_protocol_version: '1.0', last_registry_update: '2024-03-01T10:00:00Z' };

  // Messages: old ones closed or acknowledged; the last 2,000 a live mix of questions waiting, answered threads,
  // unread notes and broadcasts.
  const messages: Record<string, unknown>[] = [];
  const responseQueue: Record<string, unknown>[] = [];
  const live = Math.max(0, messageCount - 2000);
  const base = Date.parse('2024-01-01T00:00:00Z');
  for (let i = 0; messages.length < messageCount; i++) {
    const n = messages.length + 1;
    const from = INSTANCES[i % 6];
    const to = i % 17 === 0 ? 'all' : INSTANCES[(i + 1 + (i % 5)) % 6] === from ? INSTANCES[(i + 2) % 6] : INSTANCES[(i + 1 + (i % 5)) % 6];
    const timestamp = new Date(base + n * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const recent = n > live;
    const question = to !== 'all' && i % 4 === 1 && n < messageCount;
    const m: Record<string, unknown> = {
      message_id: `msg_${pad(n)}`,
      from,
      to,
      type: question ? 'question' : 'info',
      timestamp,
      subject: `Progress on task_${pad((i % taskCount) + 1)}: step ${i % 9}`,
      message: `Done: the handlers of module ${i % 40}. Next: their tests. Files in src/module${i % 40}/.`,
      priority: ['low', 'medium', 'high'][i % 3],
      requires_response: question,
      context: { related_task: `task_${pad((i % taskCount) + 1)}`, related_files: i % 10 ? [] : [`src/module${i % 40}/file${i % 13}.ts`] },
      status: 'acknowledged',
    };
    if (to === 'all') {
      m.status = 'sent';
      m.acknowledged_by = recent && i % 2 ? INSTANCES.filter((x) => x !== from && x !== ME) : INSTANCES.filter((x) => x !== from);
    } else if (!question) {
      m.status = recent && i % 3 === 0 ? 'sent' : 'acknowledged';
    }
    messages.push(m);
    if (question) {
      const waiting = recent && i % 8 === 1;
      m.status = waiting ? 'pending_response' : recent ? 'responded' : 'closed';
      const due = new Date(Date.parse(timestamp) + 4 * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      responseQueue.push({ responding_to: m.message_id, from: to, status: waiting ? 'pending' : 'completed', expected_response_time: due });
      if (!waiting) {
        const r = messages.length + 1;
        messages.push({
          message_id: `msg_${pad(r)}`,
          from: to,
          to: from,
          type: 'reply',
          timestamp: new Date(base + r * 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
          subject: `Re: ${m.subject as string}`,
          message: 'The approach is fine: keep the API small, document the edge cases.',
          priority: 'medium',
          requires_response: false,
          context: { related_task: (m.context as { related_task: string }).related_task, related_files: [] },
          status: recent ? 'sent' : 'acknowledged',
          in_reply_to: m.message_id,
        });
      }
    }
  }
  const log = { messages, response_queue: responseQueue };

  // Tasks: most completed, some in progress, the rest pending (some offered, some suggested, some waiting on others).
  const task = (i: number, status: string, assigned: string | null): Record<string, unknown> => ({
    task_id: `task_${pad(i)}`,
    title: `Implement part ${i} of the coordination service`,
    description: `Build and test part ${i}: the handlers, their validation and the documentation that goes with them.`,
    assigned_to: assigned,
    status,
    priority: ['critical', 'high', 'medium', 'low'][i % 4],
    created: new Date(base + i * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    due: new Date(base + (i + 48) * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    dependencies: i > 1 ? [`task_${pad(i - 1)}`] : [],
    deliverables: [`src/part${i}/`],
    required_expertise: ['backend'],
    suggested_assignee: INSTANCES[i % 6],
  });
  const completed = Math.floor(taskCount * 0.75);
  const active = Math.floor(taskCount * 0.05);
  const queue = { active_tasks: [] as unknown[], pending_tasks: [] as unknown[], completed_tasks: [] as unknown[] };
  for (let i = 1; i <= taskCount; i++) {
    if (i <= completed) queue.completed_tasks.push({ ...task(i, 'completed', INSTANCES[i % 6]), completed_at: '2024-02-01T10:00:00Z' });
    else if (i <= completed + active) queue.active_tasks.push(task(i, 'in_progress', INSTANCES[i % 6]));
    else {
      const t = task(i, i % 3 === 0 ? 'assigned' : 'pending_assignment', i % 3 === 0 ? INSTANCES[i % 6] : null);
      t.dependencies = [`task_${pad(1 + (i % completed))}`];
      queue.pending_tasks.push(t);
    }
  }
  // A task the acting instance can claim: unassigned, its dependency completed.
  const claimable = (queue.pending_tasks as { task_id: string; assigned_to: string | null }[]).find((t) => t.assigned_to === null)!.task_id;

  const decisions = { decisions: [], pending_decisions: [] };
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, v: unknown) => fs.writeFileSync(path.join(dir, name), JSON.stringify(v, null, 2) + '\n');
  write('instance-registry.json', registry);
  write('task-queue.json', queue);
  write('communication-log.json', log);
  write('decisions.json', decisions);
  return { claimable };
}

/**
 * The plain script: JSON.parse and the same work as the verb, no validation, no locks. Kept as source so that it
 * runs as its own process.
 */
const PLAIN = String.raw`
const fs = require('fs');
const path = require('path');
const [verb, dir, me, id] = process.argv.slice(2);
const read = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const oneLine = (s) => s.replace(/\s+/g, ' ').trim();
const dash = (v) => (v === null || v === undefined || v === '' ? '-' : String(v));
function table(headers, rows) {
  const widths = headers.map((h) => h.length);
  for (const r of rows) r.forEach((c, i) => { if (c.length > widths[i]) widths[i] = c.length; });
  const line = (cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
const out = (s) => process.stdout.write(s + '\n');
// A file written back as a careful script would: a temporary file, flushed, renamed over the old one.
const writeBack = (f, v) => {
  const tmp = path.join(dir, '.' + f + '.tmp');
  const fd = fs.openSync(tmp, 'w');
  fs.writeSync(fd, JSON.stringify(v, null, 2) + '\n');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(dir, f));
};
const recipient = (m, who) => m.to === who || (m.to === 'all' && m.from !== who);
if (verb === 'inbox') {
  const registry = read('instance-registry.json');
  const tasks = read('task-queue.json');
  const log = read('communication-log.json');
  const decisions = read('decisions.json');
  if (!registry.instances[me]) throw new Error('no such instance');
  const due = new Map();
  for (const r of log.response_queue) if (r.status === 'pending') due.set(r.responding_to, r.expected_response_time);
  const replies = new Map();
  for (const m of log.messages) if (typeof m.in_reply_to === 'string') (replies.get(m.in_reply_to) || replies.set(m.in_reply_to, []).get(m.in_reply_to)).push(m);
  const awaiting = log.messages.filter((m) => m.to === me && m.status === 'pending_response');
  const unread = log.messages.filter((m) => recipient(m, me) && m.status === 'sent' && !(m.to === 'all' && Array.isArray(m.acknowledged_by) && m.acknowledged_by.includes(me)));
  const answered = log.messages.filter((m) => m.from === me && m.status === 'responded');
  const mine = tasks.active_tasks.filter((t) => t.assigned_to === me);
  const offered = tasks.pending_tasks.filter((t) => t.assigned_to === me);
  const suggested = tasks.pending_tasks.filter((t) => !t.assigned_to && t.suggested_assignee === me);
  const lines = [me + ': ' + (awaiting.length + unread.length + answered.length + offered.length) + ' waiting'];
  for (const m of awaiting) lines.push('  answer ' + m.message_id + ' from ' + m.from + ': ' + oneLine(m.subject) + ' (due ' + dash(due.get(m.message_id)) + ')');
  for (const m of unread) lines.push('  read ' + m.message_id + ' from ' + m.from + ': ' + oneLine(m.subject));
  for (const m of answered) lines.push('  answered ' + m.message_id + ': ' + (replies.get(m.message_id) || []).map((r) => r.message_id).join(', '));
  for (const t of mine) lines.push('  active ' + t.task_id + ': ' + oneLine(t.title));
  for (const t of offered) lines.push('  offered ' + t.task_id + ': ' + oneLine(t.title));
  for (const t of suggested) lines.push('  suggested ' + t.task_id + ': ' + oneLine(t.title));
  for (const d of decisions.pending_decisions) lines.push('  decide ' + d.decision_id);
  out(lines.join('\n'));
} else if (verb === 'msg-list') {
  const log = read('communication-log.json');
  out(table(['ID', 'FROM', 'TO', 'STATUS', 'TIME', 'SUBJECT'], log.messages.map((m) => [m.message_id, m.from, m.to, m.status, m.timestamp, oneLine(m.subject)])));
} else if (verb === 'task-list') {
  const q = read('task-queue.json');
  const all = [];
  for (const list of ['active_tasks', 'pending_tasks', 'completed_tasks']) for (const t of q[list]) all.push({ ...t, list });
  out(JSON.stringify(all, null, 2));
} else if (verb === 'task-claim') {
  const registry = read('instance-registry.json');
  const q = read('task-queue.json');
  if (!registry.instances[me]) throw new Error('no such instance');
  const i = q.pending_tasks.findIndex((t) => t.task_id === id);
  const t = q.pending_tasks[i];
  const done = new Set(q.completed_tasks.map((c) => c.task_id));
  if (!t || (t.dependencies || []).some((d) => !done.has(d))) throw new Error('cannot claim');
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  q.pending_tasks.splice(i, 1);
  Object.assign(t, { assigned_to: me, status: 'in_progress', claimed_at: now });
  q.active_tasks.push(t);
  Object.assign(registry.instances[me], { current_task: id, status: 'active', last_update: now });
  registry.last_registry_update = now;
  writeBack('task-queue.json', q);
  writeBack('instance-registry.json', registry);
  out(me + ' claimed ' + id + ': ' + t.title);
} else if (verb === 'msg-send') {
  const registry = read('instance-registry.json');
  const log = read('communication-log.json');
  if (!registry.instances[me] || !registry.instances[id]) throw new Error('no such instance');
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const n = log.messages.reduce((max, m) => Math.max(max, Number(/^msg_(\d+)$/.exec(m.message_id)?.[1] ?? 0)), 0) + 1;
  const m = { message_id: 'msg_' + String(n).padStart(3, '0'), from: me, to: id, type: 'info', timestamp: now, subject: 'Status', message: 'The build is green.', priority: 'medium', requires_response: false, context: { related_task: null, related_files: [] }, status: 'sent' };
  log.messages.push(m);
  writeBack('communication-log.json', log);
  out('Sent ' + m.message_id + ' to ' + id + '.');
}
`;

const HAS_TIME = fs.existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0;

/** Runs `node args` to its end: wall time (ms) and peak RSS (KB). Fails the benchmark when the command fails. */
function measure(args: string[], cwd: string, env: NodeJS.ProcessEnv, rssFile: string): { ms: number; rssKb: number; out: number } {
  const cmd = HAS_TIME ? '/usr/bin/time' : process.execPath;
  const full = HAS_TIME
    ? ['-f', '%M', '-o', rssFile, process.execPath, ...args]
    : ['-e', `const r=require('child_process').spawnSync(process.execPath,${JSON.stringify(args)},{stdio:'inherit'});require('fs').writeFileSync(${JSON.stringify(rssFile)},String(process.resourceUsage().maxRSS));process.exit(r.status)`];
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, full, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
  return { ms, rssKb: Number(lines[lines.length - 1]), out: r.stdout.length };
}

export async function runScaleBench(): Promise<void> {
  const runs = Number(process.env.SYNCORD_BENCH_RUNS) || 5;
  const messageCount = Number(process.env.SYNCORD_BENCH_MESSAGES) || 100_000;
  const taskCount = Number(process.env.SYNCORD_BENCH_TASKS) || 20_000;
  const cli = path.join(ROOT, 'dist', 'cli.js');
  const before = process.env.SYNCORD_BENCH_BEFORE ? path.resolve(process.env.SYNCORD_BENCH_BEFORE) : undefined;
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-scale-'));
  try {
    const coord = path.join(ws, 'coordination');
    const pristine = path.join(ws, 'pristine');
    const { claimable } = writeScaleWorkspace(pristine, messageCount, taskCount);
    fs.mkdirSync(coord);
    const reset = () => {
      for (const f of fs.readdirSync(pristine)) fs.copyFileSync(path.join(pristine, f), path.join(coord, f));
    };
    reset();
    const plain = path.join(ws, 'plain.js');
    fs.writeFileSync(plain, PLAIN);
    const rssFile = path.join(ws, 'rss.txt');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SYNCORD_')) delete env[k];
    const size = (...files: string[]) => files.reduce((n, f) => n + fs.statSync(path.join(pristine, f)).size, 0);
    const all = ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json'];
    const cases: { name: string; syncord: string[]; plain: string[]; bytes: number; writes?: boolean }[] = [
      { name: 'inbox', syncord: ['inbox'], plain: ['inbox'], bytes: size(...all) },
      { name: 'msg list', syncord: ['msg', 'list'], plain: ['msg-list'], bytes: size('communication-log.json') },
      { name: 'task list --json', syncord: ['task', 'list', '--json'], plain: ['task-list'], bytes: size('task-queue.json') },
      { name: `task claim`, syncord: ['task', 'claim', claimable], plain: ['task-claim', claimable], bytes: size('instance-registry.json', 'task-queue.json'), writes: true },
      {
        name: 'msg send',
        syncord: ['msg', 'send', OTHER, 'Status', '-m', 'The build is green.', '--type', 'info'],
        plain: ['msg-send', OTHER],
        bytes: size('instance-registry.json', 'communication-log.json'),
        writes: true,
      },
    ];
    const cpus = os.cpus();
    console.log(`machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}; peak RSS by ${HAS_TIME ? '/usr/bin/time -f %M' : 'maxRSS'}`);
    console.log(
      `files: ${messageCount} messages (communication-log.json ${(size('communication-log.json') / 1e6).toFixed(1)} MB), ` +
        `${taskCount} tasks (task-queue.json ${(size('task-queue.json') / 1e6).toFixed(1)} MB)`,
    );
    const loadBefore = fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').trim() : os.loadavg().map((x) => x.toFixed(2)).join(' ');
    console.log('  command            way       median     ratio    peak RSS   files    RSS/files');
    const only = process.env.SYNCORD_BENCH_ONLY;
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      const s = { ms: [] as number[], rss: [] as number[] };
      const p = { ms: [] as number[], rss: [] as number[] };
      const b = { ms: [] as number[], rss: [] as number[] };
      const ways: [typeof s, string[]][] = [
        [s, [cli, '-w', ws, '--as', ME, ...c.syncord]],
        [p, [plain, ...c.plain.slice(0, 1), coord, ME, ...c.plain.slice(1)]],
      ];
      if (before) ways.push([b, [before, '-w', ws, '--as', ME, ...c.syncord]]);
      for (let i = 0; i <= runs; i++) {
        // The first round warms the file cache and is not counted.
        for (const [way, args] of ways) {
          if (c.writes) reset();
          const r = measure(args, ws, env, rssFile);
          if (i > 0) {
            way.ms.push(r.ms);
            way.rss.push(r.rssKb);
          }
        }
      }
      const row = (way: string, w: { ms: number[]; rss: number[] }, ratio: string) => {
        const rss = Math.max(...w.rss) * 1024;
        console.log(
          `  ${c.name.padEnd(18)} ${way.padEnd(8)} ${`${median(w.ms).toFixed(0)} ms`.padStart(8)}  ${ratio.padStart(7)}  ${`${(rss / 1e6).toFixed(0)} MB`.padStart(9)}  ${`${(c.bytes / 1e6).toFixed(1)} MB`.padStart(8)}  ${`${(rss / c.bytes).toFixed(2)}×`.padStart(8)}`,
        );
      };
      row('syncord', s, `${(median(s.ms) / median(p.ms)).toFixed(2)}×`);
      if (before) row('before', b, `${(median(b.ms) / median(p.ms)).toFixed(2)}×`);
      row('plain', p, '');
    }
    reset();
    const loadAfter = fs.existsSync('/proc/loadavg') ? fs.readFileSync('/proc/loadavg', 'utf8').trim() : '';
    console.log(`load (/proc/loadavg) before: ${loadBefore}; after: ${loadAfter}; ${runs} interleaved rounds, medians; RSS the highest of the rounds`);
    console.log('targets: time ≤ 1.3× the plain script; peak RSS < 3× the files read');
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
}
