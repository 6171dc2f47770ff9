import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  BUILTIN_RUNTIMES,
  chooseRuntime,
  defaultSessionsConfig,
  expandArgs,
  PlaceholderValues,
  readWorkspaceSessionsConfig,
  resolveCommand,
  RuntimeSpec,
  runtimeNames,
  runtimeSpec,
  SessionsConfig,
} from '../../../src/core/sessions/runtimes';
import { refusalOf } from '../coordination/helpers';
import { FAKES } from './helpers';


const SESSION = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab';
const VALUES: PlaceholderValues = { prompt: 'do the work', instance: 'instance-2', cwd: '/work/app', session: SESSION, role: 'backend', agent_session: 'ses_1', settings: '/work/app/coordination/.syncord/agents/claude-settings.json', mcp_config: '/work/app/coordination/.syncord/agents/mcp/instance-2.json' };


function config(overrides: Partial<SessionsConfig> = {}): SessionsConfig {
  return { ...defaultSessionsConfig(), ...overrides };
}

describe('sessions: runtimes', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-runtimes-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** Writes `.vscode/settings.json` in the temporary workspace and returns its path. */
  function settings(text: string): string {
    const file = path.join(tmp, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
  }

  describe('chooseRuntime', () => {
    it('an explicit runtime wins over the map and the default', () => {
      assert.deepEqual(chooseRuntime(config(), { instance: 'opencode-2', role: 'opencode worker', explicit: 'claude' }), {
        runtime: 'claude',
        reason: 'explicit',
      });
      assert.deepEqual(chooseRuntime(config(), { instance: 'instance-1', explicit: ' opencode ' }), { runtime: 'opencode', reason: 'explicit' });
    });

    it('the default map picks opencode for an instance named after it, whatever the case', () => {
      assert.deepEqual(chooseRuntime(config(), { instance: 'opencode-2' }), { runtime: 'opencode', reason: 'map *opencode*' });
      assert.equal(chooseRuntime(config(), { instance: 'OpenCode-3', role: 'tester' }).runtime, 'opencode');
    });

    it("the default map picks a runtime from the instance's role", () => {
      const c = config({ defaultRuntime: 'opencode' });
      assert.deepEqual(chooseRuntime(c, { instance: 'instance-4', role: 'Claude reviewer' }), { runtime: 'claude', reason: 'map *claude*' });
      assert.deepEqual(chooseRuntime(config(), { instance: 'instance-5', role: 'opencode-frontend' }), {
        runtime: 'opencode',
        reason: 'map *opencode*',
      });
    });

    it('the instance id is looked at before the role', () => {
      assert.equal(chooseRuntime(config(), { instance: 'claude-1', role: 'opencode helper' }).runtime, 'claude');
    });

    it('the first matching glob wins', () => {
      const first = config({ runtimeMap: { 'worker-*': 'opencode', '*-1': 'claude' } });
      assert.deepEqual(chooseRuntime(first, { instance: 'worker-1' }), { runtime: 'opencode', reason: 'map worker-*' });
      const second = config({ runtimeMap: { '*-1': 'claude', 'worker-*': 'opencode' } });
      assert.deepEqual(chooseRuntime(second, { instance: 'worker-1' }), { runtime: 'claude', reason: 'map *-1' });
      assert.deepEqual(chooseRuntime(second, { instance: 'worker-2' }), { runtime: 'opencode', reason: 'map worker-*' });
    });

    it('falls back to the default runtime when nothing matches', () => {
      assert.deepEqual(chooseRuntime(config(), { instance: 'instance-2', role: 'backend' }), { runtime: 'claude', reason: 'default' });
      assert.deepEqual(chooseRuntime(config({ defaultRuntime: 'opencode' }), { instance: 'instance-2' }), { runtime: 'opencode', reason: 'default' });
      assert.deepEqual(chooseRuntime(config({ runtimeMap: {} }), { instance: 'opencode-2' }), { runtime: 'claude', reason: 'default' });
    });

    it('an unknown explicit runtime is a usage error that lists the known runtimes', () => {
      const c = config({ runtimes: { aider: { command: ['aider', '--message', '{prompt}'] } } });
      const e = refusalOf(() => chooseRuntime(c, { instance: 'instance-2', explicit: 'cursor' }));
      assert.equal(e.code, 'usage');
      assert.match(e.message, /unknown runtime "cursor"/);
      assert.match(e.message, /aider, claude, opencode/);
      assert.match(e.message, /syncord\.sessions\.runtimes/);
    });

    it('a map or a default that names an unknown runtime is refused', () => {
      const mapped = refusalOf(() => chooseRuntime(config({ runtimeMap: { 'gpt-*': 'codex' } }), { instance: 'gpt-1' }));
      assert.equal(mapped.code, 'usage');
      assert.match(mapped.message, /unknown runtime "codex" \(known: claude, opencode\)/);
      const byDefault = refusalOf(() => chooseRuntime(config({ defaultRuntime: 'codex' }), { instance: 'instance-2' }));
      assert.match(byDefault.message, /unknown runtime "codex"/);
    });

    it('a custom runtime with a built-in name replaces the built-in', () => {
      const c = config({ runtimes: { claude: { command: ['my-claude', '{prompt}'] } } });
      assert.deepEqual(runtimeSpec(c, 'claude'), { name: 'claude', command: ['my-claude', '{prompt}'] });
      assert.deepEqual(runtimeNames(c), ['claude', 'opencode']);
      assert.equal(runtimeSpec(config(), 'claude'), BUILTIN_RUNTIMES.claude);
    });
  });

  describe('expandArgs', () => {
    it('fills every placeholder', () => {
      assert.deepEqual(expandArgs(['agent', '--id={instance}', '--dir', '{cwd}', '-s', '{session}', '--role', '{role}', '{prompt}'], VALUES), [
        'agent',
        '--id=instance-2',
        '--dir',
        '/work/app',
        '-s',
        SESSION,
        '--role',
        'backend',
        'do the work',
      ]);
    });

    it('expands the built-in templates as the agents expect them', () => {
      const hooks = ['--settings', VALUES.settings, '--mcp-config', VALUES.mcp_config, '--allowedTools', 'Bash(syncord:*)', 'mcp__syncord__*', '--'];
      assert.deepEqual(expandArgs(BUILTIN_RUNTIMES.claude.command, VALUES), ['claude', '--session-id', SESSION, ...hooks, 'do the work']);
      assert.deepEqual(expandArgs(BUILTIN_RUNTIMES.claude.send!, { ...VALUES, agent_session: SESSION }), ['claude', '--print', '--output-format', 'json', '--resume', SESSION, ...hooks, 'do the work']);
      assert.deepEqual(expandArgs(BUILTIN_RUNTIMES.opencode.command, VALUES), ['opencode', '/work/app', '--prompt', 'do the work']);
      assert.deepEqual(expandArgs(BUILTIN_RUNTIMES.opencode.headless!, VALUES), ['opencode', 'run', '--format', 'json', '--dir', '/work/app', '--title', `instance-2 ${SESSION}`, 'do the work']);
      // A hand-over continues the session's own opencode conversation by its id, never "the latest" (--continue).
      assert.deepEqual(expandArgs(BUILTIN_RUNTIMES.opencode.send!, VALUES), ['opencode', 'run', '--format', 'json', '--dir', '/work/app', '--session', 'ses_1', 'do the work']);
    });

    it('a prompt with spaces and quotes stays one argument, as written', () => {
      const prompt = `Syncord: task task_003 "Fix the 'login' page" is yours; run \`syncord task start task_003\` $HOME && echo $(id)`;
      const args = expandArgs(BUILTIN_RUNTIMES.claude.headless!, { ...VALUES, prompt });
      assert.equal(args[args.length - 1], prompt);
      assert.equal(args[args.length - 2], '--');
      assert.equal(args.filter((a) => a.includes('task_003')).length, 1);
    });

    it('placeholder text inside a value is not expanded again', () => {
      const prompt = 'use {instance} in {cwd}, not {session}; {unknown} and $& stay';
      assert.deepEqual(expandArgs(['agent', '{prompt}', '{instance}'], { ...VALUES, prompt }), ['agent', prompt, 'instance-2']);
    });

    it('leaves the template untouched', () => {
      const template = ['agent', '{prompt}'];
      expandArgs(template, VALUES);
      assert.deepEqual(template, ['agent', '{prompt}']);
    });
  });

  describe('readWorkspaceSessionsConfig', () => {
    it('without .vscode/settings.json the defaults apply', () => {
      const c = readWorkspaceSessionsConfig(tmp);
      assert.deepEqual(c, defaultSessionsConfig());
      assert.equal(c.defaultRuntime, 'claude');
      assert.deepEqual(c.runtimeMap, { '*opencode*': 'opencode', '*claude*': 'claude' });
    });

    it('an empty settings.json means the defaults', () => {
      settings('  \n');
      assert.deepEqual(readWorkspaceSessionsConfig(tmp), defaultSessionsConfig());
    });

    it('reads the sessions settings among comments and unrelated settings', () => {
      const file = settings(`{
  // editor settings
  "editor.tabSize": 2,
  "files.exclude": { "**/.git": true },
  /* Syncord */
  "syncord.instanceId": "instance-1",
  "syncord.sessions.defaultRuntime": "aider",
  "syncord.sessions.runtimeMap": { "reviewer-*": "claude", "*opencode*": "opencode" },
  "syncord.sessions.worktreeFolder": "../app.trees",
  "syncord.sessions.runtimes": {
    "aider": {
      "command": ["aider", "--message", "{prompt}"],
      "headless": ["aider", "--yes", "--message", "{prompt}"],
      "install": "pipx install aider-chat", // trailing commas are fine
    },
  },
}
`);
      const c = readWorkspaceSessionsConfig(tmp);
      assert.equal(c.defaultRuntime, 'aider');
      assert.deepEqual(c.runtimeMap, { 'reviewer-*': 'claude', '*opencode*': 'opencode' });
      assert.equal(c.worktreeFolder, '../app.trees');
      assert.equal(c.source, file);
      assert.deepEqual(runtimeNames(c), ['aider', 'claude', 'opencode']);
      assert.deepEqual(runtimeSpec(c, 'aider'), {
        name: 'aider',
        command: ['aider', '--message', '{prompt}'],
        headless: ['aider', '--yes', '--message', '{prompt}'],
        install: 'pipx install aider-chat',
      });
      assert.deepEqual(chooseRuntime(c, { instance: 'instance-4', role: 'docs' }), { runtime: 'aider', reason: 'default' });
      assert.deepEqual(chooseRuntime(c, { instance: 'reviewer-1' }), { runtime: 'claude', reason: 'map reviewer-*' });
    });

    it('a broken settings.json is refused with the file, line and column', () => {
      const file = settings('{\n  "editor.tabSize": 2\n  "syncord.sessions.defaultRuntime": "opencode"\n}\n');
      const e = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(e.code, 'invalid-file');
      assert.equal(e.location?.file, file);
      assert.equal(e.location?.line, 3);
      assert.equal(e.location?.column, 3);
      assert.ok(e.message.startsWith(`${file}:3:3: `), e.message);
      assert.match(e.message, /expected a comma/);
    });

    it('a setting of the wrong shape is refused where it is', () => {
      const file = settings('{\n  "editor.tabSize": 2,\n  "syncord.sessions.runtimeMap": ["opencode"]\n}\n');
      const e = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(e.code, 'invalid-file');
      assert.match(e.message, new RegExp(`^${escape(file)}:3:\\d+: .*syncord\\.sessions\\.runtimeMap`));
    });

    it('a custom runtime with an unknown placeholder is refused, naming the runtime and the placeholder', () => {
      const file = settings(
        JSON.stringify({ 'syncord.sessions.runtimes': { aider: { command: ['aider', '--model', '{model}', '--message', '{prompt}'] } } }, null, 2),
      );
      const e = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(e.code, 'invalid-file');
      assert.equal(e.location?.file, file);
      assert.match(e.message, /runtime "aider"/);
      assert.match(e.message, /\{model\}/);
      assert.match(e.message, /\{prompt\}/, 'the message lists the known placeholders');
    });

    it('an unknown placeholder in the headless or send form is refused too', () => {
      settings(JSON.stringify({ 'syncord.sessions.runtimes': { aider: { command: ['aider'], send: ['aider', '{message}'] } } }));
      assert.match(refusalOf(() => readWorkspaceSessionsConfig(tmp)).message, /runtime "aider".*\{message\}.*send/);
    });

    it('a custom runtime without a command is refused', () => {
      const file = settings('{\n  "syncord.sessions.runtimes": {\n    "aider": { "command": [] }\n  }\n}\n');
      const e = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(e.code, 'invalid-file');
      assert.equal(e.location?.file, file);
      assert.equal(e.location?.line, 3);
      assert.match(e.message, /aider.*command/);
      assert.match(e.message, /needs at least the command/);

      settings('{ "syncord.sessions.runtimes": { "aider": { "install": "pipx install aider-chat" } } }');
      const missing = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(missing.code, 'invalid-file');
      assert.match(missing.message, /missing required property "command"/);
    });

    it('a custom runtime with an option it does not know is refused', () => {
      settings('{ "syncord.sessions.runtimes": { "aider": { "command": ["aider"], "args": ["--yes"] } } }');
      const e = refusalOf(() => readWorkspaceSessionsConfig(tmp));
      assert.equal(e.code, 'invalid-file');
      assert.match(e.message, /args/);
    });
  });

  describe('resolveCommand', () => {
    const envWith = (...dirs: string[]) => ({ ...process.env, PATH: dirs.join(path.delimiter) });

    it('finds the command on the PATH it is given', () => {
      const env = envWith(tmp, FAKES, '/usr/bin', '/bin');
      assert.equal(resolveCommand(BUILTIN_RUNTIMES.claude, env), path.join(FAKES, 'claude'));
      assert.equal(resolveCommand(BUILTIN_RUNTIMES.opencode, env), path.join(FAKES, 'opencode'));
    });

    it('skips a file of that name that is not executable', function () {
      if (process.platform === 'win32') this.skip();
      fs.writeFileSync(path.join(tmp, 'claude'), '#!/bin/sh\n', { mode: 0o644 });
      assert.equal(resolveCommand(BUILTIN_RUNTIMES.claude, envWith(tmp, FAKES)), path.join(FAKES, 'claude'));
    });

    it('a missing command is not-found, naming it and saying how to install it', () => {
      const e = refusalOf(() => resolveCommand(BUILTIN_RUNTIMES.claude, envWith(tmp)));
      assert.equal(e.code, 'not-found');
      assert.match(e.message, /"claude" is not installed/);
      assert.ok(e.message.includes(BUILTIN_RUNTIMES.claude.install!), e.message);
      assert.match(e.message, /--runtime/);

      const opencode = refusalOf(() => resolveCommand(BUILTIN_RUNTIMES.opencode, envWith(tmp)));
      assert.match(opencode.message, /"opencode" is not installed.*npm install -g opencode-ai/);
    });

    it('a missing custom command without install text still names the command', () => {
      const spec: RuntimeSpec = { name: 'aider', command: ['aider', '{prompt}'] };
      const e = refusalOf(() => resolveCommand(spec, envWith(tmp, FAKES)));
      assert.equal(e.code, 'not-found');
      assert.match(e.message, /runtime aider: the command "aider" is not installed/);
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
