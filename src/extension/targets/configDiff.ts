import * as vscode from 'vscode';

/**
 * Read-only documents holding what config sync would write into a target's config file, so the diff editor
 * can show the target's file beside the merged result, and the Markdown sync plans the confirmation offers.
 * URIs: `syncord-merged:/<target>/<config>/<file name>`.
 */
export class MergedConfigProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'syncord-merged';
  private readonly texts = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  /** Stores a text and returns the URI that shows it. */
  set(target: string, config: string, destination: string, text: string): vscode.Uri {
    const base = destination.split('/').pop() || destination;
    const uri = vscode.Uri.from({ scheme: MergedConfigProvider.scheme, path: `/${target}/${config}/${base}` });
    this.texts.set(uri.toString(), text);
    this.emitter.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.emitter.dispose();
    this.texts.clear();
  }
}
