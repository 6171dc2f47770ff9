/**
 * Targets benchmark (issue 5): change detection vs `git diff --name-only`, incremental and full sync vs
 * `rsync -a`, backup vs `cp -al`, restore vs `rsync -a --delete`, each reference measured in the same run on the
 * same generated data; each both in this process (the library) and as a whole command (`node dist/cli.js`).
 *   SYNCORD_BENCH_ONLY   detect | sync: one half only
 *   SYNCORD_BENCH_WHOLE  0: the library only, no whole commands
 *   SYNCORD_BENCH_DAEMON 0: no whole commands through the workspace's daemon
 *   SYNCORD_BENCH_RUNS   rounds of every case (default 5 to 11, by case)
 * With /usr/bin/time installed, each whole-command case also reports the CPU time of its runs (user + sys,
 * git's included), which the machine's load disturbs less than the wall time.
 * "With the daemon": the same command through the agents' `syncord` while `syncord daemon start` runs (Perl's
 * client.pl hands the call to the daemon); its CPU time adds the daemon's (and its git's) to the client's.
 */
import { execFile, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addTarget, applySync, backupTarget, DEFAULT_RULES, detectChanges, getTarget, restoreTarget, rulesFile, updateTarget } from '../src/core/targets';
import { committedCacheDir } from '../src/core/targets/detect';
import { resolveWorkspace } from '../src/core/workspace';

const run = (cmd: string, args: string[], cwd?: string) =>
  new Promise<void>((resolve, reject) => execFile(cmd, args, { cwd, maxBuffer: 1 << 30 }, (e) => (e ? reject(e) : resolve())));

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Runs each way (the reference tool, Syncord's library in this process, Syncord as a whole command) on the same
 * data, rotating which goes first (so none always gets the warmer cache), and keeps every time; `prepare`
 * resets the data before each round. With `settle`, dirty pages are flushed (`sync`, not timed) before each
 * run: otherwise the run after a big write pays for the write-back of the one before.
 */
async function rounds(
  reps: number,
  prepare: (k: number) => void | Promise<void>,
  ways: Record<string, () => Promise<unknown>>,
  settle = false,
): Promise<Record<string, number[]>> {
  const names = Object.keys(ways);
  const out: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, [] as number[]]));
  cpuTimes = {};
  for (let k = 0; k < reps; k++) {
    await prepare(k);
    for (let j = 0; j < names.length; j++) {
      const n = names[(k + j) % names.length];
      if (settle) execFileSync('sync');
      out[n].push(await time(ways[n]));
    }
  }
  return out;
}

/** The CLI as a user runs it: `node dist/cli.js -w <workspace> ...`, a process per call. */
const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const WHOLE = process.env.SYNCORD_BENCH_WHOLE !== '0';
const REPS = (n: number) => Number(process.env.SYNCORD_BENCH_RUNS) || n;

/** `/usr/bin/time`, when installed: whole commands then also report their CPU time (user + sys, with children). */
const TIME = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const CPU_MARK = 'syncord-bench-cpu';

/** The agents' client of the daemon, beside the CLI. */
const CLIENT_PL = path.join(path.dirname(CLI), 'client.pl');
const DAEMON = WHOLE && process.env.SYNCORD_BENCH_DAEMON !== '0' && process.platform === 'linux' && spawnSync('perl', ['-e', '0']).status === 0;

/** CPU time (user + sys, s) of each whole-command run since the last report, by way (rounds start afresh). */
let cpuTimes: Record<string, number[]> = {};

/** A running daemon of a workspace: its socket, and its process for its CPU time. */
interface Daemon {
  socket: string;
  pid: number;
}

/** CPU time (s) of a process and of its children it waited for, from /proc (Linux). */
function processCpu(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // After the name: state is field 3, utime 14, stime 15, cutime 16, cstime 17 (1-based).
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / 100;
}

async function startDaemon(ws: string): Promise<Daemon> {
  await cli(ws, ['daemon', 'start', '--idle-minutes', '30']);
  const s = JSON.parse(await cli(ws, ['--json', 'daemon', 'status'])) as { pid: number; socket: string };
  return { socket: s.socket, pid: s.pid };
}

