/**
 * Targets benchmark (issue 5): change detection vs `git diff --name-only`, incremental and full sync vs
 * `rsync -a`, backup vs `cp -al`, each reference measured in the same run on the same generated data.
 */
import { execFile, execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { addTarget, applySync, backupTarget, DEFAULT_RULES, detectChanges, getTarget } from '../src/core/targets';
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
  return s[Math.floor(s.length / 2)];
}

function report(name: string, ours: number[], ref: number[], refName: string, target: number, extra = ''): void {
  const a = median(ours);
  const b = median(ref);
  const ratio = a / b;
  console.log(`${name.padEnd(44)} syncord ${a.toFixed(1).padStart(8)} ms   ${refName} ${b.toFixed(1).padStart(8)} ms   ratio ${ratio.toFixed(2)}x (target <= ${target}x) ${ratio <= target ? 'OK' : 'MISSED'}${extra}`);
}

export function content(i: number, rev = 0): string {
  return `# Document ${i} (rev ${rev})\n\n${'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(8 + (i % 16))}\n`;
}

/** A repository with `files` files and `commits` commits, made with git fast-import. */
export function makeHistoryRepo(dir: string, files: number, commits: number): void {
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: dir });
  const parts: string[] = [];
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
  const r = spawnSync('git', ['fast-import', '--quiet'], { cwd: dir, input: parts.join(''), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`fast-import failed: ${r.stderr}`);
  execFileSync('git', ['reset', '-q', '--hard', 'main'], { cwd: dir });
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
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-bench-targets-'));
  try {
    // 1. Change detection: 20,000 files, 2,000 commits.
    const repo = path.join(base, 'history');
    let t0 = Date.now();
    makeHistoryRepo(repo, 20_000, 2_000);
    console.log(`(generated a 20,000-file repository with 2,000 commits in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    const paths = resolveWorkspace(repo);
    for (const back of [20, 1999]) {
      const since = execFileSync('git', ['rev-parse', `HEAD~${back}`], { cwd: repo, encoding: 'utf8' }).trim();
      const ours: number[] = [];
      const ref: number[] = [];
      let changed = 0;
      for (let k = 0; k < 9; k++) {
        ref.push(await time(() => run('git', ['diff', '--name-only', since], repo)));
        ours.push(await time(async () => (changed = (await detectChanges(paths, DEFAULT_RULES, since)).files.length)));
      }
      report(`detect since HEAD~${back} (${changed} changed files)`, ours, ref, 'git diff --name-only', 1.1);
    }

    // 2-4. Sync and backup: a 10,000-file docs tree.
    const main = path.join(base, 'main');
    fs.mkdirSync(main);
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: main });
    writeTree(path.join(main, 'docs'), 10_000);
    execFileSync('git', ['add', '-A'], { cwd: main });
    execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-m', 'docs'], { cwd: main });
    const ws = resolveWorkspace(main);
    const tgt = path.join(base, 'target');
    fs.mkdirSync(tgt);
    await addTarget(ws, { name: 'bench', path: tgt, type: 'source' });
    const rulesDocs = { ...DEFAULT_RULES, components: { docs: DEFAULT_RULES.components.docs }, config: {} };
    const destDocs = path.join(tgt, 'docs/opencode/docs');
    const rsyncDest = path.join(base, 'rsync-dest');

    if (hasRsync) {
      // Full sync into an empty target.
      const ours: number[] = [];
      const ref: number[] = [];
      for (let k = 0; k < 3; k++) {
        fs.rmSync(path.join(tgt, 'docs'), { recursive: true, force: true });
        fs.rmSync(rsyncDest, { recursive: true, force: true });
        fs.rmSync(path.join(main, '.syncord'), { recursive: true, force: true });
        execFileSync('sync');
        ref.push(await time(() => run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`])));
        ours.push(await time(async () => {
          const r = await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), { full: true });
          if (!r.ok || r.written !== 10_000) throw new Error(`full sync: ${r.error ?? r.written}`);
        }));
      }
      report('full sync, 10,000 files into an empty target', ours, ref, 'rsync -a', 1.5);

      // Incremental sync: 10 files changed (committed), target and rsync copy in step.
      const oursI: number[] = [];
      const refI: number[] = [];
      for (let k = 0; k < 7; k++) {
        for (let j = 0; j < 10; j++) {
          const i = (k * 1000 + j * 97) % 10_000;
          fs.writeFileSync(path.join(main, 'docs', `d${Math.floor(i / 200)}`, `f${i}.md`), content(i, k + 1));
        }
        execFileSync('git', ['-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '-q', '-am', `edit ${k}`], { cwd: main });
        refI.push(await time(() => run('rsync', ['-a', '--delete', `${main}/docs/`, `${rsyncDest}/`])));
        oursI.push(await time(async () => {
          const r = await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), {});
          if (!r.ok || r.written !== 10 || !r.plan.components[0].incremental) throw new Error(`incremental sync: ${r.error ?? r.written}`);
        }));
      }
      report('incremental sync, 10 of 10,000 files changed', oursI, refI, 'rsync -a', 1.0);
    } else {
      console.log('(rsync not installed: sync benchmarks skipped; apt-get install -y rsync)');
      await applySync(ws, rulesDocs, await getTarget(ws, 'bench'), { full: true });
    }

    // Backup when 10 files changed in the target.
    const oursB: number[] = [];
    const refB: number[] = [];
    let growth = 0;
    let changedBytes = 0;
    await backupTarget(ws, rulesDocs, 'bench');
    for (let k = 0; k < 5; k++) {
      changedBytes = 0;
      for (let j = 0; j < 10; j++) {
        const i = (k * 1500 + j * 211 + 5) % 10_000;
        const text = content(i, 100 + k);
        changedBytes += Buffer.byteLength(text);
        fs.writeFileSync(path.join(destDocs, `d${Math.floor(i / 200)}`, `f${i}.md`), text);
      }
      const cpDest = path.join(base, `cp-al-${k}`);
      refB.push(await time(() => run('cp', ['-al', destDocs, cpDest])));
      oursB.push(await time(async () => (growth = (await backupTarget(ws, rulesDocs, 'bench')).newBytes)));
    }
    report('backup, 10 of 10,000 files changed', oursB, refB, 'cp -al', 1.5, `   store growth ${growth} B for ${changedBytes} B changed`);
    t0 = Date.now();
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
