// What a test of the "agents" tier needs to run the REAL Claude Code and opencode (installed by
// scripts/agents.js at pinned versions) offline, against the scripted model of ./scriptedModel.ts:
//
//   const model = await startScriptedModel(script);
//   const scratch = await createScratch(model);          // HOME, workspace (git + `syncord init`), syncord on PATH
//   await runProgram('claude', ['--print', ...], { cwd: scratch.workspace, env: scratch.env });
//   await runCli(['inbox'], { cwd: scratch.workspace, env: scratch.env });
//   const tui = await startTmux(['claude'], { cwd: scratch.workspace, env: scratch.env });
//   await waitFor(() => tui.capture().then((s) => s.includes('…')), { what: '…' });
//   await scratch.cleanup();                              // stops every process the scratch's env reached
//
// Every process started with a scratch's env carries a mark (SYNCORD_AGENTS_TEST_MARK); cleanup ends exactly
// the processes whose environment holds that mark (found in /proc), so agents a test started — directly, in
// tmux, or through Syncord — never outlive it, and nobody else's processes are touched. The same happens for
// every scratch not yet cleaned up when the test process exits or is interrupted.
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ScriptedModel } from './scriptedModel';

/** The project root (this file runs from out/test/agents/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
/** The built CLI the tests run, as a user would (`node esbuild.js` builds it). */
export const CLI = path.join(ROOT, 'dist', 'cli.js');

interface AgentsModule {
  CLAUDE_VERSION: string;
  OPENCODE_VERSION: string;
  INSTALL_DIR: string;
  BIN_DIR: string;
  isInstalled(): boolean;
}
// The one place the versions are written down: scripts/agents.js (also used by `npm test` to install them).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const agents = require(path.join(ROOT, 'scripts', 'agents.js')) as AgentsModule;

export const CLAUDE_VERSION = agents.CLAUDE_VERSION;
export const OPENCODE_VERSION = agents.OPENCODE_VERSION;

/** The folder holding the installed `claude` and `opencode`; throws with the command to run when missing. */
export function agentsBin(): string {
  if (!agents.isInstalled()) {
    throw new Error(
      `Claude Code ${CLAUDE_VERSION} and opencode ${OPENCODE_VERSION} are not installed in ${path.relative(ROOT, agents.INSTALL_DIR)}; ` +
        'run: node scripts/agents.js install',
    );
  }
  return agents.BIN_DIR;
}

/** The key the agents send to the scripted model (it accepts any). */
export const API_KEY = 'sk-test';
/** The environment variable that marks every process a scratch started (see killMarked). */
export const MARK_VARIABLE = 'SYNCORD_AGENTS_TEST_MARK';

// Variables of the person running the tests that must not reach the agents: their credentials and endpoints,
// an enclosing Claude Code or opencode session, their Syncord settings, npm's per-run variables.
const FOREIGN = /^(ANTHROPIC_|CLAUDE|OPENCODE|OPENAI_|AWS_BEARER|BEDROCK|VERTEX|GOOGLE_|GEMINI_|SYNCORD_|XDG_|npm_|MCP_)/i;

