import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { COORDINATION_FILES } from '../../core/coordination/init';
import { Services } from '../services';

/** The Coordination view: the coordination files of the workspace. Empty (welcome view) when there is no folder. */
class CoordinationFilesProvider implements vscode.TreeDataProvider<string> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly services: Services) {}

  refresh(): void {
    this.changed.fire();
  }

  async getChildren(element?: string): Promise<string[]> {
    if (element) return [];
    const paths = this.services.paths();
    if (!paths) return [];
    const present = await Promise.all(
      Object.values(COORDINATION_FILES).map(async (name) => {
        const file = path.join(paths.coordinationDir, name);
        return (await fs.promises.stat(file).catch(() => undefined))?.isFile() ? file : undefined;
      }),
    );
    return present.filter((f): f is string => f !== undefined);
  }

  getTreeItem(file: string): vscode.TreeItem {
    const item = new vscode.TreeItem(vscode.Uri.file(file), vscode.TreeItemCollapsibleState.None);
    item.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(file)] };
    return item;
  }
}

export function registerCoordinationViews(services: Services, viewId: string): void {
  const provider = new CoordinationFilesProvider(services);
  services.context.subscriptions.push(vscode.window.createTreeView(viewId, { treeDataProvider: provider }));
  const watcher = vscode.workspace.createFileSystemWatcher('**/*.json');
  const refresh = () => provider.refresh();
  services.context.subscriptions.push(
    watcher,
    watcher.onDidCreate(refresh),
    watcher.onDidDelete(refresh),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('syncord') && refresh()),
  );
}
