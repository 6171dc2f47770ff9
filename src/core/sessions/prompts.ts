import { Message, Task } from '../coordination/schemas';

/**
 * What Syncord says to an agent. Every prompt is one line: it may be typed into a terminal, where a line break
 * would send half of it.
 */
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

/** The first prompt of a session: the seed's startup checklist. */
export function startupPrompt(input: { instance: string; role: string; coordinationDir: string; extra?: string }): string {
  return oneLine(
    `You are ${input.instance} (role: ${input.role}), one of several coding agents coordinated by Syncord through the files in ${input.coordinationDir}. ` +
      'Start with the startup checklist: run `syncord inbox` to see the messages, answers, tasks and decisions waiting for you, then `syncord checkin`. ' +
      'For each task assigned to you run `syncord task start <id>`, do the work, then `syncord task complete <id>`; ' +
      'ask other instances with `syncord msg send <instance> "<subject>" -m "<question>"` and answer with `syncord msg reply <id>`. ' +
      'The same verbs are also your MCP tools from the server syncord (inbox, checkin, task_start, task_complete, msg_send, msg_reply, …; mcp__syncord__* in Claude Code): use them where you have them. ' +
      (input.extra ? input.extra : ''),
  );
}

/** Hands a task to the agent. */
export function taskPrompt(task: Task): string {
  const due = task.due ? `, due ${task.due}` : '';
  const what = task.description ? ` ${task.description}` : '';
  const deps = task.dependencies?.length ? ` It depends on ${task.dependencies.join(', ')}.` : '';
  return oneLine(
    `Syncord: task ${task.task_id} "${task.title}" (priority ${task.priority}${due}) is assigned to you.${what}${deps} ` +
      `Run \`syncord task start ${task.task_id}\` now, do the work, then run \`syncord task complete ${task.task_id}\`.`,
  );
}

/** Tells the agent that a message waits for it. */
export function nudgePrompt(m: Message): string {
  const answer = m.requires_response ? ` It needs an answer: \`syncord msg reply ${m.message_id}\`.` : '';
  return oneLine(
    `Syncord: new message ${m.message_id} from ${m.from}: "${m.subject}". Read it with \`syncord msg show ${m.message_id}\` (or \`syncord inbox\`).${answer}`,
  );
}
