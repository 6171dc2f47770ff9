import * as z from 'zod';
import { SyncordError } from '../errors';
import { AGENT_SESSION_ID, hasCredentials, isSafeId, SessionRecord } from './schema';
import { SshRemote, SshRemoteSchema } from './ssh';

/**
 * Remotes (setting `syncord.sessions.remotes`): places other than this machine's processes where an instance's
 * agent can run: `opencode-serve`, an `opencode serve` HTTP server on which each instance gets its own opencode
 * session, fed by a local supervisor over HTTP; `ssh`, another machine where the session's supervisor runs,
 * reached with ssh (ssh.ts, sshSession.ts). See docs/remote-sessions.md.
 */

export const REMOTE_KINDS = ['opencode-serve', 'ssh'] as const;
export type RemoteKind = (typeof REMOTE_KINDS)[number];

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** An http(s) address with no user name, password, query or fragment. */
export function isServerUrl(s: string): boolean {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return false;
  }
  return /^https?:$/.test(url.protocol) && !url.username && !url.password && !url.search && !url.hash && !hasCredentials(s);
}

export const OpencodeServeRemoteSchema = z.strictObject({
  kind: z.literal('opencode-serve'),
  endpoint: z.string().refine(isServerUrl, {
    message: 'endpoint: the http:// or https:// address of the opencode server (e.g. http://127.0.0.1:4096), without user name, password, query or fragment',
  }).meta({ description: 'The address of `opencode serve`, e.g. http://127.0.0.1:4096 (its default port).' }),
  passwordEnv: z
    .string()
    .regex(ENV_NAME, { message: 'passwordEnv: the name of an environment variable (letters, digits and _), never the password itself' })
    .optional()
    .meta({ description: "The environment variable holding the server's password (opencode's OPENCODE_SERVER_PASSWORD); unset: the server asks for none." }),
  username: z
    .string()
    .regex(/^[^:\s]{1,200}$/, { message: 'username: one word without ":"' })
    .optional()
    .meta({ description: "The server's user name for basic auth (default opencode, as OPENCODE_SERVER_USERNAME)." }),
  heartbeatInterval: z
    .number()
    .int()
    .min(5)
    .max(3600)
    .optional()
    .meta({ description: "Seconds between Syncord's checks of the served session (its heartbeat); default 60." }),
});

/** One remote of the setting: its kind decides the rest. */
export const RemoteSettingSchema = z
  .looseObject({
    kind: z.enum(REMOTE_KINDS, { error: () => `kind: must be one of ${REMOTE_KINDS.join(', ')}` }),
  })
  .pipe(z.discriminatedUnion('kind', [OpencodeServeRemoteSchema, SshRemoteSchema]));

export const RemotesSettingSchema = z.record(z.string(), RemoteSettingSchema).superRefine((remotes, ctx) => {
  for (const name of Object.keys(remotes)) {
    if (!isSafeId(name)) ctx.addIssue({ code: 'custom', path: [name], message: "remote name: use letters, digits, '.', '_' and '-' only" });
  }
});

export type ServedRemote = z.infer<typeof OpencodeServeRemoteSchema>;
export type RemoteSetting = ServedRemote | SshRemote;
export type RemoteSpec = RemoteSetting & { name: string };
export type ServedRemoteSpec = ServedRemote & { name: string };

/** The remote as an opencode server, or a usage error naming what it is instead. */
export function servedRemote(remote: RemoteSpec): ServedRemoteSpec {
  if (remote.kind !== 'opencode-serve') throw new SyncordError(`remote ${remote.name} is of kind ${remote.kind}, not an opencode server`, 'usage');
  return remote;
}

/** A remote's definition as a starting caller hands it to the supervisor (SYNCORD_SESSION_REMOTE). */
export const HandedRemoteSchema = OpencodeServeRemoteSchema.extend({ name: z.string().refine(isSafeId, { message: 'remote name' }) });

/** The endpoint as Syncord uses it: without a trailing '/'. */
export function serverBase(endpoint: string): string {
  return endpoint.replace(/\/+$/, '');
}

/**
 * How a served session's prompts name its instance and session: one opencode server has one environment for
 * all its sessions, so SYNCORD_INSTANCE and SYNCORD_SESSION cannot tell them apart; every `syncord` command in
 * a prompt to it carries `--as <instance> --session <session>` instead. Prompts to other sessions (local, or over
 * ssh) are left as they are; a prompt written for another session is rewritten for this one.
 */
