import { Finding, HealthReport } from '../coordination/health';
import { formatDuration } from '../coordination/time';
import { SessionsConfig } from './runtimes';
import { heartbeatOf } from './schema';
import { remoteTimeoutMs } from './sessions';
import { SessionStore } from './store';

/**
 * The health findings of the sessions file: each live remote session whose heartbeat is older than 3 intervals
 * (unreachable) or than the timeout (to be ended by the next writer). A sessions file that cannot be read adds
 * nothing here (the session verbs say what is wrong with it).
 */
export async function sessionFindings(coordinationDir: string, config: Pick<SessionsConfig, 'remoteTimeout'>, now: number): Promise<Finding[]> {
  const store = new SessionStore(coordinationDir);
  const sessions = await store.list().catch(() => []);
  const timeoutMs = remoteTimeoutMs(config);
  const out: Finding[] = [];
  for (const s of sessions) {
    const beat = heartbeatOf(s, now, timeoutMs);
    if (beat === 'fresh') continue;
    const silent = formatDuration(now - Date.parse(s.updated));
    const where = `${s.host}${s.endpoint ? ` (ssh ${s.endpoint})` : ''}`;
    out.push({
      severity: 'warning',
      code: beat === 'unreachable' ? 'unreachable-session' : 'session-heartbeat-timeout',
      message:
        beat === 'unreachable'
          ? `session ${s.session_id.slice(0, 8)} of ${s.instance} on ${where} is unreachable: no heartbeat for ${silent}; work handed to it waits`
          : `session ${s.session_id.slice(0, 8)} of ${s.instance} on ${where} sent no heartbeat for ${silent}, longer than the timeout: it is ended by the next \`syncord agents\`, and what was queued for it can be resent`,
      subject: s.instance,
      location: { file: store.file },
    });
  }
  return out;
}

/** Adds findings to a report (and its counts). */
export function withFindings(report: HealthReport, findings: readonly Finding[]): HealthReport {
  const counts = { ...report.counts };
  for (const f of findings) counts[f.severity]++;
  return { ...report, findings: [...report.findings, ...findings], counts };
}
