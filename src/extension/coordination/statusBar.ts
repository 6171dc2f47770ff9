import * as vscode from 'vscode';
import { coordinationStatusBarView } from '../../views/statusBar';
import { Disposable } from '../lifecycle';
import { Command } from '../../shared/commands';
import { showStatusBar } from '../statusBar';
import { onDidChangeSettings } from '../settings';
import { Coordination } from './context';
import { HealthDiagnostics } from './diagnostics';

/**
 * One item on the left: messages waiting for me (`syncord.instanceId`) and health problems; `$(sync~spin)`
 * while the extension writes. A click opens the Message Log. Hidden while there is no coordination folder.
 */
export class CoordinationStatusBar extends Disposable {
  readonly item = this.register(vscode.window.createStatusBarItem('syncord.coordination', vscode.StatusBarAlignment.Left, 50));

  constructor(
    private readonly coordination: Coordination,
    private readonly health: HealthDiagnostics,
  ) {
    super();
    this.item.name = 'Syncord Coordination';
    this.item.command = Command.openMessageLog;
    const update = () => this.update();
    this.register(coordination.model.onDidChange(update));
    this.register(coordination.busy.onDidChange(update));
    this.register(health.onDidChange(update));
    this.register(onDidChangeSettings(update));
    // activate() reads no files: the first read happens when a view is shown, or shortly after start-up so
    // the status bar and the Problems panel fill in even while the Syncord views stay closed.
    const timer = setTimeout(() => void coordination.model.ensureLoaded(), 2000);
    this.register({ dispose: () => clearTimeout(timer) });
  }

  update(): void {
    const v = coordinationStatusBarView(this.coordination.model.snapshot, {
      me: this.coordination.services.settings().instanceId,
      problems: this.health.problemCount,
      brokenFiles: this.health.broken,
      busy: this.coordination.busy.busy,
    });
    showStatusBar(this.item, v);
  }
}

export function registerStatusBar(coordination: Coordination, health: HealthDiagnostics): CoordinationStatusBar {
  const s = new CoordinationStatusBar(coordination, health);
  coordination.services.context.subscriptions.push(s);
  return s;
}