export interface AgentEnvOptions {
  /** Folders Claude Code trusts without asking (its "Is this a project you trust?" screen); usually the workspace. */
  trustedFolders?: string[];
  /** Folders put first on PATH (e.g. the one with the `syncord` shim), before the agents' bin folder. */
  path?: string[];
  /** The acting instance for `syncord` commands the agents run (SYNCORD_INSTANCE); none when undefined. */
  instance?: string;
  /** The mark of the processes started with this env (default: a new one). */
  mark?: string;
  /**
   * Turn Claude Code's "auto" permission mode off (default true). In this version auto mode is the interactive
   * default and asks a server-side classifier before each tool call; the scripted model cannot answer it, so
   * the first tool call would stop at a dialog. Headless `--print` runs do not use it.
   */
  disableAutoMode?: boolean;
  /** More entries for $HOME/.claude/settings.json. */
  claudeSettings?: Record<string, unknown>;
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Writes what Claude Code and opencode read from a fresh HOME so they start without onboarding, against the
 * scripted model:
 *   $HOME/.claude.json            onboarding done, the test key approved, `trustedFolders` trusted
 *   $HOME/.claude/settings.json   auto permission mode off (see AgentEnvOptions.disableAutoMode)
 *   $HOME/opencode.json           an openai-compatible provider "scripted" at <model>/v1, as the default model
 * Returns the opencode config file.
 */
export function writeAgentHome(modelUrl: string, home: string, opts: AgentEnvOptions = {}): string {
  fs.mkdirSync(home, { recursive: true });
  const projects: Record<string, unknown> = {};
  for (const f of opts.trustedFolders ?? []) {
    // Claude Code keys projects by the real path of the folder it runs in.
    projects[fs.realpathSync(f)] = { hasTrustDialogAccepted: true };
  }
  writeJson(path.join(home, '.claude.json'), {
    hasCompletedOnboarding: true,
    // Claude Code asks once whether to use a key found in ANTHROPIC_API_KEY; it remembers the last 20 characters.
    customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
    projects,
  });
  const settings: Record<string, unknown> = { ...(opts.claudeSettings ?? {}) };
  if (opts.disableAutoMode !== false) {
    settings.permissions = { ...((settings.permissions as object | undefined) ?? {}), disableAutoMode: 'disable' };
  }
  writeJson(path.join(home, '.claude', 'settings.json'), settings);
  const opencodeConfig = path.join(home, 'opencode.json');
  writeJson(opencodeConfig, {
    $schema: 'https://opencode.ai/config.json',
    provider: {
      scripted: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Scripted',
        options: { baseURL: `${modelUrl}/v1`, apiKey: 'test' },
        models: { 'scripted-model': { name: 'Scripted', tool_call: true } },
      },
    },
    model: 'scripted/scripted-model',
    small_model: 'scripted/scripted-model',
    autoupdate: false,
    share: 'disabled',
  });
  return opencodeConfig;
}

/**
 * The environment for running claude and opencode (and `syncord`) against `model`, with `home` as a scratch
 * HOME (its files written by writeAgentHome). Nothing of the real user's HOME, XDG folders, credentials or
 * npm settings reaches the agents, and nothing leaves the machine:
 * - claude: ANTHROPIC_BASE_URL=<model>, a test key, non-essential traffic and the auto-updater off;
 * - opencode: OPENCODE_CONFIG=<home>/opencode.json, no models.dev fetch; its background install of
 *   `@opencode-ai/plugin` into its config folder is kept offline (npm offline, registry on a dead loopback
 *   port) — it fails quietly and opencode works without it.
 */
export function agentEnv(model: Pick<ScriptedModel, 'url'>, home: string, opts: AgentEnvOptions = {}): NodeJS.ProcessEnv {
  const opencodeConfig = writeAgentHome(model.url, home, opts);
  const mark = opts.mark ?? randomUUID();
  watchMark(mark);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!FOREIGN.test(k)) env[k] = v;
  const basePath = ['/usr/local/bin', '/usr/bin', '/bin'];
  return {
    ...env,
    PATH: [...(opts.path ?? []), agentsBin(), path.dirname(process.execPath), ...basePath, ...(process.env.PATH ?? '').split(path.delimiter)]
      .filter((p, i, all) => p && all.indexOf(p) === i)
      .join(path.delimiter),
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    TERM: 'xterm-256color',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    // Claude Code
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: API_KEY,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // opencode
    OPENCODE_CONFIG: opencodeConfig,
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    npm_config_offline: 'true',
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_update_notifier: 'false',
    // Syncord
    ...(opts.instance ? { SYNCORD_INSTANCE: opts.instance } : {}),
    [MARK_VARIABLE]: mark,
  };
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  input?: string;
  /** Upper bound for a hang (default 120 s): the process group is killed and the run fails with its output. */
  timeoutMs?: number;
}

/**
 * Runs a program to its end in its own process group; rejects (with its output so far) when it hangs.
 * PWD is set to `cwd`: opencode takes its project folder from $PWD, not from the folder it was started in.
 */
