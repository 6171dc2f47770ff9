/**
 * The one typed message protocol between the extension and the Message Log webview.
 * Both sides import this file; nothing else crosses the boundary.
 */

/** Messages the webview sends to the extension. */
export type WebviewToExtension = { type: 'ready' };

/** Messages the extension sends to the webview. */
export type ExtensionToWebview = { type: 'init'; instanceId: string | null };
