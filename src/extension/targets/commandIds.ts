/** Every target command id, in one place (package.json contributes the same ids). */
export const TargetCommand = {
  addTarget: 'syncord.addTarget',
  removeTarget: 'syncord.removeTarget',
  refresh: 'syncord.refreshTargets',
  detectChanges: 'syncord.detectChanges',
  openChecklist: 'syncord.openSyncChecklist',
  backupTarget: 'syncord.backupTarget',
  syncTarget: 'syncord.syncTarget',
  syncAll: 'syncord.syncAllTargets',
  cancel: 'syncord.cancelTargetOperation',
  verifyTarget: 'syncord.verifyTarget',
  rollbackComponent: 'syncord.rollbackComponent',
  restoreBackup: 'syncord.restoreBackup',
  showConfigDiff: 'syncord.showConfigDiff',
  statusBarMenu: 'syncord.targetsStatusMenu',
  openLocation: 'syncord.openTargetLocation',
} as const;

/** Context key set while a target operation runs (shows the view's Cancel action). */
export const BUSY_CONTEXT_KEY = 'syncord.targets.busy';
