import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as z from 'zod';
import { isInside } from './containment';
import { SyncordError } from './errors';
import { ChangedOnDiskError, identityOf, writeFileAtomic } from './store/atomic';
import { locatePath, parseJsonc, stripBom, validateValue } from './store/jsonText';
import { rulesFile as rulesFileOf } from './targets/rules';
import { WorkspacePaths } from './workspace';

/**
 * Workspace trust for the command line. A workspace can define commands that Syncord runs: agent runtimes in
 * `.vscode/settings.json` (`syncord.sessions.runtimes`) and verify commands in the sync rules
 * (`sync-rules.jsonc`). Anyone who can write the workspace — an agent included — can change them, so from the
 * CLI they run only once the user has reviewed and trusted them with `syncord trust` (as `direnv allow` and
 * `mise trust` do). What was trusted is recorded per user, outside the workspace
 * (`$XDG_CONFIG_HOME/syncord/trusted.json`), as one hash per definition; a definition that is new or changed
 * since is refused (error code `untrusted`) until the user trusts again. Built-in runtimes and checks that run
 * no command need no trust. In VS Code the editor's own workspace trust decides instead.
 */

export type DefinitionKind = 'runtime' | 'verify' | 'remote';

/** One command a workspace defines, as the user reviews it. */
export interface CommandDefinition {
  kind: DefinitionKind;
  name: string;
  /** The file that defines it. */
  file: string;
  line?: number;
  column?: number;
  /** Exactly what runs: a runtime's forms, or a verify command's shell line. */
  runs: Record<string, unknown>;
}

export type TrustState = 'trusted' | 'new' | 'changed';

export interface DefinitionStatus extends CommandDefinition {
  state: TrustState;
}

const HASH = /^[0-9a-f]{64}$/;

const TrustFileSchema = z.looseObject({
  version: z.literal(1).optional(),
  workspaces: z.record(
    z.string(),
    z.looseObject({
      trusted: z.string(),
      definitions: z.record(z.string(), z.string().regex(HASH, { message: 'must be a sha256 hash' })),
    }),
  ),
});
type TrustFile = z.infer<typeof TrustFileSchema>;

export function runtimeDefinition(file: string, name: string, spec: { command: string[]; headless?: string[]; send?: string[] }): CommandDefinition {
  return { kind: 'runtime', name, file, runs: { command: spec.command, headless: spec.headless ?? null, send: spec.send ?? null } };
}

/**
 * A remote (`syncord.sessions.remotes`): where Syncord sends prompts and the password its variable holds; for an
 * ssh remote, the machine, folder, key and `syncord` command it runs there.
 */
export function remoteDefinition(file: string, name: string, spec: { kind?: unknown } & Record<string, unknown>): CommandDefinition {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const runs: Record<string, unknown> =
    spec.kind === 'ssh'
      ? {
          kind: 'ssh',
          target: str(spec.target),
          folder: str(spec.folder),
          port: typeof spec.port === 'number' ? spec.port : null,
          identityFile: str(spec.identityFile),
          knownHostsFile: str(spec.knownHostsFile),
          syncord: str(spec.syncord),
        }
      : { kind: str(spec.kind) ?? '', endpoint: str(spec.endpoint), passwordEnv: str(spec.passwordEnv), username: str(spec.username) };
  return { kind: 'remote', name, file, runs };
}

export function verifyDefinition(file: string, name: string, command: string): CommandDefinition {
  return { kind: 'verify', name, file, runs: { command } };
}

export function definitionKey(d: Pick<CommandDefinition, 'kind' | 'name'>): string {
  return `${d.kind}:${d.name}`;
}

