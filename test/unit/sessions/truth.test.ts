import * as assert from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { claudeHookState, opencodeConfigContent, opencodePermission, OutcomeReader } from '../../../src/core/sessions/agents';
import { Run, runSyncord } from '../cli/runSyncord';
import { FAKES, until } from './helpers';

/**
 * What Syncord says about a hand-over comes from the runtime and the agent: the outcome read from the runtime's
 * JSON output (errors and permission denials make it failed), acknowledged only by the agent's own verbs, the
 * agent's state from its hooks, and opencode's own conversation id for every later hand-over.
 */
describe('sessions: what the runtime and the agent say', function () {
  this.timeout(60_000);

  describe('reading the outcome of a run', () => {
    const read = (kind: 'claude' | 'opencode', text: string, code = 0) => {
      const r = new OutcomeReader(kind);
      // Fed in uneven pieces, as a pipe delivers them.
      for (let i = 0; i < text.length; i += 7) r.push(text.slice(i, i + 7));
      return r.finish(code);
    };

    it('claude: a clean result, an API error and permission denials, in its own words', () => {
      const ok = read('claude', JSON.stringify({ type: 'result', is_error: false, result: 'Done.', session_id: 'abc', permission_denials: [] }) + '\n');
      assert.deepStrictEqual(ok, { agentSession: 'abc' });
      const err = read('claude', JSON.stringify({ type: 'result', is_error: true, result: 'API Error: 400 the model refused', session_id: 'abc', permission_denials: [] }), 1);
      assert.strictEqual(err.error, 'API Error: 400 the model refused');
      assert.strictEqual(err.runtimeError, 'API Error: 400 the model refused');
      const denied = read(
        'claude',
        JSON.stringify({ type: 'result', is_error: false, result: 'I could not.', session_id: 'abc', permission_denials: [{ tool_name: 'Bash', tool_input: { command: 'rm -rf build' } }] }),
      );
      assert.strictEqual(denied.error, 'permission denied: Bash (rm -rf build)');
      assert.strictEqual(denied.runtimeError, undefined, 'a denial is not a failed run');
      assert.strictEqual(read('claude', 'not json at all\n', 0).error, 'claude printed no result');
      assert.strictEqual(read('claude', '', 3).error, 'claude exited with code 3');
    });

    it('opencode: the conversation id from the first event, errors and rejected permissions', () => {
      const ev = (o: object) => JSON.stringify(o) + '\n';
      const ok = read('opencode', ev({ type: 'step_start', sessionID: 'ses_A1' }) + ev({ type: 'text', sessionID: 'ses_A1', part: { text: 'hi' } }));
      assert.deepStrictEqual(ok, { agentSession: 'ses_A1' });
      const err = read('opencode', ev({ type: 'error', sessionID: 'ses_A1', error: { name: 'APIError', data: { message: 'quota exceeded' } } }), 1);
      assert.strictEqual(err.error, 'quota exceeded');
      const rejected = read(
        'opencode',
        ev({ type: 'tool_use', sessionID: 'ses_A1', part: { tool: 'bash', state: { status: 'error', input: { command: 'ls /' }, error: 'The user rejected permission to use this specific tool call.' } } }),
      );
      assert.strictEqual(rejected.error, 'permission denied: bash (ls /)');
      assert.strictEqual(read('opencode', '', 2).error, 'opencode exited with code 2');
    });
  });

  describe('what the agents are given', () => {
    it('Claude Code hook events map to busy, idle and waiting; other notifications say nothing', () => {
      assert.deepStrictEqual(claudeHookState({ hook_event_name: 'UserPromptSubmit', session_id: 's1' }), { state: 'busy', agentSession: 's1' });
      assert.deepStrictEqual(claudeHookState({ hook_event_name: 'Stop', session_id: 's1' }), { state: 'idle', agentSession: 's1' });
      assert.strictEqual(claudeHookState({ hook_event_name: 'Notification', notification_type: 'permission_prompt' })?.state, 'waiting');
      assert.strictEqual(claudeHookState({ hook_event_name: 'Notification', notification_type: 'idle_prompt' }), undefined);
      assert.strictEqual(claudeHookState({ hook_event_name: 'SessionStart' }), undefined);
      assert.strictEqual(claudeHookState('garbage'), undefined);
    });

    it("opencode may run syncord on top of the user's own permissions, and loads the plugin beside theirs", () => {
      assert.deepStrictEqual(JSON.parse(opencodePermission(undefined)), { bash: { 'syncord *': 'allow' } });
      assert.deepStrictEqual(JSON.parse(opencodePermission('{"bash":"ask","edit":"deny"}')), { bash: { '*': 'ask', 'syncord *': 'allow' }, edit: 'deny' });
      assert.deepStrictEqual(JSON.parse(opencodePermission('{"bash":{"git *":"allow"}}')), { bash: { 'git *': 'allow', 'syncord *': 'allow' } });
      assert.deepStrictEqual(JSON.parse(opencodeConfigContent('{"plugin":["theirs"],"x":1}', '/w/p.js')!), { plugin: ['theirs', 'file:///w/p.js'], x: 1 });
      assert.strictEqual(opencodeConfigContent('{broken', '/w/p.js'), undefined, "a broken inline config of the user's is left alone");
    });
  });

  describe('with the stand-in runtimes (CLI)', () => {
    let root: string;
    let dir: string;
    let config: string;
    const env = (extra: Record<string, string> = {}) => ({ PATH: `${FAKES}${path.delimiter}${process.env.PATH}`, XDG_CONFIG_HOME: config, ...extra });
    const syncord = (args: string[], extra: Record<string, string> = {}): Promise<Run> => runSyncord(root, args, { env: env(extra) });
    const json = <T>(name: string): T => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
    type Rec = { session_id: string; instance: string; state: string; pid: number | null; agent_pid?: number | null; agent_state?: string | null; agent_session?: string | null };
    const sessionOf = (instance: string) => json<{ sessions: Rec[] }>('sessions.json').sessions.filter((s) => s.instance === instance).pop();
    const delivery = (id: string) =>
      json<{ messages: { message_id: string; deliveries?: { status: string; error?: string | null }[] }[] }>('communication-log.json').messages.find((m) => m.message_id === id)?.deliveries?.slice(-1)[0];
    const ok = (r: Run) => {
      assert.strictEqual(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r;
    };

    beforeEach(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-truth-'));
      config = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-truth-config-'));
      dir = path.join(root, 'coordination');
      execFileSync('git', ['init', '-q'], { cwd: root });
      ok(await syncord(['init']));
    });

    afterEach(() => {
      for (const s of fs.existsSync(path.join(dir, 'sessions.json')) ? json<{ sessions: Rec[] }>('sessions.json').sessions : []) {
        for (const pid of [s.pid, s.agent_pid]) {
          try {
            if (pid) process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }
      // A hook's `syncord` started by an agent that was just killed may still be writing state files.
      fs.rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      fs.rmSync(config, { recursive: true, force: true });
    });

    it('a runtime that reports an error or a denial makes the hand-over failed, in its words; exit 0 is not enough', async () => {
      ok(await syncord(['spawn', 'api-claude', '--role', 'api']));
      await until('the session to go idle', () => sessionOf('api-claude')?.state === 'idle');
      ok(await syncord(['task', 'add', 'Denied']));
      ok(await syncord(['task', 'add', 'Broken']));

      // Everything the agent tries is denied; the runtime still exits 0.
      ok(await syncord(['sling', 'task_001', 'api-claude'], { FAKE_AGENT_DENY: '1' }));
      const denied = await until('the denial to be recorded', () => (delivery('msg_001')?.status === 'failed' ? delivery('msg_001') : undefined));
      assert.match(denied.error ?? '', /^permission denied: Bash \(syncord task start task_001\)/);
      await until('the session to rest idle', () => sessionOf('api-claude')?.state === 'idle');

      ok(await syncord(['sling', 'task_002', 'api-claude'], { FAKE_AGENT_ERROR: 'API Error: 529 overloaded' }));
      const failed = await until('the error to be recorded', () => (delivery('msg_002')?.status === 'failed' ? delivery('msg_002') : undefined));
      assert.strictEqual(failed.error, 'API Error: 529 overloaded');
      const shown = JSON.parse(ok(await syncord(['--json', 'msg', 'show', 'msg_002'])).stdout) as { thread: { deliveries: { status: string }[] }[] };
      assert.strictEqual(shown.thread[0].deliveries[0].status, 'failed');
    });

    it('opencode: later hand-overs go to the conversation its first run reported, by id', async () => {
      const log = path.join(root, 'agents.jsonl');
      ok(await syncord(['spawn', 'docs-opencode', '--role', 'docs'], { FAKE_AGENT_LOG: log }));
      const idle = await until('the session to go idle', () => (sessionOf('docs-opencode')?.state === 'idle' ? sessionOf('docs-opencode') : undefined));
      assert.match(idle.agent_session ?? '', /^ses_[0-9a-f]+$/);
      ok(await syncord(['task', 'add', 'Docs']));
      ok(await syncord(['sling', 'task_001', 'docs-opencode'], { FAKE_AGENT_LOG: log }));
      await until('the hand-over to be acknowledged', () => delivery('msg_001')?.status === 'acknowledged');
      await until('the second run to be logged', () => fs.readFileSync(log, 'utf8').trim().split('\n').length === 2);
      const runs = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; agentSession: string; continued?: boolean; pwd?: string; cwd: string });
      assert.ok(runs[1].argv.includes('--session') && runs[1].agentSession === idle.agent_session, `the second run continued ${idle.agent_session}: ${runs[1].argv.join(' ')}`);
      assert.ok(!runs[1].continued, 'never --continue');
      // opencode takes its project from PWD: the agent gets the session's folder there too.
      assert.strictEqual(runs[0].pwd, root);
      assert.strictEqual(runs[1].pwd, root);
    });

    it("delivered is not acknowledged: only the agent's own verb about it acknowledges, not a person's", async () => {
      ok(await syncord(['spawn', 'ui-claude', '--role', 'ui']));
      const s = await until('the session to go idle', () => (sessionOf('ui-claude')?.state === 'idle' ? sessionOf('ui-claude') : undefined));
      ok(await syncord(['task', 'add', 'Ignored']));
      // The agent took the prompt and answered in words only: delivered, and it stays so.
      ok(await syncord(['sling', 'task_001', 'ui-claude'], { FAKE_AGENT_IGNORE: '1' }));
      await until('the hand-over to be delivered', () => delivery('msg_001')?.status === 'delivered');
      await until('the session to rest idle', () => sessionOf('ui-claude')?.state === 'idle');
      assert.strictEqual(delivery('msg_001')?.status, 'delivered');

      // A person acting as the instance outside the session, or another instance inside it: not the agent.
      ok(await syncord(['task', 'show', 'task_001', '--as', 'ui-claude']));
      ok(await syncord(['task', 'show', 'task_001', '--as', 'someone-else'], { SYNCORD_SESSION: s.session_id }));
      assert.strictEqual(delivery('msg_001')?.status, 'delivered');
      // The agent itself (its session, its instance) looking at the task: acknowledged.
      ok(await syncord(['task', 'show', 'task_001', '--as', 'ui-claude'], { SYNCORD_SESSION: s.session_id }));
      assert.strictEqual(delivery('msg_001')?.status, 'acknowledged');
    });

    it('hooks record the agent state on its session and never fail the agent', async () => {
      ok(await syncord(['spawn', 'be-claude', '--role', 'be']));
      const s = await until('the session to go idle', () => (sessionOf('be-claude')?.state === 'idle' ? sessionOf('be-claude') : undefined));
      assert.strictEqual(s.agent_state, 'idle', "the fake claude's Stop hook reported idle");
      const hook = (event: object, extra: Record<string, string> = {}) => runSyncord(root, ['session', 'hook', 'claude'], { input: JSON.stringify(event), env: env(extra) });
      const waiting = await hook({ hook_event_name: 'Notification', notification_type: 'permission_prompt', message: 'Claude needs your permission to use Bash' }, { SYNCORD_SESSION: s.session_id });
      assert.strictEqual(waiting.code, 0, waiting.stderr);
      assert.strictEqual(sessionOf('be-claude')?.agent_state, 'waiting');
      // Outside a session, or with garbage on stdin: said on stderr, exit 0 (a hook must never block the agent).
      const outside = await hook({ hook_event_name: 'Stop' });
      assert.deepStrictEqual([outside.code, /not inside a Syncord session/.test(outside.stderr)], [0, true]);
      const garbage = await runSyncord(root, ['session', 'hook', 'claude'], { input: '{not json', env: env({ SYNCORD_SESSION: s.session_id }) });
      assert.deepStrictEqual([garbage.code, /not JSON/.test(garbage.stderr)], [0, true]);
      assert.strictEqual(sessionOf('be-claude')?.agent_state, 'waiting');
      // The plugin's form: a bad state is a usage error.
      const bad = await syncord(['session', 'state', 'sleeping'], { SYNCORD_SESSION: s.session_id });
      assert.strictEqual(bad.code, 2);
      assert.match(bad.stderr, /unknown agent state "sleeping"/);
    });
  });
});
