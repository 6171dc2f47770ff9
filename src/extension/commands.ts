import * as vscode from 'vscode';
import type { CoordinationNode } from '../views/coordination';
import type { TargetNode } from '../views/targets';
import { Command, CommandId } from '../shared/commands';
import {
  coordinationArgs,
  locationArg,
  noArgs,
  sessionArgs,
  targetArgs,
  treeNodeArg,
} from './commandArgs';
import { CoordinationCommands } from './coordination/commands';
import { SessionCommands } from './sessions/commands';
import { TargetCommands } from './targets/commands';
import { WorkspaceCommands } from './workspaceCommands';

/** The handlers of each area, built once in activate(). */
export interface CommandHandlers {
  workspace: WorkspaceCommands;
  coordination: CoordinationCommands;
  targets: TargetCommands;
  sessions: SessionCommands;
}

/**
 * One command: `args` turns what it was invoked with (nothing from the palette, a tree node from a menu, an id
 * string or named arguments from another command) into the typed value `run` takes.
 */
interface CommandEntry<A> {
  args: (...raw: unknown[]) => A;
  run: (args: A) => unknown;
}

function entry<A>(args: (...raw: unknown[]) => A, run: (args: A) => unknown): CommandEntry<A> {
  return { args, run };
}

/** Every command of the extension, by id. The type makes leaving one out a compile error. */
type CommandTable = { [K in CommandId]: CommandEntry<any> };

function commandTable(h: CommandHandlers): CommandTable {
  const { workspace: w, coordination: c, targets: t, sessions: s } = h;
  const task = coordinationArgs('task');
  const decision = coordinationArgs('decision');
  const message = coordinationArgs('message');
  return {
    [Command.initCoordination]: entry(noArgs, () => w.initCoordination()),
    [Command.showLog]: entry(noArgs, () => w.showLog()),
    [Command.openMessageLog]: entry(noArgs, () => w.openMessageLog()),

    [Command.checkIn]: entry(coordinationArgs('none'), (a) => c.checkIn(a)),
    [Command.checkOut]: entry(coordinationArgs('none'), (a) => c.checkOut(a)),
    [Command.setInstanceId]: entry(noArgs, () => c.setInstanceId()),
    [Command.refreshCoordination]: entry(noArgs, () => c.refresh()),
    [Command.createTask]: entry(coordinationArgs('none'), (a) => c.createTask(a)),
    [Command.assignTask]: entry(task, (a) => c.assignTask(a)),
    [Command.claimTask]: entry(task, (a) => c.claimTask(a)),
    [Command.acceptTask]: entry(task, (a) => c.acceptTask(a)),
    [Command.declineTask]: entry(task, (a) => c.declineTask(a)),
    [Command.startTask]: entry(task, (a) => c.startTask(a)),
    [Command.blockTask]: entry(task, (a) => c.blockTask(a)),
    [Command.releaseTask]: entry(task, (a) => c.releaseTask(a)),
    [Command.completeTask]: entry(task, (a) => c.completeTask(a)),
    [Command.proposeDecision]: entry(coordinationArgs('none'), (a) => c.proposeDecision(a)),
    [Command.giveDecisionInput]: entry(decision, (a) => c.giveDecisionInput(a)),
    [Command.decide]: entry(decision, (a) => c.decide(a)),
    [Command.sendMessage]: entry(coordinationArgs('instance'), (a) => c.sendMessage(a)),
    [Command.replyMessage]: entry(message, (a) => c.replyMessage(a)),
    [Command.acknowledgeMessage]: entry(message, (a) => c.acknowledgeMessage(a)),
    [Command.closeThread]: entry(message, (a) => c.closeThread(a)),
    [Command.revealInFile]: entry(treeNodeArg<CoordinationNode>, (node) => c.revealInFile(node)),
    [Command.openCoordinationFileAt]: entry(locationArg, (loc) => w.openLocation(loc)),

    [Command.addTarget]: entry(targetArgs, (a) => t.addTarget(a)),
    [Command.removeTarget]: entry(targetArgs, (a) => t.removeTarget(a)),
    [Command.refreshTargets]: entry(noArgs, () => t.refresh()),
    [Command.detectChanges]: entry(targetArgs, (a) => t.detectChanges(a)),
    [Command.openSyncChecklist]: entry(targetArgs, (a) => t.openChecklist(a)),
    [Command.backupTarget]: entry(targetArgs, (a) => t.backupTarget(a)),
    [Command.syncTarget]: entry(targetArgs, (a) => t.syncTarget(a)),
    [Command.syncAllTargets]: entry(targetArgs, (a) => t.syncAll(a)),
    [Command.cancelTargetOperation]: entry(noArgs, () => t.cancel()),
    [Command.verifyTarget]: entry(targetArgs, (a) => t.verifyTarget(a)),
    [Command.syncWithAgents]: entry(targetArgs, (a) => t.syncWithAgents(a)),
    [Command.rollbackComponent]: entry(targetArgs, (a) => t.rollbackComponent(a)),
    [Command.restoreBackup]: entry(targetArgs, (a) => t.restoreBackup(a)),
    [Command.showConfigDiff]: entry(targetArgs, (a) => t.showConfigDiff(a)),
    [Command.resolveSyncConflicts]: entry(targetArgs, (a) => t.resolveConflicts(a)),
    [Command.targetsStatusMenu]: entry(noArgs, () => t.statusBarMenu()),
    [Command.openTargetLocation]: entry(locationArg, (loc) => w.openLocation(loc)),
    [Command.openPendingDiff]: entry(treeNodeArg<TargetNode>, (node) => t.openPendingDiff(node)),

    [Command.spawnSession]: entry(sessionArgs('instance'), (a) => s.spawn(a)),
    [Command.focusSessionTerminal]: entry(sessionArgs('session'), (a) => s.focusTerminal(a)),
    [Command.messageSession]: entry(sessionArgs('session'), (a) => s.message(a)),
    [Command.slingTask]: entry(sessionArgs('session'), (a) => s.sling(a, false)),
    [Command.assignToSession]: entry(sessionArgs('task'), (a) => s.sling(a, true)),
    [Command.stopSession]: entry(sessionArgs('session'), (a) => s.stop(a)),
    [Command.resendDelivery]: entry(sessionArgs('message'), (a) => s.resend(a)),
    [Command.showSessionLog]: entry(sessionArgs('session'), (a) => s.showLog(a)),
    [Command.clearExitedSessions]: entry(noArgs, () => s.clearExited()),
    [Command.refreshSessions]: entry(noArgs, () => s.refresh()),
  };
}

/** Registers every command of the extension, the same way, each disposed with the extension. */
export function registerAllCommands(context: vscode.ExtensionContext, handlers: CommandHandlers): void {
  const table = commandTable(handlers);
  for (const id of Object.keys(table) as CommandId[]) {
    const { args, run } = table[id];
    context.subscriptions.push(vscode.commands.registerCommand(id, (...raw: unknown[]) => run(args(...raw))));
  }
}