/** The hash of what a definition runs (its kind and name included; not its file or position). */
export function definitionHash(d: CommandDefinition): string {
  const keys = Object.keys(d.runs).sort();
  const canonical = JSON.stringify([d.kind, d.name, keys.map((k) => [k, d.runs[k]])]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Where the user's trust record is: `$XDG_CONFIG_HOME/syncord/trusted.json` (default `~/.config`; `%APPDATA%` on Windows). */
export function trustFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base =
    xdg && path.isAbsolute(xdg)
      ? xdg
      : process.platform === 'win32'
        ? env.APPDATA || path.join(os.homedir(), 'AppData', 'Roaming')
        : path.join(os.homedir(), '.config');
  return path.join(base, 'syncord', 'trusted.json');
}

/** The workspace as the trust record names it: its real path. */
export function workspaceKey(root: string): string {
  try {
    return fs.realpathSync(root);
  } catch {
    return path.resolve(root);
  }
}

/** A trust record the workspace itself could write is no trust at all. */
function assertOutside(file: string, root: string): void {
  const real = (p: string): string => {
    // The nearest existing ancestor's real path, so a link to the workspace is seen through.
    let cur = path.resolve(p);
    const rest: string[] = [];
    for (;;) {
      try {
        return path.join(fs.realpathSync(cur), ...rest.reverse());
      } catch {
        const up = path.dirname(cur);
        if (up === cur) return path.resolve(p);
        rest.push(path.basename(cur));
        cur = up;
      }
    }
  };
  if (isInside(workspaceKey(root), real(file))) {
    throw new SyncordError(
      `the trust record ${file} is inside the workspace ${root}, where agents could write it; point XDG_CONFIG_HOME to a folder outside the workspace`,
      'usage',
      { file },
    );
  }
}

function readTrustFile(file: string): { value: TrustFile; text?: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { value: { version: 1, workspaces: {} } };
    throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
  }
  const clean = stripBom(text);
  if (!clean.trim()) return { value: { version: 1, workspaces: {} }, text };
  return { value: validateValue(file, clean, parseJsonc(file, clean), TrustFileSchema), text };
}

/** Changes the trust record: read, change, atomic write that refuses to overwrite a concurrent change (then retried). */
function updateTrustFile<R>(file: string, change: (v: TrustFile) => R): R {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    const before = identityOf(file) ?? null;
    const { value } = readTrustFile(file);
    const result = change(value);
    try {
      writeFileAtomic(file, JSON.stringify({ ...value, version: 1 }, null, 2) + '\n', { expect: before, mode: before ? before.mode : 0o600 });
      return result;
    } catch (e) {
      if (!(e instanceof ChangedOnDiskError) || attempt >= 5) throw e;
    }
  }
}

/**
 * The commands this workspace defines: the runtimes of `.vscode/settings.json` and the verify commands of the
 * rules file, each with its file, line and column. Reading errors (a broken file) are thrown with file:line:col.
 */
