// `npm test`: builds, type-checks and runs the four test tiers, then prints one closing line
// `N passed, N failed` over all of them. Exits non-zero when anything failed, including a step or
// tier that could not run at all (that counts as a failure, never as an empty success).
//
//   1. build       node esbuild.js                        (dist/)
//   2. typecheck   tsc -p tsconfig.json (emits out/), tsc -p src/core/tsconfig.json --noEmit
//   3. code-server installed into .vscode-test/ (scripts/vscode-server.js; once, then reused)
//   4. Claude Code and opencode installed into .vscode-test/ (scripts/agents.js; once, then reused)
//   5. unit        mocha on out/test/unit/**              (.mocharc.json)
//   6. integration mocha in the real extension host     (scripts/run-integration.js)
//   7. e2e         mocha driving the real workbench     (.mocharc.e2e.json, test/e2e/workbench.ts)
//   8. agents      mocha running the real claude and opencode against a scripted model
//                  on 127.0.0.1                          (.mocharc.agents.json, test/agents/harness.ts)
//
// Options: --only unit,integration,e2e,agents   run only these tiers (build and typecheck always run)
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const MOCHA = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const REPORTER = path.join(__dirname, 'mocha-reporter.js');

let current;
let tmp;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    // The tier's own process stops its servers and browsers (scripts/vscode-server.js exit hooks).
    if (current) current.kill(sig);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

function banner(text) {
  console.log(`\n━━━ ${text} ${'━'.repeat(Math.max(3, 70 - text.length))}`);
}

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    current = childProcess.spawn(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env } });
    current.on('error', (e) => {
      console.error(`cannot run ${cmd}: ${e.message}`);
      resolve({ code: 1, seconds: 0 });
    });
    current.on('exit', (code, signal) => {
      current = undefined;
      resolve({ code: code ?? 1, signal, seconds: (Date.now() - started) / 1000 });
    });
  });
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

