import * as z from 'zod';
import { TARGET_NAME } from '../workspace';
import {
  DECISION_STATUSES,
  INSTANCE_STATUSES,
  MESSAGE_STATUSES,
  MESSAGE_TYPES,
  PRIORITIES,
  RESPONSE_STATUSES,
  SYNC_AGENTS,
  SYNC_STEPS,
  TASK_STATUSES,
} from './vocabulary';

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

export const InstanceSchema = z.looseObject({
  role: z.string().meta({ description: 'What this instance works on, e.g. architecture-backend.' }),
  status: open(INSTANCE_STATUSES, 'active while working; pending before its first check-in; offline after check-out.'),
  current_task: z.string().nullable().optional(),
  last_update: isoTime().nullable().optional(),
  expertise_areas: ids().optional(),
  available_for_consultation: z.boolean().optional(),
  current_session_id: z.string().nullable().optional(),
}).meta({ id: 'Instance' });

const FieldConflictSchema = z.looseObject({
  path: z.array(z.union([z.string(), z.number()])).meta({ description: "The field's path inside the record." }),
  base: z.unknown().optional(),
  ours: z.unknown().optional().meta({ description: 'What the file holds now (absent: the field was removed).' }),
  theirs: z.unknown().optional().meta({ description: 'What the other side wrote (absent: it removed the field).' }),
});

/**
 * A conflict a merge left: the record holds ours; `theirs` says what the other side wrote. `kind: references` is
 * a file git took from theirs as it was, whose references to renumbered ids must be rewritten (`renames`).
 */
export const MergeConflictSchema = z
  .looseObject({
    id: z.string().min(1).meta({ description: 'What `syncord merge-driver resolve` takes: the record id, or the file it concerns.' }),
    kind: z.enum(['fields', 'references']),
    collection: z.string().optional().meta({ description: 'Where the record is: tasks, messages, response_queue, decisions, instances, sessions, file.' }),
    record: z.string().optional(),
    fields: z.array(FieldConflictSchema).optional(),
    file: z.string().optional().meta({ description: 'references: the file whose references to rewrite.' }),
    renames: z.record(z.string(), z.string()).optional().meta({ description: 'references: old id → new id.' }),
    records: z.array(z.string()).optional().meta({ description: 'references: the records the other side added to the file (their text is rewritten too).' }),
    theirs_commit: z.string().nullable().optional(),
    merged_at: z.string().optional(),
  })
  .meta({ id: 'MergeConflict', description: 'A conflict left by merging this file in git; see `syncord merge-driver conflicts`.' });


/** The optional top-level field of every coordination file that holds merge conflicts. */
const mergeConflicts = () => z.array(MergeConflictSchema).optional().meta({ description: 'Conflicts left by a git merge of this file, until resolved.' });

export const RegistrySchema = z
  .looseObject({
    instances: z.record(z.string(), InstanceSchema),
    coordination_protocol_version: z.string(),
    last_registry_update: isoTime().nullable(),
    merge_conflicts: mergeConflicts(),
  })
  .meta({ title: 'Syncord instance registry', description: 'coordination/instance-registry.json: the instances (agents) that coordinate here' });

const WORKFLOW_ID = /^wf_\d+$/;

/**
 * A task's place in a sync carried out by agents (`syncord sync request`): which workflow, target and step it is.
 * The workflow's first task (its apply step) also carries what was requested: by whom, the commit range, the
 * categories detected and the checklist. Everything about a workflow is in these fields and in the messages
 * that name it; there is no other state.
 */
