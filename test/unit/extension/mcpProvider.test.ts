// The MCP server the extension contributes to VS Code: the manifest declares the provider and its setting, and the
// launch the provider hands VS Code starts a working `syncord mcp` (acting as the picked instance) from the bundle.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { mcpServerLaunch } from '../../../src/core/sessions/launch';
import { resolveWorkspace } from '../../../src/core/workspace';
import { MCP_PROVIDER_ID } from '../../../src/shared/commands';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed004');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

describe('extension: the MCP server definition for VS Code', function () {
  this.timeout(60_000);

  it('package.json contributes the provider the extension registers, and the instance setting', () => {
    assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: MCP_PROVIDER_ID, label: 'Syncord' }]);
    const setting = manifest.contributes.configuration.properties['syncord.mcp.instance'];
    assert.equal(setting.type, 'string');
    assert.equal(setting.default, '');
  });

  it("the launch runs this extension's CLI with the editor's Node, naming the workspace, and acts as the instance given", () => {
    const paths = resolveWorkspace('/work/app', 'coord');
    const cli = { node: '/opt/code/code', script: '/ext/dist/cli.js' };
    assert.deepEqual(mcpServerLaunch(cli, paths), {
      command: '/opt/code/code',
      args: ['/ext/dist/cli.js', '--workspace', '/work/app', '--coordination-dir', '/work/app/coord', 'mcp'],
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    assert.deepEqual(mcpServerLaunch(cli, paths, 'instance-2').args.slice(-3), ['mcp', '--as', 'instance-2']);
  });

  it('the server so launched, from any folder, acts as the picked instance (and refuses to act before one is picked)', async () => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build it with \`node esbuild.js\``);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-vscode-mcp-'));
    const paths = resolveWorkspace(root);
    fs.mkdirSync(paths.coordinationDir);
    for (const f of fs.readdirSync(SEED)) fs.copyFileSync(path.join(SEED, f), path.join(paths.coordinationDir, f));
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-elsewhere-'));
    const start = async (instance?: string) => {
      const l = mcpServerLaunch({ node: process.execPath, script: CLI }, paths, instance);
      const client = new Client({ name: 'vscode-stand-in', version: '1.0.0' });
      await client.connect(new StdioClientTransport({ command: l.command, args: l.args, env: { HOME: elsewhere, ...l.env }, cwd: elsewhere, stderr: 'pipe' }));
      return client;
    };
    const unpicked = await start();
    try {
      const r = (await unpicked.callTool({ name: 'checkin', arguments: {} })) as CallToolResult;
      assert.equal(r.isError, true);
    } finally {
      await unpicked.close();
    }
    const picked = await start('instance-3');
    try {
      const r = (await picked.callTool({ name: 'checkin', arguments: {} })) as CallToolResult;
      assert.ok(!r.isError, JSON.stringify(r.content));
      const reg = JSON.parse(fs.readFileSync(path.join(paths.coordinationDir, 'instance-registry.json'), 'utf8'));
      assert.equal(reg.instances['instance-3'].status, 'active');
    } finally {
      await picked.close();
    }
  });
});
