// @fixture demo
// Runs in the real extension host, on a fresh copy of the demo workspace (main project with a
// coordination folder holding the seed 004 files and targets.json; see scripts/demo.js).
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { waitFor, workspaceRoot } from './helpers';

const EXTENSION_ID = 'syncord.syncord';

describe('Syncord in the extension host', () => {
  it('activates by itself in a workspace that has a coordination folder', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this VS Code`);
    assert.ok(fs.existsSync(path.join(workspaceRoot(), 'coordination', 'task-queue.json')));
    // No explicit activate(): the `workspaceContains` activation event must do it.
    await waitFor(() => ext.isActive, 'Syncord to be activated by its workspaceContains event');
    // isActive is also true after a failed activation; activate() then rethrows the failure.
    await ext.activate();
    assert.equal(ext.isActive, true);
  });

  it('registers every command the manifest contributes', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    await waitFor(() => ext.isActive, 'Syncord to be active');
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    assert.ok(contributed.length > 0, 'the manifest contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `commands in package.json without a registration: ${missing.join(', ')}`);
  });

  it('"Initialize Coordination" creates the missing files and keeps the existing ones', async () => {
    const dir = path.join(workspaceRoot(), 'coordination');
    const kept = ['instance-registry.json', 'communication-log.json', 'targets.json'];
    const before = Object.fromEntries(kept.map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
    // The seed registry names six instances; it must survive untouched.
    assert.ok(before['instance-registry.json'].includes('"instance-6"'));
    fs.rmSync(path.join(dir, 'task-queue.json'));
    fs.rmSync(path.join(dir, 'decisions.json'));

    await vscode.commands.executeCommand('syncord.initCoordination');

    const tasks = JSON.parse(fs.readFileSync(path.join(dir, 'task-queue.json'), 'utf8'));
    assert.deepEqual(tasks, { active_tasks: [], pending_tasks: [], completed_tasks: [] });
    const decisions = JSON.parse(fs.readFileSync(path.join(dir, 'decisions.json'), 'utf8'));
    assert.deepEqual(decisions, { decisions: [], pending_decisions: [] });
    for (const f of kept) {
      assert.equal(fs.readFileSync(path.join(dir, f), 'utf8'), before[f], `${f} was changed`);
    }
  });
});