export function runProgram(command: string, args: string[], opts: RunOptions): Promise<Run> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const env = { ...opts.env, PWD: opts.cwd };
    const child = spawn(command, args, { cwd: opts.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(
        new Error(
          `${path.basename(command)} ${args.join(' ')} did not finish within ${timeoutMs / 1000} s (killed)\n--- stdout\n${stdout.slice(-4000)}\n--- stderr\n${stderr.slice(-4000)}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    // A program that ends without reading its input must not fail the run (EPIPE).
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the built `syncord` CLI (dist/cli.js) in `cwd` with `env`. */
export function runCli(args: string[], opts: RunOptions): Promise<Run> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing; build it with: node esbuild.js`);
  return runProgram(process.execPath, [CLI, ...args], { timeoutMs: 60_000, ...opts });
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

export interface WaitOptions {
  /** What is waited for, for the failure message. */
  what: string;
  /** Upper bound for a hang, not a speed assertion (default 60 s). */
  timeoutMs?: number;
  intervalMs?: number;
  /** The state to show when the wait fails (e.g. the terminal's text). */
  detail?: () => string | Promise<string>;
}

/**
 * Polls `predicate` until it returns a truthy value and returns that value. Errors thrown by the predicate
 * count as "not yet" (the last one is reported). On timeout it throws `timed out after N s waiting for <what>`
 * with the detail.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, opts: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      let detail = '';
      try {
        detail = opts.detail ? `\n${await opts.detail()}` : '';
      } catch (e) {
        detail = `\n(could not read the state: ${(e as Error).message})`;
      }
      const last = lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${opts.what}${last}${detail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

/** Ids of the processes whose environment carries `MARK_VARIABLE=<mark>` (Linux /proc; empty elsewhere). */
export function markedProcesses(mark: string): number[] {
  const needle = Buffer.from(`${MARK_VARIABLE}=${mark}\0`);
  const found: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return found;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/environ`).includes(needle)) found.push(Number(e));
    } catch {
      /* gone, or not ours */
    }
  }
  return found;
}

// Marks whose processes are ended also when the test process exits or is interrupted (a test that never
// reached its cleanup, mocha stopped with Ctrl-C), and temporary folders removed then.
const liveMarks = new Set<string>();
const liveDirs = new Set<string>();
let exitHooks = false;
function watchMark(mark: string): void {
  liveMarks.add(mark);
  if (exitHooks) return;
  exitHooks = true;
  const killAll = () => {
    for (const m of liveMarks) for (const pid of markedProcesses(m)) signal(pid, 'SIGKILL');
    liveMarks.clear();
    for (const d of liveDirs) fs.rmSync(d, { recursive: true, force: true });
    liveDirs.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      // Keep the default (ending the process) unless someone else handles the signal too.
      if (process.listenerCount(sig) === 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/**
 * Ends every process started with `mark` in its environment (SIGTERM, then SIGKILL for those still there
 * after `graceMs`). Returns the ids found at first.
 */
export async function killMarked(mark: string, graceMs = 2000): Promise<number[]> {
  const first = markedProcesses(mark);
  for (const pid of first) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = first;
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = markedProcesses(mark);
  }
  for (const pid of markedProcesses(mark)) signal(pid, 'SIGKILL');
  liveMarks.delete(mark);
  return first;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

/** A folder with a `syncord` command that runs this checkout's built CLI (for the agents' PATH). */
export function writeSyncordShim(binDir: string): string {
  fs.mkdirSync(binDir, { recursive: true });
  const shim = path.join(binDir, 'syncord');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(shim, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(CLI)} "$@"\n`, { mode: 0o755 });
  return shim;
}

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed in ${cwd}: ${r.stderr || r.error?.message}`);
}

/**
 * Makes `dir` a workspace as a user would have it: a git repository (identity set in the repository, so
 * commits work with a scratch HOME), the coordination files from `syncord init`, and a first commit holding
 * a README and those files.
 */
export async function makeWorkspace(dir: string, env: NodeJS.ProcessEnv): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  git(dir, ['init', '-q', '-b', 'main'], env);
  git(dir, ['config', 'user.name', 'Syncord Tests'], env);
  git(dir, ['config', 'user.email', 'tests@syncord.invalid'], env);
  git(dir, ['config', 'commit.gpgsign', 'false'], env);
  fs.writeFileSync(path.join(dir, 'README.md'), '# Scratch workspace of the agents tests\n');
  const init = await runCli(['init'], { cwd: dir, env });
  if (init.code !== 0) throw new Error(`syncord init failed in ${dir} (exit ${init.code}): ${init.stderr}`);
  git(dir, ['add', '-A'], env);
  git(dir, ['commit', '-q', '-m', 'First commit'], env);
  return dir;
}

export interface Scratch {
  /** The temporary folder holding everything below. */
  root: string;
  home: string;
  /** The workspace (git repository with coordination files). */
  workspace: string;
  /** The folder with the `syncord` shim (first on the env's PATH). */
  bin: string;
  /** The environment for agents and `syncord` (agentEnv). */
  env: NodeJS.ProcessEnv;
  mark: string;
  /** Stops every process started with this scratch's env, then removes the folder (unless `keep`). */
  cleanup(opts?: { keep?: boolean }): Promise<void>;
}

/**
 * A scratch HOME, a workspace and a `syncord` shim for `model`, in one temporary folder. The workspace is
 * trusted by Claude Code; `instance` becomes SYNCORD_INSTANCE.
 */
export async function createScratch(model: Pick<ScriptedModel, 'url'>, opts: Omit<AgentEnvOptions, 'path' | 'mark'> = {}): Promise<Scratch> {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-agents-')));
  liveDirs.add(root);
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace');
  const bin = path.join(root, 'bin');
  fs.mkdirSync(workspace, { recursive: true });
  writeSyncordShim(bin);
  const mark = randomUUID();
  const env = agentEnv(model, home, { ...opts, trustedFolders: [workspace, ...(opts.trustedFolders ?? [])], path: [bin], mark });
  await makeWorkspace(workspace, env);
  return {
    root,
    home,
    workspace,
    bin,
    env,
    mark,
    async cleanup(o = {}) {
      await killMarked(mark);
      liveDirs.delete(root);
      if (!o.keep) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

// ------------------------------------------------------------------------------------------------ tmux

export interface Tmux {
  /** The socket of this tmux server (one server per terminal, never the user's). */
  socket: string;
  /** The visible text of the terminal. */
  capture(): Promise<string>;
  /** Types `text` literally (no key names). */
  type(text: string): Promise<void>;
  /** Presses keys by tmux name (`Enter`, `Escape`, `C-c`). */
  press(...keys: string[]): Promise<void>;
  /** Whether the program in the terminal still runs. */
  alive(): Promise<boolean>;
  /** Ends the tmux server and the program in it. */
  kill(): Promise<void>;
}

/** Whether tmux can be run (the Debian package `tmux`). */
export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

function tmux(socket: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return runProgram('tmux', ['-S', socket, ...args], { cwd: path.dirname(socket), env, timeoutMs: 30_000 });
}

/**
 * Starts `command` in a terminal of its own (a tmux server on a socket in a new temporary folder), `cols`x`rows`
 * characters, in `cwd` with exactly `env` (the tmux server is started with it and passes it on). The terminal
 * ends when the command ends.
 */
export async function startTmux(
  command: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; cols?: number; rows?: number },
): Promise<Tmux> {
  if (!hasTmux()) throw new Error('tmux is not installed; install the Debian package: sudo apt-get install -y tmux');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-tmux-'));
  liveDirs.add(dir);
  const socket = path.join(dir, 'socket');
  const env: NodeJS.ProcessEnv = { ...opts.env, PWD: opts.cwd };
  delete env.TMUX;
  delete env.TMUX_PANE;
  const started = await tmux(
    socket,
    ['-f', '/dev/null', 'new-session', '-d', '-s', 'agent', '-x', String(opts.cols ?? 120), '-y', String(opts.rows ?? 40), '-c', opts.cwd, '--', ...command],
    env,
  );
  if (started.code !== 0) throw new Error(`tmux could not start ${command.join(' ')}: ${started.stderr}`);
  const run = async (args: string[]) => {
    const r = await tmux(socket, args, env);
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return r.stdout;
  };
  return {
    socket,
    capture: () => run(['capture-pane', '-p', '-t', 'agent']),
    type: async (text) => {
      await run(['send-keys', '-t', 'agent', '-l', text]);
    },
    press: async (...keys) => {
      await run(['send-keys', '-t', 'agent', ...keys]);
    },
    alive: async () => (await tmux(socket, ['has-session', '-t', 'agent'], env)).code === 0,
    kill: async () => {
      await tmux(socket, ['kill-server'], env).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    },
  };
}
