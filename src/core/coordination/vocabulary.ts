/**
 * The words of the coordination files: the known values of their status, type and priority fields and the steps
 * of a sync carried out by agents. Kept apart from the schemas (./schemas.ts) so that code which only needs these
 * words does not build the schemas.
 */

export const INSTANCE_STATUSES = ['active', 'idle', 'pending', 'offline'] as const;
export const TASK_STATUSES = ['pending_assignment', 'assigned', 'accepted', 'in_progress', 'blocked', 'completed', 'cancelled'] as const;
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const MESSAGE_TYPES = ['consultation_request', 'consultation_response', 'info', 'handoff', 'question', 'reply'] as const;
export const MESSAGE_STATUSES = ['pending_response', 'responded', 'sent', 'acknowledged', 'closed'] as const;
export const RESPONSE_STATUSES = ['pending', 'completed', 'cancelled'] as const;
export const DECISION_STATUSES = ['active', 'superseded', 'revoked'] as const;

export type Priority = (typeof PRIORITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The steps of seed 002's "Agent Coordination for Synchronization" and the agent of the seed that does each. */
export const SYNC_STEPS = ['apply', 'verify', 'debug', 'fix', 'docs'] as const;
export const SYNC_AGENTS = ['coding', 'testing', 'debugging', 'documentation'] as const;
export type SyncStep = (typeof SYNC_STEPS)[number];
export type SyncAgent = (typeof SYNC_AGENTS)[number];

