import { SyncordError } from '../errors';
import { SessionContext } from './context';
import { markDelivery } from './deliveryLog';
import { AGENT_SESSION_ID, AGENT_STATES, AgentState, isSafeId, SessionRecord } from './schema';
import { defineSessionsChange } from './store';

/**
 * What an agent reports of itself (through Claude Code's hooks or Syncord's opencode plugin, both running
 * `syncord session …` inside the session): its state and its own conversation id, recorded on its session.
 */

export interface AgentReport {
  state?: AgentState;
  /** The runtime's own conversation id, as the agent printed or reported it. */
  agentSession?: string;
}


export function checkAgentReport(input: { state?: string; agentSession?: string }): AgentReport {
  if (input.state !== undefined && !(AGENT_STATES as readonly string[]).includes(input.state)) {
    throw new SyncordError(`unknown agent state ${JSON.stringify(input.state)} (known: ${AGENT_STATES.join(', ')})`, 'usage');
  }
  if (input.agentSession !== undefined && !AGENT_SESSION_ID.test(input.agentSession)) {
    throw new SyncordError(`invalid conversation id ${JSON.stringify(input.agentSession)}`, 'usage');
  }
  return { state: input.state as AgentState | undefined, agentSession: input.agentSession };
}

/**
 * Records a report on a live session; an exited or unknown session is left alone (undefined). An agent busy
 * (or waiting on the user) after a prompt was typed into its terminal has taken that prompt: it is returned
 * as `took`.
 */
const REPORT = defineSessionsChange('session.agentReport', (file, input: { sessionId: string; report: AgentReport }, now): { rec: SessionRecord; took?: string } | undefined => {
  const rec = file.sessions.find((s) => s.session_id === input.sessionId);
  if (!rec || rec.state === 'exited') return undefined;
  const { state, agentSession } = input.report;
  let took: string | undefined;
  if (rec.typing && (state === 'busy' || state === 'waiting')) {
    took = rec.typing.message;
    rec.typing = null;
  }
  if (state && (rec.agent_state !== state || !rec.agent_state_at)) {
    rec.agent_state = state;
    rec.agent_state_at = now;
  }
  // The first id a session reports is its conversation: a later run of the same runtime in the same folder
  // (another session's, or the user's own) must not take it over.
  if (agentSession && !rec.agent_session) rec.agent_session = agentSession;
  rec.updated = now;
  return { rec: structuredClone(rec), took };
});

export async function reportAgent(ctx: SessionContext, sessionId: string, report: { state?: string; agentSession?: string }): Promise<SessionRecord | undefined> {
  if (!isSafeId(sessionId)) throw new SyncordError(`invalid session id ${JSON.stringify(sessionId)}`, 'usage');
  const checked = checkAgentReport(report);
  if (!checked.state && !checked.agentSession) return undefined;
  const r = await ctx.sessions.update(REPORT, { sessionId, report: checked });
  if (r?.took) await markDelivery(ctx, r.took, sessionId, { status: 'delivered', error: null });
  return r?.rec;
}
