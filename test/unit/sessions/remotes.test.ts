// The remotes setting (syncord.sessions.remotes) as the CLI reads it from .vscode/settings.json, the trust it
// needs, how prompts to a served session name its instance and session, and the opencode server client against a
// small stand-in of `opencode serve` on 127.0.0.1. The real server is exercised in test/agents/remote.test.ts.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyncordError } from '../../../src/core/errors';
import { OpencodeServer, promptForSession, ServedRemoteSpec, servedRemote, ServerCallError, ServerEvent } from '../../../src/core/sessions/remotes';
import { readWorkspaceSessionsConfig, runnableRemote } from '../../../src/core/sessions/runtimes';
import { trustWorkspace, workspaceDefinitions } from '../../../src/core/trust';
import { resolveWorkspace } from '../../../src/core/workspace';

function refusal(fn: () => unknown): SyncordError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SyncordError, String(e));
    return e;
  }
  assert.fail('not refused');
}

async function rejection(p: Promise<unknown>): Promise<ServerCallError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ServerCallError, String(e));
    return e;
  }
  assert.fail('not rejected');
}

describe('remotes: the setting syncord.sessions.remotes', () => {
  let base: string;
  let root: string;
  let file: string;
  let savedXdg: string | undefined;
  const write = (remotes: unknown) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ 'editor.tabSize': 2, 'syncord.sessions.remotes': remotes }, null, 2));
  };

  beforeEach(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-remotes-')));
    root = path.join(base, 'ws');
    fs.mkdirSync(path.join(root, 'coordination'), { recursive: true });
    file = path.join(root, '.vscode', 'settings.json');
    savedXdg = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = path.join(base, 'config');
  });
  afterEach(() => {
    if (savedXdg === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = savedXdg;
    fs.rmSync(base, { recursive: true, force: true });
  });

  it('reads an opencode-serve remote', () => {
    write({ serve: { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', passwordEnv: 'OPENCODE_SERVER_PASSWORD' } });
    assert.deepEqual(readWorkspaceSessionsConfig(root).remotes, {
      serve: { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', passwordEnv: 'OPENCODE_SERVER_PASSWORD' },
    });
  });

  const bad: [string, unknown, RegExp][] = [
    ['an unknown kind', { box: { kind: 'telnet', target: 'dev@box' } }, /:5:7: \["syncord\.sessions\.remotes"\]\.box\.kind: kind: must be one of opencode-serve, ssh/],
    ['an endpoint with a password in it', { serve: { kind: 'opencode-serve', endpoint: 'http://opencode:secret@127.0.0.1:4096' } }, /\.serve\.endpoint: endpoint: the http:\/\/ or https:\/\/ address .* without user name, password/],
    ['an endpoint that is not http', { serve: { kind: 'opencode-serve', endpoint: 'file:///etc/passwd' } }, /\.serve\.endpoint: endpoint:/],
    ['a password in passwordEnv', { serve: { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', passwordEnv: 'hunter2!' } }, /\.serve\.passwordEnv: passwordEnv: the name of an environment variable .* never the password itself/],
    ['a password written down', { serve: { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', password: 'hunter2' } }, /\.serve: Unrecognized key: "password"/],
    ['a remote name with a slash', { 'a/b': { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096' } }, /remote name: use letters, digits/],
    ['no endpoint', { serve: { kind: 'opencode-serve' } }, /\.serve: missing required property "endpoint"/],
  ];
  for (const [what, remotes, message] of bad) {
    it(`refuses ${what}, naming the settings file, line and column`, () => {
      write(remotes);
      const e = refusal(() => readWorkspaceSessionsConfig(root));
      assert.equal(e.code, 'invalid-file');
      assert.equal(e.location?.file, file);
      assert.ok(e.message.startsWith(`${file}:`), e.message);
      assert.match(e.message, message);
    });
  }

  it('is used only once the user trusted it as it is (prompts and a password go there)', () => {
    write({ serve: { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', passwordEnv: 'PW' } });
    const paths = resolveWorkspace(root);
    const untrusted = refusal(() => runnableRemote(readWorkspaceSessionsConfig(root), 'serve', paths));
    assert.equal(untrusted.code, 'untrusted');
    assert.match(untrusted.message, /remote "serve" is defined by this workspace and would be sent prompts and a password/);
    assert.deepEqual(
      workspaceDefinitions(paths).map((d) => [d.kind, d.name, d.line, d.runs]),
      [['remote', 'serve', 4, { kind: 'opencode-serve', endpoint: 'http://127.0.0.1:4096', passwordEnv: 'PW', username: null }]],
    );
    trustWorkspace(paths, workspaceDefinitions(paths), new Date());
    assert.equal(servedRemote(runnableRemote(readWorkspaceSessionsConfig(root), 'serve', paths)).endpoint, 'http://127.0.0.1:4096');
    // Pointed elsewhere, it is refused again.
    write({ serve: { kind: 'opencode-serve', endpoint: 'http://elsewhere.example:4096', passwordEnv: 'PW' } });
    assert.equal(refusal(() => runnableRemote(readWorkspaceSessionsConfig(root), 'serve', paths)).code, 'untrusted');
    assert.match(refusal(() => runnableRemote(readWorkspaceSessionsConfig(root), 'other', paths)).message, /unknown remote "other" \(known: serve\)/);
  });
});

describe('remotes: prompts to a served session', () => {
  const served = { mode: 'remote' as const, instance: 'api', session_id: 'aaaa-1111' };
  const prompt = 'Run `syncord task start task_001` now, then run `syncord task complete task_001`.';

  it('name the instance and the session in every syncord command; other sessions get the plain words', () => {
    const words = promptForSession(prompt, served);
    assert.equal(words, 'Run `syncord --as api --session aaaa-1111 task start task_001` now, then run `syncord --as api --session aaaa-1111 task complete task_001`.');
    assert.equal(promptForSession(words, { ...served, session_id: 'bbbb-2222' }), prompt.replace(/`syncord /g, '`syncord --as api --session bbbb-2222 '));
    assert.equal(promptForSession(words, { mode: 'headless', instance: 'api', session_id: 'cccc' }), prompt);
  });
});

describe('remotes: the opencode server client', () => {
  let server: http.Server;
  let url: string;
  const seen: { method: string; url: string; auth?: string; body: string }[] = [];
  let handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
  const remote = (over: Partial<ServedRemoteSpec> = {}): ServedRemoteSpec => ({ name: 'serve', kind: 'opencode-serve', endpoint: url, ...over });

  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
        handler(req, res, body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('creates a session and hands it a prompt, with basic auth from the variable passwordEnv names', async () => {
    handler = (req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from('opencode:s3cret').toString('base64')}`) {
        res.writeHead(401).end();
      } else if (req.url === '/session') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'ses_abc', title: 'x' }));
      } else res.writeHead(204).end();
    };
    const c = new OpencodeServer(remote({ passwordEnv: 'PW' }), { PW: 's3cret' });
    assert.equal(await c.createSession('api 1234'), 'ses_abc');
    await c.prompt('ses_abc', 'hello');
    assert.equal(c.sessionUrl('ses_abc'), `${url}session/ses_abc`);
    assert.deepEqual(
      seen.map((s) => [s.method, s.url, JSON.parse(s.body)]),
      [
        ['POST', '/session', { title: 'api 1234' }],
        ['POST', '/session/ses_abc/prompt_async', { parts: [{ type: 'text', text: 'hello' }] }],
      ],
    );

    const wrong = await rejection(new OpencodeServer(remote({ passwordEnv: 'PW' }), { PW: 'nope' }).createSession('t'));
    assert.equal(wrong.status, 401);
    assert.match(wrong.message, /answered POST \/session with 401: it refused the password in PW/);
    const none = await rejection(new OpencodeServer(remote(), {}).createSession('t'));
    assert.match(none.message, /401: it asks for a password: name the variable holding it in the remote's passwordEnv/);
    assert.match(refusal(() => new OpencodeServer(remote({ passwordEnv: 'PW' }), {})).message, /the environment variable PW \(its passwordEnv\) is not set/);
  });

  it("says the server's own error and whether trying again may help", async () => {
    handler = (_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ name: 'NotFoundError', data: { message: 'Session not found: ses_x' } }));
    const gone = await rejection(new OpencodeServer(remote(), {}).prompt('ses_x', 'hi'));
    assert.equal(gone.transient, false);
    assert.match(gone.message, /with 404: NotFoundError: Session not found: ses_x/);
    assert.equal(await new OpencodeServer(remote(), {}).exists('ses_x'), false);

    const spare = http.createServer();
    await new Promise<void>((r) => spare.listen(0, '127.0.0.1', r));
    const port = (spare.address() as AddressInfo).port;
    await new Promise((r) => spare.close(r));
    const closed = await rejection(new OpencodeServer(remote({ endpoint: `http://127.0.0.1:${port}` }), {}).prompt('ses_x', 'hi'));
    assert.equal(closed.transient, true);
    assert.match(closed.message, new RegExp(`could not reach the opencode server http://127\\.0\\.0\\.1:${port} \\(remote serve\\): ECONNREFUSED`));
  });

  it('reads busy sessions and the event stream, events split across chunks', async () => {
    handler = (req, res) => {
      if (req.url === '/session/status') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ses_a: { type: 'busy' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const ev = (e: unknown) => `data: ${JSON.stringify(e)}\n\n`;
      const text =
        ev({ type: 'server.connected', properties: {} }) +
        ev({ type: 'session.status', properties: { sessionID: 'ses_a', status: { type: 'busy' } } }) +
        ': a comment\n\n' +
        ev({ type: 'session.error', properties: { sessionID: 'ses_a', error: { name: 'APIError', data: { message: 'model refused' } } } }) +
        ev({ type: 'session.idle', properties: { sessionID: 'ses_b' } });
      res.write(text.slice(0, 50));
      setTimeout(() => res.end(text.slice(50)), 20);
    };
    const c = new OpencodeServer(remote(), {});
    assert.equal(await c.isBusy('ses_a'), true);
    assert.equal(await c.isBusy('ses_b'), false);
    const events: ServerEvent[] = [];
    for await (const e of c.events(new AbortController().signal)) events.push(e);
    assert.deepEqual(events, [
      { type: 'server.connected' },
      { type: 'session.status', sessionID: 'ses_a', status: 'busy' },
      { type: 'session.error', sessionID: 'ses_a', error: 'APIError: model refused' },
      { type: 'session.idle', sessionID: 'ses_b' },
    ]);
  });
});
