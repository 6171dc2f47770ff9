import * as vscode from 'vscode';
import { instanceEntries } from '../core/coordination/instances';
import { CoordinationStore } from '../core/coordination/store';
import { mcpServerLaunch } from '../core/sessions/launch';
import { MCP_PROVIDER_ID } from '../shared/commands';
import { Services } from './services';
import { extensionCli } from './sessions/context';
import { readMcpInstance, SettingKey } from './settings';

/**
 * VS Code's MCP server definition API (`vscode.lm.registerMcpServerDefinitionProvider`, `McpStdioServerDefinition`)
 * became stable in VS Code 1.101 (1.100 has it as the proposal `mcpConfigurationProvider`, enabled in the
 * manifest); the `@types/vscode` this project builds against is 1.100, which does not have it. These are the few members Syncord uses, declared here and looked up at run time: in a VS Code without the
 * API nothing is registered.
 */
interface McpStdioServerDefinitionLike {
  readonly label: string;
  command: string;
  args: string[];
  env: Record<string, string | number | null>;
  version?: string;
}
type McpStdioServerDefinitionCtor = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string | number | null>,
  version?: string,
) => McpStdioServerDefinitionLike;
interface McpServerDefinitionProviderLike {
  onDidChangeMcpServerDefinitions?: vscode.Event<void>;
  provideMcpServerDefinitions(token: vscode.CancellationToken): vscode.ProviderResult<McpStdioServerDefinitionLike[]>;
  resolveMcpServerDefinition?(server: McpStdioServerDefinitionLike, token: vscode.CancellationToken): vscode.ProviderResult<McpStdioServerDefinitionLike>;
}
interface LmWithMcp {
  registerMcpServerDefinitionProvider?(id: string, provider: McpServerDefinitionProviderLike): vscode.Disposable;
}

/** The MCP API of this VS Code, or undefined when it has none. */
function mcpApi(): { register: NonNullable<LmWithMcp['registerMcpServerDefinitionProvider']>; Definition: McpStdioServerDefinitionCtor } | undefined {
  const lm = (vscode as unknown as { lm?: LmWithMcp }).lm;
  const Definition = (vscode as unknown as { McpStdioServerDefinition?: McpStdioServerDefinitionCtor }).McpStdioServerDefinition;
  if (!lm || typeof lm.registerMcpServerDefinitionProvider !== 'function' || typeof Definition !== 'function') return undefined;
  return { register: lm.registerMcpServerDefinitionProvider.bind(lm), Definition };
}

/**
 * Contributes Syncord's MCP server (`syncord mcp`) to VS Code, so its own agents (agent mode, the Agents view) work
 * from the same task queue and message log as the instance the user picks: the setting `syncord.mcp.instance`,
 * else a quick pick of the registered instances when VS Code starts the server. Only in a trusted workspace (the
 * server is a program run on the workspace's files, as every command Syncord runs); offered once trust is given.
 */
export function registerMcpServerProvider(services: Services): void {
  const api = mcpApi();
  if (!api) {
    services.log.info('this VS Code has no MCP server definition API (VS Code 1.101 or later has it); Syncord MCP tools are not offered to its agents');
    return;
  }
  const changed = new vscode.EventEmitter<void>();
  const version = String(services.context.extension.packageJSON.version ?? '');
  const provider: McpServerDefinitionProviderLike = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => {
      const paths = services.paths();
      if (!vscode.workspace.isTrusted || !paths) return [];
      const launch = mcpServerLaunch(extensionCli(services.context), paths);
      return [new api.Definition('Syncord', launch.command, launch.args, launch.env, version)];
    },
    resolveMcpServerDefinition: async (server) => {
      const paths = services.paths();
      if (!vscode.workspace.isTrusted || !paths) return undefined;
      const instance = readMcpInstance(vscode.workspace.workspaceFolders?.[0]) ?? (await pickInstance(services, paths.coordinationDir));
      if (!instance) return undefined;
      const launch = mcpServerLaunch(extensionCli(services.context), paths, instance);
      server.command = launch.command;
      server.args = launch.args;
      server.env = { ...server.env, ...launch.env };
      return server;
    },
  };
  let registration: vscode.Disposable;
  try {
    registration = api.register(MCP_PROVIDER_ID, provider);
  } catch (e) {
    // A VS Code whose MCP API wants another contribution (1.100 names it modelContextServerCollections and
    // may still refuse): Syncord works without it; the rest of the extension must not fail to activate.
    services.log.warn(`MCP: VS Code refused the Syncord server definition: ${(e as Error).message}`);
    changed.dispose();
    return;
  }
  services.context.subscriptions.push(
    changed,
    registration,
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SettingKey.mcpInstance) || e.affectsConfiguration(SettingKey.coordinationDir)) changed.fire();
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => changed.fire()),
  );
}

/** Asks which registered instance VS Code's agents act as; undefined when the user cancels. */
async function pickInstance(services: Services, coordinationDir: string): Promise<string | undefined> {
  let ids: { label: string; description: string }[];
  try {
    const { registry } = await new CoordinationStore(coordinationDir, { logger: services.logger }).read('registry');
    ids = instanceEntries(registry).map((i) => ({ label: i.id, description: `${i.role} · ${i.status}` }));
  } catch (e) {
    void vscode.window.showErrorMessage(`Syncord MCP server: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  if (!ids.length) {
    void vscode.window.showWarningMessage('Syncord MCP server: no instance is registered yet; check one in first (Syncord: Check In), or set syncord.mcp.instance.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(ids, {
    title: 'Syncord MCP server: act as which instance?',
    placeHolder: 'The instance VS Code agents check in, claim tasks and send messages as (set syncord.mcp.instance to stop asking)',
    ignoreFocusOut: true,
  });
  return picked?.label;
}
