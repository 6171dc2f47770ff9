import * as vscode from 'vscode';
import { DEFAULT_COORDINATION_DIR } from '../core/workspace';

/** Every setting key Syncord reads, in one place. */
export const SettingKey = {
  coordinationDir: 'syncord.coordinationDir',
  instanceId: 'syncord.instanceId',
} as const;

export interface SyncordSettings {
  coordinationDir: string;
  instanceId: string | undefined;
}

/** Reads the settings for the (first) workspace folder. */
export function readSettings(scope?: vscode.ConfigurationScope): SyncordSettings {
  const c = vscode.workspace.getConfiguration('syncord', scope);
  const instanceId = c.get<string>('instanceId')?.trim();
  return {
    coordinationDir: c.get<string>('coordinationDir')?.trim() || DEFAULT_COORDINATION_DIR,
    instanceId: instanceId || undefined,
  };
}

/** Calls `listener` when any Syncord setting changes. */
export function onDidChangeSettings(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('syncord')) listener();
  });
}
