// The real coding agents for the "agents" test tier: Claude Code and opencode from the npm registry, at
// pinned versions, installed once into the ignored, reused cache
// .vscode-test/agents-<claude version>-<opencode version>/. Each package brings its platform binary as an
// optional dependency and a postinstall script that copies that binary over its `bin/` placeholder; npm runs
// no install scripts here, this script runs exactly those two (they only copy files, see POSTINSTALLS).
//
//   node scripts/agents.js install   install into the cache (no-op when already installed)
//   node scripts/agents.js bin       print the folder holding the `claude` and `opencode` commands
//
// Tests read the same constants: require(path.join(root, 'scripts', 'agents.js')) gives
// { CLAUDE_VERSION, OPENCODE_VERSION, INSTALL_DIR, BIN_DIR, isInstalled, ensureAgents, versionOf }.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

/** The Claude Code release the tier is tested with (npm package @anthropic-ai/claude-code). */
const CLAUDE_VERSION = '2.1.332';
/** The opencode release the tier is tested with (npm package opencode-ai). */
const OPENCODE_VERSION = '1.18.33';

const PACKAGES = [`@anthropic-ai/claude-code@${CLAUDE_VERSION}`, `opencode-ai@${OPENCODE_VERSION}`];

/** The packages' own postinstall steps (folder under node_modules, command): each copies the platform
 * binary of the optional dependency over the package's `bin/` placeholder, which otherwise only prints
 * "postinstall was not run". */
const POSTINSTALLS = [
  { dir: path.join('@anthropic-ai', 'claude-code'), args: ['install.cjs'] },
  { dir: 'opencode-ai', args: ['postinstall.mjs'] },
];

const ROOT = path.resolve(__dirname, '..');
const CACHE_ROOT = path.join(ROOT, '.vscode-test');
const INSTALL_DIR = path.join(CACHE_ROOT, `agents-${CLAUDE_VERSION}-${OPENCODE_VERSION}`);
const BIN_DIR = path.join(INSTALL_DIR, 'node_modules', '.bin');
const MARKER = path.join(INSTALL_DIR, '.syncord-installed');
const MARKER_TEXT = `claude ${CLAUDE_VERSION}\nopencode ${OPENCODE_VERSION}\n`;

/** Each program with the version it must report and how its `--version` output shows it. */
const PROGRAMS = [
  { name: 'claude', version: CLAUDE_VERSION, matches: (out) => out.trim().split(/\s+/)[0] === CLAUDE_VERSION },
  { name: 'opencode', version: OPENCODE_VERSION, matches: (out) => out.trim().split(/\s+/).pop() === OPENCODE_VERSION },
];

function log(msg) {
  process.stderr.write(`[agents] ${msg}\n`);
}

function isInstalled() {
  try {
    return fs.readFileSync(MARKER, 'utf8') === MARKER_TEXT && PROGRAMS.every((p) => fs.existsSync(path.join(BIN_DIR, p.name)));
  } catch {
    return false;
  }
}

/**
 * Runs `<program> --version` from the cache with a throw-away HOME (nothing of the real user is read or
 * written). Returns { ok, output }.
 */