/**
 * Runs `syncord <args>` in the workspace (through the daemon's agents' client when `daemon` is given); exit codes
 * other than `ok` (0 unless given) fail the benchmark.
 */
function cli(ws: string, args: string[], ok: number[] = [0], daemon?: Daemon): Promise<string> {
  const way = daemon ? 'with the daemon' : 'whole command';
  const command = daemon ? ['perl', CLIENT_PL, daemon.socket, process.execPath, CLI, '-w', ws, ...args] : [process.execPath, CLI, '-w', ws, ...args];
  const [cmd, argv] = TIME ? [TIME, ['-f', `${CPU_MARK} %U %S`, ...command]] : [command[0], command.slice(1)];
  const daemonBefore = daemon ? processCpu(daemon.pid) : 0;
  return new Promise((resolve, reject) =>
    // The whole command in its own process even while the workspace's daemon runs (which would take it).
    execFile(cmd, argv, { maxBuffer: 1 << 30, env: daemon ? cliEnv : { ...cliEnv, SYNCORD_NO_DAEMON: '1' } }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      const cpu = new RegExp(`${CPU_MARK} ([0-9.]+) ([0-9.]+)\\s*$`).exec(stderr);
      if (cpu) {
        (cpuTimes[way] ??= []).push(Number(cpu[1]) + Number(cpu[2]) + (daemon ? processCpu(daemon.pid) - daemonBefore : 0));
        stderr = stderr.slice(0, cpu.index);
      }
      if (!ok.includes(code)) reject(new Error(`syncord ${args.join(' ')} exited with ${code}: ${stderr || stdout}`));
      else resolve(stdout);
    }),
  );
}
const cliEnv: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNCORD_')));

/** Reports the library and the whole command against the same reference runs. */
function reportWays(name: string, r: Record<string, number[]>, refName: string, target: number, wholeTarget = 1.5, note?: string): void {
  report({ name: `${name} (library)`, ours: r.lib, ref: r.ref, refName, target, note });
  if (r.cli) report({ name: `${name} (whole command)`, ours: r.cli, ref: r.ref, refName, target: wholeTarget });
  if (r.dmn) report({ name: `${name} (with the daemon)`, ours: r.dmn, ref: r.ref, refName, target: wholeTarget });
  reportCpu();
}

/** The CPU time of the whole commands run since the last report (user + sys, children included), then forgets them. */
function reportCpu(): void {
  for (const [way, times] of Object.entries(cpuTimes)) {
    if (times.length) console.log(`    ${way} CPU time (user + sys): median ${median(times).toFixed(2)} s   [${times.map((x) => x.toFixed(2)).join(' ')}]`);
  }
  cpuTimes = {};
}

interface Row {
  name: string;
  ours: number[];
  ref: number[];
  refName: string;
  target: number;
  note?: string;
}

const rows: Row[] = [];

function report(row: Row): void {
  rows.push(row);
  const a = median(row.ours);
  const b = median(row.ref);
  const ratio = a / b;
  console.log(
    `  ${row.name}: syncord ${a.toFixed(1)} ms, ${row.refName} ${b.toFixed(1)} ms, ratio ${ratio.toFixed(2)}x (target <= ${row.target}x) ${ratio <= row.target ? 'ok' : 'MISSED'}` +
      `   [syncord ${row.ours.map((x) => x.toFixed(0)).join(' ')} | ${row.refName} ${row.ref.map((x) => x.toFixed(0)).join(' ')}]${row.note ? `\n    ${row.note}` : ''}`,
  );
}

