import * as assert from 'node:assert/strict';
import {
  addOption,
  decide,
  giveInput,
  proposeDecision,
  recordDecision,
  retireDecision,
} from '../../../src/core/coordination/decisions';
import { getInbox } from '../../../src/core/coordination/inbox';
import { refusal, snapshot, TestWorkspace, workspace } from './helpers';

describe('coordination/decisions (protocol 4)', () => {
  let ws: TestWorkspace;
  beforeEach(async () => {
    ws = await workspace({ now: '2024-01-15T14:00:00Z' });
  });
  afterEach(() => ws?.dispose());

  it('gathers input on the seed decision and decides it', async () => {
    await addOption(ws.store, { id: 'dec_002', option: 'rest api', pros: ['Cacheable'] });
    await addOption(ws.store, { id: 'dec_002', option: 'gRPC', pros: ['Streaming'], cons: ['Browser support'] });
    const bad = await refusal(giveInput(ws.store, { id: 'dec_002', by: 'instance-1', option: 'SOAP' }));
    assert.equal(bad.code, 'usage');
    assert.match(bad.message, /no option "SOAP" \(options: REST API, GraphQL Federation, gRPC\)/);
    await giveInput(ws.store, { id: 'dec_002', by: 'instance-1', option: 'rest api', comment: 'Simple to run.' });
    assert.deepEqual((await getInbox(ws.store, 'instance-3')).decisionsAwaitingInput.map((d) => d.decision_id), ['dec_002']);
    assert.deepEqual((await getInbox(ws.store, 'instance-1')).decisionsAwaitingInput, []);

    const r = await decide(ws.store, { id: 'dec_002', by: 'instance-2', option: 'REST API', rationale: 'Input favours simplicity.' });
    assert.deepEqual(r.missingInput, ['instance-3']);
    const { decisions } = await ws.store.read('decisions');
    assert.deepEqual(decisions.pending_decisions, []);
    const d = decisions.decisions[1];
    assert.equal(d.decision_id, 'dec_002');
    assert.equal(d.decision, 'REST API');
    assert.equal(d.rationale, 'Input favours simplicity.');
    assert.deepEqual(d.decided_by, ['instance-2']);
    assert.equal(d.date, '2024-01-15T14:00:00Z');
    assert.equal(d.status, 'active');
    assert.deepEqual(d.affects_instances, ['instance-1', 'instance-3', 'instance-2']);
    assert.deepEqual(
      (d.options as { option: string; pros: string[] }[]).map((o) => [o.option, o.pros]),
      [
        ['REST API', ['Simple', 'Well understood', 'Easy to debug', 'Cacheable']],
        ['GraphQL Federation', ['Single endpoint', 'Flexible queries', 'Type safety']],
        ['gRPC', ['Streaming']],
      ],
    );
    assert.deepEqual(d.inputs, [{ from: 'instance-1', option: 'REST API', comment: 'Simple to run.', date: '2024-01-15T14:00:00Z' }]);
    const again = await refusal(decide(ws.store, { id: 'dec_002', by: 'instance-2', option: 'REST API', rationale: 'x' }));
    assert.equal(again.code, 'conflict');
  });

  it('proposes with options, records, supersedes', async () => {
    const before = snapshot(ws);
    const one = await refusal(proposeDecision(ws.store, { by: 'instance-1', title: 'DB', options: ['Postgres'] }));
    assert.equal(one.code, 'usage');
    assert.deepEqual(snapshot(ws), before);
    const p = await proposeDecision(ws.store, {
      by: 'instance-1',
      title: 'Database',
      options: ['Postgres', 'SQLite'],
      inputFrom: ['instance-5'],
      deadline: '2024-01-16T12:00:00Z',
    });
    assert.equal(p.decision_id, 'dec_003');
    assert.deepEqual(p.options, [
      { option: 'Postgres', pros: [], cons: [] },
      { option: 'SQLite', pros: [], cons: [] },
    ]);
    const rec = await recordDecision(ws.store, { by: 'instance-2', title: 'Branching', decision: 'Trunk-based', rationale: 'Fewer merges' });
    assert.equal(rec.decision_id, 'dec_004');
    assert.deepEqual(rec.affects_instances, ['all']);
    await retireDecision(ws.store, { id: 'dec_001', by: 'instance-2', status: 'superseded', supersededBy: 'dec_004' });
    const { decisions } = await ws.store.read('decisions');
    assert.equal(decisions.decisions[0].status, 'superseded');
    assert.equal(decisions.decisions[0].superseded_by, 'dec_004');
  });
});
