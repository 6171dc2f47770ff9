/**
 * How a sync carried out by agents reads, in the Targets tree and in the CLI: one line of progress per workflow
 * ("verify in progress by testing-1 (1/3)") and one per step.
 */
import type { WorkflowStepView, WorkflowView } from '../core/agentsync/workflow';

const STEP_WORD: Record<WorkflowStepView['step'], string> = { apply: 'apply', verify: 'verify', debug: 'debug', fix: 'fix', docs: 'docs' };

/** Where one step stands, in words: "in progress by testing-1", "waiting for docs-1", "completed by coding-1". */
export function stepStateText(s: WorkflowStepView): string {
  const who = s.assigned_to;
  if (s.status === 'completed') return `completed${who ? ` by ${who}` : ''}`;
  if (s.status === 'cancelled') return 'cancelled';
  if (s.list === 'active_tasks') return s.status === 'blocked' ? `blocked${who ? ` (${who})` : ''}` : `in progress${who ? ` by ${who}` : ''}`;
  if (!s.ready) return 'after its dependencies';
  if (s.status === 'accepted') return `accepted by ${who}, not started`;
  return who ? `waiting for ${who}` : `waiting for a ${s.agent} instance`;
}

/** The workflow's progress in one line: "verify in progress by testing-1 (1/3)", "done (5/5)". */
export function workflowProgressText(w: WorkflowView): string {
  const count = `(${w.done}/${w.total})`;
  if (w.state === 'done') return `done ${count}`;
  if (w.state === 'cancelled') return `cancelled ${count}`;
  const c = w.current;
  const round = w.round > 1 ? `, round ${w.round}` : '';
  return c ? `${STEP_WORD[c.step]} ${stepStateText(c)} ${count}${round}` : `open ${count}${round}`;
}

/** One line per step: "task_010 apply — completed by coding-1". */
export function workflowStepLines(w: WorkflowView): string[] {
  return w.steps.map((s) => `${s.task_id} ${STEP_WORD[s.step]}${s.round > 1 ? ` (round ${s.round})` : ''} — ${stepStateText(s)}`);
}
