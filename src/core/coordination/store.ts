import * as path from 'path';
import { SyncordError } from '../errors';
import { Clock, Logger, silentLogger, systemClock } from '../ports';
import { DocumentsOf, JsonFileSpec, readJsonFiles, updateJsonFiles } from '../store';
import { COORDINATION_FILES } from './init';
import {
  CommunicationLog,
  CommunicationLogSchema,
  DecisionLog,
  DecisionLogSchema,
  Registry,
  RegistrySchema,
  TaskQueue,
  TaskQueueSchema,
} from './schemas';
import { isoTime } from './time';

export interface CoordinationValues {
  registry: Registry;
  tasks: TaskQueue;
  messages: CommunicationLog;
  decisions: DecisionLog;
}
export type CoordinationKey = keyof CoordinationValues;
type SpecsOf<K extends CoordinationKey> = { [P in K]: JsonFileSpec<CoordinationValues[P]> };

const SCHEMAS = {
  registry: RegistrySchema,
  tasks: TaskQueueSchema,
  messages: CommunicationLogSchema,
  decisions: DecisionLogSchema,
} as const;

export const ALL_KEYS: CoordinationKey[] = ['registry', 'tasks', 'messages', 'decisions'];

export interface CoordinationStoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** How long to wait for a file another process has locked (ms). */
  lockWaitMs?: number;
}

/**
 * The four coordination files of one workspace. Every change goes through `update`: the files it names are
 * locked, re-read, changed in place and written back atomically; a thrown SyncordError changes nothing.
 */
export class CoordinationStore {
  readonly clock: Clock;
  readonly logger: Logger;

  constructor(
    readonly dir: string,
    private readonly options: CoordinationStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
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
      out[k] = {
        file: this.file(k),
        schema: SCHEMAS[k],
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

  /** Changes the named files as one locked operation and returns what `mutate` returns. */
  async update<K extends CoordinationKey, R>(
    keys: readonly K[],
    mutate: (files: Pick<CoordinationValues, K>, now: string) => R,
  ): Promise<R> {
    const now = this.now();
    const { result, written } = await updateJsonFiles(this.specs(keys), (v) => mutate(v as Pick<CoordinationValues, K>, now), {
      waitMs: this.options.lockWaitMs,
    });
    if (written.length) this.logger.trace(`wrote ${written.map((f) => path.basename(f)).join(', ')}`);
    return result;
  }
}

/** The usual errors of coordination operations. */
export const notFound = (what: string, id: string, file?: string) =>
  new SyncordError(`${what} ${JSON.stringify(id)} does not exist`, 'not-found', file ? { file } : undefined);
export const conflict = (message: string) => new SyncordError(message, 'conflict');
export const usage = (message: string) => new SyncordError(message, 'usage');
