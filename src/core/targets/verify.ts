import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type MarkdownIt from 'markdown-it';
import { isSyncordError, SyncordError } from '../errors';
import { lastVerifyFile, verifyLogDir, WorkspacePaths } from '../workspace';
import * as z from 'zod';
import { writeFileAtomic } from '../store/atomic';
import { ensureSyncordDir } from './syncordDir';
import { isInside } from '../containment';
import { destFiles, joinRel, ResolvedComponent, selectComponents } from './components';
import { ComponentPlan, planSync } from './sync';
import { parseTomlFile } from './configMerge';
import { lstatOrUndefined, pool } from './fsutil';
import { ResolvedTarget } from './registry';
import { SyncRules, VerifyCommandRule } from './schema';
import { parseJsonc, validateValue } from '../store/jsonText';
import { requireTrusted, verifyDefinition } from '../trust';
import { rulesFile } from './rules';
import { plural } from '../plural';

export interface VerifyProblem {
  /** Absolute path of the file at fault (in the target, unless said otherwise). */
  file: string;
  line?: number;
  column?: number;
  message: string;
}

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface VerifyCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  problems: VerifyProblem[];
  command?: CommandResult;
}

export interface VerifyResult {
  target: string;
  passed: boolean;
  checks: VerifyCheck[];
}

export interface CommandResult {
  name: string;
  command: string;
  cwd: string;
  exitCode: number | null;
  timedOut: boolean;
  passed: boolean;
  /** The last 64 KiB of combined stdout and stderr. */
  output: string;
  /** Where the whole output was kept. */
  logFile?: string;
  durationMs: number;
}

const OUTPUT_TAIL = 64 * 1024;

/**
 * The one place where Syncord runs a verification command (a shell command from the rules, in the target
 * root, with a timeout; on timeout the whole process group is killed). Hosts that must gate process
 * execution (the editor, on workspace trust) gate calls to this function.
 */
