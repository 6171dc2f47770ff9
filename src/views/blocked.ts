// What Syncord says when an instance claims or starts a task whose dependencies are not completed: which tasks
// block it, and what it can do instead. One wording for both faces: the CLI prints each option with its command,
// the editor offers each option as a button.
import { Blocker, blockerText } from '../core/coordination/tasks';
import { Task } from '../core/coordination/schemas';
import { listWords } from './text';

export type BlockedAction = 'accept' | 'claim-anyway';

export interface BlockedOption {
  action: BlockedAction;
  /** The editor's button. */
  label: string;
  /** The same in a sentence: "accept it now". */
  phrase: string;
  /** The same thing from the command line, acting as `me`. */
  cli: string;
  /** What it does, in a few words. */
  effect: string;
}

export interface BlockedAdvice {
  /** Which tasks block it, one sentence. */
  summary: string;
  options: BlockedOption[];
}

/**
 * Whether `me` may claim or start `task` but for its open dependencies: the task is pending and unassigned,
 * offered to `me` or accepted by `me`. Otherwise another refusal applies (held by someone else, already done).
 */
export function blockedFor(task: Task, blockers: Blocker[], me: string): boolean {
  return blockers.length > 0 && !['in_progress', 'blocked', 'completed', 'cancelled'].includes(task.status) && (!task.assigned_to || task.assigned_to === me);
}

export function blockedTaskAdvice(task: Task, blockers: Blocker[], me: string): BlockedAdvice {
  const ids = listWords(blockers.map((b) => b.task_id));
  const is = blockers.length === 1 ? 'is' : 'are';
  const accepted = task.status === 'accepted' && task.assigned_to === me;
  const shows = 'the inbox and the Coordination view show what still blocks it';
  const summary =
    `${task.task_id} ${JSON.stringify(task.title)} waits for ${blockers.map(blockerText).join(', ')}, not completed yet.` +
    (accepted ? ` ${me} has accepted it: start it once ${ids} ${is} completed (${shows}).` : '');
  const options: BlockedOption[] = [];
  if (!accepted) {
    options.push({
      action: 'accept',
      label: 'Accept Now',
      phrase: 'accept it now',
      cli: `syncord --as ${me} task accept ${task.task_id}`,
      effect: `it becomes ${me}'s and waits until ${ids} ${is} completed; ${shows}`,
    });
  }
  options.push({
    action: 'claim-anyway',
    label: 'Claim Anyway',
    phrase: 'claim it anyway',
    cli: `syncord --as ${me} task claim ${task.task_id} --force`,
    effect: `it starts now, before ${ids} ${is} completed`,
  });
  return { summary, options };
}

/** The advice as the CLI prints it: the summary, then each option with what it does and its command. */
export function blockedTaskCliText(a: BlockedAdvice): string {
  return [a.summary, ...a.options.flatMap((o) => [`  To ${o.phrase} (${o.effect}):`, `    ${o.cli}`])].join('\n');
}
