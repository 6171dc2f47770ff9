import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { RULES_TEMPLATE } from '../../../src/core/targets/rules';
import { makeWorkspace, Workspace, write } from './helpers';

describe('targets: sync verify', () => {
  let ws: Workspace;
  beforeEach(async () => {
    ws = makeWorkspace();
    assert.equal((await ws.run('target', 'add', 'app', '--path', ws.src, '--type', 'source')).code, 0);
  });
  afterEach(() => ws.cleanup());

  it('reports broken relative links with the file and line in the target', async () => {
    write(ws.main, 'docs/GUIDE.md', '# Guide\n\nIntro.\n\nSee [setup](SETUP.md), [gone](MISSING.md#top) and [web](https://example.com).\n');
    ws.commit('guide');
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    const v = await ws.run('--json', 'sync', 'verify', '--target', 'app');
    assert.equal(v.code, 1);
    const links = v.json().checks.find((c: any) => c.name === 'links');
    assert.equal(links.status, 'fail');
    assert.deepEqual(links.problems, [
      { file: path.join(ws.src, 'docs/opencode/docs/GUIDE.md'), line: 5, column: 31, message: 'broken link: MISSING.md#top' },
    ]);
    // docs/INDEX.md links ../plans/SYNC_PLAN.md: it resolves in the target because plans sit beside docs.
    assert.equal(v.json().checks.filter((c: any) => c.status === 'fail').length, 1);
  });

  it('runs the verify commands in the target with a timeout, keeps their output, and exits 1 on failure', async () => {
    const rules = RULES_TEMPLATE.replace(
      '"commands": [],',
      `"commands": [
        { "name": "pre-flight", "command": "echo checking in $(pwd); test -f opencode.toml" },
        { "name": "slow", "command": "sleep 5", "timeout_ms": 300 },
      ],`,
    );
    write(ws.main, 'coordination/sync-rules.jsonc', rules);
    assert.equal((await ws.run('sync', 'run', '--target', 'app')).code, 0);
    // Commands from the workspace's rules run once the user trusted them (the record in a temporary config folder).
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = path.join(ws.dir, 'config');
    try {
      assert.equal((await ws.run('sync', 'verify', '--target', 'app')).code, 8);
      assert.equal((await ws.run('trust')).code, 0);
      await verifyTrusted();
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  async function verifyTrusted(): Promise<void> {
    const v = await ws.run('--json', 'sync', 'verify', '--target', 'app');
    assert.equal(v.code, 1);
    const checks = v.json().checks;
    const pre = checks.find((c: any) => c.name === 'command:pre-flight');
    assert.equal(pre.status, 'pass');
    assert.equal(pre.command.output.trim(), `checking in ${fs.realpathSync(ws.src)}`);
    assert.equal(fs.readFileSync(pre.command.logFile, 'utf8').trim(), `checking in ${fs.realpathSync(ws.src)}`);
    const slow = checks.find((c: any) => c.name === 'command:slow');
    assert.equal(slow.status, 'fail');
    assert.equal(slow.command.timedOut, true);
    const skipped = await ws.run('--json', 'sync', 'verify', '--target', 'app', '--no-commands');
    assert.equal(skipped.code, 0);
    assert.deepEqual(skipped.json().checks.filter((c: any) => c.status === 'skipped').map((c: any) => c.name), ['command:pre-flight', 'command:slow']);
    fs.rmSync(path.join(ws.src, 'opencode.toml'));
    const failed = await ws.run('sync', 'verify', '--target', 'app');
    assert.match(failed.stdout, /FAIL  command:pre-flight: exit code 1/);
  }
});
