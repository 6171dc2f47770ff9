// The Syncord container as a person sees it in the real workbench, from an empty state to an
// initialized coordination folder.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { useWorkbench } from './workbench';

describe('Syncord container (workspace without coordination folder)', () => {
  const wb = useWorkbench({ fixture: 'demo-no-coordination' });

  it('shows the Targets and Coordination views with their welcome content', async () => {
    await wb().openContainer('Syncord');
    await wb().expandView('Targets');
    await wb().expandView('Coordination');

    const targets = wb().welcome('Targets');
    await targets.waitFor({ state: 'visible' });
    assert.match(await targets.innerText(), /No target projects are registered yet/);
    const coordination = wb().welcome('Coordination');
    await coordination.waitFor({ state: 'visible' });
    assert.match(await coordination.innerText(), /This workspace has no coordination folder yet/);
    // The welcome offers the way out of the empty state.
    await coordination.getByRole('button', { name: 'Initialize Coordination' }).waitFor({ state: 'visible' });
    assert.deepEqual(await wb().viewRows('Coordination'), []);
    await wb().screenshot('container-welcome');
  });

  it('"Syncord: Initialize Coordination" from the command palette creates the files and the view shows them', async () => {
    await wb().runCommand('Syncord: Initialize Coordination');

    const message = await wb().waitForNotification(/Syncord: initialized coordination/);
    assert.match(message, /instance-registry\.json/);
    assert.match(message, /task-queue\.json/);

    // The view now shows the coordination data instead of its welcome.
    await wb().welcome('Coordination').waitFor({ state: 'hidden' });
    const rows = await wb().viewRows('Coordination', 1);
    assert.ok(rows.length > 0, 'the Coordination view shows nothing after initializing');
    // Once the view has caught up with the new files, none of them is reported missing.
    await wb().waitUntil(async () => !(await wb().viewRows('Coordination')).some((r) => /missing/i.test(r)), 'the Coordination view to stop reporting missing files');
    for (const f of ['instance-registry.json', 'task-queue.json', 'communication-log.json', 'decisions.json']) {
      const file = path.join(wb().ws.folder, 'coordination', f);
      assert.ok(fs.existsSync(file), `${f} was not created`);
      JSON.parse(fs.readFileSync(file, 'utf8'));
    }
    const shot = await wb().screenshot('container-initialized');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');
  });
});
