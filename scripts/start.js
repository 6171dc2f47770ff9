// `npm start`: builds Syncord, lays out the demo workspace in .demo/ (from demo/, see scripts/demo.js),
// starts code-server with Syncord installed on it and prints the URL. Ctrl-C stops everything.
//
//   npm start [-- --port 8080] [-- --keep]      (or PORT=8080 npm start)
//     --port N   listen on 127.0.0.1:N instead of a free port
//     --keep     reuse an existing .demo/ instead of laying it out afresh
//
// The extension folder is the working tree itself (linked into the server's extensions folder), so
// with `npm run watch` running, "Developer: Reload Window" in the browser picks up a rebuild.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { startServer, ensureCodeServer } = require('./vscode-server');
const { createDemoWorkspace } = require('./demo');

const ROOT = path.resolve(__dirname, '..');
const DEMO = path.join(ROOT, '.demo');

function parseArgs(argv) {
  const opts = { port: process.env.PORT ? Number(process.env.PORT) : undefined, keep: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') opts.port = Number(argv[++i]);
    else if (argv[i].startsWith('--port=')) opts.port = Number(argv[i].slice(7));
    else if (argv[i] === '--keep') opts.keep = true;
    else throw new Error(`unknown option ${argv[i]} (use --port N, --keep)`);
  }
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) {
    throw new Error(`invalid port ${opts.port}`);
  }
  return opts;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));

  console.log('Building Syncord…');
  const build = childProcess.spawnSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed (see above)');

  await ensureCodeServer({ quiet: true });

  const main = path.join(DEMO, 'opencode_4py');
  if (opts.keep && fs.existsSync(main)) {
    console.log(`Reusing the demo workspace in ${path.relative(ROOT, DEMO)}/`);
  } else {
    fs.rmSync(DEMO, { recursive: true, force: true });
    createDemoWorkspace(DEMO);
    console.log(`Laid out the demo workspace in ${path.relative(ROOT, DEMO)}/ (main project, two targets, coordination)`);
  }

  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'syncord-start-'));
  let server;
  let stopping = false;
  const shutdown = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping VS Code…');
    if (server) await server.stop();
    if (code === 0) fs.rmSync(runDir, { recursive: true, force: true });
    else console.log(`Its files are kept in ${runDir}`);
    console.log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGHUP', () => void shutdown(0));

  server = await startServer({ runDir, folder: main, extensions: [ROOT], port: opts.port });
  console.log(`\nSyncord is running in VS Code at ${server.workbenchUrl(main)}`);
  console.log('To try agent sessions without claude or opencode: Sessions view → Spawn Agent Session, instance demo-1 (the stand-in agent).');
  console.log('Press Ctrl-C to stop.');

  // If the server dies on its own, say so and end.
  const watch = setInterval(() => {
    try {
      process.kill(-server.pid, 0);
    } catch {
      clearInterval(watch);
      console.error(`VS Code stopped unexpectedly; see ${server.logFile}`);
      void shutdown(1);
    }
  }, 1000);
}

main().catch((e) => {
  console.error(`npm start failed: ${e.message}`);
  process.exit(1);
});
