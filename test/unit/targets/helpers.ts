import * as assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli } from '../../../src/cli/program';
import { RULES_TEMPLATE } from '../../../src/core/targets/rules';

/** The repository root (the tests run from compiled output elsewhere). */
export function repoRoot(): string {
  for (let d = __dirname; d !== path.dirname(d); d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'test', 'fixtures', 'seed002', 'targets.json')) && fs.existsSync(path.join(d, 'schemas'))) return d;
  }
  return process.cwd();
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = any>(): T;
}

/** Runs the `syncord` CLI in this process and captures what it prints. */
export async function cli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.exitCode = undefined;
  (process.stdout as any).write = (c: string | Uint8Array) => (out.push(String(c)), true);
  (process.stderr as any).write = (c: string | Uint8Array) => (err.push(String(c)), true);
  let code: number;
  try {
    code = await runCli(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = undefined;
  }
  const stdout = out.join('');
  return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) };
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function write(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

export function read(root: string, rel: string): string {
  return fs.readFileSync(path.join(root, rel), 'utf8');
}

export const MAIN_TOML = `# opencode main configuration
default_model = "claude-sonnet"
data_dir = "~/.opencode"
log_level = "info"
tools = ["read", "write", "bash"]

[providers.anthropic]
api_key_env = "ANTHROPIC_API_KEY"

[providers.openai]
api_key_env = "OPENAI_API_KEY"
base_url = "https://api.openai.com/v1"
`;

export interface Workspace {
  dir: string;
  main: string;
  sp: string;
  src: string;
  /** `syncord -w <main> ...` */
  run(...args: string[]): Promise<CliRun>;
  commit(message: string): void;
  cleanup(): void;
}

/**
 * A main project git repository with docs, plans, RAG, README, MISSION, opencode.toml and code, plus two target
 * folders. The main project is seed 002's opencode_4py, so its first commit holds the `opencode_4py` preset as
 * `coordination/sync-rules.jsonc` (as `syncord sync rules --init --preset opencode_4py` writes it), unless
 * `rulesFile` is false (then the rules inferred from the project apply).
 */
export function makeWorkspace(opts: { rulesFile?: boolean } = {}): Workspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-targets-'));
  const main = path.join(dir, 'main');
  const sp = path.join(dir, 'ComfyUI_windows_portable');
  const src = path.join(dir, 'simple_python_app');
  fs.mkdirSync(main);
  fs.mkdirSync(sp);
  fs.mkdirSync(src);
  git(main, 'init', '-q', '-b', 'main');
  git(main, 'config', 'user.email', 'dev@example.com');
  git(main, 'config', 'user.name', 'Dev');
  git(main, 'config', 'commit.gpgsign', 'false');
  write(main, 'README.md', '# opencode\n\nSee [the mission](MISSION.md) and [docs](docs/INDEX.md).\n');
  write(main, 'MISSION.md', '# Mission\n');
  write(main, 'docs/INDEX.md', '# Index\n\n- [Setup](SETUP.md)\n- [API](api/REST.md)\n- [Plans](../plans/SYNC_PLAN.md)\n');
  write(main, 'docs/SETUP.md', '# Setup\n\nBack to [index](INDEX.md).\n');
  write(main, 'docs/api/REST.md', '# REST\n');
  write(main, 'plans/SYNC_PLAN.md', '# Sync plan\n');
  write(main, 'plans/archive/OLD.md', '# Old\n');
  write(main, 'RAG/troubleshooting/errors/E001.md', '# E001\n');
  write(main, 'opencode.toml', MAIN_TOML);
  write(main, 'src/opencode/provider/anthropic.py', 'NAME = "anthropic"\n');
  write(main, 'src/opencode/tool/read.py', 'def read(): pass\n');
  write(main, 'src/opencode/cli/main.py', 'def main(): pass\n');
  write(main, '.gitignore', '*.log\n');
  if (opts.rulesFile !== false) write(main, 'coordination/sync-rules.jsonc', RULES_TEMPLATE);
  git(main, 'add', '-A');
  git(main, 'commit', '-q', '-m', 'initial');
  git(main, 'tag', 'v1.0.0');
  return {
    dir,
    main,
    sp,
    src,
    run: (...args: string[]) => cli(['-w', main, ...args]),
    commit(message: string) {
      git(main, 'add', '-A');
      git(main, 'commit', '-q', '-m', message);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** Where the site-packages target keeps its copy of the project. */
export const SP = 'python_embeded/Lib/site-packages/opencode';

/** Registers the workspace's two target folders through the CLI: comfy (site-packages) and app (source). */
export async function addBothTargets(ws: Workspace): Promise<void> {
  assert.equal((await ws.run('target', 'add', 'comfy', '--path', ws.sp, '--type', 'site-packages')).code, 0);
  assert.equal((await ws.run('target', 'add', 'app', '--path', ws.src, '--type', 'source')).code, 0);
}

/** The targets core, with the workspace's resolved paths and loaded rules, for tests that call it directly. */
export async function targetsApi(ws: Workspace) {
  const core = await import('../../../src/core/targets');
  const { resolveWorkspace } = await import('../../../src/core/workspace');
  const paths = resolveWorkspace(ws.main);
  const rules = (await core.loadRules(paths)).rules;
  return { ...core, paths, rules };
}

/** Every file under a folder with its bytes (symlinks as `-> link`), for byte-exact comparisons. */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const abs = path.join(root, r);
      if (e.isSymbolicLink()) out[r] = `-> ${fs.readlinkSync(abs)}`;
      else if (e.isDirectory()) {
        out[r + '/'] = '';
        walk(r);
      } else out[r] = `${(fs.statSync(abs).mode & 0o777).toString(8)} ${fs.readFileSync(abs).toString('base64')}`;
    }
  };
  if (fs.existsSync(root)) walk('');
  return out;
}
