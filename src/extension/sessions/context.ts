import * as path from 'path';
import * as vscode from 'vscode';
import { SyncordError } from '../../core/errors';
import { SessionContext, sessionContext } from '../../core/sessions/context';
import { DeliveryHooks } from '../../core/sessions/deliveries';
import { headlessLauncher, Launcher, SyncordCli } from '../../core/sessions/launch';
import { defaultSessionsConfig } from '../../core/sessions/runtimes';
import { Coordination } from '../coordination/context';
import { Services } from '../services';
import { readSessionsConfig } from '../settings';
import { SessionsModel } from './model';
import { SessionTerminals } from './terminals';

/** Said when something would start a process in Restricted Mode. */
export const TRUST_NEEDED =
  'Agent sessions run programs (the agent runtimes and their commands), so they need a trusted workspace. Trust this workspace first (Manage Workspace Trust).';

/** What the Sessions view, its commands and the message senders share. */
export interface Sessions {
  services: Services;
  coordination: Coordination;
  model: SessionsModel;
  terminals: SessionTerminals;
  /**
   * The core's session context for the open workspace, or undefined without a folder. With `strict`, settings
   * that are not valid throw (spawning needs them); otherwise the defaults stand in (listing does not).
   */
  context(opts?: { strict?: boolean }): SessionContext | undefined;
  /**
   * What deliveries may do from this window: type into the session terminals that are here, and start the
   * process of an idle headless session (only in a trusted workspace; otherwise the delivery is recorded as
   * failed and can be resent later).
   */
  hooks(ctx: SessionContext): DeliveryHooks;
}

/** How supervisors and the agents' `syncord` command run this extension's CLI. */
export function extensionCli(context: vscode.ExtensionContext): SyncordCli {
  return { node: process.execPath, script: path.join(context.extensionPath, 'dist', 'cli.js') };
}

/** The sessions state of this activation. Nothing is read until something asks. */
export function createSessions(services: Services, coordination: Coordination): Sessions {
  const terminals = new SessionTerminals(services.logger);
  const context = (opts: { strict?: boolean } = {}): SessionContext | undefined => {
    const paths = services.paths();
    if (!paths) return undefined;
    let config;
    try {
      config = readSessionsConfig(vscode.workspace.workspaceFolders?.[0]);
    } catch (e) {
      if (opts.strict) throw e;
      services.log.warn(`${e instanceof Error ? e.message : String(e)}; listing sessions with the default runtimes`);
      config = defaultSessionsConfig();
    }
    return sessionContext(paths, {
      config,
      cli: extensionCli(services.context),
      // Read when called: what the agents inherit, including PATH, is the extension host's environment now.
      env: process.env,
      actor: services.settings().instanceId,
      logger: services.logger,
    });
  };
  const model = new SessionsModel(coordination, terminals, () => context());
  services.context.subscriptions.push(model, terminals);
  const refusing: Launcher = async () => {
    throw new SyncordError(TRUST_NEEDED, 'usage');
  };
  return {
    services,
    coordination,
    model,
    terminals,
    context,
    hooks: (ctx) => ({
      launch: vscode.workspace.isTrusted ? headlessLauncher(ctx.paths) : refusing,
      pumpTerminal: (session) => terminals.pump(ctx, session),
    }),
  };
}
