/**
 * What a command was invoked with, turned into typed values. A command runs from the command palette (no
 * argument), from a tree row's context menu or inline action (the row's node), or from another command, a
 * script or a `command:` link (a plain id string, or an object of named arguments such as `{ taskId, as }`).
 * One function per kind of value reads all three shapes; it returns `undefined` when the argument does not say,
 * and the handler then asks. Plain data in, plain data out: no `vscode`, so the unit tests call these directly.
 */

type Fields = Record<string, unknown>;

/** A row of one of the Syncord trees: every node has a string `id` and the `contextValue` the menus match. */
export function isTreeNode(a: unknown): a is Fields & { id: string; contextValue: string } {
  return typeof a === 'object' && a !== null && typeof (a as Fields).id === 'string' && typeof (a as Fields).contextValue === 'string';
}

/** A `vscode.Uri` (an explorer or editor menu passes one): never an object of named arguments. */
function isUriLike(a: Fields): boolean {
  return typeof a.scheme === 'string' && typeof a.authority === 'string' && typeof a.path === 'string';
}

/** An object of named arguments (not a node, an array or a URI), else an empty one. */
export function namedArgs<T extends object = Fields>(a: unknown): Partial<T> {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || isTreeNode(a) || isUriLike(a as Fields)) return {};
  return a as Partial<T>;
}

function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t ? t : undefined;
}

function field(a: unknown, key: string): unknown {
  return typeof a === 'object' && a !== null ? (a as Fields)[key] : undefined;
}

/**
 * Reads one kind of id: a plain string is the id itself; a tree node gives the id it carries (`fromNode`);
 * named arguments give the field `named`.
 */
function idArg(a: unknown, named: string, fromNode: (node: Fields) => unknown): string | undefined {
  if (typeof a === 'string') return text(a);
  if (isTreeNode(a)) return text(fromNode(a));
  return text(namedArgs(a)[named]);
}

/** An instance id: an instance row of the Coordination view, a session row (its instance), or `{ instance }`. */
export function instanceIdArg(a: unknown): string | undefined {
  // A task row also names an instance (its assignee): that is not the instance the row stands for.
  return idArg(a, 'instance', (n) => (n.kind === 'instance' ? n.instanceId : field(n.session, 'instance')));
}

/** A task id: a task or dependency row, or `{ taskId }`. */
export function taskIdArg(a: unknown): string | undefined {
  return idArg(a, 'taskId', (n) => n.taskId);
}

/** A decision id: a decision row or one of its option or detail rows, or `{ decisionId }`. */
export function decisionIdArg(a: unknown): string | undefined {
  return idArg(a, 'decisionId', (n) => n.decisionId);
}

/** A message id: a hand-over row of the Sessions view (its message), or `{ messageId }`. */
export function messageIdArg(a: unknown): string | undefined {
  return idArg(a, 'messageId', (n) => field(n.delivery, 'messageId'));
}

/** A target name: any row of a target in the Targets view, or `{ target }`. */
export function targetNameArg(a: unknown): string | undefined {
  return idArg(a, 'target', (n) => n.target);
}

/** A session: a session row (its session id), or `{ session }` (a session id, its first 8 characters, or an instance id). */
export function sessionIdArg(a: unknown): string | undefined {
  return idArg(a, 'session', (n) => field(n.session, 'session_id'));
}

/** A backup id: a backup row of the Targets view, or `{ backupId }`. */
export function backupIdArg(a: unknown): string | undefined {
  return idArg(a, 'backupId', (n) => n.backupId);
}

/** A component of the sync rules: a component or config row of the Targets view, or `{ component }`. */
export function componentArg(a: unknown): string | undefined {
  return idArg(a, 'component', (n) => n.component);
}

/** A file in a target: a pending-file or conflict row of the Targets view (its `targetPath`), or `{ file }`. */
export function conflictFileArg(a: unknown): string | undefined {
  return idArg(a, 'file', (n) => n.targetPath);
}

/** A decision's option: an option row, or `{ option }`. A plain string is not an option. */
export function optionArg(a: unknown): string | undefined {
  return typeof a === 'string' ? undefined : idArg(a, 'option', (n) => n.option);
}

/** A file position to open: a row's `location` (1-based line and column), or `{ location }`. */
export function locationArg(a: unknown): { file: string; line?: number; column?: number } | undefined {
  const loc = field(a, 'location');
  const file = field(loc, 'file');
  if (typeof file !== 'string' || !file) return undefined;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { file, line: num(field(loc, 'line')), column: num(field(loc, 'column')) };
}

/** The tree node itself, for commands that act on the row as a whole (reveal it in its file). */
export function treeNodeArg<N>(a: unknown): N | undefined {
  return isTreeNode(a) ? (a as N) : undefined;
}

/** What a plain string argument names, for a command that takes several kinds of id. */
export type BareId = 'task' | 'decision' | 'message' | 'instance' | 'session' | 'none';

/** The argument with a plain string dropped, when the string names another kind of id. */
function unless(kind: BareId, bare: BareId, a: unknown): unknown {
  return typeof a === 'string' && kind !== bare ? undefined : a;
}

