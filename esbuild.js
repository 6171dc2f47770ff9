// Builds the three faces of Syncord:
//   dist/extension.js  the VS Code extension (Node, CommonJS, `vscode` external)
//   dist/cli.js        the `syncord` command-line tool (Node, CommonJS, with a shebang)
//   dist/client.js     the agents' `syncord` command: hands coordination verbs to the workspace's daemon when one
//                      runs, else loads cli.js (one small file that loads nothing else first)
//   dist/chunks/*.js   the code both of them use, and the CLI's verb areas, each loaded when first needed
//   dist/lazy/*.js     modules the code above loads with a plain `require` only when it needs them (see `lazyModules`)
//   dist/webview.js    the Message Log webview script (browser)
// `--production` minifies; `--watch` rebuilds on change.
//
// The extension and the CLI are built together with code splitting, so the core and the libraries are shipped
// once, and a CLI verb loads only its own area (src/cli/program.ts imports the areas dynamically). esbuild splits
// only ES modules, and VS Code loads extensions as CommonJS, so each output file is then turned into CommonJS
// (`import` becomes `require`, `import()` a lazy `require`): every file under dist/ is plain CommonJS.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
// `--outdir <dir>` builds somewhere other than dist/ (the start-up benchmark builds a production copy apart).
const outArg = process.argv.indexOf('--outdir');
const outdir = path.resolve(__dirname, outArg > 0 ? process.argv[outArg + 1] : 'dist');

/** Prints build problems in the `file:line:col` form that editors and problem matchers understand. */
const problemReporter = {
  name: 'problem-reporter',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log(`[watch] build started (${build.initialOptions.outfile ?? build.initialOptions.outdir})`);
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log(`[watch] build finished (${build.initialOptions.outfile ?? build.initialOptions.outdir})`);
    });
  },
};

