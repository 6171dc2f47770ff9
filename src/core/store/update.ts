import type { CombinedFile } from './combine';
import { JsonFileSpec, readCached } from './documents';

/**
 * The store's one way to change files: `FileStore.update(change, input)`.
 *
 * A change is declared once, at module load, with `FileKind.change(name, writes, apply)`: a pure function of the
 * files' current values, a plain-JSON input and the time, that throws a SyncordError to refuse before changing
 * anything. Because it is declared (not a closure), any Syncord process can apply it, which lets the store
 * combine concurrent changes:
 * - a change that writes one file is queued and applied together with other processes' changes to that file by
 *   whichever process holds its lock (combine.ts: one re-read, one write for many changes);
 * - a change that writes several files takes their locks in a fixed order and writes them together
 *   (locked.ts).
 * Callers never choose: the store picks by what the change writes. Either way the file is re-read under the
 * lock, validated, changed, written to a temporary file and renamed into place only if nobody changed it in
 * the meantime (its identity is checked right before the rename); otherwise the change is applied again to the
 * new content.
 */

export interface Change<F, I, R> {
  readonly name: string;
  readonly writes: readonly (keyof F & string)[];
  readonly apply: (files: F, input: I, now: string) => R;
}

type Apply<F> = (files: F, input: any, now: string) => unknown;

/** A kind of file set (the coordination files, the sessions file, the target registry) and its changes. */
export class FileKind<F extends object> {
  private readonly byFile = new Map<string, Map<string, Apply<F>>>();
  private readonly names = new Set<string>();

  constructor(readonly keys: readonly (keyof F & string)[]) {}

  /** Declares a change. `apply` gets drafts of the files it writes and read-only values of the others. */
  change<I, R>(name: string, writes: readonly (keyof F & string)[], apply: (files: F, input: I, now: string) => R): Change<F, I, R> {
    if (!writes.length) throw new Error(`change ${name} writes no file`);
    if (this.names.has(name)) throw new Error(`change ${name} is declared twice`);
    this.names.add(name);
    if (writes.length === 1) {
      const ops = this.byFile.get(writes[0]) ?? new Map<string, Apply<F>>();
      ops.set(name, apply as Apply<F>);
      this.byFile.set(writes[0], ops);
    }
    return { name, writes, apply };
  }

  /** The changes that write only `key`, by name (what a lock holder may apply for another process). */
  singleFileChanges(key: keyof F & string): Map<string, Apply<F>> {
    return this.byFile.get(key) ?? new Map();
  }
}

export type SpecsFor<F> = { [K in keyof F]: JsonFileSpec<F[K]> };

export interface FileStoreOptions {
  /** How long to wait for a file another process has locked (ms). */
  lockWaitMs?: number;
}

/** The files of one kind at their places in one workspace. */
export class FileStore<F extends object> {
  constructor(
    readonly kind: FileKind<F>,
    readonly specs: SpecsFor<F>,
    private readonly options: FileStoreOptions = {},
  ) {}

  /** Applies a declared change with `input` at time `now`; returns its result or throws its refusal. */
  async update<I, R>(change: Change<F, I, R>, input: I, now: string): Promise<R> {
    if (change.writes.length === 1) return this.combined(change, input, now);
    const written = {} as { [K in keyof F]: JsonFileSpec<F[K]> };
    for (const k of change.writes) written[k] = this.specs[k];
    // The writing machinery is loaded by the first change, so that a command that only reads never loads it.
    const { updateLocked } = await import('./locked');
    const { result } = await updateLocked(
      written,
      (drafts) => change.apply(this.withOthers(drafts as Partial<F>, change.writes, (k) => readCached(this.specs[k]).value), input, now),
      { waitMs: this.options.lockWaitMs },
    );
    return result;
  }

  private async combined<I, R>(change: Change<F, I, R>, input: I, now: string): Promise<R> {
    const key = change.writes[0];
    const reads: Record<string, JsonFileSpec<unknown>> = {};
    for (const k of this.kind.keys) if (k !== key) reads[k] = this.specs[k] as JsonFileSpec<unknown>;
    const operations: CombinedFile<unknown>['operations'] = {};
    for (const [name, apply] of this.kind.singleFileChanges(key)) {
      operations[name] = (draft, inp, ctx) => apply(this.withOthers({ [key]: draft } as Partial<F>, [key], (k) => ctx.read(k)), inp, ctx.now);
    }
    const target: CombinedFile<unknown> = { spec: this.specs[key] as JsonFileSpec<unknown>, reads, operations };
    const { submitOperation } = await import('./combine');
    return (await submitOperation(target, change.name, input, now, { waitMs: this.options.lockWaitMs })) as R;
  }

  /** The drafts of the written files, with the other files readable (lazily, read-only) beside them. */
  private withOthers(drafts: Partial<F>, writes: readonly (keyof F & string)[], read: (k: keyof F & string) => unknown): F {
    const files = {} as F;
    for (const k of this.kind.keys) {
      if (writes.includes(k)) Object.defineProperty(files, k, { value: drafts[k], enumerable: true });
      else {
        // Read once per application, on first use.
        let cached: { value: unknown } | undefined;
        Object.defineProperty(files, k, { get: () => (cached ??= { value: read(k) }).value, enumerable: true });
      }
    }
    return files;
  }
}
