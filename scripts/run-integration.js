// Runs the integration tests (test/integration/**/*.test.ts, compiled to out/test/integration/)
// inside the real VS Code extension host of code-server, driven by headless Chromium.
//
//   node scripts/run-integration.js [--grep <pattern>] [--files <part of a file name>] [--json <result file>]
//
// Workspaces: every test file may name the fixture workspace it needs with a line
//     // @fixture <name>
// near its top (names are in FIXTURES in scripts/demo.js; the default is `demo`: the main project
// `opencode_4py` as a git repo with history, two targets, and a coordination folder with the seed 004
// files and targets.json). Test files are grouped by fixture; each group gets a fresh copy of its
// workspace, its own code-server and its own browser, so tests of one group share one workspace
// (order inside a file is the order of its `it`s; files run in alphabetical order).
//
// Inside the extension host, test/integration/index.ts runs mocha and writes the counts to the file
// named by SYNCORD_TEST_RESULT; this runner reads it. A group whose server, browser or test run
// cannot start or never finishes counts as a failure.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const util = require('util');
const { startServer, removeOnExit } = require('./vscode-server');
const { launchChromium } = require('./browser');
const { createFixture } = require('./demo');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'out', 'test', 'integration');
const OUTPUT = path.join(ROOT, 'test-output', 'integration');
const GROUP_TIMEOUT_MS = 10 * 60_000;
/** Marks mocha's lines in the console the workbench forwards (see SYNCORD_TEST_LOG_MARK in index.ts). */
const LOG_MARK = '[syncord-test] ';

function findTests(dir) {
  if (!fs.existsSync(dir)) return [];
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) found.push(p);
  }
  return found.sort();
}

function fixtureOf(file) {
  // The comment is read from the TypeScript source: tsc puts its module helpers (dozens of lines) in front of
  // it in the compiled file.
  const source = path.join(ROOT, path.relative(path.join(ROOT, 'out'), file)).replace(/\.js$/, '.ts');
  const from = fs.existsSync(source) ? source : file;
  const head = fs.readFileSync(from, 'utf8').split('\n').slice(0, from === source ? 30 : 80).join('\n');
  const m = /^\s*\/\/\s*@fixture\s+([\w-]+)/m.exec(head);
  return m ? m[1] : 'demo';
}