export function promptForSession(prompt: string, s: Pick<SessionRecord, 'mode' | 'instance' | 'session_id'> & Partial<Pick<SessionRecord, 'endpoint'>>): string {
  const plain = prompt.replace(/`syncord --as \S+ --session \S+ /g, '`syncord ');
  // A session over ssh (its endpoint the ssh target) has an environment of its own, as local sessions do.
  if (s.mode !== 'remote' || (s.endpoint && !/^https?:\/\//.test(s.endpoint))) return plain;
  return plain.replace(/`syncord /g, `\`${servedSyncord(s)} `);
}

/** `syncord --as <instance> --session <session>`: how an agent of a served session runs Syncord. */
export function servedSyncord(s: Pick<SessionRecord, 'instance' | 'session_id'>): string {
  return `syncord --as ${s.instance} --session ${s.session_id}`;
}

/** A call to the server that failed: `status` is the HTTP status when the server answered. */
export class ServerCallError extends SyncordError {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message, status === undefined || status >= 500 ? 'io' : status === 404 ? 'not-found' : 'conflict');
  }
  /** Whether trying again later may work: the server was not reached, or failed on its side. */
  get transient(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

/** What the server's event stream says, of the events Syncord reads. */
export interface ServerEvent {
  type: string;
  sessionID?: string;
  /** session.status: busy, idle, retry. */
  status?: string;
  /** session.error: the error's message. */
  error?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * An `opencode serve` server over its HTTP API: sessions (`POST /session`, `DELETE /session/:id`), prompts
 * (`POST /session/:id/prompt_async`, answered 204 at once), `POST /session/:id/abort`, the busy sessions
 * (`GET /session/status`) and the event stream (`GET /event`, server-sent events). With a password (from the
 * environment variable the remote names) every call carries HTTP basic auth, as opencode asks when its
 * OPENCODE_SERVER_PASSWORD is set.
 */
export class OpencodeServer {
  readonly base: string;
  private readonly auth?: string;

  constructor(
    readonly remote: ServedRemoteSpec,
    env: NodeJS.ProcessEnv,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = serverBase(remote.endpoint);
    if (remote.passwordEnv) {
      const password = env[remote.passwordEnv];
      if (!password) {
        throw new SyncordError(
          `remote ${remote.name}: the environment variable ${remote.passwordEnv} (its passwordEnv) is not set; set it to the password of the opencode server at ${this.base}`,
          'usage',
        );
      }
      this.auth = `Basic ${Buffer.from(`${remote.username ?? 'opencode'}:${password}`).toString('base64')}`;
    }
  }

  /** The address of one of its sessions, as recorded in `endpoint` (never with credentials). */
  sessionUrl(id: string): string {
    return `${this.base}/session/${encodeURIComponent(id)}`;
  }

  private headers(json: boolean): Record<string, string> {
    return { accept: 'application/json', ...(json ? { 'content-type': 'application/json' } : {}), ...(this.auth ? { authorization: this.auth } : {}) };
  }

  private where(): string {
    return `the opencode server ${this.base} (remote ${this.remote.name})`;
  }

  /** One call; its JSON answer (undefined for an empty one). Throws ServerCallError. */
  async call(method: string, route: string, body?: unknown, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}${route}`, {
        method,
        headers: this.headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ServerCallError(`could not reach ${this.where()}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const why =
        res.status === 401
          ? this.auth
            ? `it refused the password in ${this.remote.passwordEnv}`
            : 'it asks for a password: name the variable holding it in the remote\'s passwordEnv'
          : errorText(text) || res.statusText;
      throw new ServerCallError(`${this.where()} answered ${method} ${route} with ${res.status}: ${why}`, res.status);
    }
    if (!text.trim()) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      throw new ServerCallError(`${this.where()} answered ${method} ${route} with something that is not JSON`, res.status);
    }
  }

  /** Creates a session; returns its id (`ses_…`). */
  async createSession(title: string): Promise<string> {
    const r = (await this.call('POST', '/session', { title })) as { id?: unknown } | undefined;
    const id = r?.id;
    if (typeof id !== 'string' || !AGENT_SESSION_ID.test(id)) throw new ServerCallError(`${this.where()} created a session without a usable id`);
    return id;
  }

  /** Hands a prompt to a session; resolves once the server accepted it (it works on it afterwards). */
  async prompt(id: string, text: string): Promise<void> {
    await this.call('POST', `/session/${encodeURIComponent(id)}/prompt_async`, { parts: [{ type: 'text', text }] });
  }

  /** Whether the session exists on the server. */
  async exists(id: string): Promise<boolean> {
    try {
      await this.call('GET', `/session/${encodeURIComponent(id)}`);
      return true;
    } catch (e) {
      if (e instanceof ServerCallError && e.status === 404) return false;
      throw e;
    }
  }

  /** Whether the session is working on a prompt now (the server lists only sessions that are not idle). */
  async isBusy(id: string): Promise<boolean> {
    const r = (await this.call('GET', '/session/status')) as Record<string, { type?: unknown }> | undefined;
    const s = r && Object.prototype.hasOwnProperty.call(r, id) ? r[id] : undefined;
    return Boolean(s && s.type !== 'idle');
  }

  async abort(id: string): Promise<void> {
    await this.call('POST', `/session/${encodeURIComponent(id)}/abort`);
  }

  async remove(id: string): Promise<void> {
    await this.call('DELETE', `/session/${encodeURIComponent(id)}`);
  }

  /**
   * The event stream until `signal` aborts or the server ends it: yields the events Syncord reads. Throws
   * ServerCallError when it cannot be opened or breaks.
   */
  async *events(signal: AbortSignal): AsyncGenerator<ServerEvent> {
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}/event`, { headers: { ...this.headers(false), accept: 'text/event-stream' }, signal });
    } catch (e) {
      if (signal.aborted) return;
      throw new ServerCallError(`could not open the event stream of ${this.where()}: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
    }
    if (!res.ok || !res.body) {
      throw new ServerCallError(`${this.where()} answered GET /event with ${res.status}${res.status === 401 ? ' (a password is missing or wrong)' : ''}`, res.status);
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        for (;;) {
          const end = buffer.search(/\r?\n\r?\n/);
          if (end < 0) break;
          const block = buffer.slice(0, end);
          buffer = buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)![0].length + end);
          const data = block
            .split(/\r?\n/)
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).replace(/^ /, ''))
            .join('\n');
          const event = data ? parseEvent(data) : undefined;
          if (event) yield event;
        }
        // A stream that never ends a block is not followed into unbounded memory.
        if (buffer.length > MAX_EVENT_CHARS) buffer = '';
      }
    } catch (e) {
      if (signal.aborted) return;
      throw new ServerCallError(`the event stream of ${this.where()} broke: ${(e as Error).message}`);
    }
  }
}

