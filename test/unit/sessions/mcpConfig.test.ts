// Spawned sessions get Syncord's MCP server without set-up: Claude Code through `--mcp-config` (a file beside its
// hook settings) with the tools allowed, opencode through its inline config; the startup prompt names the tools.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { claudeMcpConfig, opencodeConfigContent } from '../../../src/core/sessions/agents';
import { agentEnv, agentFilesOf, claudeMcpConfigFile, writeAgentFiles } from '../../../src/core/sessions/launch';
import { startupPrompt } from '../../../src/core/sessions/prompts';
import { BUILTIN_RUNTIMES } from '../../../src/core/sessions/runtimes';
import { placeholderValues } from '../../../src/core/sessions/sessions';
import { resolveWorkspace } from '../../../src/core/workspace';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed004');
const SESSION = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';

function workspace() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-mcpcfg-'));
  const paths = resolveWorkspace(root);
  fs.mkdirSync(paths.coordinationDir);
  for (const f of fs.readdirSync(SEED)) fs.copyFileSync(path.join(SEED, f), path.join(paths.coordinationDir, f));
  return paths;
}

describe('sessions: the MCP server for spawned agents', function () {
  this.timeout(60_000);

  it('the built-in claude forms load the MCP config and allow its tools beside the shell form', () => {
    for (const form of [BUILTIN_RUNTIMES.claude.command, BUILTIN_RUNTIMES.claude.headless!, BUILTIN_RUNTIMES.claude.send!]) {
      const at = form.indexOf('--mcp-config');
      assert.ok(at > 0, `no --mcp-config in ${form.join(' ')}`);
      assert.equal(form[at + 1], '{mcp_config}');
      const allowed = form.slice(form.indexOf('--allowedTools') + 1, form.indexOf('--'));
      assert.deepEqual(allowed, ['Bash(syncord:*)', 'mcp__syncord__*']);
      // The prompt stays after `--`, so no variadic option can take it.
      assert.deepEqual(form.slice(-2), ['--', '{prompt}']);
    }
  });

  it("a session's {mcp_config} is its instance's file beside the hook settings; an unsafe instance id is refused", () => {
    const paths = resolveWorkspace('/work/app');
    const v = placeholderValues(paths, { kind: 'claude' }, { session_id: SESSION, instance: 'instance-2', cwd: '/work/app', role: 'backend' }, 'p');
    assert.equal(v.mcp_config, path.join('/work/app', 'coordination', '.syncord', 'agents', 'mcp', 'instance-2.json'));
    assert.equal(path.dirname(path.dirname(v.mcp_config)), path.dirname(v.settings));
    assert.throws(() => claudeMcpConfigFile(paths, '../escape'), /invalid instance id "\.\.\/escape"/);
  });

  it('the Claude Code MCP config names `syncord mcp --as <instance>` through the shim, with the workspace and session', () => {
    const paths = resolveWorkspace('/work/app');
    assert.deepEqual(
      claudeMcpConfig({ shim: '/work/app/coordination/.syncord/bin/syncord', root: paths.root, coordinationDir: paths.coordinationDir, instance: 'instance-2', session: SESSION }),
      {
        mcpServers: {
          syncord: {
            type: 'stdio',
            command: '/work/app/coordination/.syncord/bin/syncord',
            args: ['--workspace', '/work/app', '--coordination-dir', '/work/app/coordination', 'mcp', '--as', 'instance-2'],
            env: { SYNCORD_SESSION: SESSION },
          },
        },
      },
    );
  });

  it("opencode gets the server in its inline config, beside the user's own servers and plugins", () => {
    const mcp = { shim: '/w/bin/syncord', root: '/w', coordinationDir: '/w/coordination', instance: 'docs-opencode', session: SESSION };
    const merged = JSON.parse(opencodeConfigContent('{"plugin":["theirs"],"mcp":{"github":{"type":"remote","url":"https://x"}},"x":1}', '/w/p.js', mcp)!);
    assert.deepEqual(merged, {
      plugin: ['theirs', 'file:///w/p.js'],
      x: 1,
      mcp: {
        github: { type: 'remote', url: 'https://x' },
        syncord: {
          type: 'local',
          command: ['/w/bin/syncord', '--workspace', '/w', '--coordination-dir', '/w/coordination', 'mcp', '--as', 'docs-opencode'],
          environment: { SYNCORD_SESSION: SESSION },
          enabled: true,
        },
      },
    });
    assert.equal(opencodeConfigContent('{broken', '/w/p.js', mcp), undefined, "a broken inline config of the user's is left alone");

    const paths = resolveWorkspace('/w');
    const env = agentEnv({ PATH: '/usr/bin' }, { paths, instance: 'docs-opencode', session: SESSION, files: agentFilesOf(paths), kind: 'opencode' });
    const server = JSON.parse(env.OPENCODE_CONFIG_CONTENT).mcp.syncord;
    assert.deepEqual(server.command, [agentFilesOf(paths).shim, '--workspace', '/w', '--coordination-dir', '/w/coordination', 'mcp', '--as', 'docs-opencode']);
    assert.equal(agentEnv({ PATH: '/usr/bin' }, { paths, instance: 'i', session: SESSION, files: agentFilesOf(paths), kind: 'claude' }).OPENCODE_CONFIG_CONTENT, undefined);
  });

  it('the startup prompt names the MCP tools and keeps the shell form', () => {
    const p = startupPrompt({ instance: 'instance-2', role: 'backend', coordinationDir: '/w/coordination' });
    assert.match(p, /mcp__syncord__\*/);
    assert.match(p, /task_complete/);
    assert.match(p, /`syncord task complete <id>`/);
    assert.ok(!p.includes('\n'), 'one line');
  });

  it('the config file written for a session starts a working server acting as its instance', async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build it with \`node esbuild.js\``);
    const paths = workspace();
    writeAgentFiles(paths, { node: process.execPath, script: CLI }, { instance: 'instance-2', session: SESSION });
    const file = claudeMcpConfigFile(paths, 'instance-2');
    const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { mcpServers: { syncord: { command: string; args: string[]; env: Record<string, string> } } };
    const s = config.mcpServers.syncord;
    assert.equal(s.command, agentFilesOf(paths).shim);
    // Started from another folder (the agent's worktree, say): the config itself names the workspace.
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-elsewhere-'));
    const client = new Client({ name: 'syncord-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: s.command, args: s.args, env: { HOME: elsewhere, ...s.env }, cwd: elsewhere, stderr: 'pipe' }));
    try {
      const r = (await client.callTool({ name: 'inbox', arguments: {} })) as CallToolResult;
      assert.ok(!r.isError, JSON.stringify(r.content));
      assert.equal((r.structuredContent as { instance: string }).instance, 'instance-2');
      const claim = (await client.callTool({ name: 'task_claim', arguments: { id: 'task_002', force: true } })) as CallToolResult;
      assert.ok(!claim.isError, JSON.stringify(claim.content));
      const queue = JSON.parse(fs.readFileSync(path.join(paths.coordinationDir, 'task-queue.json'), 'utf8'));
      assert.equal(queue.active_tasks.find((t: { task_id: string }) => t.task_id === 'task_002').assigned_to, 'instance-2');
    } finally {
      await client.close();
    }
  });
});
