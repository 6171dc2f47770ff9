/**
 * Every command id of the extension, in one place. package.json contributes exactly these (checked by
 * test/unit/extension/commandTable.test.ts); src/extension/commands.ts registers each of them once. Plain data,
 * no `vscode`, so the views and the unit tests can name commands too.
 */
export const Command = {
  // The workspace
  initCoordination: 'syncord.initCoordination',
  showLog: 'syncord.showLog',
  openMessageLog: 'syncord.openMessageLog',

  // Coordination (instances, tasks, decisions, messages)
  checkIn: 'syncord.checkIn',
  checkOut: 'syncord.checkOut',
  setInstanceId: 'syncord.setInstanceId',
  refreshCoordination: 'syncord.refreshCoordination',
  createTask: 'syncord.createTask',
  assignTask: 'syncord.assignTask',
  claimTask: 'syncord.claimTask',
  acceptTask: 'syncord.acceptTask',
  declineTask: 'syncord.declineTask',
  startTask: 'syncord.startTask',
  blockTask: 'syncord.blockTask',
  releaseTask: 'syncord.releaseTask',
  completeTask: 'syncord.completeTask',
  proposeDecision: 'syncord.proposeDecision',
  giveDecisionInput: 'syncord.giveDecisionInput',
  decide: 'syncord.decide',
  sendMessage: 'syncord.sendMessage',
  replyMessage: 'syncord.replyMessage',
  acknowledgeMessage: 'syncord.acknowledgeMessage',
  closeThread: 'syncord.closeThread',
  revealInFile: 'syncord.revealInFile',
  openCoordinationFileAt: 'syncord.openCoordinationFileAt',

  // Targets
  addTarget: 'syncord.addTarget',
  removeTarget: 'syncord.removeTarget',
  refreshTargets: 'syncord.refreshTargets',
  detectChanges: 'syncord.detectChanges',
  openSyncChecklist: 'syncord.openSyncChecklist',
  backupTarget: 'syncord.backupTarget',
  syncTarget: 'syncord.syncTarget',
  syncAllTargets: 'syncord.syncAllTargets',
  cancelTargetOperation: 'syncord.cancelTargetOperation',
  verifyTarget: 'syncord.verifyTarget',
  syncWithAgents: 'syncord.syncWithAgents',
  rollbackComponent: 'syncord.rollbackComponent',
  restoreBackup: 'syncord.restoreBackup',
  showConfigDiff: 'syncord.showConfigDiff',
  resolveSyncConflicts: 'syncord.resolveSyncConflicts',
  targetsStatusMenu: 'syncord.targetsStatusMenu',
  openTargetLocation: 'syncord.openTargetLocation',
  openPendingDiff: 'syncord.openPendingDiff',

  // Agent sessions
  spawnSession: 'syncord.spawnSession',
  focusSessionTerminal: 'syncord.focusSessionTerminal',
  messageSession: 'syncord.messageSession',
  slingTask: 'syncord.slingTask',
  assignToSession: 'syncord.assignToSession',
  stopSession: 'syncord.stopSession',
  resendDelivery: 'syncord.resendDelivery',
  showSessionLog: 'syncord.showSessionLog',
  clearExitedSessions: 'syncord.clearExitedSessions',
  refreshSessions: 'syncord.refreshSessions',
} as const;

export type CommandId = (typeof Command)[keyof typeof Command];

/**
 * Commands that act on a tree row (or the status bar item) and mean nothing without it: package.json hides
 * them from the command palette (`"when": "false"`).
 */
export const VIEW_ONLY_COMMANDS: readonly CommandId[] = [
  Command.revealInFile,
  Command.openCoordinationFileAt,
  Command.targetsStatusMenu,
  Command.openTargetLocation,
  Command.openPendingDiff,
  Command.assignToSession,
  Command.resendDelivery,
];

/** Context key set while a target operation runs (the Targets view then shows its Cancel action). */
export const TARGETS_BUSY_CONTEXT_KEY = 'syncord.targets.busy';

/** The id of the MCP server definition provider the extension contributes (package.json `mcpServerDefinitionProviders`). */
export const MCP_PROVIDER_ID = 'syncord.mcp';
