/**
 * The Message Log webview's page. Free of `vscode` so the benchmark can load the very same page in a plain
 * browser. Scripts run only with the nonce; styles, fonts and images only from the extension's own folders.
 */
export function messageLogHtml(o: { nonce: string; cspSource: string; script: string; css: string; codicons: string; extraScript?: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${o.cspSource}; font-src ${o.cspSource}; img-src ${o.cspSource}; script-src 'nonce-${o.nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${o.codicons}" rel="stylesheet">
<link href="${o.css}" rel="stylesheet">
<title>Message Log</title>
</head>
<body>
<div id="root" role="main" aria-busy="true">Loading…</div>
${o.extraScript ? `<script nonce="${o.nonce}">${o.extraScript}</script>\n` : ''}<script nonce="${o.nonce}" src="${o.script}"></script>
</body>
</html>`;
}
