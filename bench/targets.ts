/**
 * Targets benchmark (issue 5): change detection vs `git diff --name-only`, incremental and full sync vs
 * `rsync -a`, backup vs `cp -al`, each reference measured in the same run on the same generated data.
 */
import { execFile, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addTarget, applySync, backupTarget, DEFAULT_RULES, detectChanges, getTarget, restoreTarget } from '../src/core/targets';
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
 * Runs Syncord and the reference tool on the same data, alternating which goes first (so neither always
 * gets the warmer cache), and keeps every time; `prepare` resets the data before each pair. With `settle`,
 * dirty pages are flushed (`sync`, not timed) before each run: otherwise the run after a big write pays for
 * the write-back of the one before.
 */
async function pairs(
  reps: number,
  prepare: (k: number) => void | Promise<void>,
  ours: () => Promise<unknown>,
  ref: () => Promise<unknown>,
  settle = false,
): Promise<{ ours: number[]; ref: number[] }> {
  const out = { ours: [] as number[], ref: [] as number[] };
  const timed = (fn: () => Promise<unknown>) => {
    if (settle) execFileSync('sync');
    return time(fn);
  };
  for (let k = 0; k < reps; k++) {
    await prepare(k);
    if (k % 2 === 0) {
      out.ref.push(await timed(ref));
      out.ours.push(await timed(ours));
    } else {
      out.ours.push(await timed(ours));
      out.ref.push(await timed(ref));
    }
  }
  return out;
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
    `Medians of interleaved runs; Syncord and each reference run on the same data in the same process.\n` +
      `Machine: ${os.cpus().length} cores, load average ${l1.toFixed(1)} (1 min) / ${l5.toFixed(1)} (5 min). ` +
      `On a shared machine single runs vary a lot; compare the ratios, and the per-run times in brackets.`,
  );
  rows.length = 0;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-targets-'));
  try {
    // 1. Change detection: 20,000 files, 2,000 commits.
    const repo = path.join(base, 'history');
    const t0 = Date.now();
    makeHistoryRepo(repo, 20_000, 2_000);
    console.log(`(generated a 20,000-file repository with 2,000 commits in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const paths = resolveWorkspace(repo);
    // Detection keeps the committed changes between `since` and HEAD in .syncord/cache/detect/ (they never
    // change for a pair of commits): "cold" removes that cache before each run, "warm" is a later run with
    // the same HEAD. The untracked listing and uncommitted changes are always computed afresh.
    const cacheDir = committedCacheDir(paths);
    const dropCache = () => fs.rmSync(cacheDir, { recursive: true, force: true });
    for (const back of [20, 1999]) {
      const since = execFileSync('git', ['rev-parse', `HEAD~${back}`], { cwd: repo, encoding: 'utf8' }).trim();
      let changed = 0;
      await detectChanges(paths, DEFAULT_RULES, since); // warm-up (both read the same index and objects)
      await run('git', ['diff', '--name-only', since], repo);
      for (const warm of [false, true]) {
        const r = await pairs(
          11,
          () => (warm ? undefined : dropCache()),
          async () => (changed = (await detectChanges(paths, DEFAULT_RULES, since)).files.length),
          () => run('git', ['diff', '--name-only', since], repo),
        );
        const label = warm ? 'warm: committed changes cached' : 'cold: no cache';
        report({ name: `detect since HEAD~${back} (${changed} changed of 20,000), ${label}`, ...r, refName: 'git diff --name-only', target: 1.1 });
      }
    }
    if (process.env.SYNCORD_BENCH_ONLY === 'detect') {
      printTable();
      return;
    }

    // 2-4. Sync and backup: a 10,000-file docs tree.
    const main = path.join(base, 'main');
    fs.mkdirSync(main);
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: main });
    writeTree(path.join(main, 'docs'), 10_000);
    execFileSync('git', ['add', '-A'], { cwd: main });
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', 'docs'], { cwd: main });
    settleIndex(main);
    const ws = resolveWorkspace(main);
    const tgt = path.join(base, 'target');
    fs.mkdirSync(tgt);
    await addTarget(ws, { name: 'bench', path: tgt, type: 'source' });
    const rulesDocs = { ...DEFAULT_RULES, components: { docs: DEFAULT_RULES.components.docs }, config: {} };
    const destDocs = path.join(tgt, 'docs/opencode/docs');
    const rsyncDest = path.join(base, 'rsync-dest');

    if (hasRsync) {
      // Full sync into an empty target. Each run writes into new folders, for both tools: ext4 avoids
      // reusing inodes freed seconds before, so creating 10,000 files right after deleting 10,000 costs
      // several times more, for whichever tool happens to run into it.
      let k = 0;
      const r = await pairs(
        5,
        async (rep) => {
          k = rep;
          const dir = path.join(base, `full-${rep}`);
          fs.mkdirSync(path.join(dir, 'target'), { recursive: true });
          await addTarget(ws, { name: `full${rep}`, path: path.join(dir, 'target'), type: 'source' });
        },
        async () => {
          const res = await applySync(ws, rulesDocs, await getTarget(ws, `full${k}`), { full: true });
          if (!res.ok || res.written !== 10_000) throw new Error(`full sync: ${res.error ?? res.written}`);
        },
        () => run('rsync', ['-a', '--delete', `${main}/docs/`, `${path.join(base, `full-${k}`, 'rsync')}/`]),
        true,
      );
      report({ name: 'full sync, 10,000 files into an empty target', ...r, refName: 'rsync -a', target: 1.5 });
      await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), { full: true });
      await run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`]);

      // Incremental sync: 10 files changed (committed); the target and the rsync copy start in step.
      const ri = await pairs(
        9,
        (k) => {
          for (let j = 0; j < 10; j++) {
            const i = (k * 1000 + j * 97) % 10_000;
            fs.writeFileSync(path.join(main, 'docs', `d${Math.floor(i / 200)}`, `f${i}.md`), content(i, k + 1));
          }
          execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-am', `edit ${k}`], { cwd: main });
        },
        async () => {
          const res = await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), {});
          if (!res.ok || res.written !== 10) throw new Error(`incremental sync: ${res.error ?? res.written}`);
        },
        () => run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`]),
        true,
      );
      report({ name: 'incremental sync, 10 of 10,000 files changed', ...ri, refName: 'rsync -a', target: 1.0 });
    } else {
      console.log('(rsync not installed: sync benchmarks skipped; apt-get install -y rsync)');
      await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), { full: true });
    }

    // Backup when 10 files changed in the target (after one full backup), vs a hard-linked copy of the tree.
    let growth = 0;
    let changedBytes = 0;
    const storeBytes = () => {
      let n = 0;
      const objects = path.join(main, '.syncord', 'backups', 'bench', 'objects');
      for (const d of fs.readdirSync(objects)) for (const f of fs.readdirSync(path.join(objects, d))) n += fs.statSync(path.join(objects, d, f)).size;
      return n;
    };
    await backupTarget(ws, rulesDocs, 'bench');
    const rb = await pairs(
      7,
      (k) => {
        changedBytes = 0;
        for (let j = 0; j < 10; j++) {
          const i = (k * 1500 + j * 211 + 5) % 10_000;
          const text = content(i, 100 + k);
          changedBytes += Buffer.byteLength(text);
          fs.writeFileSync(path.join(destDocs, `d${Math.floor(i / 200)}`, `f${i}.md`), text);
        }
        growth = storeBytes();
      },
      async () => {
        const s = await backupTarget(ws, rulesDocs, 'bench');
        if (s.files !== 10_000) throw new Error(`backup: ${s.files} files`);
      },
      () => run('cp', ['-al', destDocs, path.join(base, `cp-al-${Date.now()}`)]),
      true,
    );
    growth = storeBytes() - growth;
    const manifests = path.join(main, '.syncord', 'backups', 'bench', 'manifests');
    const last = fs.readdirSync(manifests).filter((n) => n.endsWith('.json')).sort().pop()!;
    const manifestBytes = fs.statSync(path.join(manifests, last)).size;
    report({
      name: 'backup, 10 of 10,000 files changed',
      ...rb,
      refName: 'cp -al',
      target: 1.5,
      note: `store growth of the last backup: ${growth} B of new objects for ${changedBytes} B changed, plus its manifest (${(manifestBytes / 1024).toFixed(0)} KiB, one entry per file)`,
    });

    // Restore of that backup after 10 files drifted in the target, vs rsync from a snapshot of the same tree.
    if (hasRsync) {
      const snapshotDir = path.join(base, 'snapshot');
      const rsyncCopy = path.join(base, 'rsync-restore');
      await run('cp', ['-a', destDocs, snapshotDir]);
      await run('cp', ['-a', destDocs, rsyncCopy]);
      const rr = await pairs(
        7,
        (k) => {
          for (let j = 0; j < 10; j++) {
            const i = (k * 1700 + j * 307 + 11) % 10_000;
            const rel = path.join(`d${Math.floor(i / 200)}`, `f${i}.md`);
            for (const root of [destDocs, rsyncCopy]) fs.writeFileSync(path.join(root, rel), content(i, 500 + k));
          }
        },
        async () => {
          const r = await restoreTarget(ws, 'bench', last.replace(/\.json$/, ''), ['docs']);
          if (r.written !== 10 || !r.verified) throw new Error(`restore: ${r.written} written, verified ${r.verified}`);
        },
        () => run('rsync', ['-a', '--delete', `${snapshotDir}/`, `${rsyncCopy}/`]),
        true,
      );
      report({ name: 'restore, 10 of 10,000 files drifted', ...rr, refName: 'rsync -a --delete (from a snapshot)', target: 1.5 });
    }
    printTable();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
