import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { SyncordError } from '../../../src/core/errors';
import { CombinedFile, submitOperation } from '../../../src/core/store/combine';
import { forgetCachedDocuments } from '../../../src/core/store/documents';
import { spoolDirOf } from '../../../src/core/workspace';
import { readJsonFile } from '../../../src/core/store/documents';
import { acquireLock } from '../../../src/core/store/lock';
import { renderFresh } from '../../../src/core/store/render';

const WORKER = path.join(__dirname, 'lockWorker.js');
const schema = z.looseObject({ items: z.array(z.string()), other: z.array(z.unknown()).optional() });
type List = z.infer<typeof schema>;

function listFile(file: string): CombinedFile<List> {
  return {
    spec: { file, schema },
    operations: {
      push: (draft, input: { item: string }) => {
        if (input.item === 'refuse') throw new SyncordError('refused on purpose', 'conflict');
        draft.items.push(input.item);
        return draft.items.length;
      },
      bad: (draft) => {
        (draft.items as unknown[]).push(42);
      },
      rename: (draft, input: { from: string; to: string }) => {
        const i = draft.items.indexOf(input.from);
        if (i < 0) throw new SyncordError(`no ${input.from}`, 'not-found');
        draft.items[i] = input.to;
      },
    },
  };
}

const NOW = '2024-01-15T12:00:00Z';

describe('store/combine', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-combine-'));
    file = path.join(dir, 'list.json');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('applies concurrent operations, each with its own result or error, in the seed style', async () => {
    fs.writeFileSync(file, renderFresh({ items: [], other: [{ a: 1 }] }));
    const t = listFile(file);
    const results = await Promise.allSettled(['a', 'b', 'refuse', 'c'].map((item) => submitOperation(t, 'push', { item }, NOW)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(refused.reason instanceof SyncordError);
    assert.equal(refused.reason.code, 'conflict');
    const value = (await readJsonFile({ file, schema })).value;
    assert.deepEqual([...value.items].sort(), ['a', 'b', 'c']);
    // Appends are spliced into the text exactly as a fresh pretty print would write them.
    assert.equal(fs.readFileSync(file, 'utf8'), renderFresh(value));
    assert.deepEqual(fs.readdirSync(spoolDirOf(file)), [], 'every intent was collected');
  });

  it('edits in place, and refuses a change its schema rejects without writing it', async () => {
    fs.writeFileSync(file, '{\n  // kept\n  "items": ["a", "b"]\n}\n');
    const t = listFile(file);
    await submitOperation(t, 'rename', { from: 'b', to: 'B' }, NOW);
    assert.equal(fs.readFileSync(file, 'utf8'), '{\n  // kept\n  "items": ["a", "B"]\n}\n');
    const before = fs.readFileSync(file, 'utf8');
    await assert.rejects(submitOperation(t, 'bad', {}, NOW), /would not match its schema/);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });

  it('re-reads a file changed by someone else since this process cached it', async () => {
    fs.writeFileSync(file, renderFresh({ items: ['a'] }));
    const t = listFile(file);
    await submitOperation(t, 'push', { item: 'b' }, NOW);
    fs.writeFileSync(file, renderFresh({ items: ['edited', 'by', 'hand'] }));
    await submitOperation(t, 'push', { item: 'c' }, NOW);
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['edited', 'by', 'hand', 'c']);
  });

  it('fails with file:line:col on a broken file and leaves its bytes alone', async () => {
    const broken = '{\n  "items": ["a" "b"]\n}\n';
    fs.writeFileSync(file, broken);
    const err = await submitOperation(listFile(file), 'push', { item: 'x' }, NOW).then(
      () => assert.fail('a broken file was written'),
      (e: unknown) => e as SyncordError,
    );
    assert.equal(err.code, 'invalid-file');
    assert.deepEqual(err.location, { file, line: 2, column: 17 });
    assert.equal(fs.readFileSync(file, 'utf8'), broken);
  });

  it('withdraws its change when the lock stays held, so it is never applied later', async () => {
    fs.writeFileSync(file, renderFresh({ items: [] }));
    const held = await acquireLock(file);
    let err: SyncordError | undefined;
    try {
      err = await submitOperation(listFile(file), 'push', { item: 'late' }, NOW, { waitMs: 150 }).then(
        () => undefined,
        (e: unknown) => e as SyncordError,
      );
    } finally {
      await held.release();
    }
    assert.equal(err?.code, 'lock-timeout');
    assert.match(err!.message, /list\.json is locked by another Syncord operation/);
    await submitOperation(listFile(file), 'push', { item: 'next' }, NOW);
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['next']);
  });

  it('survives writers killed at random moments: the file is always an old or new version, never torn', async function () {
    this.timeout(240_000);
    fs.writeFileSync(file, renderFresh({ items: [] }));
    const kills = 50;
    /** How many items each writer got in before it was killed. */
    const counts: number[] = [];
    const check = (writers: number) => {
      const text = fs.readFileSync(file, 'utf8');
      const items = (JSON.parse(text) as List).items;
      // Each writer appends <tag>-0, <tag>-1, ... one at a time; any version it can produce holds a prefix of them.
      for (let w = 0; w < writers; w++) {
        const mine = items.filter((x) => x.startsWith(`w${w}-`));
        assert.deepEqual(mine, Array.from({ length: mine.length }, (_, i) => `w${w}-${i}`), `writer ${w}: ${mine.join(',')}`);
        if (counts[w] === undefined) counts[w] = mine.length;
      }
      assert.equal(items.length, items.filter((x) => /^w\d+-\d+$/.test(x)).length);
      assert.deepEqual((JSON.parse(text) as List).items, items);
    };
    for (let w = 0; w < kills; w++) {
      const child: ChildProcess = spawn(process.execPath, [WORKER, 'write', file, `w${w}`, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d) => (err += d));
      // The writer must get its first change in: it takes over whatever lock the previous, killed writer left.
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
        child.on('exit', (code) => reject(new Error(`writer ${w} exited ${code}: ${err}`)));
      });
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      await new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
      check(w + 1);
    }
    // A last writer finishes normally after all the crashes, and cleans up what the dead ones left.
    const last = spawn(process.execPath, [WORKER, 'write', file, 'final', '6'], { stdio: 'ignore' });
    assert.equal(await new Promise((r) => last.on('exit', r)), 0);
    forgetCachedDocuments();
    const items = (await readJsonFile({ file, schema })).value.items;
    assert.deepEqual(
      items.filter((x) => x.startsWith('final-')),
      ['final-0', 'final-1', 'final-2', 'final-3', 'final-4', 'final-5'],
    );
    assert.equal(new Set(items).size, items.length, 'no change was applied twice');
    assert.ok(counts.every((c) => c >= 1));
    assert.deepEqual(
      fs.readdirSync(spoolDirOf(file)).filter((n) => n.endsWith('.tmp')),
      [],
      'temp files of killed writers are removed',
    );
  });
});
