/**
 * The coordination files as last read, each parsed, broken (with where) or absent: the read model the editor
 * keeps and the views are built from. Plain data, no presentation.
 */
import type { CommunicationLog, DecisionLog, Registry, TaskQueue } from './schemas';
import type { CoordinationKey } from './store';

/** One coordination file as last read: parsed, broken (with where), or absent. */
export type FileState<T> =
  | { state: 'ok'; file: string; value: T; text: string }
  | { state: 'invalid'; file: string; message: string; line?: number; column?: number }
  | { state: 'missing'; file: string };

export interface CoordinationSnapshot {
  /** Whether the coordination folder exists at all. */
  exists: boolean;
  registry: FileState<Registry>;
  tasks: FileState<TaskQueue>;
  messages: FileState<CommunicationLog>;
  decisions: FileState<DecisionLog>;
}

/** The files of a snapshot that cannot be read. */
export function brokenFiles(snap: CoordinationSnapshot | undefined): CoordinationKey[] {
  return snap ? (['registry', 'tasks', 'messages', 'decisions'] as const).filter((k) => snap[k].state === 'invalid') : [];
}
