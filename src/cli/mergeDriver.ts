import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { isSyncordError, SyncordError } from '../core/errors';
import { conflictSummary, listMergeConflicts, resolveMergeConflict } from '../core/coordination/mergeConflicts';
import { installMergeDriver, runMergeDriver, syncCoordination, uninstallMergeDriver } from '../core/coordination/mergeDriver';
import { plural } from '../core/plural';
import { contextFrom } from './context';
import { storeOf } from './coordination';
import { ExitCode } from './exit';
import { io } from './io';

/**
 * Coordination files in git: `syncord merge-driver install|uninstall|run|conflicts|resolve` and
 * `syncord coordination sync` (see docs/coordination.md, "Coordination files in git").
 */
export function registerMergeCommands(program: Command): void {
  const md = program.command('merge-driver').description('merge the coordination files by record when git merges branches');

  md.command('install')
    .description('register the merge driver: a .gitattributes line for the coordination files and git config merge.syncord')
    .option('--global', 'write the driver into your global git config (the .gitattributes line is still the repository\'s)')
    .action(async (o: { global?: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const cli = fs.realpathSync(process.argv[1]);
      const r = await installMergeDriver({ coordinationDir: ctx.paths.coordinationDir, node: process.execPath, cli, global: o.global });
      ctx.print(
        [
          `${r.added ? 'Added' : 'Kept'} \`${r.line}\` in ${path.relative(process.cwd(), r.attributes) || r.attributes}${r.added ? ' (commit it, so every clone merges the files by record)' : ' (it was there already)'}.`,
          `git config ${r.scope === 'global' ? '--global ' : ''}merge.syncord.driver = ${r.command}`,
        ].join('\n'),
        r,
      );
    });

  md.command('uninstall')
    .description('remove the .gitattributes line and the git config of the merge driver')
    .option('--global', 'remove it from your global git config')
    .action(async (o: { global?: boolean }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const r = await uninstallMergeDriver({ coordinationDir: ctx.paths.coordinationDir, global: o.global });
      ctx.print(
        [
          r.removedLine ? 'Removed the merge=syncord line from .gitattributes.' : '.gitattributes had no merge=syncord line.',
          r.removedConfig ? `Removed merge.syncord from the ${o.global ? 'global' : 'repository'} git config.` : `The ${o.global ? 'global' : 'repository'} git config had no merge.syncord.`,
        ].join('\n'),
        r,
      );
    });

  md.command('run')
    .description('what git runs: merge <base> <ours> <theirs> of <path> by record into <ours>; exit 0 clean, 1 conflicted')
    .argument('<base>')
    .argument('<ours>')
    .argument('<theirs>')
    .argument('<path>', "the file's path in the repository (git's %P)")
    .action(async (base: string, ours: string, theirs: string, file: string) => {
      try {
        const r = await runMergeDriver({ base, ours, theirs, path: file, cwd: process.cwd() });
        for (const n of r.notes) process.stderr.write(`syncord: note: ${n}\n`);
        const renamed = Object.entries(r.renames);
        if (renamed.length) {
          const shown = renamed.slice(0, 10).map(([a, b]) => `${a} → ${b}`).join(', ');
          process.stderr.write(`syncord: ${file}: renumbered the other side's ${shown}${renamed.length > 10 ? ` and ${renamed.length - 10} more` : ''}\n`);
        }
        if (r.byRecord && r.conflicts.length) {
          process.stderr.write(`syncord: ${file}: ${plural(r.conflicts.length, 'conflict')} left in the file (valid JSON, ours kept):\n`);
          for (const c of r.conflicts) process.stderr.write(`  ${conflictSummary(c)}\n`);
        }
        io().exitCode = r.code;
      } catch (e) {
        if (!isSyncordError(e)) throw e;
        throw new SyncordError(`${e.detail}; the merge of ${file} stops here: ours is left as it was and git reports the file as conflicted`, e.code, e.location);
      }
    });

  md.command('conflicts')
    .description('list the conflicts merges left in the coordination files')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const list = await listMergeConflicts(storeOf(ctx));
      ctx.print(
        list.length
          ? [...list.map((c) => `${c.conflict.id}  ${c.file}  ${conflictSummary(c.conflict)}`), '', `${plural(list.length, 'merge conflict')}.`].join('\n')
          : 'No merge conflicts.',
        list.map((c) => ({ file: c.file, ...c.conflict })),
      );
      if (list.length) io().exitCode = ExitCode.problemsFound;
    });

  md.command('resolve')
    .description('settle a merge conflict: keep ours (what the file holds) or take theirs')
    .argument('<id>', 'the conflict, as `merge-driver conflicts` lists it (a task, message or decision id, an instance, a file)')
    .option('--ours', 'keep what the file holds')
    .option('--theirs', "take the other side's values (for references: rewrite them)")
    .option('--file <name>', 'the file, when the id names conflicts in more than one')
    .action(async (id: string, o: { ours?: boolean; theirs?: boolean; file?: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      if (o.ours && o.theirs) throw new SyncordError('choose --ours or --theirs, not both', 'usage');
      const list = await listMergeConflicts(storeOf(ctx));
      const isReferences = list.some((c) => c.conflict.id === id && c.conflict.kind === 'references');
      if (!o.ours && !o.theirs && !isReferences) throw new SyncordError(`say which side to keep: --ours or --theirs`, 'usage');
      const r = await resolveMergeConflict(storeOf(ctx), { id, side: o.ours ? 'ours' : 'theirs', file: o.file });
      ctx.print(
        [
          r.resolved.conflict.kind === 'references' && !o.ours
            ? `Rewrote ${r.changed.join(', ')} in ${r.resolved.conflict.file}.`
            : `Resolved ${id} in ${r.resolved.file}${o.ours ? ', keeping ours' : ''}${r.changed.length ? `: ${r.changed.join(', ')}` : ''}.`,
          r.remaining ? `${plural(r.remaining, 'merge conflict')} left.` : 'No merge conflicts left: `git add` the coordination files and commit the merge.',
        ].join('\n'),
        r,
      );
    });

  program
    .command('coordination')
    .description('the coordination files and git')
    .command('sync')
    .description('commit the coordination files, merge the remote branch into them (by record) and push; retried when the push is rejected')
    .option('--branch <name>', 'the remote branch that carries the coordination files (default: the current branch)')
    .option('--remote <name>', 'the remote', 'origin')
    .option('-m, --message <text>', 'the commit message for local changes', 'Coordination update')
    .option('--retries <n>', 'how many times to merge and push again after a rejected push', '4')
    .action(async (o: { branch?: string; remote: string; message: string; retries: string }, cmd: Command) => {
      const ctx = contextFrom(cmd);
      const retries = Number(o.retries);
      if (!Number.isInteger(retries) || retries < 0) throw new SyncordError(`--retries needs a whole number, not ${JSON.stringify(o.retries)}`, 'usage');
      const r = await syncCoordination({ coordinationDir: ctx.paths.coordinationDir, remote: o.remote, branch: o.branch, message: o.message, retries });
      ctx.print(
        `${r.committed ? `Committed the coordination files (${r.committed.slice(0, 7)}); ` : 'Nothing new to commit; '}merged ${r.remote}/${r.branch} ${plural(r.merges, 'time')}; pushed to ${r.remote} ${r.branch} (${plural(r.pushes, 'try', 'tries')}).`,
        r,
      );
    });
}