export const SyncWorkflowSchema = z
  .looseObject({
    id: z.string().regex(WORKFLOW_ID, { message: 'a workflow id looks like wf_001' }),
    target: z.string().regex(TARGET_NAME, { message: 'a target name has letters, digits, ".", "_" and "-" only' }),
    step: z.enum(SYNC_STEPS),
    agent: z.enum(SYNC_AGENTS),
    round: z.number().int().min(1).meta({ description: 'Which verification round the step belongs to (1, then one more per failed verify).' }),
    handed_over: z.string().nullable().optional().meta({ description: 'The message that handed this step over for its current round.' }),
    requested_by: z.string().nullable().optional(),
    since: z.string().nullable().optional().meta({ description: 'The commit the changes are counted from (null: every file).' }),
    until: z.string().nullable().optional().meta({ description: "The main project's commit when the sync was requested." }),
    categories: z.array(z.looseObject({ category: z.string(), priority: z.string(), files: z.number().int().min(0) })).optional(),
    checklist: z.array(z.string()).optional(),
    failures: z
      .array(z.looseObject({ check: z.string(), detail: z.string(), problems: z.array(z.string()) }))
      .optional()
      .meta({ description: 'The failing checks (file:line where known) a debugging step is about.' }),
    verify: z.looseObject({ passed: z.boolean(), at: isoTime() }).nullable().optional().meta({ description: 'The last verification that counted for a verify step.' }),
    reported: z.string().nullable().optional().meta({ description: 'The message that reported the finished workflow to its requester (docs step).' }),
  })
  .meta({ id: 'SyncWorkflowStep' });

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
  sync_workflow: SyncWorkflowSchema.optional(),
}).meta({ id: 'Task' });

export const TaskQueueSchema = z
  .looseObject({
    active_tasks: z.array(TaskSchema),
    pending_tasks: z.array(TaskSchema),
    completed_tasks: z.array(TaskSchema),
    merge_conflicts: mergeConflicts(),
  })
  .meta({ title: 'Syncord task queue', description: 'coordination/task-queue.json: active, pending and completed tasks' });

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
    merge_conflicts: mergeConflicts(),
  })
  .meta({ title: 'Syncord communication log', description: 'coordination/communication-log.json: messages between instances and the answers they wait for' });

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
    merge_conflicts: mergeConflicts(),
  })
  .meta({ title: 'Syncord decision log', description: 'coordination/decisions.json: decisions made and pending' });

export type Instance = z.infer<typeof InstanceSchema>;
export type Registry = z.infer<typeof RegistrySchema>;
export type Task = z.infer<typeof TaskSchema>;
export type SyncWorkflowStep = z.infer<typeof SyncWorkflowSchema>;
export type TaskQueue = z.infer<typeof TaskQueueSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type ResponseEntry = z.infer<typeof ResponseEntrySchema>;
export type CommunicationLog = z.infer<typeof CommunicationLogSchema>;
export type Decision = z.infer<typeof DecisionSchema>;
export type DecisionOption = z.infer<typeof DecisionOptionSchema>;
export type PendingDecision = z.infer<typeof PendingDecisionSchema>;
export type DecisionLog = z.infer<typeof DecisionLogSchema>;
export type MergeConflict = z.infer<typeof MergeConflictSchema>;
export type FieldConflict = z.infer<typeof FieldConflictSchema>;

/** Task input/output extras Syncord writes beside the seed fields. */
export interface TaskExtras {
  claimed_at?: string;
  completed_at?: string;
  declined_by?: string[];
  notes?: string;
}

/**
 * The schemas the generated checks of the four files are compiled from (scripts/generate-schemas.ts): the JSON
 * Schemas below, refusing anything JSON Schema cannot say (a check that let it pass would accept what zod refuses).
 */
export function coordinationValidatorSchemas(): Record<'matchesRegistry' | 'matchesTaskQueue' | 'matchesCommunicationLog' | 'matchesDecisionLog', unknown> {
  const gen = (s: z.ZodType) => z.toJSONSchema(s, { target: 'draft-7', io: 'input', unrepresentable: 'throw' });
  return {
    matchesRegistry: gen(RegistrySchema),
    matchesTaskQueue: gen(TaskQueueSchema),
    matchesCommunicationLog: gen(CommunicationLogSchema),
    matchesDecisionLog: gen(DecisionLogSchema),
  };
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
