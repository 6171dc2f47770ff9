// @fixture demo
// VS Code's own agents see Syncord's MCP server: the extension's server definition is in VS Code's MCP registry,
// VS Code starts it as the instance the setting names, its tools are VS Code language-model tools, and calling
// one acts on the coordination files.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';
/** VS Code's id of a server an extension provides: the extension's id and the definition's label. */
const SERVER_ID = `${EXTENSION_ID}/Syncord`;

describe("Syncord's MCP server in VS Code", function () {
  this.timeout(120_000);

  it('VS Code starts the contributed server as the instance of syncord.mcp.instance; its checkin tool checks that instance in', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await waitFor(() => ext.isActive, 'Syncord to be active');
    await vscode.workspace.getConfiguration('syncord').update('mcp.instance', 'instance-4', vscode.ConfigurationTarget.Workspace);
    const registry = path.join(workspaceRoot(), 'coordination', 'instance-registry.json');
    const before = JSON.parse(fs.readFileSync(registry, 'utf8')).instances['instance-4'];

    assert.ok(!vscode.lm.tools.some((t) => t.name.endsWith('_task_complete')), 'no Syncord tools before VS Code starts the server');
    await vscode.commands.executeCommand('workbench.mcp.startServer', SERVER_ID);
    // VS Code names an MCP server's tools with a prefix of its own: find the prefix under which Syncord's verbs are.
    const verbs = ['inbox', 'checkin', 'task_start', 'task_complete', 'msg_send', 'msg_reply', 'decision_propose', 'targets_status'];
    const prefix = await waitFor(() => {
      const names = new Set(vscode.lm.tools.map((t) => t.name));
      const candidates = [...names].filter((n) => n.endsWith('_checkin')).map((n) => n.slice(0, -'checkin'.length));
      return candidates.find((p) => verbs.every((v) => names.has(p + v)));
    }, "Syncord's MCP tools among VS Code's language-model tools", 90_000);
    const checkin = vscode.lm.tools.find((t) => t.name === `${prefix}checkin`)!;
    assert.match(checkin.description, /mark it active/);

    const result = await vscode.lm.invokeTool(checkin.name, { input: { expertise: ['vscode-agents'] }, toolInvocationToken: undefined });
    const text = result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : '')).join('');
    assert.match(text, /instance-4/);
    const after = JSON.parse(fs.readFileSync(registry, 'utf8')).instances['instance-4'];
    assert.equal(after.status, 'active');
    assert.ok(after.expertise_areas.includes('vscode-agents'), `expertise areas: ${JSON.stringify(after.expertise_areas)}`);
    assert.notEqual(after.last_update, before.last_update);
    await vscode.commands.executeCommand('workbench.mcp.stopServer', SERVER_ID);
  });
});
