// `syncord mcp`: an MCP client from the official SDK starts the bundled CLI's server over stdio against a copy of
// the seed files, lists its tools, calls every verb and reads the files back as the CLI would have left them.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { makeWorkspace, SP, snapshot, write } from '../targets/helpers';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
/** The bundled CLI (node esbuild.js): what agents and MCP clients run. */
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SEED = path.join(ROOT, 'test', 'fixtures', 'seed004');

/** The tools the issue asks for, by name (the server must offer each of them). */
const EXPECTED_TOOLS = [
  'inbox',
  'checkin',
  'checkout',
  'task_list',
  'task_show',
  'task_add',
  'task_claim',
  'task_accept',
  'task_decline',
  'task_start',
  'task_complete',
  'task_block',
  'task_unblock',
  'task_release',
  'msg_send',
  'msg_reply',
  'msg_ack',
  'msg_close',
  'msg_list',
  'msg_show',
  'decision_propose',
  'decision_input',
  'decision_decide',
  'decision_list',
  'health',
  'targets_status',
  'targets_detect',
  'targets_verify',
];

interface Workspace {
  root: string;
  coord: string;
  read(file: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any
  sha(file: string): string;
  /** Runs the CLI itself (`syncord <args>`) in the workspace. */
  cli(args: string[], env?: Record<string, string>): string;
}

function workspace(): Workspace {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-mcp-'));
  const coord = path.join(root, 'coordination');
  fs.mkdirSync(coord);
  for (const f of fs.readdirSync(SEED)) fs.copyFileSync(path.join(SEED, f), path.join(coord, f));
  return {
    root,
    coord,
    read: (file) => JSON.parse(fs.readFileSync(path.join(coord, file), 'utf8')),
    sha: (file) => crypto.createHash('sha256').update(fs.readFileSync(path.join(coord, file))).digest('hex'),
    cli: (args, env = {}) => execFileSync(process.execPath, [CLI, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: root, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}

const clients: Client[] = [];

async function connect(ws: Workspace, instance: string, env: Record<string, string> = {}): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--as', instance],
    cwd: ws.root,
    env: { HOME: ws.root, ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'syncord-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** A successful call's structured result (fails the test, with the tool's own words, when it was refused). */
async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await call(client, name, args);
  assert.ok(!r.isError, `${name} failed: ${JSON.stringify(r.content)}`);
  assert.equal(r.content[0]?.type, 'text');
  return r.structuredContent;
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
const taskIn = (queue: Record<string, { task_id: string }[]>, id: string) =>
  Object.entries(queue).flatMap(([list, tasks]) => (Array.isArray(tasks) ? tasks.filter((t) => t.task_id === id).map((t) => ({ list, ...t })) : []))[0] as
    | (Record<string, unknown> & { list: string })
    | undefined;

describe('syncord mcp (MCP server over stdio)', function () {
  this.timeout(60_000);

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: build it with \`node esbuild.js\``);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close().catch(() => undefined);
  });

  it('lists every coordination tool, each with a JSON Schema of its input', async () => {
    const client = await connect(workspace(), 'instance-2');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of EXPECTED_TOOLS) assert.ok(names.includes(name), `tool ${name} is missing (got ${names.join(', ')})`);
    for (const t of tools) {
      assert.equal(t.inputSchema.type, 'object', `${t.name} has no object input schema`);
      assert.ok(t.description, `${t.name} has no description`);
    }
    const complete = tools.find((t) => t.name === 'task_complete')!;
    assert.deepEqual(complete.inputSchema.required, ['id']);
    assert.equal((complete.inputSchema.properties as Record<string, { type?: string }>).id.type, 'string');
    const send = tools.find((t) => t.name === 'msg_send')!;
    assert.deepEqual([...(send.inputSchema.required ?? [])].sort(), ['message', 'subject', 'to']);
    // The priority field carries the known values from the file schema of the core.
    const priority = (send.inputSchema.properties as Record<string, { examples?: string[] }>).priority;
    assert.deepEqual(priority.examples, ['critical', 'high', 'medium', 'low']);
  });

  it('runs every verb as its instance and changes the files as the CLI does', async () => {
    const ws = workspace();
    const me = await connect(ws, 'instance-2');

    // Startup: inbox, check-in.
    const inbox = await ok(me, 'inbox');
    assert.equal(inbox.instance, 'instance-2');
    const checkin = await ok(me, 'checkin', { task: 'task_001' });
    assert.equal(checkin.id, 'instance-2');
    let reg = ws.read('instance-registry.json');
    assert.equal(reg.instances['instance-2'].status, 'active');
    assert.equal(reg.instances['instance-2'].current_task, 'task_001');
    assert.equal(reg.instances['instance-2'].available_for_consultation, true);

    // Tasks: list, show, add, complete, accept, start, block, unblock, release, claim, decline.
    const list = await ok(me, 'task_list', { list: 'pending' });
    assert.deepEqual(list.tasks.map((t: { task_id: string }) => t.task_id), ['task_002', 'task_003']);
    const show = await ok(me, 'task_show', { id: 'task_002' });
    assert.deepEqual(show.unmet_dependencies, ['task_001']);

    const added = await ok(me, 'task_add', { title: 'Document the MCP tools', priority: 'low', depends_on: ['task_001'], expertise: ['docs'] });
    assert.equal(added.task_id, 'task_004');
    let t = taskIn(ws.read('task-queue.json'), 'task_004')!;
    assert.equal(t.list, 'pending_tasks');
    assert.equal(t.status, 'pending_assignment');
    assert.equal(t.priority, 'low');
    assert.equal(t.created_by, 'instance-2');
    assert.deepEqual(t.dependencies, ['task_001']);

    await ok(me, 'task_complete', { id: 'task_001', note: 'architecture written', deliverables: ['docs/arch.md'] });
    t = taskIn(ws.read('task-queue.json'), 'task_001')!;
    assert.equal(t.list, 'completed_tasks');
    assert.equal(t.status, 'completed');
    assert.equal(t.completion_note, 'architecture written');
    assert.ok((t.deliverables as string[]).includes('docs/arch.md'));
    assert.equal(ws.read('instance-registry.json').instances['instance-2'].current_task, null);

    await ok(me, 'task_accept', { id: 'task_002' });
    t = taskIn(ws.read('task-queue.json'), 'task_002')!;
    assert.equal(t.status, 'accepted');
    assert.equal(t.assigned_to, 'instance-2');

    await ok(me, 'task_start', { id: 'task_002' });
    t = taskIn(ws.read('task-queue.json'), 'task_002')!;
    assert.equal(t.list, 'active_tasks');
    assert.equal(t.status, 'in_progress');
    assert.equal(ws.read('instance-registry.json').instances['instance-2'].current_task, 'task_002');

    await ok(me, 'task_block', { id: 'task_002', reason: 'waiting for the API review' });
    t = taskIn(ws.read('task-queue.json'), 'task_002')!;
    assert.equal(t.status, 'blocked');
    assert.equal(t.blocked_reason, 'waiting for the API review');
    await ok(me, 'task_unblock', { id: 'task_002' });
    assert.equal(taskIn(ws.read('task-queue.json'), 'task_002')!.status, 'in_progress');

    await ok(me, 'task_release', { id: 'task_002' });
    t = taskIn(ws.read('task-queue.json'), 'task_002')!;
    assert.equal(t.list, 'pending_tasks');
    assert.equal(t.assigned_to, null);

    const claimed = await ok(me, 'task_claim', { id: 'task_002' });
    assert.equal(claimed.alreadyClaimed, false);
    assert.equal(taskIn(ws.read('task-queue.json'), 'task_002')!.list, 'active_tasks');

    // Someone assigns task_004 through the CLI; this instance declines it through MCP.
    ws.cli(['task', 'assign', 'task_004', 'instance-2']);
    await ok(me, 'task_decline', { id: 'task_004', reason: 'not my area' });
    t = taskIn(ws.read('task-queue.json'), 'task_004')!;
    assert.equal(t.status, 'pending_assignment');
    assert.equal(t.assigned_to, null);
    assert.deepEqual(t.declined_by, ['instance-2']);

    // Messages: send, list, show; instance-1 answers msg_001 through the CLI, then this instance closes the thread.
    const sent = await ok(me, 'msg_send', { to: 'instance-1', subject: 'Schema review', message: 'Please review the task schema.', task: 'task_002' });
    assert.equal(sent.message.message_id, 'msg_002');
    let log = ws.read('communication-log.json');
    const m2 = log.messages.find((m: { message_id: string }) => m.message_id === 'msg_002');
    assert.equal(m2.from, 'instance-2');
    assert.equal(m2.to, 'instance-1');
    assert.equal(m2.status, 'pending_response');
    assert.equal(m2.context.related_task, 'task_002');
    assert.ok(log.response_queue.some((r: { responding_to: string; status: string }) => r.responding_to === 'msg_002' && r.status === 'pending'));

    const mine = await ok(me, 'msg_list', { from: 'instance-2' });
    assert.deepEqual(mine.messages.map((m: { message_id: string }) => m.message_id), ['msg_001', 'msg_002']);

    ws.cli(['msg', 'reply', 'msg_001', '-m', 'Use REST.', '--as', 'instance-1']);
    const thread = await ok(me, 'msg_show', { id: 'msg_001' });
    assert.deepEqual(thread.thread.map((m: { message_id: string }) => m.message_id), ['msg_001', 'msg_003']);
    await ok(me, 'msg_close', { id: 'msg_001' });
    log = ws.read('communication-log.json');
    assert.equal(log.messages.find((m: { message_id: string }) => m.message_id === 'msg_001').status, 'closed');

    // instance-1 sends a note needing no answer (CLI); this instance acknowledges it, and answers a question.
    ws.cli(['msg', 'send', '--to', 'instance-2', '--subject', 'FYI', '-m', 'The API is REST.', '--type', 'info', '--no-requires-response', '--as', 'instance-1']);
    await ok(me, 'msg_ack', { id: 'msg_004' });
    const m4 = ws.read('communication-log.json').messages.find((m: { message_id: string }) => m.message_id === 'msg_004');
    assert.ok(JSON.stringify(m4).includes('instance-2'), 'the acknowledgement names the instance');
    ws.cli(['msg', 'send', '--to', 'instance-2', '--subject', 'Which port?', '-m', 'Which port does the API use?', '--type', 'question', '--as', 'instance-1']);
    const reply = await ok(me, 'msg_reply', { id: 'msg_005', message: 'Port 8080.' });
    log = ws.read('communication-log.json');
    const r6 = log.messages.find((m: { message_id: string }) => m.message_id === reply.message.message_id);
    assert.equal(r6.in_reply_to, 'msg_005');
    assert.equal(r6.from, 'instance-2');
    assert.equal(r6.message, 'Port 8080.');
    assert.equal(log.messages.find((m: { message_id: string }) => m.message_id === 'msg_005').status, 'responded');

    // Decisions: propose, input, decide, list.
    const proposed = await ok(me, 'decision_propose', { title: 'Transport', options: ['stdio', 'http'], input_from: ['instance-1'] });
    let decisions = ws.read('decisions.json');
    assert.ok(decisions.pending_decisions.some((d: { decision_id: string; input_needed_from: string[] }) => d.decision_id === proposed.decision_id && d.input_needed_from[0] === 'instance-1'));
    await ok(me, 'decision_input', { id: proposed.decision_id, option: 'stdio', text: 'simplest' });
    decisions = ws.read('decisions.json');
    const pending = decisions.pending_decisions.find((d: { decision_id: string }) => d.decision_id === proposed.decision_id);
    assert.deepEqual(pending.inputs.map((i: { from: string; option: string }) => [i.from, i.option]), [['instance-2', 'stdio']]);
    const decided = await ok(me, 'decision_decide', { id: proposed.decision_id, option: 'stdio', rationale: 'every client speaks it' });
    assert.deepEqual(decided.missingInput, ['instance-1']);
    decisions = ws.read('decisions.json');
    const made = decisions.decisions.find((d: { decision_id: string }) => d.decision_id === proposed.decision_id);
    assert.equal(made.decision, 'stdio');
    assert.equal(made.rationale, 'every client speaks it');
    assert.deepEqual(made.decided_by, ['instance-2']);
    const listed = await ok(me, 'decision_list', { pending: true });
    assert.deepEqual(listed.pending_decisions.map((d: { decision_id: string }) => d.decision_id), ['dec_002']);

    // Health and targets (read-only), then check-out.
    const health = await ok(me, 'health');
    assert.ok(Array.isArray(health.findings));
    assert.ok(health.summary.tasks);
    // Every file with its content (a lock directory held a moment by a reader is not a write).
    const files = () => fs.readdirSync(ws.coord).filter((f) => !f.endsWith('.lock') && fs.statSync(path.join(ws.coord, f)).isFile()).sort().map((f) => [f, ws.sha(f)]);
    const before = files();
    const targets = await ok(me, 'targets_status');
    assert.deepEqual(targets.targets, []);
    assert.deepEqual(files(), before, 'targets_status writes nothing');

    await ok(me, 'checkout');
    reg = ws.read('instance-registry.json');
    assert.equal(reg.instances['instance-2'].status, 'offline');
    assert.equal(reg.instances['instance-2'].available_for_consultation, false);
  });

  it('a refusal is a tool error with the code, and changes nothing', async () => {
    const ws = workspace();
    const other = await connect(ws, 'instance-1');
    const queue = ws.sha('task-queue.json');
    const registry = ws.sha('instance-registry.json');
    const r = await call(other, 'task_complete', { id: 'task_001' });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^syncord: error \(conflict\): task task_001 is held by instance-2, not instance-1/);
    // The way out is named as this tool takes it, not as the CLI's option.
    assert.match(textOf(r), /`force: true`/);
    assert.doesNotMatch(textOf(r), /--force/);
    assert.deepEqual((r.structuredContent as { error: { code: string } }).error.code, 'conflict');
    assert.equal(ws.sha('task-queue.json'), queue);
    assert.equal(ws.sha('instance-registry.json'), registry);

    const missing = await call(other, 'task_show', { id: 'task_999' });
    assert.equal(missing.isError, true);
    assert.match(textOf(missing), /^syncord: error \(not-found\): task "task_999" does not exist/);
  });

  it('a tool acting as an instance refuses when the server was started for none', async () => {
    const ws = workspace();
    const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, 'mcp'], cwd: ws.root, env: { HOME: ws.root }, stderr: 'pipe' });
    const client = new Client({ name: 'syncord-test', version: '1.0.0' });
    await client.connect(transport);
    clients.push(client);
    const r = await call(client, 'task_claim', { id: 'task_002' });
    assert.equal(r.isError, true);
    assert.match(textOf(r), /^syncord: error \(usage\): this command acts as an instance/);
    // Reading needs no instance.
    const list = await ok(client, 'task_list');
    assert.equal(list.tasks.length, 3);
  });

  it('a broken coordination file is an error naming the file with line and column, as the CLI says it', async () => {
    const ws = workspace();
    const file = path.join(ws.coord, 'task-queue.json');
    fs.writeFileSync(file, '{\n  "active_tasks": [\n    { "task_id": "task_001" "title": "x" }\n  ]\n');
    const client = await connect(ws, 'instance-2');
    const r = await call(client, 'task_list');
    assert.equal(r.isError, true);
    const text = textOf(r);
    assert.match(text, /^syncord: error \(invalid-file\): /);
    const at = /(\S*task-queue\.json):(\d+):(\d+): /.exec(text);
    assert.ok(at, `no file:line:col in ${JSON.stringify(text)}`);
    assert.equal(fs.realpathSync(at[1]), fs.realpathSync(file));
    assert.equal(`${at[2]}:${at[3]}`, '3:29');
    // The CLI says the same thing about the same place.
    let stderr = '';
    try {
      ws.cli(['task', 'list']);
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr);
    }
    const cliMessage = stderr.replace(/^syncord: error: /, '').trim();
    assert.ok(cliMessage.includes('task-queue.json:3:29: '), stderr);
    assert.equal(text.replace(/^syncord: error \(invalid-file\): /, ''), cliMessage);
    const structured = r.structuredContent as { error: { code: string; location: { line: number; column: number } } };
    assert.equal(structured.error.code, 'invalid-file');
    assert.deepEqual([structured.error.location.line, structured.error.location.column], [3, 29]);
  });

  it('offers the coordination files and targets.json as resources, and says when one changed on disk', async () => {
    const ws = workspace();
    const client = await connect(ws, 'instance-2');
    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri).sort(),
      ['communication-log.json', 'decisions.json', 'instance-registry.json', 'targets.json', 'task-queue.json'].map((f) => `syncord://coordination/${f}`),
    );
    const uri = 'syncord://coordination/task-queue.json';
    const read = await client.readResource({ uri });
    assert.equal((read.contents[0] as { text: string }).text, fs.readFileSync(path.join(ws.coord, 'task-queue.json'), 'utf8'));
    assert.equal(read.contents[0].mimeType, 'application/json');

    const updated: string[] = [];
    let changed!: () => void;
    const seen = new Promise<void>((resolve) => (changed = resolve));
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push(n.params.uri);
      if (n.params.uri === uri) changed();
    });
    await client.subscribeResource({ uri });
    // Changed by someone else (the CLI), not by the server itself.
    ws.cli(['task', 'add', 'Written elsewhere']);
    await seen;
    assert.ok(updated.includes(uri));
    const again = await client.readResource({ uri });
    assert.ok((again.contents[0] as { text: string }).text.includes('Written elsewhere'));
  });

  it('inside a session, a task verb acknowledges the hand-over of that task, as the CLI does', async () => {
    const ws = workspace();
    const session = '4f6c2d1e-0000-4000-8000-000000000001';
    const now = '2026-01-01T00:00:00Z';
    fs.writeFileSync(
      path.join(ws.coord, 'sessions.json'),
      JSON.stringify(
        {
          sessions: [
            { session_id: session, instance: 'instance-2', runtime: 'claude', mode: 'headless', state: 'idle', host: os.hostname(), pid: null, cwd: ws.root, command: ['claude'], started: now, updated: now },
          ],
        },
        null,
        2,
      ),
    );
    const log = ws.read('communication-log.json');
    log.messages.push({
      message_id: 'msg_002',
      from: 'syncord',
      to: 'instance-2',
      type: 'handoff',
      timestamp: now,
      subject: 'Task task_002',
      message: 'Work on task_002.',
      requires_response: false,
      context: { related_task: 'task_002' },
      status: 'sent',
      deliveries: [{ session, instance: 'instance-2', via: 'prompt', status: 'delivered', attempts: 1, updated: now, prompt: 'Work on task_002.' }],
    });
    fs.writeFileSync(path.join(ws.coord, 'communication-log.json'), JSON.stringify(log, null, 2));
    const delivery = () => ws.read('communication-log.json').messages.find((m: { message_id: string }) => m.message_id === 'msg_002').deliveries[0].status;

    // Outside the session: nothing is acknowledged.
    const outside = await connect(ws, 'instance-2');
    await ok(outside, 'task_show', { id: 'task_002' });
    assert.equal(delivery(), 'delivered');

    // The session's own agent, through its MCP server.
    const inside = await connect(ws, 'instance-2', { SYNCORD_SESSION: session });
    await ok(inside, 'task_list');
    assert.equal(delivery(), 'delivered', 'listing is not acting on the task');
    await ok(inside, 'task_show', { id: 'task_002' });
    assert.equal(delivery(), 'acknowledged');
  });

  it('targets_detect and targets_verify answer as the CLI does and change nothing, in the targets or in .syncord', async () => {
    const tw = makeWorkspace();
    try {
      assert.equal((await tw.run('target', 'add', 'comfy', '--path', tw.sp, '--type', 'site-packages')).code, 0);
      assert.equal((await tw.run('sync', 'run', '--target', 'comfy', '--take-source')).code, 0);
      write(tw.main, 'docs/SETUP.md', '# Setup v2\n');
      tw.commit('setup v2');
      write(tw.sp, `${SP}/docs/api/REST.md`, 'broken by hand\n');
      const transport = new StdioClientTransport({ command: process.execPath, args: [CLI, '-w', tw.main, 'mcp', '--as', 'instance-1'], cwd: tw.main, env: { HOME: tw.dir }, stderr: 'pipe' });
      const client = new Client({ name: 'syncord-test', version: '1.0.0' });
      await client.connect(transport);
      clients.push(client);
      // What a tool could change; the detect cache (.syncord/cache) may grow, as for every read.
      const state = () => Object.fromEntries(Object.entries(snapshot(path.join(tw.main, '.syncord'))).filter(([k]) => !k.startsWith('cache/')));
      const before = { target: snapshot(tw.sp), state: state(), coord: snapshot(path.join(tw.main, 'coordination')) };

      const detected = await call(client, 'targets_detect', {});
      assert.ok(!detected.isError, textOf(detected));
      assert.match(textOf(detected), /^comfy: \d+ changed files? since [0-9a-f]{12}|^comfy: \d+ changed file\(s\) since [0-9a-f]{12}/);
      assert.match(textOf(detected), /M\s+docs\/SETUP\.md/);

      const verified = await call(client, 'targets_verify', { target: 'comfy' });
      assert.ok(!verified.isError, textOf(verified));
      assert.match(textOf(verified), /^Verify comfy: FAILED/);
      assert.match(textOf(verified), /FAIL  files:docs/);
      assert.equal((verified.structuredContent as { passed: boolean }).passed, false);
      const after = { target: snapshot(tw.sp), state: state(), coord: snapshot(path.join(tw.main, 'coordination')) };
      assert.deepEqual(after, before, 'neither tool wrote anything: the target, .syncord and coordination/ are as they were');
      // The CLI's own verify says the same.
      const cli = await tw.run('sync', 'verify', '--target', 'comfy', '--no-commands');
      assert.equal(cli.code, 1);
      assert.match(cli.stdout, /FAIL  files:docs/);

      const unknown = await call(client, 'targets_verify', { target: 'nope' });
      assert.equal(unknown.isError, true);
      assert.match(textOf(unknown), /^syncord: error \(not-found\): .*nope/);
    } finally {
      tw.cleanup();
    }
  });
});
