import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { SyncordError } from '../../../src/core/errors';
import { readJsonFile } from '../../../src/core/store/documents';
import { updateOne } from './update';
import { acquireLock, lockHolder, lockPathOf } from '../../../src/core/store/lock';

const WORKER = path.join(__dirname, 'lockWorker.js');
const schema = z.looseObject({ items: z.array(z.string()) });

/** Starts a worker and resolves once it printed `line`. */
function startUntil(args: string[], line: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes(line)) resolve(child);
    });
    child.stderr!.on('data', (d) => (err += d));
    child.on('exit', (code) => reject(new Error(`worker exited ${code} before "${line}": ${err}`)));
  });
}

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('store/lock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-lock-'));
    file = path.join(dir, 'list.json');
    fs.writeFileSync(file, '{"items":[]}');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('takes over at once a lock whose holder was killed', async () => {
    const holder = await startUntil(['hold', file], 'held');
    const pid = holder.pid!;
    assert.equal(lockHolder(file)?.pid, pid);
    await killHard(holder);
    const lock = await acquireLock(file, { waitMs: 2000 });
    try {
      assert.equal(lock.tookOver, true);
      assert.equal(lockHolder(file)?.pid, process.pid);
    } finally {
      await lock.release();
    }
    assert.equal(fs.existsSync(lockPathOf(file)), false);
  });

  it('lets exactly one of two simultaneous takers of a dead lock win, one after the other', async () => {
    await killHard(await startUntil(['hold', file], 'held'));
    const [a, b] = await Promise.all([run(['take', file, '150']), run(['take', file, '150'])]);
    const spans = [JSON.parse(a), JSON.parse(b)].sort((x, y) => x.from - y.from);
    assert.equal(spans.filter((s) => s.tookOver).length, 1, 'one taker removed the dead lock');
    assert.ok(spans[0].to <= spans[1].from, `the two holds overlap: ${JSON.stringify(spans)}`);
  });

  it('waits a bounded time for a live holder, then names the file and the holder', async () => {
    const holder = await startUntil(['hold', file], 'held');
    try {
      const err = await acquireLock(file, { waitMs: 300 }).then(
        () => assert.fail('the lock was taken from a live holder'),
        (e: unknown) => e as SyncordError,
      );
      assert.equal(err.code, 'lock-timeout');
      assert.match(err.message, new RegExp(`list\\.json is locked by another Syncord operation \\(process ${holder.pid}\\)`));
      const upd = await updateOne({ file, schema }, (v) => v.items.push('x'), { waitMs: 200 }).then(
        () => undefined,
        (e: unknown) => e as SyncordError,
      );
      assert.equal(upd?.code, 'lock-timeout');
      assert.equal(fs.readFileSync(file, 'utf8'), '{"items":[]}');
    } finally {
      await killHard(holder);
    }
    await updateOne({ file, schema }, (v) => v.items.push('after'), { waitMs: 2000 });
    assert.deepEqual((await readJsonFile({ file, schema })).value.items, ['after']);
  });
});
