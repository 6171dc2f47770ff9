import * as path from 'path';
import { Command, Option } from 'commander';
import { formatLocation, SyncordError } from '../core/errors';
import * as T from '../core/targets';
import * as fs from 'fs';
import { registerSyncRequest } from './syncRequest';
import { COORDINATION_FILES } from '../core/workspace';
import { CliContext, contextFrom } from './context';
import { io } from './io';
import { ExitCode } from './exit';
import { plural } from '../core/plural';

const collect = (v: string, prev: string[] = []) => prev.concat(v.split(',').map((s) => s.trim()).filter(Boolean));

async function rulesOf(ctx: CliContext): Promise<T.SyncRules> {
  return (await T.loadRules(ctx.paths)).rules;
}

function rel(ctx: CliContext, p: string): string {
  const r = path.relative(io().cwd, p);
  return r && !r.startsWith('..') ? r : p;
}

function problemLine(ctx: CliContext, p: T.VerifyProblem): string {
  return `${formatLocation({ file: rel(ctx, p.file), line: p.line, column: p.column })}: ${p.message}`;
}

const REASON_WORDS: Record<T.ConflictReason, string> = {
  'both-changed': 'changed on both sides',
  'no-base': 'no earlier sync known',
  'deleted-in-source': 'deleted in the main project, changed in the target',
  'added-in-target': 'added in the target',
};

function planText(plan: T.SyncPlan, dryRun: boolean): string {
  const L: string[] = [];
  L.push(`${dryRun ? 'Plan (dry run, nothing written)' : 'Plan'} for ${plan.target}${plan.commit ? ` at ${plan.commit.slice(0, 12)}` : ''}:`);
  for (const c of plan.components) {
    const at = (r: string) => (r ? `${c.destination}/${r}` : c.destination);
    if (c.notApplicable) {
      L.push(`  ${c.name} (${c.mode}) -> ${c.destination}${c.kind === 'dir' ? '/' : ''}: ${c.note}`);
      continue;
    }
    const counts = [`${c.adds.length} add`, `${c.updates.length} update`, `${c.deletes.length} delete`];
    if (c.merges.length) counts.push(`${c.merges.length} merge`);
    if (c.conflicts.length) counts.push(`${c.conflicts.length} CONFLICT`);
    if (c.kept.length) counts.push(`${c.kept.length} kept (target's own edits)`);
    counts.push(`${c.unchanged + c.retime.length} unchanged`);
    L.push(`  ${c.name} (${c.mode}) -> ${c.destination}${c.kind === 'dir' ? '/' : ''}: ${counts.join(', ')}`);
    if (c.note) L.push(`    note: ${c.note}`);
    const show = (sign: string, list: string[], suffix = '') => {
      for (const r of list.slice(0, 50)) L.push(`    ${sign} ${at(r)}${suffix}`);
      if (list.length > 50) L.push(`    ${sign} … ${list.length - 50} more`);
    };
    if (dryRun) {
      show('+', c.adds);
      show('~', c.updates);
      show('-', c.deletes);
    }
    // Files the target changed since the last sync are always listed: nothing happens to them unseen.
    show('M', c.merges, "  (changed on both sides; merged line by line)");
    show('=', c.kept, "  (the target's own edit, kept)");
    for (const r of c.resolved) L.push(`    ${r.resolution === 'take-source' ? '<' : '>'} ${at(r.rel)}  (${REASON_WORDS[r.reason]}; ${r.resolution === 'take-source' ? "the main project's version taken" : "the target's copy kept"} as you chose)`);
    for (const x of c.conflicts) L.push(`    ! ${at(x.rel)}  CONFLICT: ${x.detail}`);
    if (c.skipped.length) L.push(`    skipped (symlinks or special files, never followed): ${c.skipped.slice(0, 10).join(', ')}${c.skipped.length > 10 ? ', …' : ''}`);
  }
  for (const c of plan.configs) {
    L.push(`  ${c.name} (config merge) -> ${c.destination}: ${c.note ?? (c.created ? 'created from the main project' : c.changed ? c.changes.map((k) => `${k.key} ${k.action}`).join(', ') : 'no change')}`);
    if (dryRun && c.diff) L.push(c.diff.replace(/^/gm, '    ').trimEnd());
  }
  return L.join('\n');
}

/** What to tell about conflicts left by a sync (or a dry run), and how to settle them. */
function conflictText(target: string, conflicts: T.SyncResult['conflicts'], dryRun: boolean): string {
  const L = [`${plural(conflicts.length, 'conflict')} in ${target}${dryRun ? '' : ' left untouched (the rest was synced)'}:`];
  for (const c of conflicts.slice(0, 30)) L.push(`  ${c.path}: ${c.detail}`);
  if (conflicts.length > 30) L.push(`  … ${conflicts.length - 30} more`);
  L.push(`Settle them: syncord sync run --target ${target} --take-source [paths] (the main project's version) or --keep-target [paths] (the target's copy); without paths, every conflict. In VS Code: "Syncord: Resolve Sync Conflicts" opens the merge editor.`);
  return L.join('\n');
}

