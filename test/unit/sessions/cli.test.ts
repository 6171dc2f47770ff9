import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Run, runSyncord } from '../cli/runSyncord';
import { FAKES, until } from './helpers';

interface Session {
  session_id: string;
  instance: string;
  runtime: string;
  mode: string;
  state: string;
  pid: number | null;
  agent_pid?: number | null;
  cwd: string;
  worktree?: string | null;
  log?: string | null;
  end_reason?: string | null;
  queue?: string[];
}

interface Delivery {
  session: string | null;
  instance: string;
  via: string | null;
  status: string;
  attempts: number;
  error?: string | null;
  prompt: string;
}

describe('syncord sessions (CLI, fake runtimes)', function () {
  this.timeout(60_000);
  let root: string;
  let dir: string;
  const started: number[] = [];

  // The user's trust record (`syncord trust`) goes to a temporary config folder, never the real one.
  let config: string;
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${FAKES}${path.delimiter}${process.env.PATH}`, XDG_CONFIG_HOME: config, ...extra });
  const syncord = (args: string[], extra: Record<string, string> = {}): Promise<Run> => runSyncord(root, args, { env: env(extra) });
  const json = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
  const sessions = () => json<{ sessions: Session[] }>('sessions.json').sessions;
  const sessionOf = (instance: string) => sessions().filter((s) => s.instance === instance).pop();
  const registry = () => json<{ instances: Record<string, { status: string; current_session_id?: string | null }> }>('instance-registry.json').instances;
  const queue = () => json<{ pending_tasks: { task_id: string }[]; active_tasks: { task_id: string }[]; completed_tasks: { task_id: string; status: string; assigned_to: string; completion_note?: string }[] }>('task-queue.json');
  const message = (id: string) =>
    json<{ messages: { message_id: string; type: string; to: string; deliveries?: Delivery[]; context?: { related_task?: string } }[] }>('communication-log.json').messages.find(
      (m) => m.message_id === id,
    );
  const ok = (r: Run) => {
    assert.strictEqual(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-sessions-'));
    config = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-sessions-config-'));
    dir = path.join(root, 'coordination');
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-q', '--allow-empty', '-m', 'init'], { cwd: root });
    ok(await syncord(['init']));
  });

  afterEach(() => {
    for (const s of fs.existsSync(path.join(dir, 'sessions.json')) ? sessions() : []) {
      for (const pid of [s.pid, s.agent_pid]) if (pid) started.push(pid);
    }
    for (const pid of started.splice(0)) {
      // Its process group too (a session's own group): the `syncord` of a hook it started would go on writing.
      for (const p of [-pid, pid]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // already gone, or not a group
        }
      }
    }
    // A hook's `syncord` started by an agent that was just killed may still be writing state files.
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    fs.rmSync(config, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
    fs.rmSync(`${root}.worktrees`, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 });
  });

  it('spawns a headless agent that checks in, then hands it a task it completes, recorded in the message log', async () => {
    const spawn = ok(await syncord(['spawn', 'backend-claude', '--role', 'backend']));
    assert.match(spawn.stdout, /Started backend-claude \(newly registered\) with claude \(chosen by the mapping \*claude\*\)/);
    const s = sessionOf('backend-claude')!;
    assert.strictEqual(s.runtime, 'claude');
    assert.strictEqual(s.mode, 'headless');
    assert.ok(s.log && fs.existsSync(s.log), 'the output goes to a log file');

    // The agent ran `syncord inbox` and `syncord checkin` through the shim, as the instance, in this session.
    await until('the agent to check in', () => registry()['backend-claude']?.status === 'active');
    assert.strictEqual(registry()['backend-claude'].current_session_id, s.session_id);
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');

    ok(await syncord(['task', 'add', 'Write the API docs', '--priority', 'high']));
    const sling = ok(await syncord(['sling', 'task_001', 'backend-claude', '--json']));
    const r = JSON.parse(sling.stdout) as { message: { message_id: string }; delivery: Delivery };
    assert.strictEqual(r.delivery.via, 'prompt');
    const done = await until('the task to be completed', () => queue().completed_tasks.find((t) => t.task_id === 'task_001'));
    assert.strictEqual(done.status, 'completed');
    assert.strictEqual(done.assigned_to, 'backend-claude');
    assert.match(done.completion_note ?? '', /done by fake claude/);

    const m = message(r.message.message_id)!;
    assert.strictEqual(m.type, 'handoff');
    assert.strictEqual(m.context?.related_task, 'task_001');
    // The agent ran `syncord task start/complete task_001` itself: the hand-over is acknowledged, not only delivered.
    const d = await until('the hand-over to be acknowledged', () => message(r.message.message_id)?.deliveries?.find((x) => x.status === 'acknowledged'));
    assert.strictEqual(d.session, s.session_id);
    assert.strictEqual(d.attempts, 1);
    assert.match(d.prompt, /syncord task complete task_001/);

    const log = fs.readFileSync(s.log!, 'utf8');
    assert.match(log, /fake-claude: \$ syncord checkin/);
    assert.match(log, /fake-claude: \$ syncord task complete task_001/);

    // The hand-over is from Syncord itself: the health checks do not take it for an unknown instance.
    const health = await syncord(['health', '--json']);
    const findings = (JSON.parse(health.stdout) as { findings: { code: string; subject?: string }[] }).findings;
    assert.deepStrictEqual(findings.filter((f) => f.subject === r.message.message_id), []);

    // The agent's turn ends a moment after its last command: the listing is read once the session is idle again.
    await until('the session to go idle after the task', () => sessionOf('backend-claude')?.state === 'idle');
    const agents = ok(await syncord(['agents']));
    assert.match(agents.stdout, /^INSTANCE\s+RUNTIME\s+STATE\s+AGENT\s+TASK/m);
    assert.match(agents.stdout, /backend-claude\s+claude\s+idle/);
  });

  it('says when a runtime is not installed, and records no session', async () => {
    const r = await runSyncord(root, ['spawn', 'docs-opencode', '--role', 'docs'], { env: { PATH: '/usr/bin:/bin' } });
    assert.strictEqual(r.code, 4, r.stderr);
    assert.match(r.stderr, /runtime opencode: the command "opencode" is not installed.*npm install -g opencode-ai/);
    assert.ok(!fs.existsSync(path.join(dir, 'sessions.json')) || sessions().length === 0);
    assert.strictEqual(registry()['docs-opencode'], undefined, 'nothing is registered');
  });

  it('refuses an unknown runtime and a second live session of one instance', async () => {
    const unknown = await syncord(['spawn', 'w1', '--role', 'dev', '--runtime', 'aider']);
    assert.strictEqual(unknown.code, 2);
    assert.match(unknown.stderr, /unknown runtime "aider" \(known: claude, opencode\)/);

    ok(await syncord(['spawn', 'w1', '--role', 'dev', '--runtime', 'opencode'], { FAKE_AGENT_DELAY_MS: '15000' }));
    const again = await syncord(['spawn', 'w1']);
    assert.strictEqual(again.code, 5);
    assert.match(again.stderr, /w1 already has a live session .* \(.*opencode\); stop it first/);
  });

  it('runs custom runtimes from .vscode/settings.json and names the line of a broken settings file', async () => {
    fs.mkdirSync(path.join(root, '.vscode'));
    const settings = path.join(root, '.vscode', 'settings.json');
    fs.writeFileSync(
      settings,
      `{
  // the team's agents
  "editor.tabSize": 2,
  "syncord.sessions.runtimeMap": { "rev-*": "reviewer" },
  "syncord.sessions.runtimes": {
    "reviewer": {
      "command": ["claude", "--session-id", "{session}", "{prompt}"],
      "headless": ["claude", "--print", "--session-id", "{session}", "{prompt}"],
      "install": "ask the team lead"
    }
  }
}
`,
    );
    // A runtime the workspace defines runs once the user trusted it.
    assert.equal((await syncord(['spawn', 'rev-1', '--role', 'review'])).code, 8);
    ok(await syncord(['trust']));
    const r = ok(await syncord(['spawn', 'rev-1', '--role', 'review']));
    assert.match(r.stdout, /with reviewer \(chosen by the mapping rev-\*\)/);
    // Without a "send" form the session ends with its first prompt (nothing can be handed to it later) and its
    // instance is checked out again.
    const ended = await until('the session to end', () => (sessionOf('rev-1')?.state === 'exited' ? sessionOf('rev-1') : undefined));
    assert.strictEqual(ended.end_reason, 'the agent finished its prompt');
    assert.match(fs.readFileSync(ended.log!, 'utf8'), /fake-claude: \$ syncord checkin\nrev-1 checked in: review/);
    await until('the instance to be checked out', () => registry()['rev-1'].status === 'offline');

    fs.writeFileSync(settings, '{\n  "syncord.sessions.defaultRuntime": "claude"\n  "editor.tabSize": 2\n}\n');
    const broken = await syncord(['spawn', 'rev-2', '--role', 'review']);
    assert.strictEqual(broken.code, 3);
    assert.ok(broken.stderr.includes(`${settings}:3:`), broken.stderr);
  });

  it('records a hand-over to an instance without a session as failed, and resends it once one runs', async () => {
    ok(await syncord(['instance', 'add', 'docs-opencode', '--role', 'docs']));
    ok(await syncord(['task', 'add', 'Document the CLI']));
    const sling = await syncord(['sling', 'task_001', 'docs-opencode']);
    assert.strictEqual(sling.code, 1, 'a hand-over that did not happen is not a success');
    assert.match(sling.stdout, /NOT delivered: docs-opencode has no live session; start one \(`syncord spawn docs-opencode`\), then resend/);
    const failed = message('msg_001')!.deliveries![0];
    assert.strictEqual(failed.status, 'failed');
    assert.strictEqual(queue().pending_tasks[0].task_id, 'task_001', 'the task is assigned in the queue all the same');

    ok(await syncord(['spawn', 'docs-opencode']));
    await until('the session to go idle', () => sessionOf('docs-opencode')?.state === 'idle');
    ok(await syncord(['session', 'resend', 'msg_001']));
    await until('the task to be completed', () => queue().completed_tasks.find((t) => t.task_id === 'task_001'));
    const d = await until('the resent hand-over to be acknowledged', () => message('msg_001')?.deliveries?.find((x) => x.status === 'acknowledged'));
    assert.strictEqual(d.session, sessionOf('docs-opencode')!.session_id);
    assert.strictEqual(d.via, 'prompt');

    const again = await syncord(['session', 'resend', 'msg_001']);
    assert.strictEqual(again.code, 5);
    assert.match(again.stderr, /every hand-over of msg_001 was acknowledged by its agent; pass --all/);
  });

  it('hands several tasks slung at once to one session exactly once each', async () => {
    ok(await syncord(['spawn', 'backend-claude', '--role', 'backend']));
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
    for (let i = 1; i <= 4; i++) ok(await syncord(['task', 'add', `Task ${i}`]));
    const slings = await Promise.all([1, 2, 3, 4].map((i) => syncord(['sling', `task_00${i}`, 'backend-claude'])));
    for (const r of slings) ok(r);
    await until('all four tasks to be completed', () => queue().completed_tasks.length === 4 || undefined, 40_000);
    const log = json<{ messages: { deliveries?: Delivery[] }[] }>('communication-log.json').messages;
    const deliveries = log.flatMap((m) => m.deliveries ?? []);
    assert.strictEqual(deliveries.length, 4);
    await until('every delivery to be recorded', () => deliveries.length && json<{ messages: { deliveries?: Delivery[] }[] }>('communication-log.json').messages.flatMap((m) => m.deliveries ?? []).every((d) => d.status === 'acknowledged' && d.attempts === 1));
    const text = fs.readFileSync(sessionOf('backend-claude')!.log!, 'utf8');
    for (let i = 1; i <= 4; i++) assert.strictEqual(text.split(`$ syncord task complete task_00${i}`).length - 1, 1, `task_00${i} handed over once`);
  });

  it('nudges the live session of a message recipient', async () => {
    ok(await syncord(['instance', 'add', 'lead', '--role', 'lead']));
    ok(await syncord(['spawn', 'backend-claude', '--role', 'backend']));
    await until('the session to go idle', () => sessionOf('backend-claude')?.state === 'idle');
    const sent = ok(await syncord(['msg', 'send', 'backend-claude', 'API version', '-m', 'Which one?', '--as', 'lead']));
    assert.match(sent.stdout, /Nudged backend-claude/);
    const d = await until('the nudge to be acknowledged by the agent reading it', () => message('msg_001')?.deliveries?.find((x) => x.status === 'acknowledged'));
    assert.match(d.prompt, /new message msg_001 from lead: "API version"/);
    await until('the agent to read it', () => /fake-claude: \$ syncord msg show msg_001/.test(fs.readFileSync(sessionOf('backend-claude')!.log!, 'utf8')));

    // A recipient without a session gets no nudge (it reads the message at its next check-in).
    const quiet = ok(await syncord(['msg', 'send', 'lead', 'Done', '-m', 'Shipped', '--type', 'info', '--as', 'backend-claude']));
    assert.doesNotMatch(quiet.stdout, /Nudged/);
    assert.strictEqual(message('msg_002')!.deliveries, undefined);
  });

  it('marks a killed session exited and checks its instance out; stop ends a running one', async () => {
    ok(await syncord(['spawn', 'w1', '--role', 'dev', '--runtime', 'opencode'], { FAKE_AGENT_DELAY_MS: '30000' }));
    const running = await until('the agent to run', () => {
      const s = sessionOf('w1');
      return s?.state === 'running' && s.agent_pid ? s : undefined;
    });
    process.kill(running.agent_pid!, 'SIGKILL');
    // The supervisor records the agent's end: first prompt failed.
    const ended = await until('the session to be exited', () => (sessionOf('w1')?.state === 'exited' ? sessionOf('w1') : undefined));
    assert.match(ended.end_reason ?? '', /code 137/);
    await until('the instance to be checked out', () => registry()['w1'].status === 'offline');

    ok(await syncord(['spawn', 'w1', '--runtime', 'opencode'], { FAKE_AGENT_DELAY_MS: '30000' }));
    const second = await until('the second agent to run', () => {
      const s = sessionOf('w1');
      return s?.state === 'running' && s.agent_pid ? s : undefined;
    });
    // A supervisor killed outright leaves no record of its own: the next listing notices both processes are gone.
    process.kill(second.pid!, 'SIGKILL');
    process.kill(second.agent_pid!, 'SIGKILL');
    await until('the processes to be gone', () => {
      try {
        process.kill(second.agent_pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    const list = ok(await syncord(['agents', '--all', '--json']));
    const rec = (JSON.parse(list.stdout) as { sessions: Session[] }).sessions.find((s) => s.session_id === second.session_id)!;
    assert.strictEqual(rec.state, 'exited');
    assert.match(rec.end_reason ?? '', /killed or crashed/);

    ok(await syncord(['spawn', 'w1', '--runtime', 'opencode'], { FAKE_AGENT_DELAY_MS: '30000' }));
    const third = await until('the third agent to run', () => (sessionOf('w1')?.agent_pid ? sessionOf('w1') : undefined));
    const stop = ok(await syncord(['session', 'stop', 'w1']));
    assert.match(stop.stdout, /is exited \(stopped\)/);
    await until('the agent process to end', () => {
      try {
        process.kill(third.agent_pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    });
    assert.strictEqual(registry()['w1'].status, 'offline');
  });

  it('gives a session its own worktree on branch syncord/<instance>', async () => {
    ok(await syncord(['spawn', 'w2', '--role', 'dev', '--worktree']));
    const s = sessionOf('w2')!;
    assert.strictEqual(s.worktree, path.join(`${root}.worktrees`, 'w2'));
    assert.strictEqual(s.cwd, s.worktree);
    const branch = execFileSync('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: s.worktree!, encoding: 'utf8' }).trim();
    assert.strictEqual(branch, 'syncord/w2');
    // The agent works in the worktree but on the main project's coordination files.
    await until('the agent to check in', () => registry()['w2']?.status === 'active');
  });
});
