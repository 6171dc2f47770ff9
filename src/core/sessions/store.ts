import * as fs from 'fs';
import * as path from 'path';
import { SyncordError } from '../errors';
import { Clock, systemClock } from '../ports';
import { Change, FileKind, FileStore, JsonFileSpec, readJsonFile } from '../store';
import { createFileOnce } from '../store/atomic';
import { renderFresh } from '../store/render';
import { isoTime } from '../coordination/time';
import { SESSIONS_FILE } from '../workspace';
import { SessionRecord, SessionsFile, SessionsFileSchema } from './schema';


interface SessionsFiles {
  sessions: SessionsFile;
}
const SESSIONS = new FileKind<SessionsFiles>(['sessions']);

/**
 * Declares a change to sessions.json (see src/core/store/update.ts): a pure function of the file, a plain-JSON
 * input and the time, which throws a SyncordError to refuse before changing anything.
 */
export function defineSessionsChange<I, R>(name: string, apply: (file: SessionsFile, input: I, now: string) => R): Change<SessionsFiles, I, R> {
  return SESSIONS.change(name, ['sessions'], (files, input: I, now) => apply(files.sessions, input, now));
}

/**
 * `coordination/sessions.json`. Missing means "no session yet": it is created on the first write. Every change
 * takes the file's lock, so a supervisor recording an exit and a CLI queueing work never lose each other's edit.
 */
export class SessionStore {
  readonly file: string;
  private readonly spec: JsonFileSpec<SessionsFile>;
  private readonly files: FileStore<SessionsFiles>;

  constructor(
    readonly dir: string,
    private readonly opts: { clock?: Clock; lockWaitMs?: number } = {},
  ) {
    this.file = path.join(dir, SESSIONS_FILE);
    this.spec = { file: this.file, schema: SessionsFileSchema };
    this.files = new FileStore(SESSIONS, { sessions: this.spec }, { lockWaitMs: opts.lockWaitMs });
  }

  now(): string {
    return isoTime((this.opts.clock ?? systemClock).now());
  }

  async read(): Promise<SessionsFile> {
    try {
      return (await readJsonFile(this.spec)).value;
    } catch (e) {
      if (e instanceof SyncordError && e.code === 'not-found' && !fs.existsSync(this.file)) return { sessions: [] };
      throw e;
    }
  }

  async list(): Promise<SessionRecord[]> {
    return (await this.read()).sessions;
  }

  /** Applies a change declared with `defineSessionsChange`; a refusal changes nothing. */
  async update<I, R>(change: Change<SessionsFiles, I, R>, input: I): Promise<R> {
    if (!fs.existsSync(this.dir)) {
      throw new SyncordError(`${this.dir} does not exist; initialize coordination first (\`syncord init\`)`, 'not-found', { file: this.dir });
    }
    createFileOnce(this.file, renderFresh({ sessions: [] }));
    return this.files.update(change, input, this.now());
  }
}

/** The session with this id, or the live (else the newest) session of the instance with this id. */
export function findSession(sessions: SessionRecord[], idOrInstance: string): SessionRecord | undefined {
  const byId = sessions.find((s) => s.session_id === idOrInstance || (idOrInstance.length >= 8 && s.session_id.startsWith(idOrInstance)));
  if (byId) return byId;
  const mine = sessions.filter((s) => s.instance === idOrInstance);
  return mine.filter((s) => s.state !== 'exited').pop() ?? mine.pop();
}

export function requireSession(sessions: SessionRecord[], idOrInstance: string): SessionRecord {
  const s = findSession(sessions, idOrInstance);
  if (!s) {
    const known = [...new Set(sessions.map((x) => x.instance))];
    throw new SyncordError(
      `no session ${JSON.stringify(idOrInstance)}${known.length ? ` (sessions exist for: ${known.join(', ')})` : ' (no session was started yet; start one with `syncord spawn <instance>`)'}`,
      'not-found',
    );
  }
  return s;
}

/** The live session of an instance (spawning, running or idle), if any. */
export function liveSessionOf(sessions: SessionRecord[], instance: string): SessionRecord | undefined {
  return sessions.filter((s) => s.instance === instance && s.state !== 'exited').pop();
}

/** Forgets the processes a record names: the supervisor's, and with `agent` the agent's too. */
export function forgetProcesses(rec: SessionRecord, agent: boolean): void {
  rec.pid = null;
  rec.pid_start = null;
  if (agent) {
    rec.agent_pid = null;
    rec.agent_pid_start = null;
  }
}

/**
 * Takes back a session's queue and lets it rest idle, its supervisor gone (what was queued is then reported as
 * not handed over). An exited session is left as it is.
 */
export const REST_IDLE = defineSessionsChange('session.restIdle', (file, sessionId: string, now): string[] => {
  const rec = file.sessions.find((s) => s.session_id === sessionId);
  if (!rec || rec.state === 'exited') return [];
  const q = rec.queue ?? [];
  rec.queue = [];
  rec.state = 'idle';
  forgetProcesses(rec, false);
  rec.updated = now;
  return q;
});
