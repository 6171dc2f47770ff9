import { Coordination } from './coordination/context';
import { CoordinationViews, registerCoordinationViews } from './coordination/views';
import { MessageLogProvider, registerMessageLog } from './messageLog/provider';
import { Sessions } from './sessions/context';
import { registerSessionsView, SessionsViews } from './sessions/views';
import { Targets } from './targets/context';
import { registerTargetViews, TargetViews } from './targets/views';

import { ViewId } from '../views/ids';

export interface Views {
  targets: TargetViews;
  coordination: CoordinationViews;
  sessions: SessionsViews;
  messageLog: MessageLogProvider;
}

/** Every view of the extension, over the areas' state; each registration is disposed with the extension. */
export function registerViews(areas: { coordination: Coordination; targets: Targets; sessions: Sessions }): Views {
  return {
    targets: registerTargetViews(areas.targets, ViewId.targets),
    coordination: registerCoordinationViews(areas.coordination, ViewId.coordination),
    sessions: registerSessionsView(areas.sessions, ViewId.sessions),
    messageLog: registerMessageLog(areas.coordination, areas.sessions, ViewId.messageLog),
  };
}
