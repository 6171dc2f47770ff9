import * as path from 'path';
import { SyncordError } from '../errors';
import { Clock, Logger, silentLogger, systemClock } from '../ports';
import { CombinedFile, DocumentsOf, JsonFileSpec, readJsonFiles, submitOperation, updateJsonFiles } from '../store';
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

type OperationFn = (files: CoordinationValues, input: any, now: string) => unknown;
const OPERATIONS: Record<CoordinationKey, Record<string, OperationFn>> = { registry: {}, tasks: {}, messages: {}, decisions: {} };

/** A named change to one coordination file that any Syncord process can apply (see `CoordinationStore.run`). */
export interface OperationRef<K extends CoordinationKey, I, R> {
  key: K;
  name: string;
  /** Type carrier only. */
  readonly types?: (input: I) => R;
}

/**
 * Declares an operation that writes the file `key` and may read the others. `apply` gets the file's draft under
 * its key and the other files (read-only) under theirs; it throws a SyncordError to refuse, before changing
 * anything. It must be a pure function of the files, `input` (plain JSON) and `now`, because the process that
 * applies it may not be the one that asked for it.
 */
export function defineOperation<K extends CoordinationKey, I, R>(
  key: K,
  name: string,
  apply: (files: CoordinationValues, input: I, now: string) => R,
): OperationRef<K, I, R> {
  if (OPERATIONS[key][name]) throw new Error(`operation ${name} is defined twice`);
  (OPERATIONS[key] as Record<string, OperationFn>)[name] = apply as OperationFn;
  return { key, name };
}

/**
 * The four coordination files of one workspace. Every change goes through `run` (one file written, combined
 * with other processes' changes to it) or `update` (several files locked together): the files are locked,
 * re-read, changed and written back atomically; a thrown SyncordError changes nothing.
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

  /**
   * Applies an operation declared with `defineOperation`. Operations of several processes on the same file are
   * applied together by whichever process holds the file's lock (see src/core/store/combine.ts).
   */
  async run<K extends CoordinationKey, I, R>(op: OperationRef<K, I, R>, input: I): Promise<R> {
    const specs = this.specs(ALL_KEYS);
    const reads: Record<string, JsonFileSpec<unknown>> = {};
    for (const k of ALL_KEYS) if (k !== op.key) reads[k] = specs[k];
    const operations: CombinedFile<unknown>['operations'] = {};
    for (const [name, fn] of Object.entries(OPERATIONS[op.key])) {
      operations[name] = (draft, inp, ctx) => {
        const files = {} as CoordinationValues;
        for (const k of ALL_KEYS) {
          if (k === op.key) Object.defineProperty(files, k, { value: draft, enumerable: true });
          else Object.defineProperty(files, k, { get: () => ctx.read(k), enumerable: true });
        }
        return fn(files, inp, ctx.now);
      };
    }
    const target: CombinedFile<unknown> = { spec: specs[op.key], reads, operations };
    const result = await submitOperation(target, op.name, input, this.now(), { waitMs: this.options.lockWaitMs });
    this.logger.trace(`${op.name} applied to ${path.basename(specs[op.key].file)}`);
    return result as R;
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
