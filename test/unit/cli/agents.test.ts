// `syncord agents`: the AGENT column (what each live agent reports of itself, and how long ago) and the
// hand-overs no agent has acknowledged below the table, as text and as --json; exit code 0 either way.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DeliveryRecord } from '../../../src/core/sessions/deliveryLog';
import { agentColumn, deliveryText, handOversText, sessionsTable } from '../../../src/cli/sessions';
import { handOver, session } from '../views/samples';
import { runSyncord } from './runSyncord';

const NOW = Date.parse('2026-02-27T10:10:00Z');

describe('syncord agents', () => {
  describe('the table and the hand-overs, from records', () => {
    it("shows each live agent's own state with how long ago it said so, WAITING in capitals, '-' when it never reported or exited", () => {
      const rows = sessionsTable(
        [
          session('aaaaaaaa-1', { instance: 'i-busy', agent_state: 'busy', agent_state_at: '2026-02-27T10:08:00Z', current_task: 'task_004', terminal: 'Syncord: i-busy' }),
          session('bbbbbbbb-2', { instance: 'i-wait', agent_state: 'waiting', agent_state_at: '2026-02-27T10:09:30Z', current_task: null, mode: 'headless', pid: 42 }),
          session('cccccccc-3', { instance: 'i-idle', agent_state: 'idle', agent_state_at: '2026-02-27T07:05:00Z', current_task: null }),
          session('dddddddd-4', { instance: 'i-silent', current_task: null }),
          session('eeeeeeee-5', { instance: 'i-odd', agent_state: 'thinking', current_task: null }),
          session('ffffffff-6', { instance: 'i-exited', state: 'exited', exit_code: 1, agent_state: 'busy', agent_state_at: '2026-02-27T10:00:00Z', current_task: null, pid: null }),
        ],
        NOW,
      ).split('\n');
      assert.deepEqual(rows, [
        'INSTANCE  RUNTIME  STATE       AGENT                       TASK      SESSION   WHERE                       STARTED',
        'i-busy    claude   running     busy 2m                     task_004  aaaaaaaa  terminal "Syncord: i-busy"  10m ago',
        'i-wait    claude   running     WAITING for your input 30s  -         bbbbbbbb  pid 42                      10m ago',
        'i-idle    claude   running     idle 3h 5m                  -         cccccccc  terminal                    10m ago',
        'i-silent  claude   running     -                           -         dddddddd  terminal                    10m ago',
        'i-odd     claude   running     ?                           -         eeeeeeee  terminal                    10m ago',
        'i-exited  claude   exited (1)  -                           -         ffffffff  terminal                    10m ago',
      ]);
    });

    it('says an agent state without a time as just the state', () => {
      assert.equal(agentColumn(session('a', { agent_state: 'waiting' }), NOW), 'WAITING for your input');
      assert.equal(agentColumn(session('a', { agent_state: 'idle', agent_state_at: 'yesterday' }), NOW), 'idle');
    });

    it('lists each hand-over not acknowledged: pending with where it waits, delivered with when, FAILED with the runtime\'s words', () => {
      const text = handOversText(
        [
          handOver('msg_014', { instance: 'backend-claude', session: 'aaaaaaaa-1', via: 'terminal', status: 'pending' }),
          handOver('msg_013', { instance: 'docs-opencode', session: 'bbbbbbbb-2', via: 'prompt', status: 'pending' }),
          handOver('msg_012', { instance: 'backend-claude', session: 'aaaaaaaa-1', via: 'prompt', status: 'delivered', updated: '2026-02-27T10:05:00Z' }),
          handOver('msg_011', { instance: 'qa', status: 'failed', error: 'Permission denied:\n\u001b[31mBash(rm)\u001b[0m' }),
        ],
        NOW,
      );
      assert.equal(
        text,
        [
          'Hand-overs not acknowledged:',
          '  msg_014  backend-claude  Work msg_014  pending: waiting for the agent of session aaaaaaaa to be idle and for the VS Code window of its terminal to type it',
          '  msg_013  docs-opencode   Work msg_013  pending: queued for session bbbbbbbb; its agent gets it as its next prompt',
          '  msg_012  backend-claude  Work msg_012  delivered 5m ago, not acknowledged',
          '  msg_011  qa              Work msg_011  FAILED: Permission denied: [31mBash(rm) [0m',
        ].join('\n'),
      );
      assert.equal(handOversText([], NOW), '', 'nothing below the table when every hand-over was acknowledged');
    });

    it('says of an acknowledged delivery that its agent acknowledged it', () => {
      const d: DeliveryRecord = { session: 'aaaaaaaa-1', instance: 'i', via: 'prompt', status: 'acknowledged', attempts: 1, updated: '2026-02-27T10:00:00Z', prompt: 'p' };
      assert.equal(deliveryText(d), 'handed to session aaaaaaaa as a prompt, acknowledged by its agent');
      assert.equal(deliveryText({ ...d, via: null }), 'handed to session aaaaaaaa, acknowledged by its agent');
      assert.equal(deliveryText({ ...d, status: 'delivered' }), 'handed to session aaaaaaaa as a prompt');
    });
  });

  describe('the command', function () {
    this.timeout(60_000);
    let root: string;

    beforeEach(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-agents-'));
      execFileSync('git', ['init', '-q'], { cwd: root });
      assert.equal((await runSyncord(root, ['init'])).code, 0);
      const dir = path.join(root, 'coordination');
      // Sessions of another machine: their processes are not checked here, so they stay as written.
      const rec = (id: string, instance: string, extra: object) => ({
        session_id: id,
        instance,
        runtime: 'claude',
        mode: 'headless',
        state: 'running',
        host: 'another-machine',
        pid: 4242,
        cwd: root,
        command: ['claude'],
        started: new Date(Date.now() - 3_600_000).toISOString(),
        updated: new Date().toISOString(),
        ...extra,
      });
      // Half a minute past the whole minute: the CLI, started a moment later, still says the same minute.
      const minutesAgo = (m: number) => new Date(Date.now() - (m + 0.5) * 60_000).toISOString();
      fs.writeFileSync(
        path.join(dir, 'sessions.json'),
        JSON.stringify({
          sessions: [
            rec('aaaaaaaa-1111', 'backend-claude', { agent_state: 'waiting', agent_state_at: minutesAgo(7) }),
            rec('bbbbbbbb-2222', 'docs-opencode', { runtime: 'opencode', agent_state: 'busy', agent_state_at: minutesAgo(2) }),
          ],
        }),
      );
      const delivery = (instance: string, session: string | null, status: string, extra: object = {}) => ({ session, instance, via: session ? 'prompt' : null, status, attempts: 1, updated: minutesAgo(5), prompt: 'Work on it', ...extra });
      const message = (id: string, to: string, subject: string, deliveries: object[]) => ({ message_id: id, from: 'syncord', to, type: 'handoff', timestamp: minutesAgo(6), subject, message: 'Work on it', status: 'sent', deliveries });
      fs.writeFileSync(
        path.join(dir, 'communication-log.json'),
        JSON.stringify({
          messages: [
            message('msg_001', 'docs-opencode', 'Task task_001: Document the CLI', [delivery('docs-opencode', 'bbbbbbbb-2222', 'acknowledged')]),
            message('msg_002', 'backend-claude', 'Task task_002: Write the API', [delivery('backend-claude', 'aaaaaaaa-1111', 'delivered')]),
            message('msg_003', 'qa', 'Task task_003: Test it', [delivery('qa', null, 'failed', { error: 'qa has no live session' })]),
          ],
          response_queue: [],
        }),
      );
    });

    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it('shows what the agents say and the work they have not acknowledged, and exits 0', async () => {
      const r = await runSyncord(root, ['agents']);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^INSTANCE\s+RUNTIME\s+STATE\s+AGENT\s+TASK\s+SESSION\s+WHERE\s+STARTED$/);
      assert.match(r.stdout, /^backend-claude\s+claude\s+running\s+WAITING for your input 7m\s+-\s+aaaaaaaa\s/m);
      assert.match(r.stdout, /^docs-opencode\s+opencode\s+running\s+busy 2m\s+-\s+bbbbbbbb\s/m);
      assert.deepEqual(lines.slice(lines.indexOf('Hand-overs not acknowledged:')), [
        'Hand-overs not acknowledged:',
        '  msg_003  qa              Task task_003: Test it        FAILED: qa has no live session',
        '  msg_002  backend-claude  Task task_002: Write the API  delivered 5m ago, not acknowledged',
      ]);
      assert.doesNotMatch(r.stdout, /msg_001/, 'an acknowledged hand-over is not listed');
    });

    it('gives the same with --json: the session records and the hand-overs not acknowledged', async () => {
      const r = await runSyncord(root, ['agents', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { sessions: { session_id: string; agent_state: string }[]; unacknowledged: { message_id: string; subject: string; instance: string; status: string; error?: string; session: string | null }[] };
      assert.deepEqual(out.sessions.map((s) => [s.session_id, s.agent_state]).sort(), [
        ['aaaaaaaa-1111', 'waiting'],
        ['bbbbbbbb-2222', 'busy'],
      ]);
      assert.deepEqual(
        out.unacknowledged.map((u) => [u.message_id, u.instance, u.subject, u.status, u.session, u.error ?? null]),
        [
          ['msg_003', 'qa', 'Task task_003: Test it', 'failed', null, 'qa has no live session'],
          ['msg_002', 'backend-claude', 'Task task_002: Write the API', 'delivered', 'aaaaaaaa-1111', null],
        ],
      );
    });

    it('still lists the sessions when the message log cannot be read, and says why', async () => {
      fs.writeFileSync(path.join(root, 'coordination', 'communication-log.json'), '{ "messages": [');
      const r = await runSyncord(root, ['agents']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^backend-claude\s+claude\s+running\s+WAITING/m);
      assert.doesNotMatch(r.stdout, /Hand-overs not acknowledged/);
      assert.match(r.stderr, /the hand-overs cannot be listed: .*communication-log\.json:1:/);
    });
  });
});
