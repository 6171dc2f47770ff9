import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';

/**
 * What one CLI call writes to and reads from: its output, its exit code, its environment, its folder and its standard
 * input. A `syncord` process has one call, and these are the process's own; the daemon (`syncord daemon`) runs many
 * calls at once for its clients, each with its own (`withCallIo`), so no call sees another's identity or output.
 */
export interface CallIo {
  out(text: string): void;
  err(text: string): void;
  /** The variables the call reads (SYNCORD_INSTANCE, SYNCORD_SESSION...); `--session` sets one for the call. */
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdinIsTTY: boolean;
  /** The whole of standard input, read when a verb asks for it. */
  readStdin(): Promise<string>;
  /**
   * Calls `listener` when the user interrupts the call (Ctrl-C: SIGINT in the call's own process; the client's
   * interrupt in the daemon), once; returns what stops listening. A verb that can stop early listens while it works.
   */
  onInterrupt(listener: () => void): () => void;
  exitCode: number | undefined;
}

const calls = new AsyncLocalStorage<CallIo>();

const processIo: CallIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
  get env() {
    return process.env;
  },
  get cwd() {
    return process.cwd();
  },
  get stdinIsTTY() {
    return Boolean(process.stdin.isTTY);
  },
  readStdin: async () => fs.readFileSync(0, 'utf8'),
  onInterrupt(listener) {
    process.once('SIGINT', listener);
    return () => void process.removeListener('SIGINT', listener);
  },
  get exitCode() {
    return typeof process.exitCode === 'number' ? process.exitCode : undefined;
  },
  set exitCode(code) {
    process.exitCode = code;
  },
};

/** The current call's output, environment and exit code (the process's own outside the daemon). */
export function io(): CallIo {
  return calls.getStore() ?? processIo;
}

/** Runs `fn` as one call with its own output, environment and exit code. */
export function withCallIo<T>(call: CallIo, fn: () => Promise<T>): Promise<T> {
  return calls.run(call, fn);
}
