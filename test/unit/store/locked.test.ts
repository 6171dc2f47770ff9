import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { SyncordError } from '../../../src/core/errors';
import { readJsonFile } from '../../../src/core/store/documents';
import { updateLocked } from '../../../src/core/store/locked';
import { writeFilesAtomic } from '../../../src/core/store/atomic';
import { updateOne } from './update';
import { acquireLock, lockPathOf } from '../../../src/core/store/lock';

const schema = z.looseObject({ items: z.array(z.string()) });

async function rejects(p: Promise<unknown>): Promise<SyncordError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SyncordError, `expected a SyncordError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('store/jsonFile', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-store-'));
    file = path.join(dir, 'list.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('updates a file, keeping unknown fields, comments and formatting', async () => {
    fs.writeFileSync(file, '{\n  // hand-written\n  "owner": "me",\n  "items": ["a"],\n  "extra": {"x": 1}\n}\n');
    const { result, written } = await updateOne({ file, schema }, (v) => {
      v.items.push('b');
      return v.items.length;
    });
    assert.equal(result, 2);
    assert.deepEqual(written, [file]);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith('{\n  // hand-written\n  "owner": "me",\n'), text);
    assert.ok(text.includes('"extra": {"x": 1}'), text);
    assert.deepEqual((await readJsonFile({ file, schema })).value, { owner: 'me', items: ['a', 'b'], extra: { x: 1 } });
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f !== '.syncord'),
      ['list.json'],
      'no lock or temporary file is left beside the file (prepared locks live in .syncord)',
    );
  });

  it('changes a long file by its top-level properties, unknown fields kept, and not at all when nothing changed', async () => {
    // Over 2 MB: long files are changed in place and re-printed by top-level property.
    const items = Array.from({ length: 60_000 }, (_, i) => `item ${i} ${'x'.repeat(30)}`);
    const original = `{\n  "meta": {\n    "owner": "me",\n    "kept": [1, 2, 3]\n  },\n  "items": ${JSON.stringify(items, null, 2).replace(/\n/g, '\n  ')},\n  "unknown": {"x":   1}\n}\n`;
    assert.ok(original.length > 2_000_000);
    fs.writeFileSync(file, original);
    const { written } = await updateOne({ file, schema }, (v) => {
      v.items.splice(0, 1);
      v.items.push('last');
    });
    assert.deepEqual(written, [file]);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith('{\n  "meta": {\n    "owner": "me",\n    "kept": [1, 2, 3]\n  },\n  "items": [\n    "item 1 '), text.slice(0, 200));
    assert.ok(text.endsWith('    "last"\n  ],\n  "unknown": {\n    "x": 1\n  }\n}\n'), text.slice(-200));
    assert.deepEqual(JSON.parse(text), { meta: { owner: 'me', kept: [1, 2, 3] }, items: [...items.slice(1), 'last'], unknown: { x: 1 } });
    // Nothing changed: not written again.
    const mtime = fs.statSync(file).mtimeMs;
    assert.deepEqual((await updateOne({ file, schema }, (v) => void v.items.sort((a, b) => (a === 'last' ? 1 : b === 'last' ? -1 : 0)))).written, []);
    assert.equal(fs.statSync(file).mtimeMs, mtime);
    assert.equal(fs.readFileSync(file, 'utf8'), text);
  });

  it('writes nothing when the change is refused', async () => {
    const original = '{ "items": ["a"] }';
    fs.writeFileSync(file, original);
    const err = await rejects(
      updateOne({ file, schema }, (v) => {
        v.items.push('b');
        throw new SyncordError('no', 'conflict');
      }),
    );
    assert.equal(err.code, 'conflict');
    assert.equal(fs.readFileSync(file, 'utf8'), original);
  });

  it('does not rewrite a file when nothing changed', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    const before = fs.statSync(file).mtimeMs;
    const { written } = await updateOne({ file, schema }, () => undefined);
    assert.deepEqual(written, []);
    assert.equal(fs.readFileSync(file, 'utf8'), '{"items":[]}');
    assert.equal(fs.statSync(file).mtimeMs, before);
  });

  it('refuses a broken file with its position and leaves it as it was', async () => {
    const broken = '{\n  "items": ["a",, "b"]\n}\n';
    fs.writeFileSync(file, broken);
    const err = await rejects(updateOne({ file, schema }, (v) => v.items.push('c')));
    assert.equal(err.code, 'invalid-file');
    assert.deepEqual(err.location, { file, line: 2, column: 17 });
    assert.equal(fs.readFileSync(file, 'utf8'), broken);
  });

  it('refuses a file that does not match its schema', async () => {
    fs.writeFileSync(file, '{\n  "items": ["a", 2]\n}\n');
    const err = await rejects(readJsonFile({ file, schema }));
    assert.equal(err.message, `${file}:2:18: items[1]: expected string, found number`);
  });

  it('reports a missing file as not-found with the hint', async () => {
    const err = await rejects(readJsonFile({ file, schema, missingHint: 'run `syncord init`' }));
    assert.equal(err.code, 'not-found');
    assert.match(err.message, /list\.json does not exist; run `syncord init`/);
  });

  it('never writes a value its schema refuses', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    await assert.rejects(
      updateOne({ file, schema }, (v) => {
        (v.items as unknown[]).push(42);
      }),
      /would not match its schema/,
    );
    assert.equal(fs.readFileSync(file, 'utf8'), '{"items":[]}');
  });

  it('serializes concurrent updates in one process: none is lost', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    await Promise.all(Array.from({ length: 25 }, (_, i) => updateOne({ file, schema }, (v) => v.items.push(`u${i}`))));
    const { value } = await readJsonFile({ file, schema });
    assert.equal(value.items.length, 25);
    assert.equal(new Set(value.items).size, 25);
  });

  it('serializes updates from several processes: none is lost', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    const worker = path.join(__dirname, 'appendWorker.js');
    const run = (tag: string) =>
      new Promise<void>((resolve, reject) =>
        execFile(process.execPath, [worker, file, tag, '15'], (err, _out, stderr) => (err ? reject(new Error(stderr || String(err))) : resolve())),
      );
    await Promise.all(['p1', 'p2', 'p3', 'p4'].map(run));
    const { value } = await readJsonFile({ file, schema });
    assert.equal(value.items.length, 60);
    for (const tag of ['p1', 'p2', 'p3', 'p4']) {
      const mine = value.items.filter((x) => x.startsWith(`${tag}-`));
      assert.deepEqual(mine, Array.from({ length: 15 }, (_, i) => `${tag}-${i}`), 'each process sees its own appends in order');
    }
  });

  it('gives up with lock-timeout while another holder keeps the lock, and changes nothing', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    const held = await acquireLock(file);
    try {
      const err = await rejects(updateOne({ file, schema }, (v) => v.items.push('x'), { waitMs: 150 }));
      assert.equal(err.code, 'lock-timeout');
      assert.match(err.message, /list\.json is locked by another Syncord operation/);
    } finally {
      await held.release();
    }
    assert.equal(fs.readFileSync(file, 'utf8'), '{"items":[]}');
    await updateOne({ file, schema }, (v) => v.items.push('x'), { waitMs: 150 });
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['x']);
  });

  it('takes over a lock abandoned by a process that died', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    const lock = lockPathOf(file);
    fs.mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    await updateOne({ file, schema }, (v) => v.items.push('after-crash'), { waitMs: 500 });
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['after-crash']);
    assert.equal(fs.existsSync(lock), false);
  });

  it('starts over when an editor saved the file meanwhile, keeping both changes', async () => {
    fs.writeFileSync(file, '{"items":["a"]}');
    let calls = 0;
    await updateOne({ file, schema }, (v) => {
      calls++;
      // An editor that does not take the lock saves the file while Syncord is working on it.
      if (calls === 1) fs.writeFileSync(file, '{"items":["a","from-editor"]}');
      v.items.push('from-syncord');
    });
    assert.equal(calls, 2);
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['a', 'from-editor', 'from-syncord']);
  });

  it('changes several files together, or none of them', async () => {
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(file, '{"items":["a"]}');
    fs.writeFileSync(other, '{"items":[]}');
    await updateLocked({ a: { file, schema }, b: { file: other, schema } }, ({ a, b }) => {
      b.items.push(a.items.shift()!);
    });
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, []);
    assert.deepEqual((await readJsonFile({ file: other, schema })).value.items, ['a']);
  });

  it('writeFilesAtomic leaves every file untouched when one cannot be written', async () => {
    fs.writeFileSync(file, 'old');
    const err = await rejects(
      (async () =>
        writeFilesAtomic([
          { file, content: 'new' },
          { file: path.join(dir, 'missing-folder', 'x.json'), content: 'new' },
        ]))(),
    );
    assert.equal(err.code, 'io');
    assert.match(err.message, /the file was not changed/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(fs.readdirSync(dir), ['list.json'], 'temporary files are removed');
  });

  it('keeps the permissions of the file it replaces', async () => {
    fs.writeFileSync(file, '{"items":[]}');
    fs.chmodSync(file, 0o640);
    await updateOne({ file, schema }, (v) => v.items.push('x'));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  });
});
