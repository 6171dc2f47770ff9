import { JsonFileSpec } from '../../../src/core/store/documents';
import { updateLocked, UpdateOptions, UpdateOutcome } from '../../../src/core/store/locked';

/** The locked strategy on one file, as the store tests drive it. */
export function updateOne<T, R>(spec: JsonFileSpec<T>, mutate: (value: T) => R | Promise<R>, opts?: UpdateOptions): Promise<UpdateOutcome<R>> {
  return updateLocked({ only: spec }, (v) => mutate(v.only), opts);
}
