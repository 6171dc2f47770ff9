// Entry point of the integration tests inside the VS Code extension host, in the shape
// @vscode/test-electron expects (an exported `run()`); scripts/run-integration.js (code-server) and
// scripts/test-desktop.js (desktop VS Code) both load it through `extensionTestsPath`.
//
// Environment (all optional):
//   SYNCORD_TEST_FILES   JSON array of absolute .test.js paths to run (default: every
//                        out/test/integration/**/*.test.js next to this file)
//   SYNCORD_TEST_RESULT  file to write {passed, failed, failures:[{title, error}]} to when done
//   SYNCORD_TEST_GREP    only run tests whose full title matches this pattern
//   SYNCORD_TEST_LOG_MARK  prefix for the reporter's lines, so a runner that also receives the
//                        workbench's own console can tell mocha's output apart
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import Mocha from 'mocha';

function findTests(dir: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(p));
    else if (entry.name.endsWith('.test.js')) found.push(p);
  }
  return found.sort();
}

export interface IntegrationResult {
  passed: number;
  failed: number;
  failures: { title: string; error: string }[];
}

export function run(): Promise<void> {
  const mark = process.env.SYNCORD_TEST_LOG_MARK ?? '';
  // One preformatted string per line: consoles that forward the extension host's output do not
  // all apply printf-style formatting.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(mark + util.format(...args));
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  if (process.env.SYNCORD_TEST_GREP) mocha.grep(process.env.SYNCORD_TEST_GREP);
  const files = process.env.SYNCORD_TEST_FILES ? (JSON.parse(process.env.SYNCORD_TEST_FILES) as string[]) : findTests(__dirname);
  for (const f of files) mocha.addFile(f);

  const result: IntegrationResult = { passed: 0, failed: 0, failures: [] };
  const writeResult = () => {
    const out = process.env.SYNCORD_TEST_RESULT;
    if (out) fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  };

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        writeResult();
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
      runner.on('pass', () => result.passed++);
      runner.on('fail', (test, err: Error) => {
        result.failed++;
        result.failures.push({ title: test.fullTitle(), error: String(err && (err.stack || err.message || err)) });
      });
    } catch (e) {
      // A test file that cannot even load counts as a failure, never as an empty success.
      result.failed++;
      result.failures.push({ title: 'loading the integration tests', error: String((e as Error).stack || e) });
      writeResult();
      reject(e);
    }
  });
}
