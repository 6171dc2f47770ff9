// A real VS Code for tests and the demo: code-server (the VS Code workbench in a browser plus a Node
// extension host) from the npm registry, installed once into the ignored, reused cache
// .vscode-test/code-server-<version>/ and started fully isolated for each run.
//
//   node scripts/vscode-server.js install   install into the cache (no-op when already installed)
//   node scripts/vscode-server.js path      print the server's entry script
//
// Used from scripts/run-integration.js, scripts/start.js and test/e2e/workbench.ts:
//   const server = await startServer({ folder, runDir, extensions: [extensionFolder] });
//   server.url / server.workbenchUrl(folder) ... await server.stop();
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');

/** The last code-server whose engines.node accepts Node 20; it bundles VS Code 1.100.3. */
const CODE_SERVER_VERSION = '4.100.3';
/** The ripgrep package bundled by this code-server looks for a cached download named like this. */
const RIPGREP_PACKAGE_VERSION = '1.15.11';
const RIPGREP_ASSET = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';
/** npm package that ships a prebuilt rg binary in its bin/ folder. */
const RIPGREP_BINARY_PACKAGE = '@vscode/ripgrep-linux-x64@1.18.0';

const ROOT = path.resolve(__dirname, '..');
const CACHE_ROOT = path.join(ROOT, '.vscode-test');
const INSTALL_DIR = path.join(CACHE_ROOT, `code-server-${CODE_SERVER_VERSION}`);
const MARKER = path.join(INSTALL_DIR, '.syncord-installed');
const ENTRY = path.join(INSTALL_DIR, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function log(msg) {
  process.stderr.write(`[vscode-server] ${msg}\n`);
}

function isInstalled() {
  try {
    return fs.readFileSync(MARKER, 'utf8').trim() === CODE_SERVER_VERSION && fs.existsSync(ENTRY);
  } catch {
    return false;
  }
}

/** The Kerberos headers are needed because code-server's native modules are built from source here. */
function hasKerberosHeaders() {
  const candidates = ['/usr/include/gssapi/gssapi.h', '/usr/include/krb5.h', '/usr/include/krb5/krb5.h'];
  if (candidates.some((f) => fs.existsSync(f))) return true;
  return childProcess.spawnSync('sh', ['-c', 'command -v krb5-config'], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args, opts) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(cmd, args, { stdio: 'inherit', ...opts });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} failed (${signal || `exit ${code}`})`)),
    );
  });
}

/**
 * Installs code-server into the cache unless it is already there (a marker file records a finished
 * install). Takes about two minutes the first time. Throws with a clear message when a system
 * prerequisite is missing.
 */
async function ensureCodeServer({ quiet = false } = {}) {
  if (isInstalled()) {
    if (!quiet) log(`code-server ${CODE_SERVER_VERSION} already installed in ${path.relative(ROOT, INSTALL_DIR)}`);
    return ENTRY;
  }
  if (!hasKerberosHeaders()) {
    throw new Error(
      'code-server builds native modules that need the Kerberos development headers, which are missing.\n' +
        '  Install them with:  sudo apt-get install -y libkrb5-dev   (Debian/Ubuntu)\n' +
        '  or:                 sudo dnf install krb5-devel           (Fedora/RHEL)',
    );
  }
  const started = Date.now();
  log(`installing code-server ${CODE_SERVER_VERSION} into ${path.relative(ROOT, INSTALL_DIR)} (about 2 minutes, once)`);
  fs.rmSync(INSTALL_DIR, { recursive: true, force: true });
  const tmp = path.join(INSTALL_DIR, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });

  // The install runs in its own prefix with its own package.json, so nothing here touches the
  // project's node_modules or lockfile.
  fs.writeFileSync(
    path.join(INSTALL_DIR, 'package.json'),
    JSON.stringify({ name: 'syncord-code-server-cache', private: true, description: 'Managed by scripts/vscode-server.js' }, null, 2) + '\n',
  );
  const env = {
    ...process.env,
    TMPDIR: tmp,
    // code-server's own postinstall.sh refuses to run as root unless this is set (it reads the variable
    // itself). Only this one-time install sees it; npm prints an "Unknown env config" warning for it then.
    npm_config_unsafe_perm: 'true',
    // node-pty's postinstall runs `npx node-gyp`, which must not stop to ask.
    npm_config_yes: 'true',
    // npm 11 may hold back dependency install scripts; code-server is unusable without its own
    // postinstall (it installs the bundled VS Code's native modules). This applies to this private
    // prefix only.
    npm_config_dangerously_allow_all_scripts: 'true',
    npm_config_ignore_scripts: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_update_notifier: 'false',
  };

  // @vscode/ripgrep's postinstall downloads rg from a host that cannot be reached; it first looks
  // for a cached tarball, which we build from the rg binary in an npm package.
  const rgCache = path.join(tmp, `vscode-ripgrep-cache-${RIPGREP_PACKAGE_VERSION}`);
  const rgWork = path.join(tmp, 'ripgrep-package');
  fs.mkdirSync(rgCache, { recursive: true });
  fs.mkdirSync(rgWork, { recursive: true });
  await run('npm', ['pack', RIPGREP_BINARY_PACKAGE, '--silent', '--pack-destination', rgWork], { cwd: rgWork, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const packed = fs.readdirSync(rgWork).find((f) => f.endsWith('.tgz'));
  if (!packed) throw new Error(`npm pack ${RIPGREP_BINARY_PACKAGE} produced no tarball`);
  await run('tar', ['xzf', packed], { cwd: rgWork });
  const rgBin = path.join(rgWork, 'package', 'bin');
  if (!fs.existsSync(path.join(rgBin, 'rg'))) throw new Error(`${RIPGREP_BINARY_PACKAGE} holds no bin/rg`);
  await run('tar', ['czf', path.join(rgCache, RIPGREP_ASSET), '-C', rgBin, 'rg']);

  await run(
    'npm',
    ['install', '--prefix', INSTALL_DIR, '--no-save', '--no-package-lock', '--loglevel', 'warn', `code-server@${CODE_SERVER_VERSION}`],
    { cwd: INSTALL_DIR, env },
  );
  if (!fs.existsSync(ENTRY)) throw new Error(`code-server install finished but ${ENTRY} is missing`);

  // Prove that the installed server really starts before marking it installed.
  const version = childProcess.spawnSync(process.execPath, [ENTRY, '--version'], {
    env: { ...env, XDG_CONFIG_HOME: path.join(tmp, 'config'), XDG_DATA_HOME: path.join(tmp, 'data') },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (version.status !== 0 || !version.stdout.includes(CODE_SERVER_VERSION)) {
    throw new Error(`installed code-server does not run: ${version.stderr || version.stdout}`);
  }
  const rgInstalled = path.join(INSTALL_DIR, 'node_modules', 'code-server', 'lib', 'vscode', 'node_modules', '@vscode', 'ripgrep', 'bin', 'rg');
  if (!fs.existsSync(rgInstalled)) throw new Error(`code-server's ripgrep is missing (${rgInstalled}); the postinstall did not complete`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.writeFileSync(MARKER, CODE_SERVER_VERSION + '\n');
  log(`installed code-server ${version.stdout.split('\n').find((l) => l.startsWith(CODE_SERVER_VERSION))} in ${Math.round((Date.now() - started) / 1000)} s`);
  return ENTRY;
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function httpGet(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

// Every process group started here is stopped when this process ends, however it ends.
const liveGroups = new Set();
function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
let exitHooksInstalled = false;
function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      // Servers never outlive an interrupted run.
      stopAllNow();
      // Keep the default behaviour (ending the process) unless someone else handles the signal.
      if (process.listenerCount(sig) === 1) process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Stops every process group this module started (used by signal handlers of the callers). */
function stopAllNow() {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
}

/** Folders removed when this process exits (run folders of servers and browsers). */
const tempDirs = new Set();
function removeOnExit(dir) {
  installExitHooks();
  tempDirs.add(dir);
  return () => tempDirs.delete(dir);
}

/** Register a process group started elsewhere (e.g. a browser) so it is stopped on exit too. */
function trackProcessGroup(pid) {
  installExitHooks();
  liveGroups.add(pid);
  return () => liveGroups.delete(pid);
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Starts code-server isolated under `runDir` (user data, extensions, XDG and TMPDIR folders of its
 * own), in its own process group, on 127.0.0.1 and a free port (or `port`), without auth.
 *
 * options:
 *   runDir       folder for everything this server writes (created)
 *   folder       workspace folder the printed/returned URL opens
 *   extensions   folders of built extensions to install, each linked into the extensions dir as
 *                <publisher>.<name>-<version> (read from its package.json)
 *   trust        true (default): workspace trust off, every folder trusted.
 *                false: trust on, folders open in Restricted Mode.
 *   settings     extra user settings
 *   port         fixed port (default: a free one)
 *   logFile      where server output goes (default runDir/server.log)
 *   timeoutMs    how long to wait for the server to answer (default 60 s)
 *   env          extra environment for the server (the extension host inherits it)
 *   exactEnv     true: the extension host gets exactly the server's environment. By default VS Code
 *                merges in the environment of a login shell, whose profile may reset PATH (so a PATH
 *                given in `env` would not reach the extension host and what it starts).
 *
 * Returns { url, port, host, pid, runDir, userDataDir, extensionsDir, workbenchUrl(folder, payload?),
 *           logDir(), stop() }.
 */
async function startServer(options) {
  const entry = await ensureCodeServer({ quiet: true });
  const runDir = path.resolve(options.runDir);
  const dirs = {
    userData: path.join(runDir, 'user-data'),
    extensions: path.join(runDir, 'extensions'),
    config: path.join(runDir, 'xdg-config'),
    data: path.join(runDir, 'xdg-data'),
    cache: path.join(runDir, 'xdg-cache'),
    tmp: path.join(runDir, 'tmp'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });

  const trust = options.trust !== false;
  writeJson(path.join(dirs.userData, 'User', 'settings.json'), {
    'workbench.startupEditor': 'none',
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.openRepositoryInParentFolders': 'never',
    'security.workspace.trust.enabled': !trust,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.emptyWindow': false,
    ...(options.settings || {}),
  });

  for (const ext of options.extensions || []) {
    const manifest = JSON.parse(fs.readFileSync(path.join(ext, 'package.json'), 'utf8'));
    const id = `${manifest.publisher}.${manifest.name}-${manifest.version}`;
    fs.symlinkSync(path.resolve(ext), path.join(dirs.extensions, id), 'dir');
  }

  let port = options.port;
  if (port) {
    if (!(await portIsFree(port))) throw new Error(`port ${port} on 127.0.0.1 is already in use`);
  } else {
    port = await freePort();
  }
  const host = `127.0.0.1:${port}`;
  const args = [
    entry,
    '--auth', 'none',
    '--bind-addr', host,
    '--user-data-dir', dirs.userData,
    '--extensions-dir', dirs.extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--disable-file-downloads',
    '--ignore-last-opened',
  ];
  if (trust) args.push('--disable-workspace-trust');
  const logFile = options.logFile || path.join(runDir, 'server.log');
  const out = fs.openSync(logFile, 'a');
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    TMPDIR: dirs.tmp,
    // A dead loopback address: no marketplace lookups leave the machine.
    EXTENSIONS_GALLERY: JSON.stringify({
      serviceUrl: 'http://127.0.0.1:9/gallery',
      itemUrl: 'http://127.0.0.1:9/item',
      resourceUrlTemplate: 'http://127.0.0.1:9/resource',
    }),
    VSCODE_PROXY_URI: '',
    PASSWORD: '',
    HASHED_PASSWORD: '',
    ...(options.env || {}),
  };
  // VS Code skips resolving the login shell's environment when it believes it was started from a shell.
  if (options.exactEnv) env.VSCODE_CLI = '1';
  delete env.VSCODE_IPC_HOOK_CLI;
  delete env.ELECTRON_RUN_AS_NODE;
  const child = childProcess.spawn(process.execPath, args, { cwd: runDir, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  installExitHooks();
  liveGroups.add(child.pid);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = signal || `exit ${code}`;
  });

  const stop = async () => {
    if (!liveGroups.has(child.pid)) return;
    killGroup(child.pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && groupAlive(child.pid)) await sleep(100);
    killGroup(child.pid, 'SIGKILL');
    liveGroups.delete(child.pid);
  };

  const url = `http://${host}/`;
  const deadline = Date.now() + (options.timeoutMs || 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server stopped during start (${exited}); see ${logFile}:\n${tail(logFile)}`);
    }
    try {
      const status = await httpGet(`http://${host}/healthz`, 2000);
      if (status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer on ${url} within ${Math.round((options.timeoutMs || 60_000) / 1000)} s; see ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(200);
  }

  return {
    url,
    host,
    port,
    pid: child.pid,
    runDir,
    userDataDir: dirs.userData,
    extensionsDir: dirs.extensions,
    logFile,
    /** The URL that opens `folder`; `payload` is a list of [key, value] pairs for the workbench. */
    workbenchUrl(folder, payload) {
      // Slashes stay readable; anything else that needs it is escaped.
      let u = `${url}?folder=${encodeURIComponent(path.resolve(folder || options.folder)).replace(/%2F/g, '/')}`;
      if (payload) u += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
      return u;
    },
    /** The extension host's log (where `_doActivateExtension` and console output end up). */
    extensionHostLogs() {
      const logs = path.join(dirs.userData, 'logs');
      const found = [];
      const walk = (d) => {
        for (const e of fs.existsSync(d) ? fs.readdirSync(d, { withFileTypes: true }) : []) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (/exthost\.log$/.test(e.name)) found.push(p);
        }
      };
      walk(logs);
      return found;
    },
    stop,
  };
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

module.exports = {
  CODE_SERVER_VERSION,
  INSTALL_DIR,
  ROOT,
  ensureCodeServer,
  isInstalled,
  startServer,
  freePort,
  trackProcessGroup,
  removeOnExit,
  stopAllNow,
  killGroup,
  groupAlive,
};

if (require.main === module) {
  const cmd = process.argv[2] || 'install';
  if (cmd === 'install') {
    ensureCodeServer().catch((e) => {
      log(e.message);
      process.exit(1);
    });
  } else if (cmd === 'path') {
    console.log(ENTRY);
  } else {
    log(`unknown command ${cmd}; use "install" or "path"`);
    process.exit(2);
  }
}