function printTable(): void {
  const head = ['case', 'syncord (median)', 'reference (median)', 'ratio', 'target', ''];
  const body = rows.map((r) => {
    const a = median(r.ours);
    const b = median(r.ref);
    return [r.name, `${a.toFixed(1)} ms`, `${r.refName} ${b.toFixed(1)} ms`, `${(a / b).toFixed(2)}x`, `<= ${r.target}x`, a / b <= r.target ? 'ok' : 'MISSED'];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  console.log('\n' + line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of body) console.log(line(r));
}

export function content(i: number, rev = 0): string {
  return `# Document ${i} (rev ${rev})\n\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8 + (i % 16))}\n`;
}

/** A repository with `files` files and `commits` commits, made with git fast-import. */
export function makeHistoryRepo(dir: string, files: number, commits: number): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  // The fast-import stream goes through a file, so this process stays small: spawning a child costs more
  // from a big process, and the detection benchmark spawns git from here.
  const streamFile = path.join(path.dirname(dir), `${path.basename(dir)}.fast-import`);
  const out = fs.openSync(streamFile, 'w');
  const parts = { push: (text: string) => fs.writeSync(out, text) };
  let t = 1_700_000_000;
  const cats = ['docs', 'plans', 'RAG/troubleshooting', 'src/opencode/provider', 'src/opencode/tool', 'src/opencode/cli/sub', 'misc'];
  const fileName = (i: number) => {
    const c = cats[i % cats.length];
    return `${c}/d${Math.floor(i / 500)}/f${i}.${c.startsWith('src') ? 'py' : 'md'}`.replace(/^(docs|plans)\/d\d+\//, '$1/');
  };
  const blob = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  parts.push(`commit refs/heads/main\ncommitter Bench <b@example.com> ${t++} +0000\n${blob('initial')}`);
  for (let i = 0; i < files; i++) parts.push(`M 100644 inline ${fileName(i)}\n${blob(content(i))}`);
  for (let c = 1; c < commits; c++) {
    parts.push(`commit refs/heads/main\ncommitter Bench <b@example.com> ${t++} +0000\n${blob(`change ${c}`)}`);
    for (let k = 0; k < 5; k++) {
      const i = (c * 7919 + k * 104729) % files;
      parts.push(`M 100644 inline ${fileName(i)}\n${blob(content(i, c))}`);
    }
    if (c % 50 === 0) parts.push(`D ${fileName((c * 31) % files)}\n`);
  }
  fs.closeSync(out);
  const input = fs.openSync(streamFile, 'r');
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, stdio: [input, 'ignore', 'pipe'] });
  fs.closeSync(input);
  fs.rmSync(streamFile);
  if (r.status !== 0) throw new Error(`fast-import failed: ${r.stderr}`);
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
  settleIndex(dir);
}

/**
 * Files written in the same second as git's index are "racily clean": every git command re-reads them until
 * the index is written again later. A real working copy is past that; so is the benchmark's, after this.
 */
export function settleIndex(dir: string): void {
  execFileSync('sleep', ['1.1']);
  execFileSync('git', ['update-index', '-q', '--really-refresh'], { cwd: dir });
}

export function writeTree(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const f = path.join(root, `d${Math.floor(i / 200)}`, `f${i}.md`);
    if (i % 200 === 0) fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content(i));
  }
}