async function main() {
  const tiers = ['unit', 'integration', 'e2e', 'agents'];
  const onlyArg = process.argv.find((a) => a.startsWith('--only'));
  const only = onlyArg
    ? ((onlyArg.includes('=') ? onlyArg.split('=')[1] : process.argv[process.argv.indexOf(onlyArg) + 1]) || '').split(',')
    : tiers;
  const unknown = only.filter((t) => !tiers.includes(t));
  if (unknown.length) {
    console.error(`unknown tier ${unknown.map((t) => `"${t}"`).join(', ')} in --only; the tiers are ${tiers.join(', ')}`);
    console.log('0 passed, 1 failed');
    process.exit(2);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-test-'));
  const rows = [];
  const total = { passed: 0, failed: 0, skipped: 0 };
  const record = (name, passed, failed, seconds, note = '', skipped = 0) => {
    rows.push({ name, passed, failed, skipped, seconds, note });
    total.passed += passed;
    total.failed += failed;
    total.skipped += skipped;
  };
  const allStarted = Date.now();

  banner('build (node esbuild.js)');
  const build = await run(process.execPath, ['esbuild.js']);
  const built = build.code === 0;
  if (!built) record('build', 0, 1, build.seconds, 'esbuild failed');

  banner('typecheck (tsc -p tsconfig.json; tsc -p src/core/tsconfig.json --noEmit)');
  // Compiled tests of deleted sources must not run: start from an empty out/.
  fs.rmSync(path.join(ROOT, 'out'), { recursive: true, force: true });
  const tsc = await run(process.execPath, [TSC, '-p', 'tsconfig.json']);
  const tscCore = await run(process.execPath, [TSC, '-p', 'src/core/tsconfig.json', '--noEmit']);
  if (tsc.code !== 0) record('typecheck', 0, 1, tsc.seconds, 'type errors (tsconfig.json)');
  if (tscCore.code !== 0) record('typecheck core', 0, 1, tscCore.seconds, 'type errors (src/core/tsconfig.json)');
  if (tsc.code === 0 && tscCore.code === 0) console.log('no type errors');

  let serverReady = false;
  if (only.includes('integration') || only.includes('e2e')) {
    banner('code-server (scripts/vscode-server.js install)');
    const install = await run(process.execPath, [path.join(__dirname, 'vscode-server.js'), 'install']);
    serverReady = install.code === 0;
    if (!serverReady) record('code-server install', 0, 1, install.seconds, 'see the message above');
  }

  let agentsReady = false;
  // The integration tier runs the real Claude Code in a VS Code terminal too (test/integration/realAgents.test.ts).
  if (only.includes('agents') || only.includes('integration')) {
    banner('Claude Code and opencode (scripts/agents.js install)');
    const install = await run(process.execPath, [path.join(__dirname, 'agents.js'), 'install']);
    agentsReady = install.code === 0;
    if (!agentsReady) record('agents install', 0, 1, install.seconds, 'see the message above');
  }

  const mochaTier = async (name, config) => {
    const resultFile = path.join(tmp, `${name}.json`);
    const r = await run(process.execPath, [MOCHA, '--config', config, '--reporter', REPORTER], { SYNCORD_MOCHA_RESULT: resultFile });
    const res = readJson(resultFile);
    if (!res) return record(name, 0, 1, r.seconds, `mocha ended (${r.signal || `exit ${r.code}`}) without a result`);
    if (res.passed + res.failed === 0) return record(name, 0, 1, r.seconds, 'no test ran');
    const extra = r.code !== 0 && res.failed === 0 ? 1 : 0;
    record(name, res.passed, res.failed + extra, r.seconds, extra ? `mocha exited with ${r.code}` : '', res.pending);
  };

  if (only.includes('unit')) {
    banner('unit tests (mocha, out/test/unit)');
    await mochaTier('unit', '.mocharc.json');
  }

  if (only.includes('integration')) {
    banner('integration tests (mocha in the code-server extension host)');
    if (!built || !serverReady) {
      record('integration', 0, 1, 0, built ? 'code-server is not installed' : 'not run: the build failed');
    } else {
      const resultFile = path.join(tmp, 'integration.json');
      const r = await run(process.execPath, [path.join(__dirname, 'run-integration.js'), '--json', resultFile]);
      const res = readJson(resultFile);
      if (!res) record('integration', 0, 1, r.seconds, `runner ended (${r.signal || `exit ${r.code}`}) without a result`);
      else if (res.passed + res.failed === 0) record('integration', 0, 1, r.seconds, 'no test ran');
      else {
        const extra = r.code !== 0 && res.failed === 0 ? 1 : 0;
        record('integration', res.passed, res.failed + extra, r.seconds);
      }
    }
  }

  if (only.includes('e2e')) {
    banner('end-to-end tests (mocha + Chromium driving the code-server workbench)');
    if (!built || !serverReady) record('e2e', 0, 1, 0, built ? 'code-server is not installed' : 'not run: the build failed');
    else await mochaTier('e2e', '.mocharc.e2e.json');
  }

  if (only.includes('agents')) {
    banner('agents tests (mocha + the real claude and opencode against a scripted model)');
    if (!built || !agentsReady) record('agents', 0, 1, 0, built ? 'Claude Code and opencode are not installed' : 'not run: the build failed');
    else await mochaTier('agents', '.mocharc.agents.json');
  }

  fs.rmSync(tmp, { recursive: true, force: true });
  banner('summary');
  for (const r of rows) {
    const skipped = r.skipped ? `, ${r.skipped} skipped` : '';
    console.log(
      `${(r.name + ':').padEnd(22)} ${r.passed} passed, ${r.failed} failed${skipped}  (${r.seconds.toFixed(1)} s)${r.note ? `  ${r.note}` : ''}`,
    );
  }
  console.log(`total time ${((Date.now() - allStarted) / 1000).toFixed(1)} s`);
  console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`);
  process.exit(total.failed > 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
