// Hands a coordination or targets call to the workspace's daemon when one is running (`syncord daemon start`), printing its
// output and taking its exit code; `runLocally` runs it in this process when no daemon takes it. Used by the CLI
// itself (main.ts) and by the agents' Node client (client.ts). It loads only Node's net, fs, path and os modules, so
// a call through the daemon starts no more than Node itself.
import * as fs from 'node:fs';
import * as net from 'node:net';
import { socketPath } from '../core/daemonSocket';
import { CallRequest, ClientMessage, daemonCall, FORWARDED_ENV, FrameReader, gitEnvOf, PROTOCOL } from './daemonShared';

export function viaDaemon(argv: string[], runLocally: () => void): void {
  const cwd = process.cwd();
  const call = daemonCall(argv, cwd, process.env);
  if (!call) return runLocally();
  const env: CallRequest['env'] = {};
  for (const k of FORWARDED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  const request: CallRequest = { v: PROTOCOL, kind: 'call', argv, cwd, env, stdinIsTTY: Boolean(require('node:tty').isatty(0)), git: gitEnvOf(process.env) };
  const socket = net.createConnection(socketPath(call.coordinationDir));
  let accepted = false;
  let done = false;
  const reader = new FrameReader();
  const tell = (message: ClientMessage) => void socket.write(JSON.stringify(message) + '\n');
  // Ctrl-C: the daemon stops the call after the work in hand (a sync, a backup), as the CLI does in its own process,
  // and this client waits for it to end; a second Ctrl-C leaves at once.
  let interrupts = 0;
  const onInterrupt = () => {
    if (++interrupts > 1) process.exit(130);
    if (accepted) tell({ t: 'interrupt' });
  };
  process.on('SIGINT', onInterrupt);
  const finished = () => process.off('SIGINT', onInterrupt);
  const fallback = () => {
    if (done) return;
    done = true;
    finished();
    socket.destroy();
    runLocally();
  };
  socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
  socket.on('data', (chunk: Buffer) => {
    let frames;
    try {
      frames = reader.push(chunk);
    } catch {
      return lost('it sent something that is not an answer');
    }
    for (const frame of frames) {
      if (done) break;
      switch (frame.t) {
        case 'accepted':
          accepted = true;
          if (interrupts) tell({ t: 'interrupt' });
          break;
        case 'fallback':
          fallback();
          break;
        case 'out':
          process.stdout.write(frame.d);
          break;
        case 'err':
          process.stderr.write(frame.d);
          break;
        case 'stdin': {
          let d = '';
          try {
            d = fs.readFileSync(0, 'utf8');
          } catch (e) {
            tell({ t: 'stdin', error: (e as Error).message });
            break;
          }
          tell({ t: 'stdin', d });
          break;
        }
        case 'exit':
          done = true;
          finished();
          process.exitCode = frame.code;
          socket.end();
          break;
      }
    }
  });
  // No daemon (no socket, or one a killed daemon left), or one that ended before it took the call: run it here.
  // A daemon that ended after it took the call may have done it: say so rather than do it twice.
  const lost = (why: string) => {
    if (done) return;
    if (!accepted) return fallback();
    done = true;
    finished();
    process.stderr.write(`syncord: error: the workspace's daemon ended during the call (${why}); it may or may not have been done\n`);
    process.exitCode = 7;
  };
  socket.on('error', (e: NodeJS.ErrnoException) => lost(e.code ?? e.message));
  socket.on('close', () => lost('connection closed'));
}