export async function runVerifyCommand(cmd: VerifyCommandRule, cwd: string, opts: { logFile?: string; signal?: AbortSignal } = {}): Promise<CommandResult> {
  const started = Date.now();
  if (opts.logFile) await fs.promises.mkdir(path.dirname(opts.logFile), { recursive: true });
  const log = opts.logFile ? fs.createWriteStream(opts.logFile) : undefined;
  return new Promise((resolve) => {
    const isWin = process.platform === 'win32';
    const child = spawn(isWin ? process.env.ComSpec ?? 'cmd.exe' : '/bin/sh', isWin ? ['/d', '/s', '/c', cmd.command] : ['-c', cmd.command], {
      cwd,
      detached: !isWin,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let tail = '';
    let timedOut = false;
    const onData = (d: Buffer) => {
      log?.write(d);
      tail += d.toString('utf8');
      if (tail.length > OUTPUT_TAIL * 2) tail = tail.slice(-OUTPUT_TAIL);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    const kill = () => {
      try {
        if (!isWin && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, cmd.timeout_ms);
    const onAbort = () => kill();
    opts.signal?.addEventListener('abort', onAbort);
    const finish = (code: number | null, error?: string) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (error) tail += `\n${error}`;
      if (timedOut) tail += `\n(timed out after ${cmd.timeout_ms} ms)`;
      const done = () =>
        resolve({
          name: cmd.name,
          command: cmd.command,
          cwd,
          exitCode: code,
          timedOut,
          passed: code === 0 && !timedOut,
          output: tail.slice(-OUTPUT_TAIL),
          logFile: opts.logFile,
          durationMs: Date.now() - started,
        });
      if (log) log.end(done);
      else done();
    };
    child.on('error', (e) => finish(null, e.message));
    child.on('close', (code) => finish(code));
  });
}

/** The Markdown parser, loaded when a link is first checked: every other target command starts without it. */
let md: Promise<MarkdownIt> | undefined;
const markdown = () => (md ??= import('markdown-it').then((m) => new m.default()));

/** Relative links and images in a Markdown file that do not resolve to a file or folder in the target. */
export async function brokenLinks(file: string, targetRoot: string): Promise<VerifyProblem[]> {
  const text = await fs.promises.readFile(file, 'utf8');
  const lines = text.split('\n');
  const problems: VerifyProblem[] = [];
  const tokens = (await markdown()).parse(text, {});
  for (const t of tokens) {
    if (t.type !== 'inline' || !t.children) continue;
    for (const child of t.children) {
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (!href || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('#') || href.startsWith('/') || href.startsWith('//')) continue;
      let rel = href.replace(/[?#].*$/, '');
      try {
        rel = decodeURIComponent(rel);
      } catch {
        /* keep as written */
      }
      if (!rel) continue;
      const resolved = path.resolve(path.dirname(file), rel);
      let message: string | undefined;
      if (!isInside(targetRoot, resolved)) message = `link points outside the target: ${href}`;
      else if (!(await lstatOrUndefined(resolved))) message = `broken link: ${href}`;
      if (!message) continue;
      const [from, to] = t.map ?? [0, lines.length];
      let line = from + 1;
      let column = 1;
      for (let k = from; k < Math.max(to, from + 1) && k < lines.length; k++) {
        const at = lines[k].indexOf(href);
        if (at >= 0) {
          line = k + 1;
          column = at + 1;
          break;
        }
      }
      problems.push({ file, line, column, message });
    }
  }
  return problems;
}

/**
 * The files check of one component, from the same comparison a sync plans with (contents hashed everywhere):
 * a file passes when it is as the rules want it — the main project's version, or one the target changed
 * itself and a sync keeps. Anything a sync would still add, update, merge or delete, and every conflict, fails.
 */
function checkComponent(c: ResolvedComponent, p: ComponentPlan): VerifyCheck {
  const name = `files:${c.name}`;
  if (p.notApplicable) return { name, status: 'skipped', detail: p.note ?? 'not applicable', problems: [] };
  const problems: VerifyProblem[] = [];
  const at = (r: string) => joinRel(c.destAbs, r);
  for (const r of p.adds) problems.push({ file: at(r), message: `missing (source: ${joinRel(c.source, r)})` });
  for (const r of p.updates) problems.push({ file: at(r), message: `differs from ${joinRel(c.source, r)}` });
  for (const r of p.merges) problems.push({ file: at(r), message: `the main project's change to ${joinRel(c.source, r)} is not merged in yet` });
  for (const r of p.deletes) problems.push({ file: at(r), message: 'not in the main project (mirror component)' });
  for (const x of p.conflicts) problems.push({ file: at(x.rel), message: `conflict: ${x.detail}` });
  problems.sort((a, b) => a.file.localeCompare(b.file));
  const total = p.unchanged + p.retime.length + p.kept.length + p.updates.length + p.merges.length + p.adds.length + p.conflicts.filter((x) => x.reason !== 'added-in-target').length;
  const good = p.unchanged + p.retime.length + p.kept.length;
  const kept = p.kept.length ? `; ${p.kept.length} kept with the target's own edits (${p.kept.slice(0, 3).map((r) => joinRel(c.destination, r)).join(', ')}${p.kept.length > 3 ? ', …' : ''})` : '';
  return { name, status: problems.length ? 'fail' : 'pass', detail: `${Math.min(good, total)}/${total} files as the rules want them${kept}`, problems };
}

/**
 * `--tests` groups (the seed's names) and the checks they run: `docs` = the synced files (present with the same
 * hash, counts) and the links in synced Markdown; `integration` = the config files parse ("configuration
 * loads"); `core` = the verify commands of the rules, run in the target. The check kinds themselves
 * (`files`, `links`, `config`, `commands`) are accepted too.
 */
export const VERIFY_TEST_GROUPS: Record<string, readonly CheckKind[]> = {
  core: ['commands'],
  integration: ['config'],
  docs: ['files', 'links'],
  files: ['files'],
  links: ['links'],
  config: ['config'],
  commands: ['commands'],
};

export type CheckKind = 'files' | 'links' | 'config' | 'commands';

/** The check kinds the named `--tests` groups run (all of them for none); unknown names are refused. */
export function checkKindsOf(tests: string[] | undefined): Set<CheckKind> {
  if (!tests || !tests.length) return new Set(['files', 'links', 'config', 'commands']);
  const out = new Set<CheckKind>();
  for (const t of tests) {
    const kinds = Object.prototype.hasOwnProperty.call(VERIFY_TEST_GROUPS, t) ? VERIFY_TEST_GROUPS[t] : undefined;
    if (!kinds) throw new SyncordError(`unknown verify test group "${t}" (known: ${Object.keys(VERIFY_TEST_GROUPS).join(', ')})`, 'usage');
    for (const k of kinds) out.add(k);
  }
  return out;
}

export interface VerifyOptions {
  components?: string[];
  /** Only these check groups (see `VERIFY_TEST_GROUPS`); default: every check. */
  tests?: string[];
  /** Whether to run the rules' verify commands (the editor passes false in an untrusted workspace). */
  runCommands?: boolean;
  /** The host established that the workspace's commands may run (the editor: workspace trust); else `syncord trust` must cover them. */
  hostTrusted?: boolean;
  signal?: AbortSignal;
  now?: Date;
}

/**
 * Checks a target after sync: every source file present with the same hash and (mirror components) nothing
 * extra, no broken relative links in synced Markdown, config files that parse, and the rules' verify
 * commands passing in the target. A pass/fail per check; problems name the file and line in the target.
 */
export async function verifyTarget(paths: WorkspacePaths, rules: SyncRules, target: ResolvedTarget, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const kinds = checkKindsOf(opts.tests);
  const sel = selectComponents(paths, rules, target, opts.components);
  const plan = kinds.has('files') || kinds.has('links') ? await planSync(paths, rules, target, { components: opts.components, contents: true, noConfigs: true }) : undefined;
  const notApplicable = new Set((plan?.components ?? []).filter((p) => p.notApplicable).map((p) => p.name));
  for (const cfg of sel.configs) if (!(await lstatOrUndefined(cfg.sourceAbs))) notApplicable.add(cfg.name);
  const checks: VerifyCheck[] = [];
  if (kinds.has('files')) for (const c of sel.components) checks.push(checkComponent(c, plan!.components.find((p) => p.name === c.name)!));
  if (rules.verify.check_links && kinds.has('links')) {
    const problems: VerifyProblem[] = [];
    let files = 0;
    for (const c of sel.components) {
      if (notApplicable.has(c.name)) continue;
      const dst = await destFiles(c);
      const mdFiles = [...dst.files].filter(([rel, info]) => info.kind === 'file' && /\.(md|markdown)$/i.test(rel || c.destination));
      files += mdFiles.length;
      await pool(mdFiles, 8, async ([rel]) => {
        problems.push(...(await brokenLinks(joinRel(c.destAbs, rel), target.absPath)));
      });
    }
    problems.sort((a, b) => a.file.localeCompare(b.file) || (a.line ?? 0) - (b.line ?? 0));
    checks.push({ name: 'links', status: problems.length ? 'fail' : 'pass', detail: `${plural(files, 'Markdown file')} checked, ${plural(problems.length, 'broken link')}`, problems });
  }
  for (const cfg of kinds.has('config') ? sel.configs : []) {
    if (notApplicable.has(cfg.name)) {
      checks.push({ name: `config:${cfg.name}`, status: 'skipped', detail: `not applicable: ${cfg.source} does not exist in the main project`, problems: [] });
      continue;
    }
    const st = await lstatOrUndefined(cfg.destAbs);
    if (!st) {
      checks.push({ name: `config:${cfg.name}`, status: 'fail', detail: `${cfg.destination} is missing`, problems: [{ file: cfg.destAbs, message: 'missing' }] });
      continue;
    }
    try {
      const text = await fs.promises.readFile(cfg.destAbs, 'utf8');
      if (cfg.format === 'toml') parseTomlFile(cfg.destAbs, text);
      else parseJsonc(cfg.destAbs, text);
      checks.push({ name: `config:${cfg.name}`, status: 'pass', detail: `${cfg.destination} parses`, problems: [] });
    } catch (e) {
      const loc = isSyncordError(e) ? e.location : undefined;
      const message = isSyncordError(e) ? e.detail : (e as Error).message;
      checks.push({ name: `config:${cfg.name}`, status: 'fail', detail: `${cfg.destination} does not parse`, problems: [{ file: cfg.destAbs, line: loc?.line, column: loc?.column, message }] });
    }
  }
  const stamp = (opts.now ?? new Date()).toISOString().replace(/[-:.]/g, '');
  for (const cmd of kinds.has('commands') ? rules.verify.commands : []) {
    if (cmd.types && !cmd.types.includes(target.type)) continue;
    if (opts.runCommands === false) {
      checks.push({ name: `command:${cmd.name}`, status: 'skipped', detail: `not run (commands are disabled here): ${cmd.command}`, problems: [] });
      continue;
    }
    // The command comes from the workspace's rules: it runs only once the user trusted it (the editor's
    // workspace trust, passed as `hostTrusted`; else the user's `syncord trust` record), or it is refused.
    if (!opts.hostTrusted) requireTrusted(paths, verifyDefinition(rulesFile(paths), cmd.name, cmd.command));
    const logFile = path.join(verifyLogDir(paths, target.name), `${stamp}-${cmd.name.replace(/[^A-Za-z0-9._-]/g, '_')}.log`);
    const r = await runVerifyCommand(cmd, target.absPath, { logFile, signal: opts.signal });
    const detail = r.timedOut ? `timed out after ${cmd.timeout_ms} ms` : `exit code ${r.exitCode ?? 'none'} (${r.durationMs} ms); output in ${logFile}`;
    checks.push({ name: `command:${cmd.name}`, status: r.passed ? 'pass' : 'fail', detail, problems: [], command: r });
  }
  return { target: target.name, passed: checks.every((c) => c.status !== 'fail'), checks };
}

/** A verification as kept: its result, when it ran, and the target's `last_sync` then. */
export interface KeptVerify {
  result: VerifyResult;
  at: string;
  last_sync: string | null;
}

const KeptVerifySchema = z.object({
  result: z.object({
    target: z.string(),
    passed: z.boolean(),
    checks: z.array(
      z.object({
        name: z.string(),
        status: z.enum(['pass', 'fail', 'skipped']),
        detail: z.string(),
        problems: z.array(z.object({ file: z.string(), line: z.number().int().positive().optional(), column: z.number().int().positive().optional(), message: z.string() })),
        command: z.unknown().optional(),
      }),
    ),
  }),
  at: z.string(),
  last_sync: z.string().nullable(),
});

/** Keeps a target's verification until the next one (the CLI and the editor both read it). */
export async function keepVerify(paths: WorkspacePaths, target: ResolvedTarget, result: VerifyResult, at: Date = new Date()): Promise<KeptVerify> {
  const kept: KeptVerify = { result, at: at.toISOString(), last_sync: target.last_sync ?? null };
  const file = lastVerifyFile(paths, target.name);
  await ensureSyncordDir(paths);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  writeFileAtomic(file, JSON.stringify(kept, null, 2) + '\n');
  return kept;
}

/**
 * The last verification of a target, or undefined when there is none. The file is checked: one that does not
 * parse or match the shape is reported as a problem of the file, not taken as a result.
 */
export async function lastVerify(paths: WorkspacePaths, targetName: string): Promise<KeptVerify | undefined> {
  const file = lastVerifyFile(paths, targetName);
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const raw = parseJsonc(file, text);
  validateValue(file, text, raw, KeptVerifySchema);
  const kept = raw as KeptVerify;
  if (kept.result.target !== targetName) throw new SyncordError(`the verification kept here is of target "${kept.result.target}", not "${targetName}"`, 'invalid-file', { file });
  return kept;
}
