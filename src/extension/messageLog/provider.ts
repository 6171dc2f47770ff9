import * as crypto from 'crypto';
import * as vscode from 'vscode';
import type { ExtensionToWebview, WebviewToExtension } from '../../shared/protocol';
import { Services } from '../services';

/** The Message Log webview view in the panel. */
class MessageLogProvider implements vscode.WebviewViewProvider {
  constructor(private readonly services: Services) {}

  resolveWebviewView(view: vscode.WebviewView): void {
    const extUri = this.services.context.extensionUri;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extUri, 'media'), vscode.Uri.joinPath(extUri, 'dist')],
    };
    view.webview.html = this.html(view.webview);
    const post = (m: ExtensionToWebview) => view.webview.postMessage(m);
    this.services.context.subscriptions.push(
      view.webview.onDidReceiveMessage((m: WebviewToExtension) => {
        if (m.type === 'ready') void post({ type: 'init', instanceId: this.services.settings().instanceId ?? null });
      }),
    );
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const extUri = this.services.context.extensionUri;
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'dist', 'webview.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'media', 'messageLog.css'));
    const codicons = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'dist', 'codicons', 'codicon.css'));
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${webview.cspSource}; font-src ${webview.cspSource}; img-src ${webview.cspSource}; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${codicons.toString()}" rel="stylesheet">
<link href="${css.toString()}" rel="stylesheet">
<title>Message Log</title>
</head>
<body>
<div id="root" role="main">Loading…</div>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }
}

export function registerMessageLog(services: Services, viewId: string): void {
  services.context.subscriptions.push(
    vscode.window.registerWebviewViewProvider(viewId, new MessageLogProvider(services)),
  );
}
