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

  it('"Syncord: Initialize Coordination" from the command palette creates the files and lists them', async () => {
    await wb().runCommand('Syncord: Initialize Coordination');

    const message = await wb().waitForNotification(/Syncord: initialized coordination/);
    assert.match(message, /instance-registry\.json/);
    assert.match(message, /task-queue\.json/);

    const rows = await wb().viewRows('Coordination', 4);
    assert.deepEqual(
      [...rows].sort(),
      ['communication-log.json', 'decisions.json', 'instance-registry.json', 'task-queue.json'],
    );
    await wb().welcome('Coordination').waitFor({ state: 'hidden' });
    for (const f of rows) {
      assert.ok(fs.existsSync(path.join(wb().ws.folder, 'coordination', f)), `${f} is listed but not on disk`);
    }
    const shot = await wb().screenshot('container-initialized');
    assert.ok(fs.statSync(shot).size > 10_000, 'the screenshot is empty');
  });
});
