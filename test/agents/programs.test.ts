// Smoke tests of the agents tier: the REAL Claude Code and opencode (scripts/agents.js, pinned versions) run
// offline against the scripted model, in a scratch workspace with `syncord` on PATH — no Syncord session is
// involved. They prove the harness: the HOME setup, the model endpoints, the PATH, and the terminal driving.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CLAUDE_VERSION, OPENCODE_VERSION, Scratch, Tmux, agentsBin, createScratch, runCli, runProgram, startTmux, waitFor } from './harness';
import { Script, ScriptedModel, startScriptedModel } from './scriptedModel';

/** The model asks for `syncord inbox` whenever the prompt mentions the inbox, then answers in words. */
const ANSWER = 'The inbox was read by the scripted model.';
const readInbox: Script = (turn) => (/inbox/i.test(turn.prompt) ? { commands: ['syncord inbox'], answer: ANSWER } : { commands: [], answer: 'Nothing to do.' });

describe(`real agents (Claude Code ${CLAUDE_VERSION}, opencode ${OPENCODE_VERSION}) against the scripted model`, function () {
  let model: ScriptedModel;
  let scratch: Scratch;
  let expectedInbox: string;
  let messageId: string;

  before(function () {
    // Fails (never skips) when the programs are missing: `npm test` installs them before this tier runs.
    agentsBin();
  });

  beforeEach(async function () {
    model = await startScriptedModel(readInbox);
    scratch = await createScratch(model, { instance: 'instance-1' });
    const cli = (args: string[]) => runCli(args, { cwd: scratch.workspace, env: scratch.env });
    for (const [id, role] of [['instance-1', 'tester'], ['instance-2', 'lead']]) {
      const r = await cli(['checkin', '--as', id, '--role', role]);
      assert.equal(r.code, 0, r.stderr);
    }
    const subject = `Smoke ${randomUUID().slice(0, 8)}`;
    const sent = await cli(['msg', 'send', '--as', 'instance-2', '--to', 'instance-1', '--subject', subject, '-m', 'Please look at the inbox.', '--json']);
    assert.equal(sent.code, 0, sent.stderr);
    messageId = JSON.parse(sent.stdout).message.message_id;
    // What `syncord inbox` shows instance-1 now: the agent's tool call must report exactly this.
    const inbox = await cli(['inbox']);
    assert.equal(inbox.code, 0, inbox.stderr);
    expectedInbox = inbox.stdout.trim();
    assert.ok(expectedInbox.includes(messageId) && expectedInbox.includes(subject), `inbox without the message:\n${expectedInbox}`);
  });

  afterEach(async function () {
    const keep = this.currentTest?.state === 'failed';
    await scratch?.cleanup({ keep });
    if (keep) console.log(`    kept ${scratch.root} (HOME, workspace) of the failed test`);
    await model?.close();
  });

  /** The model's turns of the conversation that started with `prompt`. */
  const turnsOf = (prompt: string) => model.turns.filter((t) => t.firstPrompt.includes(prompt));

  it('claude --print runs the syncord inbox the model asks for when Bash(syncord:*) is allowed, and is denied it otherwise', async function () {
    const claude = (args: string[]) => runProgram('claude', args, { cwd: scratch.workspace, env: scratch.env });
    const allowedPrompt = 'Read your inbox, please.';
    const sessionId = randomUUID();
    const run = await claude(['--print', '--output-format', 'json', '--session-id', sessionId, '--allowedTools', 'Bash(syncord:*)', '--', allowedPrompt]);
    assert.equal(run.code, 0, `claude exited ${run.code}\n${run.stderr}\n${run.stdout}`);
    const result = JSON.parse(run.stdout);
    assert.equal(result.is_error, false, run.stdout);
    assert.equal(result.session_id, sessionId);
    assert.equal(result.result, ANSWER);
    assert.deepEqual(result.permission_denials, []);
    const turns = turnsOf(allowedPrompt);
    assert.deepEqual(
      turns.map((t) => [t.api, t.command ?? null]),
      [
        ['anthropic', 'syncord inbox'],
        ['anthropic', null],
      ],
    );
    assert.equal(turns[1].lastResult?.trim(), expectedInbox, 'the tool result the model got is what `syncord inbox` prints');

    const deniedPrompt = 'Read your inbox again, please.';
    const denied = await claude(['--print', '--output-format', 'json', '--session-id', randomUUID(), '--', deniedPrompt]);
    assert.equal(denied.code, 0, `claude exited ${denied.code}\n${denied.stderr}\n${denied.stdout}`);
    const deniedResult = JSON.parse(denied.stdout);
    assert.deepEqual(
      deniedResult.permission_denials.map((d: { tool_name: string; tool_input: { command?: string } }) => [d.tool_name, d.tool_input.command]),
      [['Bash', 'syncord inbox']],
    );
    const deniedTurns = turnsOf(deniedPrompt);
    assert.equal(deniedTurns.length, 2);
    assert.ok(!deniedTurns[1].lastResult?.includes(messageId), `the denied call still ran: ${deniedTurns[1].lastResult}`);
  });

  it('opencode run runs the syncord inbox the model asks for, and every JSON event names its session', async function () {
    const prompt = 'Read your inbox, please.';
    // Generous: the first opencode run in a fresh HOME sets up its database and may take much longer.
    const run = await runProgram('opencode', ['run', '--format', 'json', prompt], { cwd: scratch.workspace, env: scratch.env, timeoutMs: 150_000 });
    assert.equal(run.code, 0, `opencode exited ${run.code}\n${run.stderr}\n${run.stdout}`);
    const events = run.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; sessionID?: string; part?: { tool?: string; state?: { status?: string; input?: { command?: string }; output?: string } } });
    assert.ok(events.length > 0, `no events:\n${run.stderr}`);
    const sessions = new Set(events.map((e) => e.sessionID));
    assert.equal(sessions.size, 1, `events name several sessions: ${[...sessions].join(', ')}`);
    assert.match(String([...sessions][0]), /^ses_/);
    assert.deepEqual(
      events.filter((e) => e.type === 'error'),
      [],
    );
    const tools = events.filter((e) => e.type === 'tool_use').map((e) => e.part?.state);
    assert.equal(tools.length, 1, run.stdout);
    assert.equal(tools[0]?.status, 'completed');
    assert.equal(tools[0]?.input?.command, 'syncord inbox');
    assert.equal(tools[0]?.output?.trim(), expectedInbox);
    const texts = events.filter((e) => e.type === 'text').map((e) => (e.part as { text?: string }).text);
    assert.deepEqual(texts, [ANSWER]);
    const turns = turnsOf(prompt);
    assert.deepEqual(
      turns.map((t) => [t.api, t.command ?? null]),
      [
        ['openai', 'syncord inbox'],
        ['openai', null],
      ],
    );
    assert.equal(turns[1].lastResult?.trim(), expectedInbox);
  });

  describe('interactive claude in a terminal (tmux)', function () {
    let tui: Tmux | undefined;
    afterEach(async function () {
      await tui?.kill();
      tui = undefined;
    });

    it('reaches its prompt without onboarding screens and runs a typed prompt', async function () {
      tui = await startTmux(['claude', '--allowedTools', 'Bash(syncord:*)'], { cwd: scratch.workspace, env: scratch.env });
      const t = tui;
      const screen = async () => `--- terminal\n${await t.capture().catch((e: Error) => e.message)}`;
      // The prompt box with its footer; a trust, API-key, or onboarding screen would show instead.
      await waitFor(async () => /for shortcuts/.test(await t.capture()), { what: "claude's prompt", timeoutMs: 60_000, detail: screen });
      const first = await t.capture();
      assert.ok(first.includes(`Claude Code v${CLAUDE_VERSION}`), first);
      assert.ok(!/trust this folder|Do you want to use this API key|Choose the text style|auto mode/i.test(first), first);

      const prompt = 'What is in my inbox?';
      await t.type(prompt);
      await waitFor(async () => (await t.capture()).includes(prompt), { what: 'the typed prompt on the screen', detail: screen });
      await t.press('Enter');
      await waitFor(() => turnsOf(prompt).find((turn) => turn.lastResult !== undefined), { what: 'the model to get the result of syncord inbox', detail: screen });
      await waitFor(async () => (await t.capture()).includes(ANSWER), { what: "the model's answer on the screen", detail: screen });
      assert.deepEqual(
        turnsOf(prompt).map((turn) => [turn.command ?? null, turn.lastResult?.trim() ?? null]),
        [
          ['syncord inbox', null],
          [null, expectedInbox],
        ],
      );
      assert.ok(await t.alive(), 'claude stays running for the next prompt');
    });
  });
});
