import * as assert from 'node:assert/strict';
import { z } from 'zod';
import { locatePath, parseJsonc, parseJsonText, positionAt, topLevelLayout, validateValue } from '../../../src/core/store/jsonText';
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

  it('refuses a key twice in one record of a large array, at the second one', () => {
    const records = Array.from({ length: 500 }, (_, i) => `    { "id": "r${i}", "n": ${i} }`);
    records[321] = '    { "id": "r321", "n": 1, "id": "again" }';
    const text = `{\n  "items": [\n${records.join(',\n')}\n  ]\n}\n`;
    const e = refusalOf(() => parseJsonText('/w/f.json', text));
    assert.equal(e.code, 'invalid-file');
    assert.deepEqual(e.location, { file: '/w/f.json', line: 324, column: 29 });
    assert.match(e.detail, /^duplicate key "id" \(first at line 324, column 7\)/);
  });

  it('finds the top-level properties of plain JSON as the full scan does, escapes and all', () => {
    const texts = [
      '{\n  "a": [1, {"x": "}\\"]"}],\n  "b\\"c": "v\\\\",\n  "n": -1.5e3,\n  "t": true,\n  "z": null,\n  "__proto__": {"k": 1},\n  "o": {}\n}\n',
      '\ufeff{"only": "x"}',
      '[{"a": 1}, {"a": 2}]',
    ];
    for (const text of texts) {
      const parsed = parseJsonText('f.json', text.replace(/^\ufeff/, ''));
      assert.equal(parsed.strict, true);
      assert.deepEqual(parsed.layout, topLevelLayout('f.json', text.replace(/^\ufeff/, '')));
      assert.deepEqual(parsed.value, JSON.parse(text.replace(/^\ufeff/, '')));
    }
    assert.deepEqual(Object.keys(parseJsonText('f.json', texts[0]).value as object), ['a', 'b"c', 'n', 't', 'z', '__proto__', 'o']);
  });

  it('describes a bad record in a loose file exactly as when the whole file is checked', () => {
    const schema = z.looseObject({ items: z.array(z.looseObject({ id: z.string(), n: z.number() })), note: z.string().optional() });
    const text = '{\n  "items": [\n    { "id": "a", "n": 1 },\n    { "id": "b", "n": "two" },\n    { "n": 3 }\n  ]\n}\n';
    const e = refusalOf(() => validateValue('/w/f.json', text, JSON.parse(text), schema));
    assert.deepEqual(e.location, { file: '/w/f.json', line: 4, column: 18 });
    assert.equal(e.detail, 'items[1].n: expected number, found string (and 1 more problem)');
    const ok = '{ "items": [{ "id": "a", "n": 1, "extra": [1] }], "more": 1 }';
    const value = JSON.parse(ok);
    assert.equal(validateValue('/w/f.json', ok, value, schema), value);
    const missing = refusalOf(() => validateValue('/w/f.json', '{ "note": "x" }', { note: 'x' }, schema));
    assert.equal(missing.detail, '(root): missing required property "items" (expected array)');
  });

  it('converts offsets to 1-based positions', () => {
    assert.deepEqual(positionAt('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(positionAt('ab\ncd', 4), { line: 2, column: 2 });
    assert.deepEqual(locatePath('f', '{"a": {"b": 1}}', ['a', 'zz']), { file: 'f', line: 1, column: 7 });
  });
});
