import * as assert from 'node:assert/strict';
import { z } from 'zod';
import { locatePath, parseJsonc, positionAt, validateValue } from '../../../src/core/store/jsonText';
import { refusalOf } from '../coordination/helpers';


describe('store/jsonText', () => {
  it('reads JSONC: comments and trailing commas are tolerated', () => {
    const v = parseJsonc('f.json', '{\n  // who\n  "a": [1, 2,],\n  /* end */\n}\n');
    assert.deepEqual(v, { a: [1, 2] });
  });

  it('names file, line and column of a syntax error', () => {
    const e = refusalOf(() => parseJsonc('/w/task-queue.json', '{\n  "a": 1\n  "b": 2\n}\n'));
    assert.equal(e.code, 'invalid-file');
    assert.deepEqual(e.location, { file: '/w/task-queue.json', line: 3, column: 3 });
    assert.equal(e.message, '/w/task-queue.json:3:3: invalid JSON: expected a comma');
  });

  it('refuses an empty file clearly', () => {
    const e = refusalOf(() => parseJsonc('/w/x.json', '  \n'));
    assert.match(e.message, /x\.json:1:1: the file is empty/);
  });

  it('points schema errors at the offending property', () => {
    const schema = z.object({ items: z.array(z.object({ id: z.string(), n: z.number() })) });
    const text = '{\n  "items": [\n    { "id": "a", "n": 1 },\n    { "id": "b", "n": "two" }\n  ]\n}\n';
    const e = refusalOf(() => validateValue('/w/f.json', text, JSON.parse(text), schema));
    assert.equal(e.code, 'invalid-file');
    assert.deepEqual(e.location, { file: '/w/f.json', line: 4, column: 18 });
    assert.match(e.detail, /^items\[1\]\.n: expected number, found string$/);
  });

  it('points a missing property at the object that lacks it', () => {
    const schema = z.object({ items: z.array(z.object({ id: z.string(), n: z.number() })) });
    const text = '{\n  "items": [\n    { "id": "a" }\n  ]\n}';
    const e = refusalOf(() => validateValue('/w/f.json', text, JSON.parse(text), schema));
    assert.deepEqual(e.location, { file: '/w/f.json', line: 3, column: 5 });
    assert.match(e.detail, /^items\[0\]: missing required property "n"/);
  });

  it('converts offsets to 1-based positions', () => {
    assert.deepEqual(positionAt('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(positionAt('ab\ncd', 4), { line: 2, column: 2 });
    assert.deepEqual(locatePath('f', '{"a": {"b": 1}}', ['a', 'zz']), { file: 'f', line: 1, column: 7 });
  });
});
