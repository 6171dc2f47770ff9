// A scripted language model on 127.0.0.1 for the real-agent tier: it speaks the Anthropic Messages API
// (what Claude Code calls with ANTHROPIC_BASE_URL) and the OpenAI chat completions API (what opencode calls
// through an openai-compatible provider), both streamed. It does not think: for the newest prompt of a
// conversation it asks the test's script which shell commands to run, hands them to the agent one tool call
// at a time, and then answers in words. Every turn is recorded so a test can see which conversation got which
// prompt and what the agent was told to run. A step may also call another of the agent's tools by name (an MCP
// tool such as `mcp__syncord__checkin`) with a JSON input.
import * as http from 'http';
import { AddressInfo } from 'net';

/** One step of a plan: a shell command, or a call of one of the agent's other tools. */
export type Step = string | { tool: string; input: Record<string, unknown> };

/** What the model does with a prompt: run these steps one by one, then say `answer`; or fail the request. */
export type Plan = { commands: Step[]; answer?: string } | { status: number; error: string };

/** A prompt as the script sees it. */
export interface Turn {
  api: 'anthropic' | 'openai';
  /** The newest prompt the user (Syncord) gave. */
  prompt: string;
  /** The conversation's first prompt: whose conversation this is. */
  firstPrompt: string;
  /** How many prompts the conversation has had, this one included. */
  prompts: number;
  /** The names of the tools the agent offered with this request: loaded, or deferred (named in the request for
   * the agent's tool search, as Claude Code does with MCP tools). */
  tools: string[];
}

export interface Recorded extends Turn {
  /** The shell command the model asked for in this reply, if any. */
  command?: string;
  /** The other tool the model called in this reply, if any, with its input. */
  call?: { tool: string; input: Record<string, unknown> };
  /** What the tool returned for the previous command (the agent's output), if any. */
  lastResult?: string;
}

export type Script = (turn: Turn) => Plan;

export interface ScriptedModel {
  url: string;
  /** Every reply to a request that carried the agent's tools (side requests such as titles are left out). */
  turns: Recorded[];
  /** Tool results seen, newest last: what the agent's commands printed. */
  results: string[];
  setScript(script: Script): void;
  close(): Promise<void>;
}

/**
 * The default script: the startup checklist (`syncord inbox`, `syncord checkin`), and a handed-over task
 * started and completed; anything else is answered in words.
 */
export const followInstructions: Script = (turn) => {
  const task = /task (task_[A-Za-z0-9_-]+)\b.*is assigned to you/.exec(turn.prompt);
  if (task) return { commands: [`syncord task start ${task[1]}`, `syncord task complete ${task[1]} --note "done by the scripted model"`], answer: `Task ${task[1]} is done.` };
  const msg = /new message (msg_[A-Za-z0-9_-]+)/.exec(turn.prompt);
  if (msg) return { commands: [`syncord msg show ${msg[1]}`], answer: `Read ${msg[1]}.` };
  if (/syncord inbox/.test(turn.prompt)) return { commands: ['syncord inbox', 'syncord checkin'], answer: 'Checked in.' };
  return { commands: [], answer: 'Understood.' };
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: { type?: string; text?: string }) => (p && (p.type === 'text' || p.type === undefined) && typeof p.text === 'string' ? p.text : ''))
      .filter(Boolean)
      .join('\n');
  }
  return '';
}

/** Strips what the agent wraps around a prompt (Claude Code's <system-reminder> blocks and the like). */
function cleanPrompt(text: string): string {
  return text.replace(/<system-reminder>[\s\S]*?<\/system-reminder>/g, '').trim();
}

interface Conversation {
  prompts: string[];
  /** Commands already asked for since the newest prompt. */
  stepsSincePrompt: number;
  lastResult?: string;
}

