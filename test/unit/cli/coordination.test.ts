import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireLock } from '../../../src/core/store/lock';
import { SEED_DIR } from '../coordination/helpers';
import { CLI, runSyncord } from './runSyncord';

const syncord = runSyncord;

async function ok(cwd: string, args: string[], opts?: { input?: string; env?: Record<string, string> }): Promise<string> {
  const r = await syncord(cwd, args, opts);
  assert.equal(r.code, 0, `syncord ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

async function json<T = any>(cwd: string, args: string[], opts?: { input?: string }): Promise<T> {
  return JSON.parse(await ok(cwd, [...args, '--json'], opts)) as T;
}

describe('syncord coordination verbs', function () {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-cli-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const seedWorkspace = () => {
    fs.mkdirSync(path.join(root, 'coordination'));
    for (const f of fs.readdirSync(SEED_DIR)) fs.copyFileSync(path.join(SEED_DIR, f), path.join(root, 'coordination', f));
  };
  const file = (name: string) => path.join(root, 'coordination', name);
  const readJson = (name: string) => JSON.parse(fs.readFileSync(file(name), 'utf8'));

  it('claiming or starting a task that waits for others names them, and every command it suggests runs as written', async () => {
    await ok(root, ['init']);
    await ok(root, ['--as', 'lead', 'checkin', '--role', 'lead']);
    await ok(root, ['--as', 'dev', 'checkin', '--role', 'dev']);
    await ok(root, ['--as', 'lead', 'task', 'add', '--title', 'Schema']);
    await ok(root, ['--as', 'lead', 'task', 'add', '--title', 'Client', '--depends-on', 'task_001']);
    // The commands a refusal suggests, each on its own indented line.
    const suggested = (stderr: string) => [...stderr.matchAll(/^ {4}syncord (.+)$/gm)].map((m) => m[1].split(' '));

    const claim = await syncord(root, ['--as', 'dev', 'task', 'claim', 'task_002']);
    assert.equal(claim.code, 5);
    assert.match(claim.stderr, /^syncord: error: task_002 "Client" waits for task_001 "Schema" \(pending_assignment\), not completed yet\.\n/);
    const [accept, force] = suggested(claim.stderr);
    assert.deepEqual([accept, force], [['--as', 'dev', 'task', 'accept', 'task_002'], ['--as', 'dev', 'task', 'claim', 'task_002', '--force']]);
    assert.equal(await ok(root, accept), 'dev accepted task_002: Client\n');
    assert.match(await ok(root, ['--as', 'dev', 'inbox']), /task_002  \[medium\]  Client  — accepted; waits for task_001\n/);

    // Accepted and still waiting: start says so, and offers only what is left.
    const start = await syncord(root, ['--as', 'dev', 'task', 'start', 'task_002']);
    assert.equal(start.code, 5);
    assert.match(start.stderr, /dev has accepted it: start it once task_001 is completed/);
    assert.deepEqual(suggested(start.stderr), [force]);
    assert.equal(readJson('task-queue.json').pending_tasks.find((t: any) => t.task_id === 'task_002').status, 'accepted');
    assert.equal(await ok(root, force), 'dev claimed task_002: Client\n');
    assert.equal(readJson('task-queue.json').active_tasks[0].task_id, 'task_002');
  });

  it('walks the four protocols from an empty folder', async () => {
    assert.match(await ok(root, ['init']), /Initialized coordination: created instance-registry\.json, task-queue\.json, communication-log\.json, decisions\.json\./);
    assert.match(await ok(root, ['init']), /already holds all coordination files; nothing was changed/);

    // Protocol 1: check-in registers both instances.
    const lead = await ok(root, ['checkin', '--as', 'lead', '--role', 'documentation-strategy', '--expertise', 'docs,planning']);
    assert.match(lead, /^lead checked in \(newly registered\): documentation-strategy, session session_\d{8}T\d{6}Z\.\n\nNothing waiting for lead\.\n$/);
    await ok(root, ['checkin', '--role', 'architecture-backend', '--expertise', 'api-design'], { env: { SYNCORD_INSTANCE: 'arch' } });
    const list = await ok(root, ['instance', 'list']);
    assert.match(list, /^ID\s+ROLE\s+STATUS\s+AVAILABLE\s+LAST UPDATE\s+CURRENT TASK\nlead\s+documentation-strategy\s+active\s+yes\s+\S+Z\s+-\narch\s+architecture-backend\s+active\s+yes/);

    // Protocol 2: create, offer, accept, finish.
    const design = await json(root, ['--as', 'lead', 'task', 'add', 'Design the API', '-p', 'high', '--due', '+2d', '--expertise', 'api-design']);
    assert.equal(design.task_id, 'task_001');
    const build = await json(root, ['--as', 'lead', 'task', 'add', 'Build the API', '--depends', 'task_001', '--suggest', 'arch']);
    assert.equal(build.task_id, 'task_002');
    await ok(root, ['task', 'assign', 'task_001', 'arch']);
    assert.match(await ok(root, ['--as', 'arch', 'inbox']), /Tasks assigned to you:\n  task_001  \[high\]  Design the API  \(due \S+\)  — claim, accept or decline; ready to start\n/);
    const early = await syncord(root, ['--as', 'arch', 'task', 'claim', 'task_002']);
    assert.equal(early.code, 5);
    assert.equal(
      early.stderr,
      'syncord: error: task_002 "Build the API" waits for task_001 "Design the API" (assigned, arch), not completed yet.\n' +
        "  To accept it now (it becomes arch's and waits until task_001 is completed; the inbox and the Coordination view show what still blocks it):\n" +
        '    syncord --as arch task accept task_002\n' +
        '  To claim it anyway (it starts now, before task_001 is completed):\n' +
        '    syncord --as arch task claim task_002 --force\n',
    );
    assert.equal(await ok(root, ['--as', 'arch', 'task', 'claim', 'task_001']), 'arch claimed task_001: Design the API\n');
    assert.equal(readJson('instance-registry.json').instances.arch.current_task, 'task_001');
    await ok(root, ['--as', 'arch', 'task', 'complete', 'task_001', '--deliverable', 'docs/api.md']);
    const next = await json(root, ['--as', 'arch', 'task', 'next']);
    assert.deepEqual(next.map((s: any) => s.task.task_id), ['task_002']);
    await ok(root, ['--as', 'arch', 'task', 'claim', 'task_002']);
    const queue = readJson('task-queue.json');
    assert.deepEqual(queue.active_tasks.map((t: any) => t.task_id), ['task_002']);
    assert.deepEqual(queue.completed_tasks[0].deliverables, ['docs/api.md']);

    // Protocol 3: consult, answer, close.
    const sent = await json(root, ['--as', 'arch', 'msg', 'send', 'lead', 'Versioning', '-m', '-', '--task', 'task_002'], {
      input: 'URL or header versioning?\nI lean to URL.\n',
    });
    assert.equal(sent.message.message_id, 'msg_001');
    assert.equal(sent.message.message, 'URL or header versioning?\nI lean to URL.');
    assert.equal(sent.awaiting.from, 'lead');
    assert.match(await ok(root, ['--as', 'lead', 'inbox']), /Messages awaiting your response:\n  msg_001  from arch: Versioning  \(due \S+Z\)/);
    await ok(root, ['--as', 'lead', 'msg', 'reply', 'msg_001', '-m', 'URL versioning.']);
    const thread = await ok(root, ['msg', 'show', 'msg_002']);
    assert.match(thread, /^msg_001  arch → lead .*\n  Versioning  \(consultation_request, medium priority, responded\)\n  re: task task_002\n\n    URL or header versioning\?\n    I lean to URL\.\n\nmsg_002  lead → arch /);
    await ok(root, ['--as', 'arch', 'msg', 'close', 'msg_001']);
    assert.deepEqual(readJson('communication-log.json').messages.map((m: any) => m.status), ['closed', 'acknowledged']);

    // Protocol 4: propose, input, decide.
    await ok(root, ['--as', 'lead', 'decision', 'propose', 'Auth scheme', '--option', 'API keys', '--option', 'OAuth', '--input-from', 'arch', '--deadline', '+1d']);
    await ok(root, ['--as', 'lead', 'decision', 'option', 'dec_001', 'OAuth', '--pro', 'Standard', '--con', 'More moving parts']);
    assert.match(await ok(root, ['--as', 'arch', 'inbox']), /Decisions waiting for your input:\n  dec_001  Auth scheme/);
    assert.equal(await ok(root, ['--as', 'arch', 'decision', 'input', 'dec_001', '--option', 'oauth', '-m', 'Partners expect it.']), 'Recorded input on dec_001. All requested input is in.\n');
    await ok(root, ['--as', 'lead', 'decision', 'decide', 'dec_001', '--option', 'OAuth', '--rationale', 'Partners expect it.']);
    const shown = await ok(root, ['decision', 'show', 'dec_001']);
    assert.match(shown, /decision:   OAuth\n  rationale:  Partners expect it\.\n  decided by: lead on \S+\n  status:     active\n  affects:    lead, arch/);
    assert.match(shown, /- OAuth\n        pros: Standard\n        cons: More moving parts\n  input:\n    - arch prefers OAuth: Partners expect it\./);

    const health = await syncord(root, ['health']);
    assert.equal(health.code, 0, health.stdout);
    // Only a note: task_002 was added without a due date.
    assert.match(health.stdout, /^coordination\/task-queue\.json:\d+:7: info: task_002 has no due date \[no-due-date\]\n/);
    assert.match(health.stdout, /0 errors, 0 warnings, 1 note/);
    await ok(root, ['--as', 'arch', 'checkout']);
    assert.equal(readJson('instance-registry.json').instances.arch.status, 'offline');
  });

  it('exits 1 from health with file:line:col findings when there are problems', async () => {
    seedWorkspace();
    const r = await syncord(root, ['health', '--now', '2024-01-15T12:30:00Z']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^coordination\/communication-log\.json:17:7: warning: instance-1 has not answered msg_001 "API Design for Agent Coordination" from instance-2 \(due 30m ago\) \[overdue-response\]\n/);
    assert.match(r.stdout, /0 errors, 1 warning, 5 notes \(as of 2024-01-15T12:30:00Z\)\.\n$/);
    const j = await syncord(root, ['health', '--now', '2024-01-15T12:30:00Z', '--json']);
    assert.equal(j.code, 1);
    assert.deepEqual(JSON.parse(j.stdout).counts, { error: 0, warning: 1, info: 5 });
  });

  it('maps refusals to exit codes and never changes the files', async () => {
    seedWorkspace();
    const jsonFiles = () => fs.readdirSync(path.join(root, 'coordination')).filter((f) => f.endsWith('.json'));
    const before = jsonFiles().map((f) => fs.readFileSync(file(f), 'utf8'));

    const noIdentity = await syncord(root, ['task', 'claim', 'task_002']);
    assert.equal(noIdentity.code, 2);
    assert.match(noIdentity.stderr, /pass --as <instance> or set SYNCORD_INSTANCE/);

    const badPriority = await syncord(root, ['--as', 'instance-1', 'task', 'add', 'x', '-p', 'urgent']);
    assert.equal(badPriority.code, 2);
    assert.match(badPriority.stderr, /argument 'urgent' is invalid\. Allowed choices are critical, high, medium, low/);

    const badTime = await syncord(root, ['--as', 'instance-1', 'task', 'add', 'x', '--due', 'tomorrow']);
    assert.equal(badTime.code, 2);
    assert.match(badTime.stderr, /invalid due time "tomorrow"/);

    const missing = await syncord(root, ['--as', 'instance-1', 'msg', 'reply', 'msg_404', '-m', 'hi', '--json']);
    assert.equal(missing.code, 4);
    assert.deepEqual(JSON.parse(missing.stdout), { error: { code: 'not-found', message: 'message "msg_404" does not exist', location: null } });

    const taken = await syncord(root, ['--as', 'instance-1', 'task', 'complete', 'task_001']);
    assert.equal(taken.code, 5);
    assert.match(taken.stderr, /task task_001 is held by instance-2, not instance-1/);

    const after = jsonFiles().map((f) => fs.readFileSync(file(f), 'utf8'));
    assert.deepEqual(after, before);
  });

  it('names the file, line and column of a broken coordination file (exit 3)', async () => {
    seedWorkspace();
    const text = fs.readFileSync(file('task-queue.json'), 'utf8').replace('"priority": "medium",', '"priority": 2,');
    fs.writeFileSync(file('task-queue.json'), text);
    const r = await syncord(root, ['--as', 'instance-1', 'task', 'list']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `syncord: error: ${file('task-queue.json')}:39:7: pending_tasks[1].priority: expected string, found number\n`);
    const j = await syncord(root, ['--as', 'instance-3', 'task', 'claim', 'task_003', '--json']);
    assert.equal(j.code, 3);
    assert.deepEqual(JSON.parse(j.stdout).error.location, { file: file('task-queue.json'), line: 39, column: 7 });
    assert.equal(fs.readFileSync(file('task-queue.json'), 'utf8'), text);
  });

  it('tells to initialize when there is no coordination folder (exit 4)', async () => {
    const r = await syncord(root, ['instance', 'list']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /instance-registry\.json does not exist; initialize coordination first \(`syncord init`/);
  });

  it('waits for a held lock, then gives up with exit 6', async () => {
    seedWorkspace();
    const lock = await acquireLock(file('communication-log.json'));
    try {
      const r = await syncord(root, ['--as', 'instance-1', 'msg', 'send', 'instance-2', 'hi', '-m', 'x'], { env: { SYNCORD_LOCK_WAIT_MS: '200' } });
      assert.equal(r.code, 6);
      assert.match(r.stderr, /communication-log\.json is locked by another Syncord operation/);
    } finally {
      await lock.release();
    }
    assert.equal(readJson('communication-log.json').messages.length, 1);
  });

  it('keeps every message when several agents send at once', async () => {
    seedWorkspace();
    const senders = ['instance-1', 'instance-2', 'instance-3', 'instance-4', 'instance-5', 'instance-6'];
    const runs = await Promise.all(
      senders.map((s) => syncord(root, ['--as', s, 'msg', 'send', 'all', `status from ${s}`, '-m', 'all good', '--type', 'info'])),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const log = readJson('communication-log.json');
    assert.equal(log.messages.length, 7);
    assert.deepEqual(log.messages.map((m: any) => m.message_id).sort(), ['msg_001', 'msg_002', 'msg_003', 'msg_004', 'msg_005', 'msg_006', 'msg_007']);
    assert.deepEqual(log.messages.slice(1).map((m: any) => m.from).sort(), senders);
  });

  it('uses --workspace and --coordination-dir', async () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-cwd-'));
    try {
      await ok(elsewhere, ['--workspace', root, '--coordination-dir', '.agents', 'init']);
      assert.ok(fs.existsSync(path.join(root, '.agents', 'decisions.json')));
      await ok(elsewhere, ['-w', root, '--coordination-dir', '.agents', 'instance', 'add', 'qa-1', '--role', 'qa']);
      const reg = JSON.parse(fs.readFileSync(path.join(root, '.agents', 'instance-registry.json'), 'utf8'));
      assert.equal(reg.instances['qa-1'].status, 'pending');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});

describe('syncord CLI entry', () => {
  it('prints help listing the coordination verbs', async () => {
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, '--help'], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    for (const verb of ['init', 'checkin', 'checkout', 'instance', 'task', 'msg', 'decision', 'inbox', 'health']) {
      assert.match(out, new RegExp(`^  ${verb}\\b`, 'm'), verb);
    }
  });
});
