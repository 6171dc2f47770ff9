import * as fs from 'fs';
import { SyncordError } from '../errors';

/**
 * The intent log of combined writes (see combine.ts): one small file per queued change in
 * `.syncord/pending/<file>/`, its first line the intent, the lines after it appended by lock holders (claims,
 * aborts) and by the caller (withdraw).
 */

export interface IntentLine {
  op: string;
  input: unknown;
  now: string;
  pid: number;
  start: number;
}
export interface ClaimLine {
  b: string;
  t: string | null;
  r?: unknown;
  e?: SerializedError;
}
export interface SerializedError {
  syncord: boolean;
  code?: string;
  message: string;
  location?: { file: string; line?: number; column?: number };
}

export function serializeError(e: unknown): SerializedError {
  if (e instanceof SyncordError) return { syncord: true, code: e.code, message: e.detail, location: e.location };
  return { syncord: false, message: e instanceof Error ? e.message : String(e) };
}

export function deserializeError(s: SerializedError): Error {
  if (s.syncord) return new SyncordError(s.message, s.code as SyncordError['code'], s.location);
  return new Error(s.message);
}


export interface IntentState {
  /** The active claim: not aborted. */
  claim?: ClaimLine;
  /** Withdrawn while no claim was active. */
  withdrawn: boolean;
}

export function parseLines(text: string): { intent?: IntentLine; rest: Record<string, unknown>[] } {
  const lines = text.split('\n');
  // Only complete lines (ending with a line break) count: a line being written is not read half.
  lines.pop();
  const out: Record<string, unknown>[] = [];
  let intent: IntentLine | undefined;
  for (let i = 0; i < lines.length; i++) {
    let v: unknown;
    try {
      v = JSON.parse(lines[i]);
    } catch {
      continue;
    }
    if (i === 0) intent = v as IntentLine;
    else out.push(v as Record<string, unknown>);
  }
  return { intent, rest: out };
}

export function evaluate(rest: Record<string, unknown>[]): IntentState {
  let claim: ClaimLine | undefined;
  let withdrawn = false;
  for (const l of rest) {
    if (typeof l.a === 'string') {
      if (claim && claim.b === l.a) claim = undefined;
    } else if (typeof l.b === 'string') {
      if (!withdrawn) claim = l as unknown as ClaimLine;
    } else if (l.w) {
      if (!claim) withdrawn = true;
    }
  }
  return { claim, withdrawn };
}

export const exists = (p: string) => {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
};


export function openIntent(p: string): number | undefined {
  try {
    return fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_APPEND);
  } catch {
    return undefined;
  }
}

export function readFrom(fd: number, from: number): string {
  const size = fs.fstatSync(fd).size;
  if (size <= from) return '';
  const buf = Buffer.alloc(size - from);
  const n = fs.readSync(fd, buf, 0, buf.length, from);
  return buf.toString('utf8', 0, n);
}

/** Appends one line; returns its length in bytes. */
export function appendLine(fd: number, line: object): number {
  return fs.writeSync(fd, JSON.stringify(line) + '\n');
}

/** One batch under the lock: drain, apply, write, claim, commit. */
