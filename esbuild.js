// Builds the three faces of Syncord:
//   dist/extension.js  the VS Code extension (Node, CommonJS, `vscode` external)
//   dist/cli.js        the `syncord` command-line tool (Node, with a shebang)
//   dist/webview.js    the Message Log webview script (browser)
// `--production` minifies; `--watch` rebuilds on change.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** Prints build problems in the `file:line:col` form that editors and problem matchers understand. */
const problemReporter = {
  name: 'problem-reporter',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log(`[watch] build started (${build.initialOptions.outfile})`);
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log(`[watch] build finished (${build.initialOptions.outfile})`);
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemReporter],
  define: { 'process.env.SYNCORD_VERSION': JSON.stringify(require('./package.json').version) },
  // Prefer ES module builds: jsonc-parser's UMD build loads its parts with a require() esbuild cannot follow.
  mainFields: ['module', 'main'],
};

const builds = [
  {
    ...common,
    entryPoints: ['src/extension/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: ['src/webview/main.ts'],
    outfile: 'dist/webview.js',
    platform: 'browser',
    mainFields: ['browser', 'module', 'main'],
    format: 'iife',
    target: 'es2022',
  },
];

async function main() {
  const contexts = await Promise.all(builds.map((b) => esbuild.context(b)));
  if (watch) {
    await Promise.all(contexts.map((c) => c.watch()));
    return;
  }
  let failed = false;
  for (const ctx of contexts) {
    try {
      const result = await ctx.rebuild();
      if (result.errors.length) failed = true;
    } catch {
      failed = true;
    }
    await ctx.dispose();
  }
  // Codicons for the webview, served from dist/ so the .vsix does not need node_modules.
  const codicons = path.join(__dirname, 'node_modules', '@vscode', 'codicons', 'dist');
  fs.mkdirSync(path.join(__dirname, 'dist', 'codicons'), { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) {
    fs.copyFileSync(path.join(codicons, f), path.join(__dirname, 'dist', 'codicons', f));
  }
  fs.chmodSync(path.join(__dirname, 'dist', 'cli.js'), 0o755);
  if (failed) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
