import * as net from 'net';

/**
 * The `syncord` of an agent on another machine (SYNCORD_FORWARD names its supervisor's socket): the command runs
 * on the coordinating host, as the session's instance; its output and exit code come back here. Standard input is
 * read and sent along for a hook and for `-` (`-m -`); otherwise none is (a body is given as words or `-m`).
 * Kept small: it loads nothing of the rest of Syncord.
 */
export async function runForwarded(socket: string, argv: string[]): Promise<number> {
  const reads = (argv.includes('session') && argv.includes('hook')) || argv.includes('-');
  const stdin = reads ? await readStdin() : undefined;
  const r = await forwardToSupervisor(socket, argv, stdin);
  await write(process.stdout, r.stdout);
  await write(process.stderr, r.stderr);
  return r.code;
}

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** The largest answer read (a forwarded command's output, bounded by the relay). */
const ANSWER_MAX = 16 * 1024 * 1024;
/** The largest standard input forwarded. */
const STDIN_MAX = 1024 * 1024;

/** Sends `{argv, stdin}` as one JSON line and reads one JSON line back: `{code, stdout, stderr}`. */
export function forwardToSupervisor(socket: string, argv: string[], stdin?: string): Promise<Answer> {
  return new Promise((resolve) => {
    const conn = net.createConnection(socket);
    let answered = false;
    let buf = '';
    const done = (r: Answer) => {
      if (answered) return;
      answered = true;
      resolve(r);
      conn.destroy();
    };
    const failed = (why: string, code = 7) => done({ code, stdout: '', stderr: `syncord: error: ${why}\n` });
    conn.setEncoding('utf8');
    conn.on('connect', () => conn.write(`${JSON.stringify({ argv, stdin })}\n`));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > ANSWER_MAX) return failed('the answer of the session supervisor is too long', 70);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let v: unknown;
      try {
        v = JSON.parse(buf.slice(0, nl));
      } catch {
        v = undefined;
      }
      const a = v as Partial<Answer> | undefined;
      if (a && Number.isInteger(a.code) && typeof a.stdout === 'string' && typeof a.stderr === 'string') done(a as Answer);
      else failed('an answer from the session supervisor that is not one', 70);
    });
    conn.on('error', (e) => failed(`the session's supervisor cannot be reached (${socket}): ${e.message}`));
    conn.on('close', () => failed("the session's supervisor closed the connection without an answer"));
  });
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return text ? new Promise((resolve) => stream.write(text, () => resolve())) : Promise.resolve();
}

function readStdin(): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    process.stdin.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= STDIN_MAX) chunks.push(c);
    });
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