/** The largest event read (opencode's carry whole message parts; Syncord needs only the small ones). */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

function parseEvent(data: string): ServerEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const e = v as { type?: unknown; properties?: { sessionID?: unknown; status?: { type?: unknown }; error?: unknown } };
  if (typeof e.type !== 'string') return undefined;
  const p = e.properties ?? {};
  const out: ServerEvent = { type: e.type };
  if (typeof p.sessionID === 'string') out.sessionID = p.sessionID;
  if (typeof p.status?.type === 'string') out.status = p.status.type;
  if (p.error !== undefined) out.error = errorOf(p.error);
  return out;
}

/** The words of an error opencode sends: `{name, data: {message}}`, or a plain message. */
function errorOf(e: unknown): string {
  if (typeof e === 'string') return e.slice(0, 500);
  const o = e as { name?: unknown; message?: unknown; data?: { message?: unknown } } | null;
  const msg = o?.data?.message ?? o?.message;
  const name = typeof o?.name === 'string' ? o.name : 'error';
  return (typeof msg === 'string' ? `${name}: ${msg}` : name).slice(0, 500);
}

function errorText(body: string): string {
  try {
    return errorOf(JSON.parse(body));
  } catch {
    return body.trim().slice(0, 300);
  }
}

/** The remote of this name in the settings, or an error naming those there are. */
export function remoteSpec(remotes: Record<string, RemoteSetting>, name: string, source?: string): RemoteSpec {
  if (!Object.prototype.hasOwnProperty.call(remotes, name)) {
    const known = Object.keys(remotes);
    throw new SyncordError(
      `unknown remote ${JSON.stringify(name)} (${known.length ? `known: ${known.join(', ')}` : 'none is defined'}); define it in the setting syncord.sessions.remotes`,
      'usage',
      source ? { file: source } : undefined,
    );
  }
  return { ...remotes[name], name };
}