export function workspaceDefinitions(paths: WorkspacePaths): CommandDefinition[] {
  const rulesFile = rulesFileOf(paths);
  const out: CommandDefinition[] = [];
  const read = (file: string): string | undefined => {
    try {
      return stripBom(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SyncordError(`could not read ${file}: ${(e as Error).message}`, 'io', { file });
    }
  };
  const settings = path.join(paths.root, '.vscode', 'settings.json');
  const st = read(settings);
  if (st?.trim()) {
    const value = parseJsonc(settings, st) as Record<string, unknown> | null;
    const runtimes = value && typeof value === 'object' ? (value['syncord.sessions.runtimes'] as Record<string, unknown> | undefined) : undefined;
    if (runtimes && typeof runtimes === 'object') {
      for (const [name, spec] of Object.entries(runtimes)) {
        const s = (spec ?? {}) as { command?: string[]; headless?: string[]; send?: string[] };
        const d = runtimeDefinition(settings, name, { command: s.command ?? [], headless: s.headless, send: s.send });
        out.push({ ...d, ...locatePath(settings, st, ['syncord.sessions.runtimes', name]) });
      }
    }
    const remotes = value && typeof value === 'object' ? (value['syncord.sessions.remotes'] as Record<string, unknown> | undefined) : undefined;
    if (remotes && typeof remotes === 'object') {
      for (const [name, spec] of Object.entries(remotes)) {
        const d = remoteDefinition(settings, name, spec && typeof spec === 'object' ? (spec as Record<string, unknown>) : {});
        out.push({ ...d, ...locatePath(settings, st, ['syncord.sessions.remotes', name]) });
      }
    }
  }
  const rt = read(rulesFile);
  if (rt?.trim()) {
    const value = parseJsonc(rulesFile, rt) as { verify?: { commands?: { name?: string; command?: string }[] } } | null;
    const cmds = value?.verify?.commands;
    if (Array.isArray(cmds)) {
      cmds.forEach((c, i) => {
        if (!c || typeof c.name !== 'string' || typeof c.command !== 'string') return;
        out.push({ ...verifyDefinition(rulesFile, c.name, c.command), ...locatePath(rulesFile, rt, ['verify', 'commands', i]) });
      });
    }
  }
  return out;
}

/** Each definition with whether the user trusted it as it is now. */
export function trustStatus(paths: WorkspacePaths, defs: CommandDefinition[], env: NodeJS.ProcessEnv = process.env): { file: string; root: string; definitions: DefinitionStatus[] } {
  const file = trustFile(env);
  const root = workspaceKey(paths.root);
  const entry = readTrustFile(file).value.workspaces[root];
  const known = entry?.definitions ?? {};
  return {
    file,
    root,
    definitions: defs.map((d) => {
      const h = Object.prototype.hasOwnProperty.call(known, definitionKey(d)) ? known[definitionKey(d)] : undefined;
      return { ...d, state: h === undefined ? 'new' : h === definitionHash(d) ? 'trusted' : 'changed' };
    }),
  };
}

/** Records the workspace's definitions as they are now as trusted by this user (replacing what was trusted before). */
export function trustWorkspace(paths: WorkspacePaths, defs: CommandDefinition[], now: Date, env: NodeJS.ProcessEnv = process.env): { file: string; root: string } {
  const file = trustFile(env);
  assertOutside(file, paths.root);
  const root = workspaceKey(paths.root);
  updateTrustFile(file, (v) => {
    v.workspaces[root] = { trusted: now.toISOString(), definitions: Object.fromEntries(defs.map((d) => [definitionKey(d), definitionHash(d)])) };
  });
  return { file, root };
}

/** Forgets the workspace's trust; returns whether there was any. */
export function untrustWorkspace(paths: WorkspacePaths, env: NodeJS.ProcessEnv = process.env): { file: string; root: string; removed: boolean } {
  const file = trustFile(env);
  const root = workspaceKey(paths.root);
  if (!fs.existsSync(file)) return { file, root, removed: false };
  const removed = updateTrustFile(file, (v) => {
    const had = Object.prototype.hasOwnProperty.call(v.workspaces, root);
    delete v.workspaces[root];
    return had;
  });
  return { file, root, removed };
}

/**
 * Refuses (code `untrusted`, naming the defining file, line and column) a workspace-defined command the user has
 * not trusted as it is now.
 */
export function requireTrusted(paths: WorkspacePaths, def: CommandDefinition, env: NodeJS.ProcessEnv = process.env): void {
  const file = trustFile(env);
  let state: TrustState = 'new';
  let outside = true;
  try {
    assertOutside(file, paths.root);
  } catch {
    outside = false;
  }
  if (outside) {
    const entry = readTrustFile(file).value.workspaces[workspaceKey(paths.root)];
    const h = entry && Object.prototype.hasOwnProperty.call(entry.definitions, definitionKey(def)) ? entry.definitions[definitionKey(def)] : undefined;
    if (h === definitionHash(def)) return;
    if (h !== undefined) state = 'changed';
  }
  const what =
    def.kind === 'runtime' ? `runtime ${JSON.stringify(def.name)}` : def.kind === 'remote' ? `remote ${JSON.stringify(def.name)}` : `verify command ${JSON.stringify(def.name)}`;
  const does = def.kind === 'remote' ? (def.runs.kind === 'ssh' ? 'would run Syncord and an agent over ssh and be sent prompts' : 'would be sent prompts and a password') : 'would run a command';
  const why = !outside
    ? `the trust record ${file} is inside the workspace, so it cannot be relied on`
    : state === 'changed'
      ? 'it changed since you trusted this workspace'
      : 'you have not trusted this workspace\'s commands yet';
  let loc = { file: def.file, line: def.line, column: def.column };
  if (loc.line === undefined) {
    const found = safeDefinitions(paths).find((d) => definitionKey(d) === definitionKey(def) && d.file === def.file);
    if (found) loc = { file: found.file, line: found.line, column: found.column };
  }
  throw new SyncordError(
    `${what} is defined by this workspace and ${does}; ${why}. Review what it runs with \`syncord trust --show\`, then run \`syncord trust\``,
    'untrusted',
    loc,
  );
}

function safeDefinitions(paths: WorkspacePaths): CommandDefinition[] {
  try {
    return workspaceDefinitions(paths);
  } catch {
    return [];
  }
}
