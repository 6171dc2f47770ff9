import { Command } from 'commander';
import { AGENT_ROLES_SETTING, DEFAULT_AGENT_ROLES } from '../core/agentsync/roles';

/**
 * `syncord sync request <target>|--all-targets [--since <commit>]`: the command, its options and help. What it
 * does (agentSync.ts, with the sessions it hands steps to) is loaded when it runs, so that the other sync verbs
 * start without it.
 */
export function registerSyncRequest(sync: Command): void {
  sync
    .command('request [target]')
    .description("turn a sync into work for the agents (seed 002): apply (Coding) → verify (Testing) → docs (Documentation), chained tasks handed to the instances whose roles fit")
    .option('--all-targets', 'every registered target that is not synchronized now')
    .option('--since <commit>', "count the changes since this commit (default: each target's last sync)")
    .addHelpText(
      'after',
      [
        '',
        'Each step is a task of the queue carrying its target, the commit range, the categories and priorities',
        'detected and the checklist (sync_workflow). A step is offered to the instance whose role fits its agent',
        `(the setting ${AGENT_ROLES_SETTING} in .vscode/settings.json; defaults: ${Object.entries(DEFAULT_AGENT_ROLES).map(([a, g]) => `${a} = ${g.slice(0, 2).join('|')}…`).join(', ')})`,
        'and handed to its live session when it becomes ready. `syncord sync verify` moves the workflow on: a pass',
        'starts the docs step, a failure opens a debugging task with the failing checks and a fix task, and the',
        'verification waits for the fix. Completing the docs step reports to the requester (--as) in the message log.',
        '`syncord sync status` shows the progress.',
      ].join('\n'),
    )
    .action(async (name: string | undefined, o: { allTargets?: boolean; since?: string }, cmd: Command) => (await import('./agentSync')).syncRequestAction(name, o, cmd));
}
