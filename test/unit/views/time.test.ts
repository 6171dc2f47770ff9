// The one way Syncord's views say when something happened.
import * as assert from 'node:assert/strict';
import { relativeTime } from '../../../src/views/time';

const NOW = Date.parse('2026-02-27T12:00:00Z');

describe('views: relative time', () => {
  it('says how long ago, in the short form every view uses', () => {
    assert.equal(relativeTime('2026-02-27T11:59:30Z', NOW), 'just now');
    assert.equal(relativeTime('2026-02-27T11:55:00Z', NOW), '5m ago');
    assert.equal(relativeTime('2026-02-27T11:00:00Z', NOW), '1h ago');
    assert.equal(relativeTime('2026-02-27T08:55:00Z', NOW), '3h 5m ago');
    assert.equal(relativeTime('2026-02-26T10:00:00Z', NOW), '26h ago');
    assert.equal(relativeTime('2026-02-20T12:00:00Z', NOW), '7d ago');
    assert.equal(relativeTime('2026-02-25T06:00:00Z', NOW), '2d 6h ago');
    assert.equal(relativeTime('2025-11-20T12:00:00Z', NOW), '99d ago');
  });

  it('says "in …" for a time ahead (a due date, or another machine\'s clock)', () => {
    assert.equal(relativeTime('2026-02-27T18:00:00Z', NOW), 'in 6h');
    assert.equal(relativeTime('2026-03-01T18:00:00Z', NOW), 'in 2d 6h');
    assert.equal(relativeTime('2026-02-27T12:00:40Z', NOW), 'just now');
  });

  it('says "never" without a time and shows a time it cannot read as written', () => {
    assert.equal(relativeTime(null, NOW), 'never');
    assert.equal(relativeTime(undefined, NOW), 'never');
    assert.equal(relativeTime('', NOW), 'never');
    assert.equal(relativeTime('last tuesday', NOW), 'last tuesday');
  });
});