function anthropicConversation(messages: { role: string; content: unknown }[]): Conversation {
  const prompts: string[] = [];
  let steps = 0;
  let lastResult: string | undefined;
  for (const m of messages) {
    const parts = Array.isArray(m.content) ? (m.content as { type: string; text?: string; content?: unknown }[]) : [{ type: 'text', text: String(m.content) }];
    if (m.role === 'user') {
      const text = cleanPrompt(parts.filter((p) => p.type === 'text').map((p) => p.text ?? '').join('\n'));
      const results = parts.filter((p) => p.type === 'tool_result');
      if (results.length) lastResult = results.map((r) => textOf(r.content)).join('\n');
      if (text && !results.length) {
        prompts.push(text);
        steps = 0;
      }
    } else if (m.role === 'assistant') {
      steps += parts.filter((p) => p.type === 'tool_use').length;
    }
  }
  return { prompts, stepsSincePrompt: steps, lastResult };
}

function openaiConversation(messages: { role: string; content: unknown; tool_calls?: unknown[] }[]): Conversation {
  const prompts: string[] = [];
  let steps = 0;
  let lastResult: string | undefined;
  for (const m of messages) {
    if (m.role === 'user') {
      const text = cleanPrompt(textOf(m.content));
      if (text) {
        prompts.push(text);
        steps = 0;
      }
    } else if (m.role === 'assistant') {
      steps += Array.isArray(m.tool_calls) ? m.tool_calls.length : 0;
    } else if (m.role === 'tool') {
      lastResult = textOf(m.content);
    }
  }
  return { prompts, stepsSincePrompt: steps, lastResult };
}

type Reply = { kind: 'tool'; step: Step } | { kind: 'text'; text: string } | { kind: 'error'; status: number; error: string };

function decide(script: Script, api: Turn['api'], conv: Conversation, tools: string[]): { reply: Reply; turn: Turn } {
  const prompt = conv.prompts[conv.prompts.length - 1] ?? '';
  const turn: Turn = { api, prompt, firstPrompt: conv.prompts[0] ?? '', prompts: conv.prompts.length, tools };
  const plan = script(turn);
  if ('status' in plan) return { reply: { kind: 'error', status: plan.status, error: plan.error }, turn };
  if (conv.stepsSincePrompt < plan.commands.length) return { reply: { kind: 'tool', step: plan.commands[conv.stepsSincePrompt] }, turn };
  return { reply: { kind: 'text', text: plan.answer ?? 'Done.' }, turn };
}

/** The tool name and input of a step, in the shell tool's name of the API at hand. */
function callOf(step: Step, shell: string): { name: string; input: Record<string, unknown> } {
  return typeof step === 'string' ? { name: shell, input: { command: step, description: 'Run a Syncord command' } } : { name: step.tool, input: step.input };
}

let counter = 0;
const nextId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++counter).toString(36)}`;

function sse(res: http.ServerResponse, events: { event?: string; data: unknown }[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  for (const e of events) {
    if (e.event) res.write(`event: ${e.event}\n`);
    res.write(`data: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
  }
  res.end();
}

function anthropicReply(res: http.ServerResponse, body: { model?: string; stream?: boolean }, reply: Exclude<Reply, { kind: 'error' }>): void {
  const id = nextId('msg');
  const model = body.model ?? 'scripted';
  const usage = { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const toolId = nextId('toolu');
  const call = reply.kind === 'tool' ? callOf(reply.step, 'Bash') : undefined;
  const text = reply.kind === 'text' ? reply.text : '';
  const input = call?.input;
  const content =
    call
      ? [{ type: 'tool_use', id: toolId, name: call.name, input }]
      : [{ type: 'text', text }];
  const stop = reply.kind === 'tool' ? 'tool_use' : 'end_turn';
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model, content, stop_reason: stop, stop_sequence: null, usage }));
    return;
  }
  const block =
    call
      ? [
          { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: toolId, name: call.name, input: {} } } },
          {
            event: 'content_block_delta',
            data: { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(input) } },
          },
        ]
      : [
          { event: 'content_block_start', data: { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } } },
          { event: 'content_block_delta', data: { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } } },
        ];
  sse(res, [
    { event: 'message_start', data: { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage } } },
    ...block,
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 5 } } },
    { event: 'message_stop', data: { type: 'message_stop' } },
  ]);
}