// ── Coordination ────────────────────────────────────────────────────────────────────────────────────────────

/** Named arguments the coordination commands accept; tests and other extensions pass them so no prompt opens. */
export interface CoordinationNamedArgs {
  /** Act as this instance instead of `syncord.instanceId`. */
  as?: string;
  taskId?: string;
  decisionId?: string;
  messageId?: string;
  to?: string;
  role?: string;
  task?: string | null;
  title?: string;
  description?: string;
  priority?: string;
  due?: string;
  dependencies?: string[];
  expertise?: string[];
  suggestedAssignee?: string;
  reason?: string;
  options?: string[];
  inputFrom?: string[];
  deadline?: string;
  option?: string;
  comment?: string;
  rationale?: string;
  subject?: string;
  body?: string;
  type?: string;
  requiresResponse?: boolean;
  relatedTask?: string;
}

export interface CoordinationArgs extends CoordinationNamedArgs {
  /** Invoked with named arguments: what they leave out that is optional is not asked for. */
  scripted: boolean;
  /** Invoked on a tree row. */
  fromRow: boolean;
}

/**
 * The arguments of a coordination command. The ids come from the row, the named arguments, or a plain string
 * naming `bare`; `to` is the instance row's instance (or the named `to`); everything else is named only.
 */
export function coordinationArgs(bare: BareId): (a: unknown) => CoordinationArgs {
  return (a) => {
    const named = namedArgs<CoordinationNamedArgs>(a);
    const scripted = typeof a === 'object' && a !== null && !isTreeNode(a) && named === a;
    return {
      ...named,
      scripted,
      fromRow: isTreeNode(a),
      taskId: taskIdArg(unless('task', bare, a)),
      decisionId: decisionIdArg(unless('decision', bare, a)),
      messageId: messageIdArg(unless('message', bare, a)),
      option: optionArg(a),
      to: scripted ? named.to : instanceIdArg(unless('instance', bare, a)),
    };
  };
}

// ── Targets ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Named arguments the target commands accept besides a row or a target name; anything left out is asked for. */
export interface TargetArgs {
  target?: string;
  component?: string;
  backupId?: string;
  /** false: no confirmation dialog (the caller has decided). */
  confirm?: boolean;
  /** Sync: open the diff editor for config changes before confirming (default true when confirming). */
  showDiff?: boolean;
  /** Sync: when it fails or is cancelled, restore its backup without asking (true) or keep the target as is (false). */
  restoreOnFailure?: boolean;
  /** Resolve Sync Conflicts: one conflicting file (its path in the target), from a conflict row or named. */
  file?: string;
  /** Resolve Sync Conflicts: settle each conflict this way instead of asking (scripts and tests). */
  choice?: 'merge' | 'take-source' | 'keep-target';
  /** Add Target. */
  path?: string;
  name?: string;
  type?: string;
}

/**
 * The arguments of a target command: `(row | target name | named arguments, named arguments?)`. A plain string
 * is a target name; the second argument's names win.
 */
export function targetArgs(a: unknown, b?: unknown): TargetArgs {
  const first: TargetArgs = { ...namedArgs<TargetArgs>(a) };
  const target = targetNameArg(a);
  const component = typeof a === 'string' ? undefined : componentArg(a);
  const backupId = typeof a === 'string' ? undefined : backupIdArg(a);
  if (target !== undefined) first.target = target;
  if (component !== undefined) first.component = component;
  if (backupId !== undefined) first.backupId = backupId;
  const file = typeof a === 'string' ? undefined : conflictFileArg(a);
  if (file !== undefined) first.file = file;
  return { ...first, ...namedArgs<TargetArgs>(b) };
}

// ── Sessions ────────────────────────────────────────────────────────────────────────────────────────────────

/** Named arguments the session commands accept besides a row; anything left out is asked for. */
export interface SessionNamedArgs {
  /** A session id (or its first 8 characters) or an instance id. */
  session?: string;
  instance?: string;
  role?: string;
  runtime?: string;
  worktree?: boolean;
  /** Spawn on this remote of the setting syncord.sessions.remotes instead of a terminal of this window. */
  remote?: string;
  prompt?: string;
  taskId?: string;
  messageId?: string;
  subject?: string;
  body?: string;
  /** Send as this instance instead of `syncord.instanceId`. */
  as?: string;
  /** Stop without the confirmation dialog. */
  confirmed?: boolean;
}

/**
 * The arguments of a session command: the session, instance, task and message from the row (a session row, a
 * hand-over row, a task row of the Coordination view), the named arguments, or a plain string naming `bare`.
 */
export function sessionArgs(bare: BareId): (a: unknown) => SessionNamedArgs {
  return (a) => ({
    ...namedArgs<SessionNamedArgs>(a),
    session: sessionIdArg(unless('session', bare, a)),
    instance: instanceIdArg(unless('instance', bare, a)),
    taskId: taskIdArg(unless('task', bare, a)),
    messageId: messageIdArg(unless('message', bare, a)),
  });
}

/** For commands that take no argument. */
export function noArgs(): undefined {
  return undefined;
}
