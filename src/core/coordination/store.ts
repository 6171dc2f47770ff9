import * as path from 'path';
import { SyncordError } from '../errors';
import { Clock, Logger, silentLogger, systemClock } from '../ports';
import { DocumentsOf, JsonFileSpec, readJsonFiles } from '../store/documents';
import { Change, FileKind, FileStore } from '../store/update';
import { COORDINATION_FILES } from '../workspace';
import type * as Schemas from './schemas';
import type { CommunicationLog, DecisionLog, Registry, TaskQueue } from './schemas';
import { isoTime } from './time';
import { matchesCommunicationLog, matchesDecisionLog, matchesRegistry, matchesTaskQueue } from './validators.generated';

export interface CoordinationValues {
  registry: Registry;
  tasks: TaskQueue;
  messages: CommunicationLog;
  decisions: DecisionLog;
}
export type CoordinationKey = keyof CoordinationValues;
type SpecsOf<K extends CoordinationKey> = { [P in K]: JsonFileSpec<CoordinationValues[P]> };

/**
 * Each file's check and its schema. Reads and writes run the generated check; the zod schemas (./schemas.ts) are
 * built only when a file fails it, to say what is wrong and where, so a command that reads valid files never
 * loads them.
 */
const CHECKS: { [K in CoordinationKey]: { matches: (value: unknown) => boolean; schema: keyof typeof Schemas } } = {
  registry: { matches: matchesRegistry, schema: 'RegistrySchema' },
  tasks: { matches: matchesTaskQueue, schema: 'TaskQueueSchema' },
  messages: { matches: matchesCommunicationLog, schema: 'CommunicationLogSchema' },
  decisions: { matches: matchesDecisionLog, schema: 'DecisionLogSchema' },
};

let schemas: typeof Schemas | undefined;
/** The zod schemas of the coordination files, loaded on first use. */
function zodSchemas(): typeof Schemas {
  // A require, not an import: the bundle evaluates the module (and zod) only when this runs.
  return (schemas ??= require('./schemas') as typeof Schemas);
}

export const ALL_KEYS: CoordinationKey[] = ['registry', 'tasks', 'messages', 'decisions'];

export interface CoordinationStoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** How long to wait for a file another process has locked (ms). */
  lockWaitMs?: number;
}

/** The coordination files as one kind of file set: every change to them is declared with `defineChange`. */
const COORDINATION = new FileKind<CoordinationValues>(ALL_KEYS);

/**
 * Declares a change to the coordination files: `writes` are the files it changes (it gets drafts of those) and
 * it may read the others (read-only). `apply` throws a SyncordError to refuse, before changing anything. It must
 * be a pure function of the files, `input` (plain JSON) and `now`, because the process that applies it may not
 * be the one that asked for it.
 */
export function defineChange<I, R>(
  name: string,
  writes: readonly CoordinationKey[],
  apply: (files: CoordinationValues, input: I, now: string) => R,
): Change<CoordinationValues, I, R> {
  return COORDINATION.change(name, writes, apply);
}

/**
 * The four coordination files of one workspace. Every change goes through `update` with a declared change
 * (see src/core/store/update.ts): the files are locked, re-read, changed and written back atomically, and a
 * thrown SyncordError changes nothing.
 */
export class CoordinationStore {
  readonly clock: Clock;
  readonly logger: Logger;
  private readonly files: FileStore<CoordinationValues>;

  constructor(
    readonly dir: string,
    options: CoordinationStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.files = new FileStore(COORDINATION, this.specs(ALL_KEYS), { lockWaitMs: options.lockWaitMs });
  }

  file(key: CoordinationKey): string {
    return path.join(this.dir, COORDINATION_FILES[key]);
  }

  /** The current time as written into the files (ISO 8601, seconds, UTC). */
  now(): string {
    return isoTime(this.clock.now());
  }

  private specs<K extends CoordinationKey>(keys: readonly K[]): SpecsOf<K> {
    const out: Record<string, JsonFileSpec<unknown>> = {};
    for (const k of keys) {
      const check = CHECKS[k];
      out[k] = {
        file: this.file(k),
        get schema() {
          return zodSchemas()[check.schema] as JsonFileSpec<unknown>['schema'];
        },
        matches: check.matches,
        missingHint: 'initialize coordination first (`syncord init`, or "Syncord: Initialize Coordination" in VS Code)',
      };
    }
    return out as SpecsOf<K>;
  }

  /** Reads files (without locking) with their text, for callers that want to point at lines. */
  async readDocuments<K extends CoordinationKey>(...keys: K[]): Promise<DocumentsOf<SpecsOf<K>>> {
    return readJsonFiles(this.specs(keys.length ? keys : (ALL_KEYS as K[])));
  }

  /** Reads files (without locking). */
  async read<K extends CoordinationKey>(...keys: K[]): Promise<Pick<CoordinationValues, K>> {
    const docs = await this.readDocuments(...keys);
    const out: Partial<CoordinationValues> = {};
    for (const k of Object.keys(docs) as K[]) (out as Record<K, unknown>)[k] = docs[k].value;
    return out as Pick<CoordinationValues, K>;
  }

  /** Applies a change declared with `defineChange` and returns its result (or throws its refusal). */
  async update<I, R>(change: Change<CoordinationValues, I, R>, input: I): Promise<R> {
    const result = await this.files.update(change, input, this.now());
    this.logger.trace(`${change.name} applied to ${change.writes.map((k) => COORDINATION_FILES[k]).join(', ')}`);
    return result;
  }
}

/** The usual errors of coordination operations. */
export const notFound = (what: string, id: string, file?: string) =>
  new SyncordError(`${what} ${JSON.stringify(id)} does not exist`, 'not-found', file ? { file } : undefined);
export const conflict = (message: string) => new SyncordError(message, 'conflict');
export const usage = (message: string) => new SyncordError(message, 'usage');
