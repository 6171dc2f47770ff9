import type { ExtensionToWebview, WebviewToExtension } from '../shared/protocol';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const root = document.getElementById('root') as HTMLElement;

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const msg = event.data;
  if (msg.type === 'init') {
    root.textContent = msg.instanceId ? `Messages for ${msg.instanceId}` : 'Message Log';
  }
});

vscode.postMessage({ type: 'ready' });
