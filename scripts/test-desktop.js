// `npm run test:desktop`: the integration suite (test/integration) in desktop VS Code, downloaded
// and started by @vscode/test-electron. Needs update.code.visualstudio.com; when that host cannot
// be reached it stops at once with a message (exit 1) instead of hanging on the download.
// On a Linux machine without a display, run it under `xvfb-run -a npm run test:desktop`.
//
//   VSCODE_VERSION=1.100.3 npm run test:desktop     (default: stable)
'use strict';

const childProcess = require('child_process');
const dns = require('dns');
const fs = require('fs');
const https = require('https');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const HOST = 'update.code.visualstudio.com';

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]);
}

async function checkReachable() {
  await withTimeout(dns.promises.lookup(HOST), 4000, `DNS lookup of ${HOST}`);
  await withTimeout(
    new Promise((resolve, reject) => {
      const req = https.request({ host: HOST, path: '/api/releases/stable', method: 'HEAD', timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('timeout', () => req.destroy(new Error('no answer')));
      req.on('error', reject);
      req.end();
    }),
    6000,
    `HEAD https://${HOST}`,
  );
}

function run(args) {
  const r = childProcess.spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  return r.status === 0;
}

async function main() {
  try {
    await checkReachable();
  } catch (e) {
    console.error(
      `test:desktop needs to download VS Code from ${HOST}, which cannot be reached here (${e.message}).\n` +
        'Run it on a machine with that access, or use `npm test`, which runs the same integration suite in\n' +
        'code-server (installed from the npm registry).',
    );
    process.exit(1);
  }

  const { runTests } = require('@vscode/test-electron');
  const { findTests, fixtureOf, INTEGRATION_OUT } = require('./run-integration');
  const { createFixture } = require('./demo');

  if (!run(['esbuild.js'])) process.exit(1);
  if (!run([path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])) {
    console.error('type errors (see above); running the tests anyway');
  }
  const files = findTests(INTEGRATION_OUT);
  if (files.length === 0) {
    console.error('no integration tests were compiled');
    process.exit(1);
  }
  const groups = new Map();
  for (const f of files) groups.set(fixtureOf(f), [...(groups.get(fixtureOf(f)) || []), f]);

  let passed = 0;
  let failed = 0;
  for (const [fixture, groupFiles] of groups) {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `syncord-desktop-${fixture}-`));
    const ws = createFixture(fixture, path.join(runDir, 'ws'));
    const resultFile = path.join(runDir, 'result.json');
    try {
      await runTests({
        version: process.env.VSCODE_VERSION || 'stable',
        extensionDevelopmentPath: ROOT,
        extensionTestsPath: path.join(INTEGRATION_OUT, 'index.js'),
        launchArgs: [ws.folder, '--disable-extensions', '--disable-workspace-trust', '--user-data-dir', path.join(runDir, 'user-data')],
        extensionTestsEnv: {
          SYNCORD_TEST_FILES: JSON.stringify(groupFiles),
          SYNCORD_TEST_RESULT: resultFile,
          SYNCORD_TEST_WORKSPACE_ROOT: ws.root,
          SYNCORD_TEST_FIXTURE: fixture,
        },
      });
    } catch (e) {
      console.error(`fixture ${fixture}: ${e.message || e}`);
    }
    try {
      const r = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
      passed += r.passed;
      failed += r.failed;
    } catch {
      failed += 1;
      console.error(`fixture ${fixture}: the test run left no result`);
    }
    fs.rmSync(runDir, { recursive: true, force: true });
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
