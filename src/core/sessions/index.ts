/**
 * Agent sessions (seed 003): start claude, opencode or custom agents as instances of the coordination files,
 * hand them work, list and stop them. Session records live in `coordination/sessions.json`; hand-overs are
 * recorded on messages in the communication log.
 */
export * from './agents';
export * from './agentState';
export * from './context';
export * from './deliveries';
export * from './deliveryLog';
export * from './launch';
export * from './prompts';
export * from './sshSession';
export * from './ssh';
export * from './runtimes';
export * from './remotes';
export * from './schema';
export * from './served';
export * from './sessions';
export * from './store';
export * from './supervise';
export * from './worktree';
