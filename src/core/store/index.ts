/**
 * The workspace file store: JSON/JSONC files that humans, agents and Syncord all edit. Reads tolerate
 * comments and report problems with file, line and column; writes take a lock, re-read the file, change only
 * what changed and replace the file atomically. Frequent small changes from many processes are combined
 * (see combine.ts): one lock holder applies everyone's pending changes in one write.
 */
export * from './combine';
export * from './documents';
export * from './locked';
export * from './jsonText';
export * from './lock';
export * from './render';
export * from './atomic';
export * from './update';