async function runGroup(fixture, files, { grep }) {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `syncord-it-${fixture}-`));
  removeOnExit(runDir);
  const resultFile = path.join(runDir, 'result.json');
  const ws = createFixture(fixture, path.join(runDir, 'ws'));
  const started = Date.now();
  let server;
  let context;
  let outcome;
  try {
    server = await startServer({
      runDir: path.join(runDir, 'server'),
      folder: ws.folder,
      env: {
        SYNCORD_TEST_FILES: JSON.stringify(files),
        SYNCORD_TEST_RESULT: resultFile,
        SYNCORD_TEST_WORKSPACE_ROOT: ws.root,
        SYNCORD_TEST_FIXTURE: fixture,
        SYNCORD_TEST_LOG_MARK: LOG_MARK,
        ...(grep ? { SYNCORD_TEST_GREP: grep } : {}),
      },
    });
    context = await launchChromium({ runDir });
    const page = context.pages()[0] || (await context.newPage());
    let exitCode;
    const exited = new Promise((resolve) => {
      page.exposeFunction('codeAutomationExit', (code) => {
        exitCode = code;
        resolve();
      });
    });
    // The workbench's console, with the extension host's (mocha's reporter) in it, arrives here:
    // mocha's lines are printed, the rest goes to workbench-console.log (kept when tests fail).
    const consoleLog = fs.createWriteStream(path.join(runDir, 'workbench-console.log'));
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      const text = util.format(...(Array.isArray(args) ? args : [args]));
      for (const line of text.split('\n')) {
        if (line.startsWith(LOG_MARK)) process.stdout.write(line.slice(LOG_MARK.length) + '\n');
        else consoleLog.write(`[${type}] ${line}\n`);
      }
    });
    const ext = `vscode-remote://${server.host}${ROOT}`;
    const payload = [
      ['extensionDevelopmentPath', ext],
      ['extensionTestsPath', `${ext}/out/test/integration/index.js`],
    ];
    await page.goto(server.workbenchUrl(ws.folder, payload));
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), GROUP_TIMEOUT_MS);
    });
    const how = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (how === 'timeout') throw new Error(`the test run did not finish within ${GROUP_TIMEOUT_MS / 60_000} minutes`);
    if (!fs.existsSync(resultFile)) {
      throw new Error(`the extension host ended the test run (exit code ${exitCode}) without a result; did test/integration/index.js load?`);
    }
    const result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
    if (exitCode !== 0 && result.failed === 0) {
      result.failed = 1;
      result.failures.push({ title: `fixture ${fixture}`, error: `test run exited with code ${exitCode}` });
    }
    outcome = { fixture, ...result };
  } catch (e) {
    outcome = { fixture, passed: 0, failed: 1, failures: [{ title: `fixture ${fixture}: running the tests`, error: e.stack || String(e) }], crashed: true };
  } finally {
    if (context) await context.close().catch(() => {});
    if (server) await server.stop();
  }
  outcome.seconds = Math.round((Date.now() - started) / 100) / 10;
  if (outcome.failed > 0) {
    // Keep the logs of a failing run where people look for them.
    const keep = path.join(OUTPUT, fixture);
    fs.rmSync(keep, { recursive: true, force: true });
    fs.mkdirSync(keep, { recursive: true });
    const logs = path.join(runDir, 'server', 'user-data', 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(keep, 'logs'), { recursive: true });
    for (const f of [path.join(runDir, 'server', 'server.log'), path.join(runDir, 'workbench-console.log')]) {
      if (fs.existsSync(f)) fs.copyFileSync(f, path.join(keep, path.basename(f)));
    }
    outcome.logs = keep;
  }
  fs.rmSync(runDir, { recursive: true, force: true });
  return outcome;
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const grep = opt('--grep');
  const jsonOut = opt('--json');

  const only = opt('--files');
  const files = findTests(OUT).filter((f) => !only || path.relative(OUT, f).includes(only));
  const summary = { passed: 0, failed: 0, failures: [], groups: [] };
  if (!fs.existsSync(path.join(OUT, 'index.js'))) {
    summary.failed = 1;
    summary.failures.push({ title: 'integration tests', error: `${path.relative(ROOT, OUT)}/index.js is missing: compile with \`tsc -p tsconfig.json\` first` });
  } else if (files.length === 0) {
    summary.failed = 1;
    summary.failures.push({ title: 'integration tests', error: `no *.test.js files under ${path.relative(ROOT, OUT)}` });
  } else {
    const groups = new Map();
    for (const f of files) {
      const fx = fixtureOf(f);
      groups.set(fx, [...(groups.get(fx) || []), f]);
    }
    for (const [fixture, groupFiles] of groups) {
      console.log(`\n[integration] fixture "${fixture}": ${groupFiles.map((f) => path.relative(OUT, f)).join(', ')}`);
      const r = await runGroup(fixture, groupFiles, { grep });
      console.log(`[integration] fixture "${fixture}": ${r.passed} passed, ${r.failed} failed (${r.seconds} s)${r.logs ? `; logs in ${path.relative(ROOT, r.logs)}` : ''}`);
      summary.passed += r.passed;
      summary.failed += r.failed;
      summary.failures.push(...r.failures);
      summary.groups.push(r);
    }
  }
  for (const f of summary.failures) console.error(`\n[integration] FAILED ${f.title}\n${f.error}`);
  console.log(`\n[integration] total: ${summary.passed} passed, ${summary.failed} failed`);
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(summary, null, 2) + '\n');
  process.exitCode = summary.failed > 0 ? 1 : 0;
}

module.exports = { findTests, fixtureOf, INTEGRATION_OUT: OUT };

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