/**
 * zod re-exports all of its ~60 message locales as `z.locales` (and `core.locales`), so a bundle that uses the `z`
 * namespace carries every one of them (about 250 KB minified). Syncord only ever prints zod's default English
 * messages, so its `locales/index.js` is replaced by one that exports `en` alone: `z.locales.en` stays, and the
 * default locale (which zod's schemas load from `locales/en.js` directly) is untouched.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]zod[\\/]v4[\\/](core|classic|mini)$/.test(args.resolveDir)) return undefined;
      return { path: path.join(args.resolveDir, '..', 'locales', 'index.js'), namespace: 'zod-english-only' };
    });
    build.onLoad({ filter: /.*/, namespace: 'zod-english-only' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))};\n`,
      resolveDir: path.dirname(args.path),
      loader: 'js',
    }));
  },
};

/**
 * The MCP SDK's server loads ajv (with ajv-formats, about 130 KB minified) as its default validator of the answers
 * a client gives to the server's questions (elicitation). Syncord's server asks none and passes a validator of its
 * own (src/mcp/server.ts), so the default is replaced by a stand-in that says so if it is ever constructed.
 */
const mcpWithoutAjv = {
  name: 'mcp-without-ajv',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/validation\/ajv-provider\.js$/ }, (args) => {
      if (!/[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server$/.test(args.resolveDir)) return undefined;
      return { path: 'ajv-provider', namespace: 'mcp-without-ajv' };
    });
    build.onLoad({ filter: /.*/, namespace: 'mcp-without-ajv' }, () => ({
      contents:
        'export class AjvJsonSchemaValidator { constructor() { throw new Error("this build of Syncord has no default JSON Schema validator: pass jsonSchemaValidator"); } }\n',
      loader: 'js',
    }));
  },
};

/**
 * Modules that are `require`d where they are needed instead of imported, so that code which does not need them
 * never reads them: the zod schemas of the coordination files, which a read needs only to describe a file that
 * fails its generated check (src/core/coordination/store.ts). esbuild would bundle a required module into the
 * requiring chunk, with everything it imports (zod), read on every start; instead each becomes an entry point of
 * its own in dist/lazy/ (sharing chunks with the rest), and the `require` of it is left to run time, pointed at
 * that file from wherever the requiring code lands (see `toCommonJs`). An `import` of the same module elsewhere
 * still bundles it as usual (into a shared chunk, so there is one copy of it).
 */
const lazyModules = { 'src/core/coordination/schemas.ts': 'coordination-schemas' };
const LAZY_PREFIX = 'syncord-lazy:';

const lazyRequire = {
  name: 'lazy-require',
  setup(build) {
    build.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== 'require-call') return undefined;
      const rel = path.relative(__dirname, path.resolve(args.resolveDir, args.path)).split(path.sep).join('/');
      const name = lazyModules[`${rel}.ts`] ?? lazyModules[rel];
      return name ? { path: `${LAZY_PREFIX}${name}`, external: true } : undefined;
    });
  },
};

const common = {
  bundle: true,
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'silent',
  plugins: [problemReporter, zodEnglishOnly, mcpWithoutAjv],
  define: { 'process.env.SYNCORD_VERSION': JSON.stringify(require('./package.json').version) },
  // Prefer ES module builds: jsonc-parser's UMD build loads its parts with a require() esbuild cannot follow.
  mainFields: ['module', 'main'],
};

const node = {
  ...common,
  // Source maps are inlined in the ES module pass and carried over (as files) by the CommonJS pass.
  sourcemap: production ? false : 'inline',
  entryPoints: {
    extension: 'src/extension/extension.ts',
    cli: 'src/cli/main.ts',
    ...Object.fromEntries(Object.entries(lazyModules).map(([file, name]) => [`lazy/${name}`, file])),
  },
  outdir,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  write: false,
  plugins: [...common.plugins, lazyRequire, toCommonJs()],
};

/** The daemon's client: one file of its own, no chunks, so that a call through the daemon reads nothing more. */
const client = {
  ...common,
  entryPoints: ['src/cli/client.ts'],
  outfile: path.join(outdir, 'client.js'),
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: false,
  banner: { js: '#!/usr/bin/env node' },
};

const webview = {
  ...common,
  entryPoints: ['src/webview/main.ts'],
  outfile: path.join(outdir, 'webview.js'),
  platform: 'browser',
  mainFields: ['browser', 'module', 'main'],
  format: 'iife',
  target: 'es2022',
};

/** After the split ES module build: each file as CommonJS into dist/ (old chunks removed), cli.js executable. */
function toCommonJs() {
  return {
    name: 'to-commonjs',
    setup(build) {
      build.onEnd(async (result) => {
        if (result.errors.length || !result.outputFiles) return;
        const chunks = path.join(outdir, 'chunks');
        fs.rmSync(chunks, { recursive: true, force: true });
        fs.rmSync(path.join(outdir, 'lazy'), { recursive: true, force: true });
        fs.mkdirSync(chunks, { recursive: true });
        for (const out of result.outputFiles) {
          const isCli = out.path === path.join(outdir, 'cli.js');
          const cjs = await esbuild.transform(out.text, {
            format: 'cjs',
            loader: 'js',
            platform: 'node',
            target: 'node20',
            // `import()` of a chunk becomes a `require` of it, run when the import is reached.
            supported: { 'dynamic-import': false },
            minify: production,
            sourcemap: production ? false : 'external',
            sourcefile: path.relative(__dirname, out.path),
            sourcesContent: false,
            // ES modules are strict code: the CommonJS files must stay strict (a write to a frozen object throws).
            banner: isCli ? '#!/usr/bin/env node\n"use strict";' : '"use strict";',
            logLevel: 'silent',
          });
          fs.mkdirSync(path.dirname(out.path), { recursive: true });
          // A lazy module's `require`, pointed at its entry in dist/lazy/ from where this file is.
          let code = cjs.code.replace(/(["'])syncord-lazy:([\w-]+)\1/g, (_, q, name) => {
            const rel = path.relative(path.dirname(out.path), path.join(outdir, 'lazy', `${name}.js`)).split(path.sep).join('/');
            // Absolute at run time: esbuild's require helper may live in another file than this one.
            return `__dirname + ${JSON.stringify(`/${rel}`)}`;
          });
          if (cjs.map) {
            fs.writeFileSync(`${out.path}.map`, cjs.map);
            code += `//# sourceMappingURL=${path.basename(out.path)}.map\n`;
          }
          fs.writeFileSync(out.path, code, isCli ? { mode: 0o755 } : undefined);
          if (isCli) fs.chmodSync(out.path, 0o755);
        }
      });
    },
  };
}

async function main() {
  const contexts = await Promise.all([node, client, webview].map((b) => esbuild.context(b)));
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
  fs.mkdirSync(path.join(outdir, 'codicons'), { recursive: true });
  for (const f of ['codicon.css', 'codicon.ttf']) {
    fs.copyFileSync(path.join(codicons, f), path.join(outdir, 'codicons', f));
  }
  if (fs.existsSync(path.join(outdir, 'client.js'))) fs.chmodSync(path.join(outdir, 'client.js'), 0o755);
  // The agents' command while a daemon runs (Perl: no build step).
  fs.copyFileSync(path.join(__dirname, 'src', 'cli', 'client.pl'), path.join(outdir, 'client.pl'));
  if (failed) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
