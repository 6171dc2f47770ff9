import { registerCoordinationViews } from './coordination/views';
import { registerMessageLog } from './messageLog/provider';
import { Services } from './services';
import { registerSessionsView } from './sessions/views';
import { registerTargetViews } from './targets/views';

export const ViewId = {
  targets: 'syncord.targets',
  coordination: 'syncord.coordination',
  messageLog: 'syncord.messageLog',
  sessions: 'syncord.sessions',
} as const;

export function registerViews(services: Services): void {
  registerTargetViews(services, ViewId.targets);
  registerCoordinationViews(services, ViewId.coordination);
  registerSessionsView(services, ViewId.sessions);
  registerMessageLog(services, ViewId.messageLog);
}