/** `--take-source` / `--keep-target` as plan options: true for every conflict, or comma-separated paths. */
function resolutionsOf(o: { takeSource?: boolean | string; keepTarget?: boolean | string }): Pick<T.PlanOptions, 'resolve' | 'resolutions'> {
  if (o.takeSource === true && o.keepTarget === true) throw new SyncordError('give --take-source or --keep-target for every conflict, not both (or name the files for each)', 'usage');
  const out: Pick<T.PlanOptions, 'resolve' | 'resolutions'> = {};
  const resolutions: Record<string, T.Resolution> = {};
  for (const [v, how] of [[o.takeSource, 'take-source'], [o.keepTarget, 'keep-target']] as const) {
    if (v === true) out.resolve = how;
    else if (typeof v === 'string') {
      for (const p of v.split(',').map((x) => x.trim().replace(/\\/g, '/').replace(/^\.\//, '')).filter(Boolean)) {
        if (resolutions[p] && resolutions[p] !== how) throw new SyncordError(`${p} is given to both --take-source and --keep-target`, 'usage');
        resolutions[p] = how;
      }
    }
  }
  if (Object.keys(resolutions).length) out.resolutions = resolutions;
  return out;
}

function attachAbort(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  const call = io();
  const done = call.onInterrupt(() => {
    call.err('syncord: cancelling after the current files…\n');
    ac.abort();
  });
  return { signal: ac.signal, done };
}

interface RunSyncOptions {
  dryRun?: boolean;
  full?: boolean;
  components?: string[];
  /** Settle conflicts: with the main project's version (true: every conflict; or comma-separated paths). */
  takeSource?: boolean | string;
  /** Settle conflicts by keeping the target's copy. */
  keepTarget?: boolean | string;
  /** Sync over uncommitted changes in the target's git repository. */
  allowDirty?: boolean;
  /** Commit what the sync wrote or deleted in targets that are git repositories. */
  commit?: boolean;
  /** With commit: create this branch at the target's HEAD and commit there. */
  branch?: string;
}

/** What was checked in a target before anything is written: its plan and, with --commit, its repository. */
interface Prepared {
  target: T.ResolvedTarget;
  plan: T.SyncPlan;
  dirty: T.DirtyPath[];
  prep?: T.CommitPreparation;
}

async function runSync(ctx: CliContext, targetNames: string[], opts: RunSyncOptions, named = true): Promise<void> {
  const settle = resolutionsOf(opts);
  if (settle.resolutions && targetNames.length > 1) throw new SyncordError('name conflicting files for one target at a time (--target <name>)', 'usage');
  const rules = await rulesOf(ctx);
  const results: (T.SyncResult & { gitCommit?: T.SyncCommit; overwroteUncommitted?: T.DirtyPath[] })[] = [];
  const human: string[] = [];
  const { signal, done } = attachAbort();
  try {
    // Every target is planned and checked before anything is written in any of them.
    const prepared: Prepared[] = [];
    const refusals: SyncordError[] = [];
    for (const name of targetNames) {
      const target = await T.getTarget(ctx.paths, name);
      const plan = await T.planSync(ctx.paths, rules, target, { full: opts.full, components: opts.components, ...settle });
      const dirty = (await T.dirtySyncedPaths(target, plan)).paths;
      if (dirty.length && !opts.allowDirty && !opts.dryRun) refusals.push(T.dirtyRefusal(target, dirty));
      const prep = opts.commit && !opts.dryRun ? await T.prepareCommit(target, { branch: opts.branch, required: named }) : undefined;
      prepared.push({ target, plan, dirty, prep });
    }
    if (refusals.length === 1) throw refusals[0];
    if (refusals.length) throw new SyncordError(refusals.map((e) => e.message).join('\n'), 'conflict');
    for (const { target, plan, dirty, prep } of prepared) {
      const name = target.name;
      if (prep?.createBranch) {
        await T.switchToNewBranch(prep);
        human.push(`Created branch ${prep.createBranch} in ${name} at ${prep.repo?.head?.slice(0, 12) ?? 'its first commit'} and switched to it (no files changed).`);
      }
      const r = await T.applySync(ctx.paths, rules, target, {
        plan,
        dryRun: opts.dryRun,
        signal,
        onProgress: (p) => ctx.logger.info(`${name}: ${p.phase} ${p.done}/${p.total}${p.path ? ` ${p.path}` : ''}`),
      });
      const out: (typeof results)[number] = { ...r };
      results.push(out);
      human.push(planText(r.plan, !!opts.dryRun));
      const conflictsLeft = r.conflicts.length > 0;
      if (r.dryRun && dirty.length) {
        human.push(`  ${plural(dirty.length, 'of these files has', 'of these files have')} uncommitted changes in the target's git repository${opts.allowDirty ? ' (--allow-dirty: they would be overwritten)' : '; the sync would be refused without --allow-dirty'}: ${T.listPaths(dirty)}`);
      }
      if (!r.dryRun) {
        if (r.backup) human.push(`Backup before sync: ${r.backup.id} (${plural(r.backup.files, 'file')}, ${r.backup.newBytes} new bytes stored)`);
        if (dirty.length) {
          out.overwroteUncommitted = dirty;
          human.push(`Overwrote ${plural(dirty.length, 'file')} with uncommitted changes in the target (--allow-dirty; the backup keeps them): ${T.listPaths(dirty)}`);
        }
        if (r.ok) {
          human.push(`Synced ${name}: ${r.written} written, ${r.deleted} deleted, ${plural(r.configsWritten, 'config file')} merged.`);
          if (r.recorded) human.push(`Recorded: status ${r.recorded.status}, sync_version ${r.recorded.sync_version ?? '-'}, last_sync ${r.recorded.last_sync}`);
          else if (r.conflicts.length) human.push(`Not recorded as synchronized: ${plural(r.conflicts.length, 'conflict remains', 'conflicts remain')}.`);
          if (prep) {
            const c = await T.commitSync(ctx.paths, target, r, prep);
            out.gitCommit = c;
            human.push(commitText(c));
            if (c.status === 'failed') io().exitCode = ExitCode.problemsFound;
          }
        } else {
          human.push(`Sync of ${name} ${r.cancelled ? 'was cancelled' : 'FAILED'}: ${r.error}`);
          human.push(`Done before stopping: ${r.written} written, ${r.deleted} deleted.${r.restoreCommand ? ` Undo with: ${r.restoreCommand}` : ''}${prep ? ' Nothing was committed.' : ''}`);
          io().exitCode = r.cancelled ? ExitCode.cancelled : ExitCode.io;
        }
      }
      if (conflictsLeft && (r.ok || r.dryRun)) {
        human.push(conflictText(name, r.conflicts, r.dryRun));
        if (!io().exitCode) io().exitCode = ExitCode.conflict;
      }
      if (signal.aborted) break;
    }
  } finally {
    done();
  }
  ctx.print(human.join('\n'), targetNames.length === 1 && results.length === 1 ? results[0] : { results });
}

function commitText(c: T.SyncCommit): string {
  switch (c.status) {
    case 'committed':
      return [
        `Committed ${plural(c.paths.length, 'file')} in ${c.target} on ${c.branch ? `branch ${c.branch}` : 'a detached HEAD'}: ${c.commit!.slice(0, 12)} "${c.message!.split('\n')[0]}"`,
        ...(c.reason ? [`Note: ${c.reason}`] : []),
      ].join('\n');
    case 'nothing':
      return `Nothing to commit in ${c.target}: ${c.reason}.`;
    case 'failed':
      return `Commit in ${c.target} FAILED: ${c.reason}\nThe sync itself is done; its ${plural(c.paths.length, 'changed file is', 'changed files are')} left uncommitted in ${c.target} for you to commit.`;
    case 'not-a-repository':
      return `Not committed: ${c.reason}.`;
  }
}

async function targetsFor(ctx: CliContext, target: string | undefined, all: boolean | undefined): Promise<string[]> {
  if (target && all) throw new SyncordError('give either --target or --all-targets, not both', 'usage');
  if (target) return [target];
  if (all) {
    const list = await T.listTargets(ctx.paths);
    if (!list.length) throw new SyncordError(`no targets registered in ${T.registryFile(ctx.paths)}`, 'not-found');
    return list.map((t) => t.name);
  }
  throw new SyncordError('give --target <name> or --all-targets', 'usage');
}

export function detectText(d: T.DetectResult, title: string): string {
  const L = [`${title}: ${plural(d.files.length, 'changed file')}${d.since ? ` since ${d.since.slice(0, 12)}` : ' (no earlier sync: every file)'}`];
  for (const c of d.categories) {
    L.push(`  [${c.priority}] ${c.category}: ${c.files.length}`);
    for (const f of c.files.slice(0, 20)) L.push(`      ${f.status === '?' ? '??' : f.status.padEnd(2)} ${f.oldPath ? `${f.oldPath} -> ` : ''}${f.path}`);
    if (c.files.length > 20) L.push(`      … ${c.files.length - 20} more`);
  }
  if (d.uncategorized.length) L.push(`  (uncategorized: ${d.uncategorized.length})`);
  return L.join('\n');
}

const GIT_TARGETS_HELP = [
  '',
  'Targets that are git repositories (the target folder is the top level of a git work tree):',
  '  - the sync is refused (exit 5, nothing written) when files it would write or delete have uncommitted changes',
  '    there (modified, staged, deleted, untracked); commit or stash them, or pass --allow-dirty;',
  '  - --commit commits exactly the files the sync wrote or deleted (nothing else you changed), with the',
  "    repository's own identity and without running its git hooks; the message names the main project, its",
  '    version and commit, and each component. A commit git refuses leaves the synced files uncommitted (exit 1).',
].join('\n');

const TESTS_HELP = [
  '',
  'Check groups for --tests (comma-separated; default: all):',
  ...Object.entries(T.VERIFY_TEST_GROUPS).map(([g, kinds]) => `  ${g.padEnd(12)} ${kinds.join(' + ')}`),
  '',
  'files: every source file present in the target with the same hash, counts equal; links: no broken relative links',
  'in synced Markdown; config: config files parse ("configuration loads"); commands: the verify commands of the',
  'rules, run in the target with their timeout.',
].join('\n');

/** A verify result as the CLI prints it (and the MCP tool answers it). */
export function verifyLines(ctx: CliContext, name: string, r: T.VerifyResult, tests?: string[]): string[] {
  const L = [`Verify ${name}${tests?.length ? ` (${tests.join(', ')})` : ''}: ${r.passed ? 'PASSED' : 'FAILED'}`];
  if (!r.checks.length) L.push('  no checks in the selected groups (for core: the rules define no verify commands for this target type)');
  for (const c of r.checks) {
    L.push(`  ${c.status === 'pass' ? 'pass' : c.status === 'fail' ? 'FAIL' : 'skip'}  ${c.name}: ${c.detail}`);
    for (const p of c.problems.slice(0, 30)) L.push(`        ${problemLine(ctx, p)}`);
    if (c.problems.length > 30) L.push(`        … ${c.problems.length - 30} more`);
    if (c.status === 'fail' && c.command) L.push(c.command.output.trimEnd().split('\n').slice(-15).map((l) => `        | ${l}`).join('\n'));
  }
  return L;
}

async function verifyAll(ctx: CliContext, names: string[], opts: { components?: string[]; commands?: boolean; tests?: string[] }): Promise<void> {
  const rules = await rulesOf(ctx);
  T.checkKindsOf(opts.tests); // unknown groups are refused before anything runs
  const results: T.VerifyResult[] = [];
  const L: string[] = [];
  for (const name of names) {
    const target = await T.getTarget(ctx.paths, name);
    const r = await T.verifyTarget(ctx.paths, rules, target, { components: opts.components, runCommands: opts.commands !== false, tests: opts.tests });
    // Kept, and the target's sync by agents moved on when it waits for this verification.
    const { lines: agents } = await (await import('./agentSync')).recordVerifyFromCli(ctx, target, r);
    results.push(r);
    L.push(...verifyLines(ctx, name, r, opts.tests));
    L.push(...agents);
  }
  if (results.some((r) => !r.passed) && !io().exitCode) io().exitCode = ExitCode.problemsFound;
  ctx.print(L.join('\n'), names.length === 1 ? results[0] : { results });
}

async function restoreText(ctx: CliContext, r: T.RestoreResult, what: string): Promise<void> {
  const human = [
    `${what}: ${plural(r.written, 'file')} written, ${r.deleted} removed (components: ${r.components.join(', ')}).`,
    r.verified ? 'Verified: every restored file matches the backup by SHA-256.' : `NOT verified: ${plural(r.mismatches.length, 'path differs', 'paths differ')}: ${r.mismatches.slice(0, 10).join(', ')}`,
    `The state before the restore was saved as backup ${r.preRestoreBackup}.`,
  ];
  if (r.syncRecord) {
    const s = r.syncRecord;
    human.push(`Sync record set back to before that sync: last_sync ${s.last_sync ?? 'never'}, sync_version ${s.sync_version ?? '-'}, commit ${s.last_sync_commit?.slice(0, 12) ?? 'none'}.`);
  }
  if (!r.verified) io().exitCode = ExitCode.io;
  ctx.print(human.join('\n'), r);
}

/**
 * `syncord target tag --version <v>` (the seed's spelling) meets the program's own `-V, --version`, which
 * commander recognizes anywhere on the line. While the words `target tag` are on the line, the program's
 * version option is set aside so `--version <v>` reaches the tag command; `syncord --version` is unchanged.
 */
function letTagTakeVersion(program: Command): void {
  const parseOptions = program.parseOptions.bind(program);
  program.parseOptions = (args: string[]) => {
    const tagging = args.some((a, i) => a === 'target' && args[i + 1] === 'tag');
    const versionOpt = tagging ? program.options.find((o) => o.long === '--version') : undefined;
    if (!versionOpt) return parseOptions(args);
    const options = program.options as typeof program.options & unknown[];
    const at = options.indexOf(versionOpt);
    options.splice(at, 1);
    try {
      return parseOptions(args);
    } finally {
      options.splice(at, 0, versionOpt);
    }
  };
}

/** Target verbs (seed 002): target, sync, config. */
export function registerTargetCommands(program: Command): void {
  letTagTakeVersion(program);
  const target = program
    .command('target')
    .description('the registry of target projects (coordination/targets.json) and their backups')
    .addHelpText(
      'after',
      '\nBackups are kept in the main project under .syncord/backups/<target>/ (never inside the target; .syncord/ ignores itself in git):\na content-addressed store, so files that did not change take no new space, plus one manifest of hashes per backup.',
    );

  target
    .command('list')
    .description('list registered targets')
    .action(async (_o, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const list = await T.listTargets(ctx.paths);
      // The status is computed (as `sync status` computes it); what targets.json records is shown only when it says otherwise.
      const statuses = list.length ? await T.targetStatuses(ctx.paths, await rulesOf(ctx)) : [];
      const now = new Map(statuses.map((s) => [s.name, s]));
      const statusOf = (t: T.TargetEntry) => {
        const s = now.get(t.name);
        if (!s) return `status: ${t.status ?? '-'} (recorded)`;
        return `status: ${s.status} (${s.reason})${t.status && t.status !== s.status ? ` [recorded: ${t.status}]` : ''}`;
      };
      const human = list.length
        ? list.map((t) => `- ${t.name}  ${t.path}  (${t.type})  ${statusOf(t)}  last sync: ${t.last_sync ?? 'never'}  version: ${t.sync_version ?? '-'}`).join('\n')
        : `No targets registered (${T.registryFile(ctx.paths)}). Add one with: syncord target add <name> --path <folder> --type site-packages|source`;
      ctx.print(human, { targets: list.map((t) => ({ ...t, computed: now.has(t.name) ? { status: now.get(t.name)!.status, reason: now.get(t.name)!.reason } : null })) });
    });

  target
    .command('add <name>')
    .description('register a target project (an existing folder outside the main project)')
    .requiredOption('--path <folder>', 'the target folder (relative to the current folder, or absolute)')
    .addOption(new Option('--type <type>', 'how the target integrates the main project').choices([...T.TARGET_TYPES]).makeOptionMandatory())
    .action(async (name: string, o: { path: string; type: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const t = await T.addTarget(ctx.paths, { name, path: path.resolve(io().cwd, o.path), type: o.type });
      ctx.print(`Registered ${t.name} (${t.type}) at ${t.path}`, t);
    });

  target
    .command('remove <name>')
    .description('remove a target from the registry (its folder and backups are left alone)')
    .action(async (name: string, _o, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const t = await T.removeTarget(ctx.paths, name);
      ctx.print(`Removed ${t.name} from the registry.`, t);
    });

  target
    .command('update <name>')
    .description('change a registered target (status, path or type)')
    .option('--status <status>', 'e.g. synchronized, needs_sync')
    .option('--path <folder>', 'new folder')
    .addOption(new Option('--type <type>', 'new type').choices([...T.TARGET_TYPES]))
    .action(async (name: string, o: { status?: string; path?: string; type?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (o.status === undefined && o.path === undefined && o.type === undefined) throw new SyncordError('nothing to update: give --status, --path or --type', 'usage');
      const t = await T.updateTarget(ctx.paths, name, { status: o.status, type: o.type, path: o.path === undefined ? undefined : path.resolve(io().cwd, o.path) });
      ctx.print(`Updated ${t.name}: status ${t.status ?? '-'}, ${t.type}, ${t.path}`, t);
    });

  target
    .command('backup <name>')
    .description('snapshot everything sync manages in the target (deduplicated, with a manifest of hashes)')
    .option('--component <names>', 'only these components (comma-separated)', collect)
    .action(async (name: string, o: { component?: string[] }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const b = await T.backupTarget(ctx.paths, await rulesOf(ctx), name, { components: o.component });
      ctx.print(`Backup ${b.id} of ${name}: ${plural(b.files, 'file')} (${b.bytes} bytes), ${plural(b.newObjects, 'new object')} (${b.newBytes} new bytes) in ${T.backupDir(ctx.paths, name)}`, b);
    });

  target
    .command('backups <name>')
    .description('list the backups of a target, newest first')
    .action(async (name: string, _o, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const list = await T.listBackups(ctx.paths, name);
      const human = list.length
        ? list.map((b) => `${b.id}  ${b.created}  ${b.reason}${b.partial ? ' (touched files only)' : ''}  ${plural(b.files, 'file')}  [${b.components.join(', ')}]`).join('\n')
        : `No backups of ${name} yet. Make one with: syncord target backup ${name}`;
      ctx.print(human, { backups: list });
    });

  target
    .command('restore <name>')
    .description('make the target byte-equal to a backup within its components, proved by hash')
    .requiredOption('--backup <id>', 'the backup id (see `syncord target backups <name>`)')
    .option('--component <names>', 'only these components (comma-separated)', collect)
    .action(async (name: string, o: { backup: string; component?: string[] }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await restoreText(ctx, await T.restoreTarget(ctx.paths, name, o.backup, o.component), `Restored ${name} from ${o.backup}`);
    });

  target
    .command('verify <name>')
    .description('same as `syncord sync verify --target <name>`')
    .option('--component <names>', 'only these components', collect)
    .option('--tests <groups>', 'only these check groups: core, integration, docs (or files, links, config, commands)', collect)
    .option('--no-commands', 'do not run the verify commands of the rules')
    .addHelpText('after', TESTS_HELP)
    .action(async (name: string, o: { component?: string[]; commands?: boolean; tests?: string[] }, cmd: Command) => {
      await verifyAll(contextFrom(cmd), [name], { components: o.component, commands: o.commands, tests: o.tests });
    });

  target
    .command('tag [name]')
    .description('record a release version as the sync_version of synchronized targets and create it as a git tag in those that are git repositories')
    .option('--all', 'every target that is synchronized now (the others are listed as skipped; exit 1 if any)')
    .requiredOption('--version <version>', 'the version, e.g. $(git describe --tags)')
    .addHelpText(
      'after',
      [
        '',
        'A named target must be synchronized (`syncord sync status`); otherwise nothing is written.',
        'The commit it was synced from stays in last_sync_commit, so change detection keeps its base.',
        '',
        'In a target that is a git repository (its folder is the top level of a work tree), the annotated tag <version>',
        'is created at its HEAD ("Synchronized with <main project> <version> (<commit>)"), without running its hooks.',
        'A tag that already exists at HEAD is fine; one at another commit is never moved (a named target is refused,',
        'exit 5; with --all it is skipped, exit 1). No git tag is made while synced files have uncommitted changes',
        '(HEAD does not hold the sync): commit them, e.g. with `syncord sync run --target <name> --commit`.',
      ].join('\n'),
    )
    .action(async (name: string | undefined, o: { all?: boolean; version: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (!!name === !!o.all) throw new SyncordError('give either a target name or --all', 'usage');
      const r = await T.tagTargetsAndRepos(ctx.paths, await rulesOf(ctx), o.all ? 'all' : [name!], o.version);
      const L = [r.tagged.length ? `Tagged ${r.tagged.join(', ')} with ${r.version} (sync_version in ${T.registryFile(ctx.paths)}).` : `No target tagged with ${r.version}.`];
      for (const s of r.skipped) L.push(`Skipped ${s.name}: ${s.status} (${s.reason})`);
      for (const g of r.git) {
        if (g.status === 'created') L.push(`${g.name}: git tag ${g.tag} created at ${g.commit!.slice(0, 12)} (annotated).`);
        else if (g.status === 'already-tagged') L.push(`${g.name}: already tagged ${g.tag} at HEAD (${g.commit!.slice(0, 12)}).`);
        else if (g.status === 'skipped') L.push(`${g.name}: git tag ${g.tag} NOT created: ${g.reason}`);
        else L.push(`${g.name}: ${g.reason}.`);
      }
      if (r.skipped.length || r.git.some((g) => g.status === 'skipped')) io().exitCode = ExitCode.problemsFound;
      ctx.print(L.join('\n'), r);
    });

  target
    .command('rollback <name>')
    .description('same as `syncord sync rollback --target <name> --component <c>`')
    .requiredOption('--component <name>', 'component to restore from the last pre-sync backup ("config" = config files)')
    .action(async (name: string, o: { component: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await restoreText(ctx, await T.rollbackComponent(ctx.paths, await rulesOf(ctx), name, o.component), `Rolled back ${o.component} of ${name}`);
    });

  const sync = program.command('sync').description('detect changes and keep target projects in sync with the main project');

  sync
    .command('detect')
    .description("changed files by category and priority: since --since, or since each target's last sync")
    .option('--since <commit>', 'compare with this commit')
    .option('--target <name>', "only this target's last sync")
    .action(async (o: { since?: string; target?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const rules = await rulesOf(ctx);
      if (o.since) {
        const d = await T.detectChanges(ctx.paths, rules, o.since);
        ctx.print(detectText(d, 'Changes'), d);
        return;
      }
      const targets = o.target ? [await T.getTarget(ctx.paths, o.target)] : await T.listTargets(ctx.paths);
      if (!targets.length) throw new SyncordError('no targets registered; give --since <commit>', 'usage');
      const per = await T.detectForTargets(ctx.paths, rules, targets);
      ctx.print(per.map((d) => detectText(d, d.target)).join('\n\n'), { targets: per });
    });

  sync
    .command('checklist')
    .description("the sync checklist as Markdown, filled in for a target: what changed, what to sync, what to verify")
    .option('--target <name>', 'the target (default: every target)')
    .option('--since <commit>', "changes since this commit (default: the target's last sync)")
    .action(async (o: { target?: string; since?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const rules = await rulesOf(ctx);
      const targets = o.target ? [await T.getTarget(ctx.paths, o.target)] : await T.listTargets(ctx.paths);
      if (!targets.length) throw new SyncordError('no targets registered', 'not-found');
      const out: { target: string; markdown: string }[] = [];
      for (const t of targets) {
        const since = o.since ? await T.detectChanges(ctx.paths, rules, o.since) : undefined;
        out.push({ target: t.name, markdown: await T.buildChecklist(ctx.paths, rules, t, { since }) });
      }
      ctx.print(out.map((x) => x.markdown).join('\n'), out.length === 1 ? out[0] : { checklists: out });
    });

  sync
    .command('run')
    .description('back up, plan, then sync components and merge config into one target or all')
    .option('--target <name>', 'the target')
    .option('--all-targets', 'every registered target')
    .option('--dry-run', 'print the plan only')
    .option('--full', 'compare every file (every sync does; kept for scripts)')
    .option('--component <names>', 'only these components (comma-separated; "config" = config files)', collect)
    .option('--take-source [paths]', "settle conflicts with the main project's version (every conflict, or these comma-separated paths in the target)")
    .option('--keep-target [paths]', "settle conflicts by keeping the target's copy (every conflict, or these paths)")
    .option('--allow-dirty', "sync even over uncommitted changes in the files it writes or deletes in a target's git repository")
    .option('--commit', 'in targets that are git repositories, commit exactly the files the sync wrote or deleted')
    .option('--branch <name>', 'with --commit: first create this branch at the target\'s HEAD and switch to it (an existing other branch is refused)')
    .addHelpText(
      'after',
      [
        '',
        'Every file is compared with the target\'s copy and with the version the last sync wrote (the merge base):',
        "  the main project changed it: updated; the target changed it: kept; both: merged line by line, or a",
        '  CONFLICT when the changes overlap (also: a mirror deletion of a file the target changed or added).',
        'Conflicting files are left untouched (the rest is synced), listed, and the command exits 5 until they',
        'are settled with --take-source / --keep-target. A backup of everything a sync touches is taken first.',
      ].join('\n') + '\n' + GIT_TARGETS_HELP,
    )
    .action(async (o: { target?: string; allTargets?: boolean; dryRun?: boolean; full?: boolean; component?: string[]; allowDirty?: boolean; commit?: boolean; branch?: string; takeSource?: boolean | string; keepTarget?: boolean | string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (o.branch !== undefined && !o.commit) throw new SyncordError('--branch needs --commit', 'usage');
      await runSync(ctx, await targetsFor(ctx, o.target, o.allTargets), { dryRun: o.dryRun, full: o.full, components: o.component, allowDirty: o.allowDirty, commit: o.commit, branch: o.branch, takeSource: o.takeSource, keepTarget: o.keepTarget }, !o.allTargets);
    });

  for (const comp of ['docs', 'plans'] as const) {
    sync
      .command(`${comp} <target>`)
      .description(`sync the ${comp} component only (--complete compares the whole directory)`)
      .option('--complete', 'complete directory sync: compare every file (every sync does; kept for scripts)')
      .option('--dry-run', 'print the plan only')
      .option('--take-source [paths]', "settle conflicts with the main project's version")
      .option('--keep-target [paths]', "settle conflicts by keeping the target's copy")
      .option('--allow-dirty', "sync even over uncommitted changes in the files it writes or deletes in the target's git repository")
      .action(async (t: string, o: { complete?: boolean; dryRun?: boolean; takeSource?: boolean | string; keepTarget?: boolean | string; allowDirty?: boolean }, cmd: Command) => {
        await runSync(contextFrom(cmd), [t], { components: [comp], full: o.complete, dryRun: o.dryRun, takeSource: o.takeSource, keepTarget: o.keepTarget, allowDirty: o.allowDirty });
      });
  }

  sync
    .command('verify')
    .description('check a target: files and hashes, counts, links in Markdown, config parses, verify commands (exit 1 on failure)')
    .option('--target <name>', 'the target')
    .option('--all-targets', 'every registered target')
    .option('--component <names>', 'only these components', collect)
    .option('--tests <groups>', 'only these check groups: core, integration, docs (or files, links, config, commands)', collect)
    .option('--no-commands', 'do not run the verify commands of the rules')
    .addHelpText('after', TESTS_HELP)
    .action(async (o: { target?: string; allTargets?: boolean; component?: string[]; commands?: boolean; tests?: string[] }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await verifyAll(ctx, await targetsFor(ctx, o.target, o.allTargets), { components: o.component, commands: o.commands, tests: o.tests });
    });

  sync
    .command('rollback')
    .description('restore one component of a target from the last pre-sync backup')
    .requiredOption('--target <name>', 'the target')
    .requiredOption('--component <name>', 'the component ("config" = config files)')
    .action(async (o: { target: string; component: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      await restoreText(ctx, await T.rollbackComponent(ctx.paths, await rulesOf(ctx), o.target, o.component), `Rolled back ${o.component} of ${o.target}`);
    });

  registerSyncRequest(sync);

  const statusAction = (check: boolean) => async (_o: unknown, cmd: Command) => {
    const ctx = contextFrom(cmd);
    const list = await T.targetStatuses(ctx.paths, await rulesOf(ctx));
    // The agents' progress comes from the task queue; without one the sessions code is not even loaded.
    const agentSync = fs.existsSync(path.join(ctx.paths.coordinationDir, COORDINATION_FILES.tasks)) ? await import('./agentSync') : undefined;
    const agents = agentSync ? await agentSync.workflowsByTarget(ctx) : new Map<string, never>();
    const human = list.length
      ? list
          .map((s) => {
            const w = agents.get(s.name);
            const line = `${s.status.padEnd(12)} ${s.name}  (${s.reason}${s.categories.length ? `; categories: ${s.categories.join(', ')}` : ''})`;
            return w && agentSync ? [line, ...agentSync.workflowLines(w, w.state === 'open').map((l) => `             ${l}`)].join('\n') : line;
          })
          .join('\n')
      : 'No targets registered.';
    const stale = list.filter((s) => s.status !== 'synchronized');
    if (check && stale.length) io().exitCode = ExitCode.problemsFound;
    const need = `${plural(stale.length, 'target is', 'targets are')} not synchronized`;
    const data = list.map((s) => (agents.has(s.name) ? { ...s, agents: agents.get(s.name) } : s));
    ctx.print(check && stale.length ? `${human}\n${need}: syncord sync run --all-targets` : human, { targets: data });
  };
  sync.command('status').description("each target's status, computed from git since its last sync").action(statusAction(false));
  sync.command('check').description('exit 1 when any target needs sync (for a pre-push hook or CI)').action(statusAction(true));

  const presetsHelp = ['', 'Presets (--preset <name>):', ...Object.entries(T.RULE_PRESETS).map(([n, d]) => `  ${n.padEnd(13)} ${d}`)].join('\n');
  sync
    .command('rules')
    .description('show where the sync rules are (coordination/sync-rules.jsonc); --init writes rules fitted to this project, with comments')
    .option('--init', 'write the rules file from a preset (default: auto); never overwrites')
    .option('--preset <name>', `with --init or --print: ${Object.keys(T.RULE_PRESETS).join(', ')}`)
    .option('--presets', 'list the presets, one line each')
    .option('--print', 'print the rules in effect as JSON; with --preset, the file that preset would write here')
    .addHelpText(
      'after',
      `${presetsHelp}\n\nWithout a rules file, the auto preset's rules for the project as it is now apply (the same folder contents give\nthe same rules); --init writes them down so they stay put and can be edited.`,
    )
    .action(async (o: { init?: boolean; print?: boolean; preset?: string; presets?: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (o.presets) {
        if (o.init || o.print || o.preset !== undefined) throw new SyncordError('--presets lists the presets; give it alone', 'usage');
        const list = Object.entries(T.RULE_PRESETS).map(([name, summary]) => ({ name, summary, default: name === T.DEFAULT_PRESET }));
        ctx.print(list.map((p) => `${p.name.padEnd(13)} ${p.summary}`).join('\n'), { presets: list });
        return;
      }
      if (o.preset !== undefined) T.checkPreset(o.preset);
      if (o.init && o.print) throw new SyncordError('give either --init or --print, not both', 'usage');
      if (o.init) {
        const r = await T.initRules(ctx.paths, o.preset);
        ctx.print(r.created ? `Wrote the ${r.preset} rules to ${r.file}` : `${r.file} already exists; left as it is`, r);
        return;
      }
      if (o.preset !== undefined && !o.print) throw new SyncordError('--preset goes with --init (write) or --print (show)', 'usage');
      if (o.print && o.preset !== undefined) {
        const p = await T.presetRules(ctx.paths, o.preset);
        if (ctx.json) ctx.print('', { preset: p.preset, text: p.text, rules: T.parseRules(`(preset ${p.preset})`, p.text) });
        else io().out(p.text);
        return;
      }
      const loaded = await T.loadRules(ctx.paths);
      if (o.print) {
        io().out(JSON.stringify(loaded.rules, null, 2) + '\n');
        return;
      }
      const names = (rec: object) => Object.keys(rec).join(', ') || 'none';
      const human = loaded.file
        ? `Rules: ${loaded.file}`
        : [
            `No rules file; rules inferred from the project apply (preset auto, base name "${loaded.inferred?.base}"):`,
            `  categories: ${names(loaded.rules.categories)}`,
            `  components: ${names(loaded.rules.components)}`,
            `  config files: ${names(loaded.rules.config)}`,
            `They change when the project's folders do; write them down with: syncord sync rules --init (see --presets)`,
          ].join('\n');
      ctx.print(human, { file: loaded.file ?? null, inferred: !loaded.file, rules: loaded.rules });
    });

  const config = program.command('config').description('config files merged into targets');
  config
    .command('diff <target>')
    .description('the unified diff config sync would apply to the target')
    .action(async (t: string, _o, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const target = await T.getTarget(ctx.paths, t);
      const diffs = await T.configDiff(ctx.paths, await rulesOf(ctx), target);
      const human = diffs.map((d) => d.note ?? (d.diff || `${d.destination}: no change`)).join('\n');
      ctx.print(human, { configs: diffs.map(({ text: _merged, ...d }) => d) });
    });
  config
    .command('sync <target>')
    .description('merge config files into the target now (same as `syncord sync run --target <t> --component config`)')
    .option('--merge', 'merge per the rules (the default)')
    .option('--dry-run', 'print the plan only')
    .option('--allow-dirty', "merge even over uncommitted changes in the config files in the target's git repository")
    .action(async (t: string, o: { dryRun?: boolean; allowDirty?: boolean }, cmd: Command) => {
      await runSync(contextFrom(cmd), [t], { components: ['config'], dryRun: o.dryRun, allowDirty: o.allowDirty });
    });
}
