import * as vscode from 'vscode';
import type { StatusBarView } from '../views/statusBar';

/** Shows a status-bar item as its view (src/views/statusBar.ts) says, or hides it. */
export function showStatusBar(item: vscode.StatusBarItem, v: StatusBarView): void {
  if (!v.visible) {
    item.hide();
    return;
  }
  item.text = v.text;
  item.tooltip = v.tooltip;
  item.accessibilityInformation = { label: v.accessibilityLabel };
  item.backgroundColor = v.backgroundColor ? new vscode.ThemeColor(v.backgroundColor) : undefined;
  item.show();
}
