import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderSchemas, renderValidators, VALIDATORS_FILE } from '../../../scripts/generate-schemas';
import { PROJECT_ROOT, refusal, TestWorkspace, workspace } from './helpers';

describe('coordination/schemas', () => {
  let ws: TestWorkspace | undefined;
  afterEach(() => ws?.dispose());

  it('accepts the four seed files as they are', async () => {
    ws = await workspace();
    const all = await ws.store.read('registry', 'tasks', 'messages', 'decisions');
    assert.equal(Object.keys(all.registry.instances).length, 6);
    assert.equal(all.tasks.pending_tasks.length, 2);
    assert.equal(all.messages.response_queue.length, 1);
    assert.equal(all.decisions.pending_decisions[0].options.length, 2);
  });

  it('refuses a record that lacks a required field, naming where', async () => {
    ws = await workspace();
    ws.write('decisions.json', ws.read('decisions.json').replace('"decision": "Use shared JSON files in /coordination/ directory for instance coordination",', ''));
    const e = await refusal(ws.store.read('decisions'));
    assert.equal(e.code, 'invalid-file');
    assert.deepEqual(e.location, { file: path.join(ws.dir, 'decisions.json'), line: 3, column: 5 });
    assert.match(e.detail, /^decisions\[0\]: missing required property "decision" \(expected string\)$/);
  });

  it('refuses a timestamp that is not ISO 8601', async () => {
    ws = await workspace();
    ws.write('instance-registry.json', ws.read('instance-registry.json').replace('"2024-01-15T10:30:00Z"', '"yesterday"'));
    const e = await refusal(ws.store.read('registry'));
    assert.match(e.message, /instance-registry\.json:7:7: instances\.instance-1\.last_update: expected an ISO 8601 date or date-time/);
  });

  it('ships JSON Schemas in schemas/ that match the definitions, registered in package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'));
    const registered = new Map<string, string>(pkg.contributes.jsonValidation.map((v: { fileMatch: string; url: string }) => [v.url, v.fileMatch]));
    for (const [name, text] of Object.entries(renderSchemas())) {
      const file = path.join(PROJECT_ROOT, 'schemas', name);
      assert.equal(fs.readFileSync(file, 'utf8'), text, `schemas/${name} is out of date: run npm run schemas`);
      const base = name.replace('.schema.json', '.json');
      assert.equal(registered.get(`./schemas/${name}`), `**/coordination/${base}`);
    }
  });

  it('ships the generated checks of the four files as the definitions give them', () => {
    assert.equal(fs.readFileSync(path.join(PROJECT_ROOT, VALIDATORS_FILE), 'utf8'), renderValidators(), `${VALIDATORS_FILE} is out of date: run npm run schemas`);
  });
});
