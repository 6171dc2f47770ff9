/**
 * One error type for everything the core refuses. It carries a machine-readable code (mapped to CLI exit
 * codes and to VS Code messages) and, where known, the file and the 1-based line and column at fault.
 */
export type ErrorCode =
  | 'usage' // bad arguments from the caller
  | 'invalid-file' // a file that does not parse or does not match its schema
  | 'not-found' // an id, file or target that does not exist
  | 'conflict' // the operation is not allowed in the current state (already claimed, cycle, ...)
  | 'lock-timeout' // a live lock was held for longer than the bounded wait
  | 'io' // a read or write failed
  | 'untrusted' // a command the workspace defines, not (or no longer) trusted by the user (`syncord trust`)
  | 'cancelled'; // the caller cancelled

export interface FileLocation {
  file: string;
  line?: number; // 1-based
  column?: number; // 1-based
}

export class SyncordError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
    readonly location?: FileLocation,
  ) {
    super(location ? `${formatLocation(location)}: ${message}` : message);
    this.name = 'SyncordError';
  }

  /** The message without the location prefix. */
  get detail(): string {
    return this.location ? this.message.slice(formatLocation(this.location).length + 2) : this.message;
  }
}

export function formatLocation(loc: FileLocation): string {
  if (loc.line === undefined) return loc.file;
  return loc.column === undefined ? `${loc.file}:${loc.line}` : `${loc.file}:${loc.line}:${loc.column}`;
}

export function isSyncordError(e: unknown): e is SyncordError {
  return e instanceof SyncordError;
}