function openaiReply(res: http.ServerResponse, body: { model?: string; stream?: boolean }, reply: Exclude<Reply, { kind: 'error' }>): void {
  const id = nextId('chatcmpl');
  const model = body.model ?? 'scripted';
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  const step = reply.kind === 'tool' ? callOf(reply.step, 'bash') : undefined;
  const call = step ? { id: nextId('call'), type: 'function', function: { name: step.name, arguments: JSON.stringify(step.input) } } : undefined;
  const finish = call ? 'tool_calls' : 'stop';
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const message = call ? { role: 'assistant', content: null, tool_calls: [call] } : { role: 'assistant', content: (reply as { text: string }).text };
    res.end(JSON.stringify({ id, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finish }], usage }));
    return;
  }
  const chunk = (delta: unknown, finish_reason: string | null, extra: object = {}) => ({
    data: { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason }], ...extra },
  });
  const events = call
    ? [chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, ...call }] }, null)]
    : [chunk({ role: 'assistant', content: (reply as { text: string }).text }, null)];
  sse(res, [...events, chunk({}, finish, { usage }), { data: '[DONE]' }]);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the model on 127.0.0.1 (a free port). */
export async function startScriptedModel(script: Script = followInstructions): Promise<ScriptedModel> {
  let current = script;
  const turns: Recorded[] = [];
  const results: string[] = [];
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const raw = req.method === 'POST' ? await readBody(req) : '';
      const body = raw ? JSON.parse(raw) : {};
      if (url.pathname.endsWith('/messages/count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      if (url.pathname.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model', created: 0, owned_by: 'syncord-tests' }] }));
        return;
      }
      const anthropic = url.pathname.endsWith('/messages');
      const openai = url.pathname.endsWith('/chat/completions');
      if (!anthropic && !openai) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { type: 'not_found_error', message: `no ${url.pathname} here` } }));
        return;
      }
      const tools: { name?: string; function?: { name?: string } }[] = Array.isArray(body.tools) ? body.tools : [];
      const deferred = raw.match(/mcp__[A-Za-z0-9-]+__[A-Za-z0-9_]+/g) ?? [];
      const toolNames = [...new Set([...tools.map((t) => t.name ?? t.function?.name ?? ''), ...deferred])].filter(Boolean);
      const hasShell = toolNames.some((n) => /^bash$/i.test(n));
      const conv = anthropic ? anthropicConversation(body.messages ?? []) : openaiConversation(body.messages ?? []);
      if (!hasShell) {
        // A side request (a title, a summary): a few plain words.
        const reply = { kind: 'text' as const, text: 'Syncord session' };
        return anthropic ? anthropicReply(res, body, reply) : openaiReply(res, body, reply);
      }
      const { reply, turn } = decide(current, anthropic ? 'anthropic' : 'openai', conv, toolNames);
      if (conv.lastResult !== undefined && conv.stepsSincePrompt > 0) results.push(conv.lastResult);
      const step = reply.kind === 'tool' ? reply.step : undefined;
      turns.push({
        ...turn,
        command: typeof step === 'string' ? step : undefined,
        call: step !== undefined && typeof step !== 'string' ? { tool: step.tool, input: step.input } : undefined,
        lastResult: conv.stepsSincePrompt > 0 ? conv.lastResult : undefined,
      });
      if (reply.kind === 'error') {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            anthropic ? { type: 'error', error: { type: reply.status === 401 ? 'authentication_error' : 'invalid_request_error', message: reply.error } } : { error: { message: reply.error, type: 'invalid_request_error' } },
          ),
        );
        return;
      }
      return anthropic ? anthropicReply(res, body, reply) : openaiReply(res, body, reply);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: (e as Error).message } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    turns,
    results,
    setScript: (s) => {
      current = s;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
