import * as vscode from 'vscode';
import { unreadFor } from '../../core/coordination/view';
import { Disposable } from '../lifecycle';
import { Command } from '../../shared/commands';
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
    const snap = this.coordination.model.snapshot;
    if (!snap?.exists) {
      this.item.hide();
      return;
    }
    const me = this.coordination.services.settings().instanceId;
    const log = snap.messages.state === 'ok' ? snap.messages.value : undefined;
    const unread = log ? unreadFor(log, me).length : 0;
    const problems = this.health.problemCount;
    const icon = this.coordination.busy.busy ? '$(sync~spin)' : '$(comment-discussion)';
    this.item.text = `${icon} ${unread}${problems ? ` $(warning) ${problems}` : ''}`;
    const lines = [
      me ? `${unread} message${unread === 1 ? '' : 's'} waiting for ${me}` : 'Set syncord.instanceId to see the messages waiting for you',
      problems ? `${problems} coordination problem${problems === 1 ? '' : 's'} (see the Problems panel)` : 'No coordination problems',
    ];
    if (this.coordination.busy.busy) lines.unshift('Writing coordination files…');
    lines.push('', 'Click to open the Message Log');
    this.item.tooltip = lines.join('\n');
    this.item.accessibilityInformation = { label: lines.join('. ') };
    this.item.backgroundColor = problems && this.health.broken ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }
}

export function registerStatusBar(coordination: Coordination, health: HealthDiagnostics): CoordinationStatusBar {
  const s = new CoordinationStatusBar(coordination, health);
  coordination.services.context.subscriptions.push(s);
  return s;
}