function versionOf(program, scratch) {
  const home = scratch || fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-agents-version-'));
  try {
    const r = childProcess.spawnSync(path.join(BIN_DIR, program.name), ['--version'], {
      env: {
        PATH: `${BIN_DIR}${path.delimiter}${process.env.PATH || ''}`,
        HOME: home,
        XDG_CONFIG_HOME: path.join(home, '.config'),
        XDG_DATA_HOME: path.join(home, '.local', 'share'),
        XDG_CACHE_HOME: path.join(home, '.cache'),
        XDG_STATE_HOME: path.join(home, '.local', 'state'),
        TMPDIR: process.env.TMPDIR || os.tmpdir(),
        DISABLE_AUTOUPDATER: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        OPENCODE_DISABLE_AUTOUPDATE: '1',
        OPENCODE_DISABLE_MODELS_FETCH: '1',
      },
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = `${r.stdout || ''}${r.stderr || ''}`.trim() || (r.error ? r.error.message : `exit ${r.status ?? r.signal}`);
    return { ok: r.status === 0 && program.matches(r.stdout || ''), output };
  } finally {
    if (!scratch) fs.rmSync(home, { recursive: true, force: true });
  }
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(cmd, args, { stdio: 'inherit', ...opts });
    child.on('error', (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal || `exit ${code}`})`)),
    );
  });
}

/**
 * Installs both programs into the cache unless they are already there (the marker file is written only
 * after both answered `--version` with their pinned version). Throws with a clear message otherwise.
 * Returns the bin folder.
 */
async function ensureAgents({ quiet = false } = {}) {
  if (isInstalled()) {
    if (!quiet) log(`claude ${CLAUDE_VERSION} and opencode ${OPENCODE_VERSION} already installed in ${path.relative(ROOT, INSTALL_DIR)}`);
    return BIN_DIR;
  }
  const started = Date.now();
  log(`installing ${PACKAGES.join(' and ')} into ${path.relative(ROOT, INSTALL_DIR)} (once)`);
  fs.rmSync(INSTALL_DIR, { recursive: true, force: true });
  const tmp = path.join(INSTALL_DIR, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  // Its own prefix with its own package.json: nothing here touches the project's node_modules or lockfile.
  fs.writeFileSync(
    path.join(INSTALL_DIR, 'package.json'),
    JSON.stringify({ name: 'syncord-agents-cache', private: true, description: 'Managed by scripts/agents.js' }, null, 2) + '\n',
  );
  const env = {
    ...process.env,
    TMPDIR: tmp,
    // No dependency runs a script of its own; the two postinstalls that matter run below, one by one.
    npm_config_ignore_scripts: 'true',
    npm_config_include: 'optional',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };
  await run('npm', ['install', '--prefix', INSTALL_DIR, '--no-save', '--no-package-lock', '--loglevel', 'warn', ...PACKAGES], {
    cwd: INSTALL_DIR,
    env,
  }).catch((e) => {
    throw new Error(`${e.message}\n  The tier needs the npm registry once to install ${PACKAGES.join(' and ')}.`);
  });

  for (const step of POSTINSTALLS) {
    const dir = path.join(INSTALL_DIR, 'node_modules', step.dir);
    await run(process.execPath, step.args, { cwd: dir, env }).catch((e) => {
      throw new Error(`the postinstall of ${step.dir} (copies its platform binary into place) failed: ${e.message}`);
    });
  }

  // Prove that both installed programs run before marking them installed.
  for (const p of PROGRAMS) {
    if (!fs.existsSync(path.join(BIN_DIR, p.name))) {
      throw new Error(`the install finished but ${path.join(BIN_DIR, p.name)} is missing`);
    }
    const v = versionOf(p, path.join(tmp, `home-${p.name}`));
    if (!v.ok) {
      throw new Error(
        `installed ${p.name} does not run or is not version ${p.version} (its platform binary, an optional npm dependency, may be missing): ${v.output}`,
      );
    }
    log(`${p.name} --version: ${v.output.split('\n')[0]}`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.writeFileSync(MARKER, MARKER_TEXT);
  log(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return BIN_DIR;
}

module.exports = { CLAUDE_VERSION, OPENCODE_VERSION, INSTALL_DIR, BIN_DIR, PROGRAMS, isInstalled, ensureAgents, versionOf };

if (require.main === module) {
  const cmd = process.argv[2] || 'install';
  if (cmd === 'install') {
    ensureAgents().catch((e) => {
      log(e.message);
      process.exit(1);
    });
  } else if (cmd === 'bin') {
    if (!isInstalled()) {
      log(`not installed yet; run: node scripts/agents.js install`);
      process.exit(1);
    }
    console.log(BIN_DIR);
  } else {
    log(`unknown command ${cmd}; use "install" or "bin"`);
    process.exit(2);
  }
}
