import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sendMessage } from '../../../src/core/coordination/messages';
import { CoordinationStore } from '../../../src/core/coordination/store';
import { claimTask, completeTask } from '../../../src/core/coordination/tasks';
import { forgetCachedDocuments } from '../../../src/core/store/documents';
import * as atomic from '../../../src/core/store/atomic';
import { runSyncord } from '../cli/runSyncord';
import { SEED_DIR } from '../coordination/helpers';

/** The fs module itself (an `import *` is a read-only view of it): the tests wrap one of its functions. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realFs: { fsyncSync: (fd: number) => void } = require('node:fs');

/**
 * The coordination files as an attacker or a careless agent would leave them: the store must refuse what it
 * cannot read faithfully (exit 3 with file:line:col, the file byte-for-byte as it was) and never overwrite an
 * edit someone else made, even one that lands in the last moment before the rename.
 */

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('adversarial: coordination files', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;
  const file = (name: string) => path.join(dir, name);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-adv-store-'));
    dir = path.join(root, 'coordination');
    fs.mkdirSync(dir);
    for (const f of fs.readdirSync(SEED_DIR)) fs.copyFileSync(path.join(SEED_DIR, f), file(f));
    forgetCachedDocuments();
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  /** Runs `syncord msg send` and expects a refusal naming `where`, with the log untouched. */
  async function refusedSend(where: RegExp, why: RegExp): Promise<void> {
    const log = file('communication-log.json');
    const before = sha(log);
    const r = await runSyncord(root, ['--as', 'instance-2', 'msg', 'send', 'instance-1', '--subject', 'hi', '-m', 'hello']);
    assert.equal(r.code, 3, `expected exit 3 (invalid file), got ${r.code}: ${r.stderr}${r.stdout}`);
    assert.match(r.stderr, where);
    assert.match(r.stderr, why);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.equal(sha(log), before, 'the log is byte-for-byte as it was');
  }

  it('refuses a file with a key twice instead of dropping one of them', async () => {
    const log = file('communication-log.json');
    const seed = JSON.parse(fs.readFileSync(log, 'utf8'));
    fs.writeFileSync(
      log,
      `{\n  "messages": ${JSON.stringify(seed.messages, null, 2).replace(/\n/g, '\n  ')},\n  "response_queue": [],\n  "messages": []\n}\n`,
    );
    const line = fs.readFileSync(log, 'utf8').split('\n').findIndex((l) => l.startsWith('  "messages": []')) + 1;
    await refusedSend(new RegExp(`communication-log\\.json:${line}:3: duplicate key "messages" \\(first at line 2, column 3\\)`), /silently drop/);
  });

  it('refuses 100,000 levels of nesting with a position, not a stack overflow', async () => {
    const log = file('communication-log.json');
    fs.writeFileSync(log, `{"messages":[],"response_queue":[],"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    await refusedSend(/communication-log\.json:1:\d+: nesting deeper than 64 levels/, /refusing to read/);
  });

  it('refuses bytes that are not UTF-8 instead of rewriting them as U+FFFD', async () => {
    const log = file('communication-log.json');
    const text = fs.readFileSync(log, 'utf8');
    const at = text.indexOf('Need architectural input');
    const bytes = Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), Buffer.from([0xc3, 0x28]), Buffer.from(text.slice(at), 'utf8')]);
    fs.writeFileSync(log, bytes);
    const lines = text.slice(0, at).split('\n');
    await refusedSend(new RegExp(`communication-log\\.json:${lines.length}:${lines[lines.length - 1].length + 1}: invalid UTF-8 \\(byte 0xc3`), /refusing to read/);
    assert.ok(fs.readFileSync(log).includes(Buffer.from([0xc3, 0x28])), 'the bytes are still there');
  });

  /**
   * A hand edit that lands after Syncord wrote and flushed its temporary file, just before the rename: the edit
   * must survive, and the change be applied again on top of it (or refused).
   */
  /**
   * Edits `target` by hand the first time Syncord flushes a temporary file to disk (the moment between writing it
   * and renaming it into place): on the event loop (fsyncSync) or on the thread pool (flushFile, combined writes).
   */
  function editWhenFlushing(target: string, edit: (text: string) => string): { restore(): void; edits(): number } {
    const original = realFs.fsyncSync;
    const originalFlush = atomic.flushFile;
    let count = 0;
    const editOnce = () => {
      if (count === 0) {
        count++;
        // What an editor or an agent's editing tool does: rewrite the file in place, without the lock.
        fs.writeFileSync(target, edit(fs.readFileSync(target, 'utf8')));
      }
    };
    realFs.fsyncSync = (fd: number) => {
      original(fd);
      editOnce();
    };
    (atomic as { flushFile: typeof atomic.flushFile }).flushFile = async (file: string) => {
      await originalFlush(file);
      editOnce();
    };
    return {
      restore: () => {
        realFs.fsyncSync = original;
        (atomic as { flushFile: typeof atomic.flushFile }).flushFile = originalFlush;
      },
      edits: () => count,
    };
  }

  it('keeps a hand edit that lands between the temporary file and the rename (tasks + registry together)', async () => {
    const store = new CoordinationStore(dir);
    const queue = file('task-queue.json');
    const hook = editWhenFlushing(queue, (t) => t.replace('Build REST APIs for agent communication', 'EDITED BY HAND'));
    try {
      await claimTask(store, { id: 'task_002', by: 'instance-1', force: true });
    } finally {
      hook.restore();
    }
    assert.equal(hook.edits(), 1, 'the edit happened while Syncord was writing');
    const q = JSON.parse(fs.readFileSync(queue, 'utf8'));
    const t = [...q.active_tasks, ...q.pending_tasks].find((x: { task_id: string }) => x.task_id === 'task_002');
    assert.match(t.description, /^EDITED BY HAND/, 'the hand edit is kept');
    assert.equal(t.status, 'in_progress', 'and the claim was applied on top of it');
    assert.equal(JSON.parse(fs.readFileSync(file('instance-registry.json'), 'utf8')).instances['instance-1'].current_task, 'task_002');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')), [], 'no temporary file is left');
  });

  it('keeps a hand edit that lands between the temporary file and the rename (one file, combined)', async () => {
    const store = new CoordinationStore(dir);
    const log = file('communication-log.json');
    const hook = editWhenFlushing(log, (t) => t.replace('Should we use GraphQL federation', 'EDITED BY HAND'));
    let sent;
    try {
      sent = await sendMessage(store, { from: 'instance-2', to: 'instance-1', subject: 'hi', body: 'hello' });
    } finally {
      hook.restore();
    }
    assert.equal(hook.edits(), 1);
    const after = JSON.parse(fs.readFileSync(log, 'utf8'));
    assert.match(after.messages[0].message, /EDITED BY HAND/);
    assert.deepEqual(
      after.messages.map((m: { message_id: string }) => m.message_id),
      ['msg_001', sent.message.message_id],
    );
  });

  it('refuses with exit 5 a change to a file that keeps changing under it, and keeps the last edit', async () => {
    const store = new CoordinationStore(dir);
    const queue = file('task-queue.json');
    await claimTask(store, { id: 'task_002', by: 'instance-1', force: true });
    const original = realFs.fsyncSync;
    let n = 0;
    realFs.fsyncSync = (fd: number) => {
      original(fd);
      fs.writeFileSync(queue, fs.readFileSync(queue, 'utf8').replace(/"title": "[^"]*"/, `"title": "edit ${++n}"`));
    };
    let err: unknown;
    try {
      await completeTask(store, { id: 'task_002', by: 'instance-1' });
    } catch (e) {
      err = e;
    } finally {
      realFs.fsyncSync = original;
    }
    assert.ok(err, 'the change was refused');
    assert.equal((err as { code?: string }).code, 'conflict');
    assert.match(String((err as Error).message), /kept changing on disk .* nothing was written/);
    assert.match(fs.readFileSync(queue, 'utf8'), new RegExp(`"title": "edit ${n}"`), 'the last hand edit is what the file holds');
    assert.equal(JSON.parse(fs.readFileSync(queue, 'utf8')).active_tasks.find((t: { task_id: string }) => t.task_id === 'task_002').status, 'in_progress');
  });

  it('a forged claim in a queued change never makes Syncord delete a file it names', async () => {
    const canary = path.join(root, 'precious.txt');
    fs.writeFileSync(canary, 'keep me');
    const spool = path.join(dir, '.syncord', 'pending', 'communication-log.json');
    fs.mkdirSync(spool, { recursive: true });
    const intent = { op: 'msg.send', input: { from: 'instance-2', to: 'instance-1', subject: 'forged', body: 'x' }, now: '2024-01-01T00:00:00Z', pid: process.pid, start: 0 };
    fs.writeFileSync(path.join(spool, '000000000000001-000000-1-forged.op'), `${JSON.stringify(intent)}\n${JSON.stringify({ b: 'forged', t: canary, r: null })}\n`);
    const r = await runSyncord(root, ['--as', 'instance-2', 'msg', 'send', 'instance-1', '--subject', 'hi', '-m', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(canary, 'utf8'), 'keep me', 'the file named in the forged claim is still there');
  });

  it('removes the temporary files a killed writer left, and only those', async () => {
    const dead = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, ['-e', '0']);
      p.on('exit', () => resolve(p.pid!));
    });
    const leftover = file(`.communication-log.json.syncord-${dead}-abc123.tmp`);
    const mine = file(`.communication-log.json.syncord-${process.pid}-def456.tmp`);
    const other = file('.notes.tmp');
    for (const f of [leftover, mine, other]) fs.writeFileSync(f, 'half');
    const r = await runSyncord(root, ['--as', 'instance-2', 'msg', 'send', 'instance-1', '--subject', 'hi', '-m', 'hello']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.existsSync(leftover), false, 'the dead writer\'s temporary file is gone');
    assert.equal(fs.existsSync(mine), true, 'a live process\'s temporary file stays');
    assert.equal(fs.existsSync(other), true, 'files of other programs stay');
  });
});
