import { ErrorCode } from '../core/errors';

/**
 * Exit codes of the `syncord` CLI. 0 is success; 1 means the command ran and found problems
 * (health findings, failed verification, targets that need sync) so hooks and CI can gate on it.
 */
export const ExitCode = {
  ok: 0,
  problemsFound: 1,
  usage: 2,
  invalidFile: 3,
  notFound: 4,
  conflict: 5,
  lockTimeout: 6,
  io: 7,
  /** A command defined by the workspace (a runtime, a verify command) that the user has not trusted: `syncord trust`. */
  untrusted: 8,
  cancelled: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'usage':
      return ExitCode.usage;
    case 'invalid-file':
      return ExitCode.invalidFile;
    case 'not-found':
      return ExitCode.notFound;
    case 'conflict':
      return ExitCode.conflict;
    case 'lock-timeout':
      return ExitCode.lockTimeout;
    case 'io':
      return ExitCode.io;
    case 'untrusted':
      return ExitCode.untrusted;
    case 'cancelled':
      return ExitCode.cancelled;
  }
}
