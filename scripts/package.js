// `npm run package`: production build, then dist-vsix/syncord-<version>.vsix with @vscode/vsce.
// Dependencies are bundled into dist/ by esbuild, so the .vsix carries no node_modules.
// README.md's links and pictures are relative to the repository (docs/, docs/images/), which has no public URL
// here: they are kept relative (--no-rewrite-relative-links) instead of being refused.
//   node scripts/package.js [--out <file.vsix>]
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const { name, version } = require(path.join(ROOT, 'package.json'));
const outArg = process.argv.indexOf('--out');
const out = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(ROOT, 'dist-vsix', `${name}-${version}.vsix`);

function run(args) {
  const r = childProcess.spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status || 1);
}

fs.mkdirSync(path.dirname(out), { recursive: true });
fs.rmSync(out, { force: true });
run(['esbuild.js', '--production']);
run([require.resolve('@vscode/vsce/vsce', { paths: [ROOT] }), 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', out]);
console.log(`${path.relative(ROOT, out)}: ${(fs.statSync(out).size / 1024).toFixed(0)} KB`);