export async function runTargetsBench(): Promise<void> {
  const hasRsync = spawnSync('rsync', ['--version']).status === 0;
  const [l1, l5] = os.loadavg();
  console.log(
    `Medians of interleaved runs; Syncord and each reference run on the same data in the same run: Syncord's library\n` +
      `in this process ("library"), the CLI as a process, \`node dist/cli.js -w <ws> ...\` ("whole command"), and the\n` +
      `agents' \`syncord\` handing the same command to the workspace's daemon ("with the daemon", \`syncord daemon start\`).\n` +
      `Machine: ${os.cpus().length} cores, load average ${l1.toFixed(1)} (1 min) / ${l5.toFixed(1)} (5 min), Node ${process.version}. ` +
      `On a shared machine single runs vary a lot; compare the ratios, and the per-run times in brackets.` +
      (WHOLE ? '' : '\n(SYNCORD_BENCH_WHOLE=0: whole commands not measured)'),
  );
  if (WHOLE && !fs.existsSync(CLI)) throw new Error(`${CLI} not found: build it with node esbuild.js`);
  rows.length = 0;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-targets-'));
  try {
    if (process.env.SYNCORD_BENCH_ONLY !== 'sync') await detectBench(base);
    if (process.env.SYNCORD_BENCH_ONLY !== 'detect') await syncBench(base, hasRsync);
    printTable();
    console.log(`load average at the end: ${os.loadavg()[0].toFixed(1)} (1 min)`);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

/** Rules as a rules file holds them, written where the CLI reads them. */
function writeRules(ws: ReturnType<typeof resolveWorkspace>, rules: typeof DEFAULT_RULES): void {
  fs.mkdirSync(path.dirname(rulesFile(ws)), { recursive: true });
  fs.writeFileSync(rulesFile(ws), JSON.stringify(rules, null, 2));
}

// 1. Change detection: 20,000 files, 2,000 commits; `sync detect --since` and `sync check` (a target recorded
// as synced at that commit, whose rules copy nothing: its status is the detection alone).
async function detectBench(base: string): Promise<void> {
  const repo = path.join(base, 'history');
  const t0 = Date.now();
  makeHistoryRepo(repo, 20_000, 2_000);
  console.log(`(generated a 20,000-file repository with 2,000 commits in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const paths = resolveWorkspace(repo);
  const checkRules = { ...DEFAULT_RULES, components: {}, config: {} };
  writeRules(paths, checkRules);
  const tgt = path.join(base, 'check-target');
  fs.mkdirSync(tgt);
  await addTarget(paths, { name: 'checked', path: tgt, type: 'source' });
  const daemon = DAEMON ? await startDaemon(repo) : undefined;
  try {
    await detectRounds(repo, paths, daemon);
  } finally {
    if (daemon) await cli(repo, ['daemon', 'stop']);
  }
}

async function detectRounds(repo: string, paths: ReturnType<typeof resolveWorkspace>, daemon: Daemon | undefined): Promise<void> {
  // Detection keeps the committed changes between `since` and HEAD in .syncord/cache/detect/ (they never
  // change for a pair of commits): "cold" removes that cache before each run, "warm" is a later run with
  // the same HEAD. The untracked listing and uncommitted changes are always computed afresh.
  const cacheDir = committedCacheDir(paths);
  const dropCache = () => fs.rmSync(cacheDir, { recursive: true, force: true });
  for (const back of [20, 1999]) {
    const since = execFileSync('git', ['rev-parse', `HEAD~${back}`], { cwd: repo, encoding: 'utf8' }).trim();
    await updateTarget(paths, 'checked', { last_sync_commit: since });
    let changed = 0;
    await detectChanges(paths, DEFAULT_RULES, since); // warm-up (both read the same index and objects)
    await run('git', ['diff', '--name-only', since], repo);
    if (WHOLE) await cli(repo, ['sync', 'detect', '--since', since]);
    if (daemon) await cli(repo, ['sync', 'detect', '--since', since], [0], daemon);
    for (const warm of [false, true]) {
      const ways: Record<string, () => Promise<unknown>> = {
        ref: () => run('git', ['diff', '--name-only', since], repo),
        lib: async () => (changed = (await detectChanges(paths, DEFAULT_RULES, since)).files.length),
      };
      if (WHOLE) {
        ways.cli = () => cli(repo, ['sync', 'detect', '--since', since]);
        if (daemon) ways.dmn = () => cli(repo, ['sync', 'detect', '--since', since], [0], daemon);
        // Node's own start, the floor of any whole command in Node.
        ways.node = () => run(process.execPath, ['-e', '0']);
      }
      const r = await rounds(REPS(11), () => (warm ? undefined : dropCache()), ways);
      const label = warm ? 'warm: committed changes cached' : 'cold: no cache';
      reportWays(`detect since HEAD~${back} (${changed} changed of 20,000), ${label}`, r, 'git diff --name-only', 1.1);
      if (r.node) console.log(`    node -e 0 in the same rounds: ${median(r.node).toFixed(1)} ms, ${(median(r.node) / median(r.ref)).toFixed(2)}x git diff --name-only`);
      if (WHOLE) {
        const checkWays: Record<string, () => Promise<unknown>> = {
          ref: () => run('git', ['diff', '--name-only', since], repo),
          cli: () => cli(repo, ['sync', 'check'], [1]),
        };
        if (daemon) checkWays.dmn = () => cli(repo, ['sync', 'check'], [1], daemon);
        const rc = await rounds(REPS(7), () => (warm ? undefined : dropCache()), checkWays);
        report({ name: `sync check, synced at HEAD~${back} (${changed} changed), ${label} (whole command)`, ours: rc.cli, ref: rc.ref, refName: 'git diff --name-only', target: 1.5 });
        if (rc.dmn) report({ name: `sync check, synced at HEAD~${back} (${changed} changed), ${label} (with the daemon)`, ours: rc.dmn, ref: rc.ref, refName: 'git diff --name-only', target: 1.5 });
        reportCpu();
      }
    }
  }
}

// 2-5. Sync, backup and restore of a 10,000-file docs tree. The library and the whole command each have a
// target of their own (and rsync a copy of its own), which start in step and get the same changes.
async function syncBench(base: string, hasRsync: boolean): Promise<void> {
  const main = path.join(base, 'main');
  fs.mkdirSync(main);
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: main });
  writeTree(path.join(main, 'docs'), 10_000);
  execFileSync('git', ['add', '-A'], { cwd: main });
  execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', 'docs'], { cwd: main });
  settleIndex(main);
  const ws = resolveWorkspace(main);
  const rulesDocs = { ...DEFAULT_RULES, components: { docs: DEFAULT_RULES.components.docs }, config: {} };
  writeRules(ws, rulesDocs);
  const names = WHOLE ? (DAEMON ? ['bench', 'benchcli', 'benchdmn'] : ['bench', 'benchcli']) : ['bench'];
  const dest: Record<string, string> = {};
  for (const n of names) {
    const tgt = path.join(base, n);
    fs.mkdirSync(tgt);
    await addTarget(ws, { name: n, path: tgt, type: 'source' });
    dest[n] = path.join(tgt, 'docs/opencode/docs');
  }
  const daemon = DAEMON ? await startDaemon(main) : undefined;
  try {
    await syncRounds(base, main, ws, rulesDocs, names, dest, hasRsync, daemon);
  } finally {
    if (daemon) await cli(main, ['daemon', 'stop']);
  }
}

async function syncRounds(
  base: string,
  main: string,
  ws: ReturnType<typeof resolveWorkspace>,
  rulesDocs: typeof DEFAULT_RULES,
  names: string[],
  dest: Record<string, string>,
  hasRsync: boolean,
  daemon: Daemon | undefined,
): Promise<void> {
  const rsyncDest = path.join(base, 'rsync-dest');
  const syncLib = async (name: string, written: number, full = false) => {
    const res = await applySync(ws, rulesDocs, await getTarget(ws, name), { full });
    if (!res.ok || res.written !== written) throw new Error(`sync of ${name}: ${res.error ?? `${res.written} written, ${written} expected`}`);
  };
  const syncCli = async (name: string, written: number, through?: Daemon) => {
    const out = JSON.parse(await cli(main, ['--json', 'sync', 'run', '--target', name], [0], through)) as { ok: boolean; written: number; error?: string };
    if (!out.ok || out.written !== written) throw new Error(`syncord sync run --target ${name}: ${out.error ?? `${out.written} written, ${written} expected`}`);
  };

  if (hasRsync) {
    // Full sync into an empty target. Each run writes into new folders, for every way: ext4 avoids reusing
    // inodes freed seconds before, so creating 10,000 files right after deleting 10,000 costs several times
    // more, for whichever tool happens to run into it.
    let k = 0;
    const fullWays: Record<string, () => Promise<unknown>> = {
      ref: () => run('rsync', ['-a', '--delete', `${main}/docs/`, `${path.join(base, `full-${k}`, 'rsync')}/`]),
      lib: () => syncLib(`full${k}`, 10_000, true),
    };
    if (WHOLE) fullWays.cli = () => syncCli(`fullcli${k}`, 10_000);
    if (daemon) fullWays.dmn = () => syncCli(`fulldmn${k}`, 10_000, daemon);
    const r = await rounds(
      REPS(5),
      async (rep) => {
        k = rep;
        for (const n of [`full${rep}`, `fullcli${rep}`, `fulldmn${rep}`]) {
          const dir = path.join(base, `full-${rep}`, n);
          fs.mkdirSync(dir, { recursive: true });
          await addTarget(ws, { name: n, path: dir, type: 'source' });
        }
      },
      fullWays,
      true,
    );
    reportWays('full sync, 10,000 files into an empty target', r, 'rsync -a', 1.5);
    for (const n of names) await syncLib(n, 10_000, true);
    await run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`]);

    // Incremental sync: 10 files changed (committed); the targets and the rsync copy start in step.
    const incWays: Record<string, () => Promise<unknown>> = {
      ref: () => run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`]),
      lib: () => syncLib('bench', 10),
    };
    if (WHOLE) incWays.cli = () => syncCli('benchcli', 10);
    if (daemon) incWays.dmn = () => syncCli('benchdmn', 10, daemon);
    const ri = await rounds(
      REPS(9),
      (k) => {
        for (let j = 0; j < 10; j++) {
          const i = (k * 1000 + j * 97) % 10_000;
          fs.writeFileSync(path.join(main, 'docs', `d${Math.floor(i / 200)}`, `f${i}.md`), content(i, k + 1));
        }
        execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-am', `edit ${k}`], { cwd: main });
      },
      incWays,
      true,
    );
    reportWays('incremental sync, 10 of 10,000 files changed', ri, 'rsync -a --delete', 1.0, 1.5);

    // No-op sync: nothing changed since the last sync.
    const noopWays: Record<string, () => Promise<unknown>> = {
      ref: () => run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`]),
      lib: () => syncLib('bench', 0),
    };
    if (WHOLE) noopWays.cli = () => syncCli('benchcli', 0);
    if (daemon) noopWays.dmn = () => syncCli('benchdmn', 0, daemon);
    const rn = await rounds(REPS(7), () => undefined, noopWays);
    reportWays('no-op sync, 10,000 files in step', rn, 'rsync -a --delete', 1.5);
  } else {
    console.log('(rsync not installed: sync benchmarks skipped; apt-get install -y rsync)');
    for (const n of names) await syncLib(n, 10_000, true);
  }

  // Backup when 10 files changed in the target (after one full backup), vs a hard-linked copy of the tree.
  const storeBytes = (name: string) => {
    let n = 0;
    const objects = path.join(main, '.syncord', 'backups', name, 'objects');
    for (const d of fs.readdirSync(objects)) for (const f of fs.readdirSync(path.join(objects, d))) n += fs.statSync(path.join(objects, d, f)).size;
    return n;
  };
  const growth: Record<string, number> = {};
  const before: Record<string, number> = {};
  let changedBytes = 0;
  for (const n of names) await backupTarget(ws, rulesDocs, n);
  const backupWays: Record<string, () => Promise<unknown>> = {
    ref: () => run('cp', ['-al', dest.bench, path.join(base, `cp-al-${Date.now()}`)]),
    lib: async () => {
      const s = await backupTarget(ws, rulesDocs, 'bench');
      if (s.files !== 10_000) throw new Error(`backup: ${s.files} files`);
    },
  };
  if (WHOLE) {
    backupWays.cli = async () => {
      const s = JSON.parse(await cli(main, ['--json', 'target', 'backup', 'benchcli'])) as { files: number };
      if (s.files !== 10_000) throw new Error(`syncord target backup: ${s.files} files`);
    };
  }
  if (daemon) {
    backupWays.dmn = async () => {
      const s = JSON.parse(await cli(main, ['--json', 'target', 'backup', 'benchdmn'], [0], daemon)) as { files: number };
      if (s.files !== 10_000) throw new Error(`syncord target backup (daemon): ${s.files} files`);
    };
  }
  const rb = await rounds(
    REPS(7),
    (k) => {
      changedBytes = 0;
      for (let j = 0; j < 10; j++) {
        const i = (k * 1500 + j * 211 + 5) % 10_000;
        const text = content(i, 100 + k);
        changedBytes += Buffer.byteLength(text);
        for (const n of names) fs.writeFileSync(path.join(dest[n], `d${Math.floor(i / 200)}`, `f${i}.md`), text);
      }
      for (const n of names) before[n] = storeBytes(n);
    },
    backupWays,
    true,
  );
  for (const n of names) growth[n] = storeBytes(n) - before[n];
  const lastBackup = (name: string) => {
    const manifests = path.join(main, '.syncord', 'backups', name, 'manifests');
    return fs.readdirSync(manifests).filter((f) => f.endsWith('.json')).sort().pop()!;
  };
  const manifestBytes = fs.statSync(path.join(main, '.syncord', 'backups', 'bench', 'manifests', lastBackup('bench'))).size;
  reportWays(
    'backup, 10 of 10,000 files changed',
    rb,
    'cp -al',
    1.5,
    1.5,
    `store growth of the last backup: ${growth.bench} B of new objects (library), ${growth.benchcli ?? '-'} B (whole command), ${growth.benchdmn ?? '-'} B (with the daemon) for ${changedBytes} B changed, plus its manifest (${(manifestBytes / 1024).toFixed(0)} KiB, one entry per file)`,
  );

  // Restore of that backup after 10 files drifted in the target, vs rsync from a snapshot of the same tree.
  if (hasRsync) {
    const snapshotDir = path.join(base, 'snapshot');
    const rsyncCopy = path.join(base, 'rsync-restore');
    await run('cp', ['-a', dest.bench, snapshotDir]);
    await run('cp', ['-a', dest.bench, rsyncCopy]);
    const ids = Object.fromEntries(names.map((n) => [n, lastBackup(n).replace(/\.json$/, '')]));
    const restoreWays: Record<string, () => Promise<unknown>> = {
      ref: () => run('rsync', ['-a', '--delete', `${snapshotDir}/`, `${rsyncCopy}/`]),
      lib: async () => {
        const r = await restoreTarget(ws, 'bench', ids.bench, ['docs']);
        if (r.written !== 10 || !r.verified) throw new Error(`restore: ${r.written} written, verified ${r.verified}`);
      },
    };
    if (WHOLE) {
      restoreWays.cli = async () => {
        const r = JSON.parse(await cli(main, ['--json', 'target', 'restore', 'benchcli', '--backup', ids.benchcli, '--component', 'docs'])) as { written: number; verified: boolean };
        if (r.written !== 10 || !r.verified) throw new Error(`syncord target restore: ${r.written} written, verified ${r.verified}`);
      };
    }
    if (daemon) {
      restoreWays.dmn = async () => {
        const r = JSON.parse(await cli(main, ['--json', 'target', 'restore', 'benchdmn', '--backup', ids.benchdmn, '--component', 'docs'], [0], daemon)) as { written: number; verified: boolean };
        if (r.written !== 10 || !r.verified) throw new Error(`syncord target restore (daemon): ${r.written} written, verified ${r.verified}`);
      };
    }
    const rr = await rounds(
      REPS(7),
      (k) => {
        for (let j = 0; j < 10; j++) {
          const i = (k * 1700 + j * 307 + 11) % 10_000;
          const rel = path.join(`d${Math.floor(i / 200)}`, `f${i}.md`);
          for (const root of [...names.map((n) => dest[n]), rsyncCopy]) fs.writeFileSync(path.join(root, rel), content(i, 500 + k));
        }
      },
      restoreWays,
      true,
    );
    reportWays('restore, 10 of 10,000 files drifted', rr, 'rsync -a --delete (from a snapshot)', 1.5);
  }
}
