/**
 * The workspace file store: JSON/JSONC files that humans, agents and Syncord all edit. Reads tolerate
 * comments and report problems with file, line and column; writes take a lock, re-read the file, change only
 * what changed and replace the file atomically.
 */
export * from './jsonFile';
export * from './jsonText';
export * from './lock';
export * from './render';
