/**
 * The ids package.json and the views share: the view ids, the `contextValue`s its `view/item/context` menus
 * match, and the commands a click on a row runs (from the command table, src/shared/commands.ts).
 * test/unit/views/manifest.test.ts checks that package.json agrees with them.
 */
import { Command } from '../shared/commands';

export const ViewId = {
  targets: 'syncord.targets',
  coordination: 'syncord.coordination',
  messageLog: 'syncord.messageLog',
  sessions: 'syncord.sessions',
} as const;

/** `contextValue`s of the nodes of each tree. Some are followed by a suffix, as noted. */
export const ContextValue = {
  coordination: {
    /** Followed by `.<group>`: `syncord.group.pending_tasks`. */
    group: 'syncord.group',
    instance: 'syncord.instance',
    instanceMe: 'syncord.instance.me',
    /**
     * Followed by `.<status>`, then `.mine` when assigned to the user, `.unassigned` when assigned to nobody,
     * `.blocked` when a dependency is not completed: `syncord.task.assigned.mine`.
     */
    task: 'syncord.task',
    dependency: 'syncord.dependency',
    /** Followed by `.needsMyInput` when the user's input is still needed. */
    pendingDecision: 'syncord.decision.pending',
    decided: 'syncord.decision.decided',
    option: 'syncord.decision.option',
    detail: 'syncord.detail',
    fileError: 'syncord.fileError',
    fileMissing: 'syncord.fileMissing',
  },
  targets: {
    /** Followed by `:<status>`: `syncord.target:needs_sync`. */
    target: 'syncord.target',
    changes: 'syncord.target.changes',
    category: 'syncord.target.category',
    changedFile: 'syncord.target.changedFile',
    conflictFile: 'syncord.target.conflictFile',
    components: 'syncord.target.components',
    component: 'syncord.target.component',
    config: 'syncord.target.config',
    backups: 'syncord.target.backups',
    backup: 'syncord.target.backup',
    checks: 'syncord.target.checks',
    /** Followed by `.<state>` (open, done, cancelled): the target's sync by agents. */
    agents: 'syncord.target.agents',
    agentStep: 'syncord.target.agentStep',
    /** Followed by `.pass`, `.fail` or `.skipped`. */
    check: 'syncord.target.check',
    problem: 'syncord.target.problem',
    error: 'syncord.target.error',
  },
  sessions: {
    /** Followed by `.<state>.<mode>`, and `.here` when the session's terminal is in this window: `syncord.session.running.terminal.here`. */
    session: 'syncord.session',
    /** Followed by `.<status>`: `syncord.delivery.failed`. */
    delivery: 'syncord.delivery',
    undeliveredGroup: 'syncord.sessions.undelivered',
    error: 'syncord.sessions.error',
  },
} as const;

/** Commands a click on a row runs (ids of the command table; `vscode.open` is the editor's own). */
export const ClickCommand = {
  openCoordinationFileAt: Command.openCoordinationFileAt,
  initCoordination: Command.initCoordination,
  openTargetLocation: Command.openTargetLocation,
  openPendingDiff: Command.openPendingDiff,
  showConfigDiff: Command.showConfigDiff,
  focusSessionTerminal: Command.focusSessionTerminal,
  showSessionLog: Command.showSessionLog,
  openFile: 'vscode.open',
} as const;
