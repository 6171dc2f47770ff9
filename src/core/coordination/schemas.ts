import { z } from 'zod';

/**
 * The four coordination files of seed 004. Shapes follow the seed exactly; fields the seed shows on every
 * record are required where Syncord relies on them, and any extra field is allowed and kept on write.
 * Status, type and priority fields accept any text: the known values are offered as suggestions (JSON Schema
 * `examples`) and the CLI only writes known ones.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const isoTime = () =>
  z.string().regex(ISO_DATE, { message: 'expected an ISO 8601 date or date-time such as 2024-01-15T10:30:00Z' });
const open = (examples: readonly string[], description: string) =>
  z.string().meta({ examples: [...examples], description });
const ids = () => z.array(z.string());

export const INSTANCE_STATUSES = ['active', 'idle', 'pending', 'offline'] as const;
export const TASK_STATUSES = ['pending_assignment', 'assigned', 'accepted', 'in_progress', 'blocked', 'completed', 'cancelled'] as const;
export const PRIORITIES = ['critical', 'high', 'medium', 'low'] as const;
export const MESSAGE_TYPES = ['consultation_request', 'consultation_response', 'info', 'handoff', 'question', 'reply'] as const;
export const MESSAGE_STATUSES = ['pending_response', 'responded', 'sent', 'acknowledged', 'closed'] as const;
export const RESPONSE_STATUSES = ['pending', 'completed', 'cancelled'] as const;
export const DECISION_STATUSES = ['active', 'superseded', 'revoked'] as const;

export type Priority = (typeof PRIORITIES)[number];
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const InstanceSchema = z.looseObject({
  role: z.string().meta({ description: 'What this instance works on, e.g. architecture-backend.' }),
  status: open(INSTANCE_STATUSES, 'active while working; pending before its first check-in; offline after check-out.'),
  current_task: z.string().nullable().optional(),
  last_update: isoTime().nullable().optional(),
  expertise_areas: ids().optional(),
  available_for_consultation: z.boolean().optional(),
  current_session_id: z.string().nullable().optional(),
}).meta({ id: 'Instance' });

export const RegistrySchema = z
  .looseObject({
    instances: z.record(z.string(), InstanceSchema),
    coordination_protocol_version: z.string(),
    last_registry_update: isoTime().nullable(),
  })
  .meta({ title: 'Syncord instance registry', description: 'coordination/instance-registry.json (seed 004)' });

export const TaskSchema = z.looseObject({
  task_id: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  assigned_to: z.string().nullable(),
  status: open(TASK_STATUSES, 'pending_assignment/assigned/accepted in pending_tasks, in_progress/blocked in active_tasks, completed/cancelled in completed_tasks.'),
  priority: open(PRIORITIES, 'critical, high, medium or low.'),
  created: isoTime().optional(),
  due: isoTime().nullable().optional(),
  dependencies: ids().optional(),
  deliverables: ids().optional(),
  required_expertise: ids().optional(),
  suggested_assignee: z.string().nullable().optional(),
}).meta({ id: 'Task' });

export const TaskQueueSchema = z
  .looseObject({
    active_tasks: z.array(TaskSchema),
    pending_tasks: z.array(TaskSchema),
    completed_tasks: z.array(TaskSchema),
  })
  .meta({ title: 'Syncord task queue', description: 'coordination/task-queue.json (seed 004)' });

export const MessageSchema = z.looseObject({
  message_id: z.string().min(1),
  from: z.string(),
  to: z.string().meta({ description: 'An instance id, or "all".' }),
  type: open(MESSAGE_TYPES, 'What kind of message this is.'),
  timestamp: isoTime(),
  subject: z.string(),
  message: z.string(),
  priority: open(PRIORITIES, 'critical, high, medium or low.').optional(),
  requires_response: z.boolean().optional(),
  context: z
    .looseObject({
      related_task: z.string().nullable().optional(),
      related_files: ids().optional(),
    })
    .optional(),
  status: open(MESSAGE_STATUSES, 'pending_response until answered, then responded; closed once the sender acknowledges.'),
}).meta({ id: 'Message' });

export const ResponseEntrySchema = z.looseObject({
  responding_to: z.string(),
  from: z.string(),
  status: open(RESPONSE_STATUSES, 'pending until the response is sent.'),
  expected_response_time: isoTime().nullable().optional(),
}).meta({ id: 'ResponseEntry' });

export const CommunicationLogSchema = z
  .looseObject({
    messages: z.array(MessageSchema),
    response_queue: z.array(ResponseEntrySchema),
  })
  .meta({ title: 'Syncord communication log', description: 'coordination/communication-log.json (seed 004)' });

export const DecisionSchema = z.looseObject({
  decision_id: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  decision: z.string(),
  rationale: z.string().optional(),
  decided_by: ids(),
  date: isoTime(),
  status: open(DECISION_STATUSES, 'active, superseded or revoked.'),
  affects_instances: ids().optional(),
  related_tasks: ids().optional(),
}).meta({ id: 'Decision' });

export const DecisionOptionSchema = z.looseObject({
  option: z.string(),
  pros: ids().optional(),
  cons: ids().optional(),
}).meta({ id: 'DecisionOption' });

export const PendingDecisionSchema = z.looseObject({
  decision_id: z.string().min(1),
  title: z.string(),
  description: z.string().optional(),
  options: z.array(DecisionOptionSchema),
  input_needed_from: ids().optional(),
  deadline: isoTime().nullable().optional(),
}).meta({ id: 'PendingDecision' });

export const DecisionLogSchema = z
  .looseObject({
    decisions: z.array(DecisionSchema),
    pending_decisions: z.array(PendingDecisionSchema),
  })
  .meta({ title: 'Syncord decision log', description: 'coordination/decisions.json (seed 004)' });

export type Instance = z.infer<typeof InstanceSchema>;
export type Registry = z.infer<typeof RegistrySchema>;
export type Task = z.infer<typeof TaskSchema>;
export type TaskQueue = z.infer<typeof TaskQueueSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type ResponseEntry = z.infer<typeof ResponseEntrySchema>;
export type CommunicationLog = z.infer<typeof CommunicationLogSchema>;
export type Decision = z.infer<typeof DecisionSchema>;
export type DecisionOption = z.infer<typeof DecisionOptionSchema>;
export type PendingDecision = z.infer<typeof PendingDecisionSchema>;
export type DecisionLog = z.infer<typeof DecisionLogSchema>;

/** Task input/output extras Syncord writes beside the seed fields. */
export interface TaskExtras {
  claimed_at?: string;
  completed_at?: string;
  declined_by?: string[];
  notes?: string;
}

/** The JSON Schemas of the four files, for `contributes.jsonValidation` (see scripts/generate-schemas.ts). */
export function coordinationJsonSchemas(): Record<string, unknown> {
  const gen = (s: z.ZodType) => z.toJSONSchema(s, { target: 'draft-7', io: 'input', unrepresentable: 'any' });
  return {
    'instance-registry.schema.json': gen(RegistrySchema),
    'task-queue.schema.json': gen(TaskQueueSchema),
    'communication-log.schema.json': gen(CommunicationLogSchema),
    'decisions.schema.json': gen(DecisionLogSchema),
  };
}
