// `npm run package`: production build, then dist-vsix/syncord-<version>.vsix with @vscode/vsce.
// Dependencies are bundled into dist/ by esbuild, so the .vsix carries no node_modules.
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
run([require.resolve('@vscode/vsce/vsce', { paths: [ROOT] }), 'package', '--no-dependencies', '--out', out]);
console.log(`${path.relative(ROOT, out)}: ${(fs.statSync(out).size / 1024).toFixed(0)} KB`);
