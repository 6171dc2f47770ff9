/**
 * Start-up of the `syncord` CLI, measured as whole processes: `syncord inbox` and `syncord task list --json` on
 * the seed files (test/fixtures/seed004), each beside `node -e 0` (Node's own start) measured in the same run,
 * the three interleaved so that a change in the machine's load touches them alike. The CLI is a production build
 * (minified, as in the .vsix) made for the benchmark in .bench/dist. Prints medians and the ratio to `node -e 0`.
 * Target: both within 1.5× of `node -e 0`. The same two commands are also measured in a copy of the workspace whose
 * daemon runs (`syncord daemon start`), where the CLI hands them to it before loading the rest of itself.
 *   SYNCORD_BENCH_RUNS  rounds (default 30)
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The project root: above the compiled bench (out/bench) when it holds package.json, else the current folder. */
const ROOT = fs.existsSync(path.resolve(__dirname, '..', '..', 'package.json')) ? path.resolve(__dirname, '..', '..') : process.cwd();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs one process to its end; its wall time in ms. Fails the benchmark when the command fails. */
function timed(args: string[], cwd: string, env: NodeJS.ProcessEnv): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status}: ${r.stderr}`);
  return ms;
}

function kb(file: string): number {
  return fs.statSync(file).size / 1024;
}

export async function runStartupBench(): Promise<void> {
  const runs = Number(process.env.SYNCORD_BENCH_RUNS) || 30;
  const dist = path.join(ROOT, '.bench', 'dist');
  execFileSync(process.execPath, [path.join(ROOT, 'esbuild.js'), '--production', '--outdir', dist], { cwd: ROOT, stdio: 'inherit' });
  const cli = path.join(dist, 'cli.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-startup-'));
  try {
    const seed = path.join(ROOT, 'test', 'fixtures', 'seed004');
    const plain = path.join(dir, 'plain');
    const served = path.join(dir, 'served');
    for (const ws of [plain, served]) {
      fs.mkdirSync(path.join(ws, 'coordination'), { recursive: true });
      for (const f of fs.readdirSync(seed)) fs.copyFileSync(path.join(seed, f), path.join(ws, 'coordination', f));
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('SYNCORD_')) delete env[k];
    execFileSync(process.execPath, [cli, '-w', served, 'daemon', 'start'], { env });
    const commands: [string, string[], string][] = [
      ['node -e 0', ['-e', '0'], plain],
      ['syncord inbox', [cli, 'inbox', '--as', 'instance-2'], plain],
      ['syncord task list --json', [cli, 'task', 'list', '--json'], plain],
      ['  the same, daemon running:', [], served],
      ['syncord inbox', [cli, 'inbox', '--as', 'instance-2'], served],
      ['syncord task list --json', [cli, 'task', 'list', '--json'], served],
    ];
    const times = commands.map(() => [] as number[]);
    const loadBefore = os.loadavg()[0];
    for (const [, args, cwd] of commands) if (args.length) timed(args, cwd, env); // warm the file cache
    for (let i = 0; i < runs; i++) commands.forEach(([, args, cwd], c) => args.length && times[c].push(timed(args, cwd, env)));
    execFileSync(process.execPath, [cli, '-w', served, 'daemon', 'stop'], { env });
    const base = median(times[0]);
    const cpus = os.cpus();
    console.log(`machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${os.platform()} ${os.release()}, Node ${process.version}`);
    console.log(`load (1-minute average) before/after: ${loadBefore.toFixed(2)} / ${os.loadavg()[0].toFixed(2)}; ${runs} interleaved rounds, medians`);
    console.log(`bundle: cli.js ${kb(cli).toFixed(0)} KB, chunks ${fs.readdirSync(path.join(dist, 'chunks')).reduce((n, f) => n + kb(path.join(dist, 'chunks', f)), 0).toFixed(0)} KB in all`);
    console.log('  command                      median      ratio to node -e 0');
    commands.forEach(([name, args], c) => {
      if (!args.length) return console.log(name);
      const m = median(times[c]);
      console.log(`  ${name.padEnd(26)} ${`${m.toFixed(0)} ms`.padStart(8)}      ${(m / base).toFixed(2)}×${c === 0 ? '' : m / base <= 1.5 ? '   (target ≤ 1.5×: met)' : '   (target ≤ 1.5×: NOT met)'}`);
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
