import * as assert from 'node:assert/strict';
import { parse } from 'jsonc-parser';
import { topLevelLayout } from '../../../src/core/store/jsonText';
import { jsonEqual, renderFresh, renderLargeUpdate, renderUpdate } from '../../../src/core/store/render';

const clone = <T>(v: T): T => structuredClone(v);

describe('store/render', () => {
  it('returns the text unchanged when the value did not change', () => {
    const text = '{ "a" : 1,   "b": [ 1,2 ] }';
    assert.equal(renderUpdate(text, JSON.parse(text), { b: [1, 2], a: 1 }), text);
  });

  it('changes only the edited value, keeping comments, spacing and key order', () => {
    const text = [
      '{',
      '  // the team',
      '  "instances": {',
      '    "instance-1": { "role": "backend", "status": "pending" }, ',
      '    "instance-2": { "role": "docs",    "status": "active" }',
      '  },',
      '  "version": "1.0"',
      '}',
      '',
    ].join('\n');
    const before = parse(text) as { instances: Record<string, { status: string }> };
    const after = clone(before);
    after.instances['instance-1'].status = 'active';
    const out = renderUpdate(text, before, after);
    assert.equal(out, text.replace('"status": "pending"', '"status": "active"'));
  });

  it('appends to an array in the file own indentation (tabs, CRLF)', () => {
    const text = '{\r\n\t"messages": [\r\n\t\t{ "message_id": "msg_001" }\r\n\t]\r\n}\r\n';
    const before = parse(text) as { messages: object[] };
    const after = clone(before);
    after.messages.push({ message_id: 'msg_002', to: 'all' });
    const out = renderUpdate(text, before, after);
    assert.ok(out.startsWith('{\r\n\t"messages": [\r\n\t\t{ "message_id": "msg_001" },\r\n'), out);
    assert.ok(!/[^\r]\n/.test(out), 'every line break stays CRLF');
    assert.deepEqual(parse(out), after);
  });

  it('edits a changed record in place while another is appended beside it', () => {
    const text = '{\n  "messages": [\n    { "message_id": "m1", "files": ["a"], "status": "pending" }\n  ]\n}\n';
    const before = parse(text) as { messages: Record<string, unknown>[] };
    const after = clone(before);
    after.messages[0].status = 'responded';
    after.messages.push({ message_id: 'm2', files: [] });
    const out = renderUpdate(text, before, after);
    assert.ok(out.includes('{ "message_id": "m1", "files": ["a"], "status": "responded" }'), out);
    assert.deepEqual(parse(out), after);
  });

  it('moves a record between arrays and removes keys', () => {
    const text = '{"a": [{"id": 1}, {"id": 2}, {"id": 3}], "b": [], "x": {"keep": 1, "drop": 2}}';
    const before = parse(text) as { a: object[]; b: object[]; x: Record<string, number> };
    const after = clone(before);
    after.b.push(after.a.splice(1, 1)[0]);
    delete after.x.drop;
    const out = renderUpdate(text, before, after);
    assert.deepEqual(parse(out), after);
  });

  it('always produces text that parses to the new value (random edits)', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const randomValue = (depth: number): unknown => {
      const k = rnd(depth > 2 ? 4 : 6);
      if (k === 0) return rnd(100);
      if (k === 1) return `s${rnd(50)}`;
      if (k === 2) return rnd(2) === 0;
      if (k === 3) return null;
      if (k === 4) return Array.from({ length: rnd(4) }, () => randomValue(depth + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, () => [`k${rnd(6)}`, randomValue(depth + 1)]));
    };
    const mutate = (v: unknown, depth: number): unknown => {
      if (Array.isArray(v)) {
        const a = [...v];
        const op = rnd(4);
        if (op === 0) a.splice(rnd(a.length + 1), 0, randomValue(depth + 1));
        else if (op === 1 && a.length) a.splice(rnd(a.length), 1);
        else if (a.length) a[rnd(a.length)] = mutate(a[rnd(a.length)], depth + 1);
        return a;
      }
      if (v && typeof v === 'object') {
        const o = { ...(v as Record<string, unknown>) };
        const keys = Object.keys(o);
        const op = rnd(3);
        if (op === 0 || !keys.length) o[`k${rnd(8)}`] = randomValue(depth + 1);
        else if (op === 1) delete o[keys[rnd(keys.length)]];
        else o[keys[rnd(keys.length)]] = mutate(o[keys[rnd(keys.length)]], depth + 1);
        return o;
      }
      return randomValue(depth);
    };
    for (let i = 0; i < 300; i++) {
      const before = { root: randomValue(0), list: [randomValue(1), randomValue(1)] };
      let text = JSON.stringify(before, null, rnd(2) ? 2 : '\t');
      let current: unknown = before;
      for (let step = 0; step < 3; step++) {
        const next = mutate(current, 0) as object;
        text = renderUpdate(text, current, next);
        assert.ok(jsonEqual(parse(text), next), `round ${i}.${step}: ${text}`);
        current = next;
      }
    }
  });

  describe('a long file, by top-level property', () => {
    const large = (text: string, after: unknown) => renderLargeUpdate(text, topLevelLayout('f.json', text)!, after);

    it('keeps the text of the properties printed as they stand and re-prints the changed ones in the file indentation', () => {
      const text = '{\n    "done": [\n        {\n            "id": 1,\n            "tags": ["a", "b"]\n        }\n    ],\n    "open": [\n        {\n            "id": 3\n        }\n    ],\n    "note": "x"\n}\n';
      const after = { done: [{ id: 1, tags: ['a', 'b'] }], open: [{ id: 3 }, { id: 4, tags: ['a'] }], note: 'x' };
      const out = large(text, after);
      assert.equal(out, '{\n    "done": [\n        {\n            "id": 1,\n            "tags": ["a", "b"]\n        }\n    ],\n    "open": [\n        {\n            "id": 3\n        },\n        {\n            "id": 4,\n            "tags": ["a"]\n        }\n    ],\n    "note": "x"\n}\n');
      assert.equal(out, renderFresh(after, { insertSpaces: true, tabSize: 4, eol: '\n' }));
    });

    it('writes a changed file as a fresh one would be printed, whatever the layout of its other properties', () => {
      const text = '{\n  "done": [ {"id": 1},   {"id": 2} ],\n  "open": []\n}\n';
      const after = { done: [{ id: 1 }, { id: 2 }], open: [{ id: 3 }] };
      assert.equal(large(text, after), renderFresh(after));
    });

    it('returns the text itself when nothing changed, however it is laid out', () => {
      const text = '{"done":[{"id":1},{"id":2}],\n"open" : [ ]}';
      assert.equal(large(text, { done: [{ id: 1 }, { id: 2 }], open: [] }), text);
    });

    it('keeps tabs and CRLF line ends', () => {
      const text = '{\r\n\t"a": [\r\n\t\t1\r\n\t],\r\n\t"b": {\r\n\t\t"c": true\r\n\t}\r\n}\r\n';
      const out = large(text, { a: [1], b: { c: false, d: [{ e: 1 }] } });
      assert.equal(out, '{\r\n\t"a": [1],\r\n\t"b": {\r\n\t\t"c": false,\r\n\t\t"d": [\r\n\t\t\t{\r\n\t\t\t\t"e": 1\r\n\t\t\t}\r\n\t\t]\r\n\t}\r\n}\r\n');
    });

    it('re-prints the whole file when a top-level key is added, removed or moved', () => {
      const text = '{\n  "a": 1,\n  "b": 2\n}\n';
      for (const after of [{ a: 1, b: 2, c: 3 }, { a: 1 }, { b: 2, a: 1 }]) {
        const out = large(text, after);
        assert.deepEqual(JSON.parse(out), after);
        assert.deepEqual(Object.keys(JSON.parse(out)), Object.keys(after));
      }
    });

    it('always produces text that parses to the new value (random edits of a queue)', () => {
      let seed = 11;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const task = (i: number) => ({ task_id: `task_${i}`, title: `Task ${i}`, tags: rnd(2) ? ['x', 'y'] : [], deps: rnd(3) ? null : [`task_${rnd(i + 1)}`] });
      for (let round = 0; round < 100; round++) {
        const value: { active: unknown[]; pending: unknown[]; completed: unknown[]; extra?: unknown } = { active: [], pending: [], completed: [] };
        for (let i = 0; i < 12; i++) [value.active, value.pending, value.completed][rnd(3)].push(task(i));
        let text = JSON.stringify(value, null, rnd(2) ? 2 : '\t') + '\n';
        for (let step = 0; step < 4; step++) {
          const next = structuredClone(value);
          const lists = [next.active, next.pending, next.completed];
          const from = lists[rnd(3)];
          if (from.length) lists[rnd(3)].push(...from.splice(rnd(from.length), 1));
          const edited = lists[rnd(3)][0] as { title: string } | undefined;
          if (edited && rnd(2) === 0) edited.title = `edited ${step}`;
          text = large(text, next);
          assert.ok(jsonEqual(JSON.parse(text), next), `round ${round}.${step}: ${text}`);
          Object.assign(value, structuredClone(next));
        }
      }
    });
  });
});
