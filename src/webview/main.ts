/**
 * The Message Log webview (browser side). It renders the pages of threads the extension posts, keeps its
 * filters and draft in the webview state, and sends every action to the extension, which writes through the
 * core. Every string that comes from the files is set with textContent: nothing from the log is parsed as HTML.
 */
import type { ComposeRequest, ExtensionToWebview, LogContext, LogFilter, MessageView, StatusFilter, ThreadPage, ThreadView, WebviewToExtension } from '../shared/protocol';
import { DEFAULT_FILTER } from '../shared/protocol';
import { AGE_TICK_MS, countText, messageAge, repliesText, requiresResponseByDefault, waitingBadge } from '../views/messageLogText';

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** What the compose form holds: the request it will send, while it is being written. */
interface Draft extends Omit<ComposeRequest, 'relatedTask'> {
  /** Set when the draft is a reply. */
  replyTo?: { id: string; from: string; subject: string };
  open: boolean;
}

interface SavedState {
  filter: LogFilter;
  draft?: Draft;
  /** Threads the user opened (their replies show). */
  expanded?: string[];
}

const vscode = acquireVsCodeApi();
const saved = (vscode.getState() as SavedState | undefined) ?? { filter: { ...DEFAULT_FILTER } };
let filter: LogFilter = { ...DEFAULT_FILTER, ...saved.filter };
let draft: Draft = saved.draft ?? { to: '', subject: '', body: '', type: 'consultation_request', priority: 'medium', requiresResponse: true, open: false };
let ctx: LogContext = { instanceId: null, instances: [], problem: null, messageTypes: [], priorities: [] };
let threads: ThreadView[] = [];
let total = 0;
let totalMessages = 0;
let loadingMore = false;
let busy = false;
let nextRequest = 1;
const pending = new Map<number, 'send' | 'reply' | 'ack' | 'close'>();
let firstPage = true;
const expanded = new Set<string>(Array.isArray(saved.expanded) ? saved.expanded.filter((x) => typeof x === 'string') : []);
/** The extension's clock minus ours, from the last page: ages are computed on the extension's clock. */
let clockSkew = 0;

function saveState(): void {
  vscode.setState({ filter, draft, expanded: [...expanded] } satisfies SavedState);
}

function now(): number {
  return Date.now() + clockSkew;
}

function post(m: WebviewToExtension): void {
  vscode.postMessage(m);
}

// ------------------------------------------------------------------------------------------ DOM helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; attrs?: Record<string, string> } = {}, ...children: (Node | null | undefined)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) e.setAttribute(k, v);
  for (const c of children) if (c) e.appendChild(c);
  return e;
}

function icon(name: string): HTMLElement {
  return el('span', { className: `codicon codicon-${name}`, attrs: { 'aria-hidden': 'true' } });
}

function button(label: string, codicon: string, attrs: Record<string, string> = {}, className = 'secondary'): HTMLButtonElement {
  const b = el('button', { className, attrs: { type: 'button', ...attrs } }, icon(codicon), el('span', { text: label }));
  return b;
}

function option(value: string, label: string, selected: boolean): HTMLOptionElement {
  const o = el('option', { text: label, attrs: { value } });
  o.selected = selected;
  return o;
}

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return el('label', { className: 'field' }, el('span', { text }), control);
}

// ------------------------------------------------------------------------------------------ layout

const root = document.getElementById('root') as HTMLElement;
root.textContent = '';
root.setAttribute('aria-busy', 'false');

const fInstance = el('select', { attrs: { id: 'filter-instance', 'aria-label': 'Filter by instance' } });
const fStatus = el('select', { attrs: { id: 'filter-status', 'aria-label': 'Filter by status' } });
for (const [v, l] of [
  ['all', 'All threads'],
  ['waiting', 'Waiting for a response'],
  ['open', 'Open'],
  ['closed', 'Closed or acknowledged'],
] as const) {
  fStatus.appendChild(option(v, l, filter.status === v));
}
const fText = el('input', { attrs: { id: 'filter-text', type: 'search', placeholder: 'Search subject, text, instance', 'aria-label': 'Search messages' } });
fText.value = filter.text;
const count = el('span', { className: 'count', attrs: { id: 'count', 'aria-live': 'polite' } });
const identityText = el('span', { className: 'identity', attrs: { id: 'identity' } });
const identityBtn = button('Set instance', 'account', { id: 'set-identity' });
const newBtn = button('New Message', 'add', { id: 'new-message', title: 'Compose a new message' }, 'primary');
const toolbar = el(
  'div',
  { className: 'toolbar', attrs: { role: 'toolbar', 'aria-label': 'Message Log filters' } },
  labelled('Instance', fInstance),
  labelled('Status', fStatus),
  fText,
  count,
  el('span', { className: 'spacer' }),
  identityText,
  identityBtn,
  newBtn,
);

const banner = el('div', { className: 'banner', attrs: { id: 'banner', role: 'alert' } });
banner.hidden = true;

// Composer
const cReplyTo = el('div', { className: 'reply-to', attrs: { id: 'compose-reply-to' } });
const cTo = el('select', { attrs: { id: 'compose-to' } });
const cType = el('select', { attrs: { id: 'compose-type' } });
const cPriority = el('select', { attrs: { id: 'compose-priority' } });
const cRequires = el('input', { attrs: { id: 'compose-requires', type: 'checkbox' } });
const cSubject = el('input', { attrs: { id: 'compose-subject', type: 'text', placeholder: 'Subject', 'aria-label': 'Subject' } });
const cBody = el('textarea', { attrs: { id: 'compose-body', rows: '4', placeholder: 'Message (Ctrl+Enter sends)', 'aria-label': 'Message' } });
const cSend = el('button', { className: 'primary', attrs: { id: 'compose-send', type: 'submit' } }, icon('send'), el('span', { text: 'Send' }));
const cCancel = button('Cancel', 'close', { id: 'compose-cancel' });
const cError = el('span', { className: 'error', attrs: { id: 'compose-error', role: 'alert' } });
const headerFields = el(
  'div',
  { className: 'row' },
  labelled('To', cTo),
  labelled('Type', cType),
  labelled('Priority', cPriority),
);
const composer = el(
  'form',
  { className: 'composer', attrs: { id: 'composer', 'aria-label': 'Compose a message' } },
  cReplyTo,
  headerFields,
  cSubject,
  cBody,
  el('div', { className: 'row' }, el('label', { className: 'check' }, cRequires, el('span', { text: 'Requires a response' })), el('span', { className: 'spacer' }), cError, cCancel, cSend),
);
composer.hidden = true;

const list = el('div', { className: 'threads', attrs: { id: 'threads', role: 'feed', 'aria-label': 'Message threads' } });
const moreBtn = button('Load more', 'fold-down', { id: 'load-more' });
const more = el('div', { className: 'more', attrs: { id: 'more' } }, moreBtn);
const empty = el('div', { className: 'empty', attrs: { id: 'empty' } });
empty.hidden = true;

root.append(toolbar, banner, composer, empty, list, more);

// ------------------------------------------------------------------------------------------ rendering

function renderContext(): void {
  const instances = ctx.instances;
  fInstance.textContent = '';
  fInstance.appendChild(option('', 'Everyone', filter.instance === ''));
  for (const i of instances) fInstance.appendChild(option(i, i === ctx.instanceId ? `${i} (you)` : i, filter.instance === i));
  if (filter.instance && !instances.includes(filter.instance)) fInstance.appendChild(option(filter.instance, filter.instance, true));

  const to = draft.to || instances.find((i) => i !== ctx.instanceId) || '';
  cTo.textContent = '';
  for (const i of instances) if (i !== ctx.instanceId) cTo.appendChild(option(i, i, i === to));
  cTo.appendChild(option('all', 'all (every instance)', to === 'all'));
  cType.textContent = '';
  for (const t of ctx.messageTypes) cType.appendChild(option(t, t.replace(/_/g, ' '), t === draft.type));
  cPriority.textContent = '';
  for (const p of ctx.priorities) cPriority.appendChild(option(p, p, p === draft.priority));

  identityText.textContent = ctx.instanceId ? `You are ${ctx.instanceId}` : 'No instance id set';
  identityBtn.hidden = !!ctx.instanceId;
  newBtn.disabled = !!ctx.problem;
  if (ctx.problem) {
    banner.hidden = false;
    banner.textContent = ctx.problem;
  } else {
    banner.hidden = true;
    banner.textContent = '';
  }
}

function statusIcon(m: MessageView): string {
  if (m.waiting) return 'watch';
  if (m.status === 'closed') return 'pass';
  if (m.status === 'acknowledged' || m.status === 'responded') return 'check';
  return 'mail';
}

function renderMessage(m: MessageView, isReply: boolean): HTMLElement {
  const meta = el(
    'div',
    { className: 'meta' },
    icon(statusIcon(m)),
    el('span', { className: 'from', text: m.from }),
    el('span', { className: 'arrow', text: '→', attrs: { 'aria-label': 'to' } }),
    el('span', { className: 'to', text: m.to }),
    el('span', { className: 'type', text: m.type.replace(/_/g, ' ') }),
    m.priority ? el('span', { className: `priority priority-${/^[a-z]+$/.test(m.priority) ? m.priority : 'other'}`, text: m.priority }) : null,
    el('time', { className: 'age', text: m.age, attrs: { datetime: m.timestamp, title: m.timestamp } }),
    el('span', { className: 'status', text: m.status.replace(/_/g, ' ') }),
    el('span', { className: 'id', text: m.id }),
  );
  const body = el('div', { className: 'body', text: m.body });
  const extras: HTMLElement[] = [];
  if (m.relatedTask) extras.push(el('span', { className: 'related', text: `Task ${m.relatedTask}` }));
  for (const f of m.relatedFiles) extras.push(el('span', { className: 'related', text: f }));
  const actions = el('div', { className: 'actions' });
  if (m.canReply) actions.appendChild(button('Reply', 'reply', { 'data-action': 'reply', 'data-id': m.id }));
  if (m.canAck) actions.appendChild(button('Acknowledge', 'check', { 'data-action': 'ack', 'data-id': m.id }));
  return el(
    'div',
    { className: `message${isReply ? ' reply' : ''}${m.waiting ? ' waiting' : ''}`, attrs: { 'data-id': m.id } },
    isReply ? null : el('h3', { className: 'subject', text: m.subject }),
    isReply ? el('div', { className: 'reply-subject', text: m.subject }) : null,
    meta,
    body,
    extras.length ? el('div', { className: 'extras' }, ...extras) : null,
    actions.childElementCount ? actions : null,
  );
}

function renderThread(t: ThreadView, index: number): HTMLElement {
  const open = expanded.has(t.id);
  const badges = el('div', { className: 'badges' });
  if (t.waiting) {
    badges.appendChild(el('span', { className: 'badge waiting', text: waitingBadge(t.waitingSince, now()), attrs: t.waitingSince ? { 'data-since': t.waitingSince } : {} }));
  }
  if (!t.open) badges.appendChild(el('span', { className: 'badge closed', text: 'Closed' }));
  if (t.replies.length) badges.appendChild(el('span', { className: 'badge', text: repliesText(t.replies.length) }));
  const replies = el('div', { className: 'replies' }, ...t.replies.map((r) => renderMessage(r, true)));
  replies.hidden = !open;
  const last = t.replies[t.replies.length - 1];
  const summary = last
    ? el(
        'div',
        { className: 'summary' },
        icon('chevron-right'),
        el(
          'span',
          {},
          document.createTextNode(`${repliesText(t.replies.length)} · latest from ${last.from}, `),
          el('time', { className: 'age', text: last.age, attrs: { datetime: last.timestamp, title: last.timestamp } }),
        ),
      )
    : null;
  if (summary) summary.hidden = open;
  const actions = el('div', { className: 'thread-actions' });
  if (t.canClose) actions.appendChild(button('Acknowledge and Close Thread', 'pass', { 'data-action': 'close', 'data-id': t.id }));
  actions.appendChild(button('Show in File', 'go-to-file', { 'data-action': 'reveal', 'data-id': t.id, title: 'Open communication-log.json at this thread' }, 'icon'));
  return el(
    'article',
    {
      className: `thread${t.waiting ? ' waiting' : ''}${t.open ? '' : ' closed'}${open ? ' expanded' : ''}`,
      attrs: {
        tabindex: '0',
        'data-thread': t.id,
        'aria-expanded': String(open),
        'aria-posinset': String(index + 1),
        'aria-setsize': String(total),
        'aria-label': `${t.root.subject}, from ${t.root.from} to ${t.root.to}${t.waiting ? ', waiting for a response' : ''}${t.replies.length ? `, ${repliesText(t.replies.length)}` : ''}`,
      },
    },
    badges,
    renderMessage(t.root, false),
    summary,
    replies,
    actions,
  );
}

/** Opens or closes a thread: its replies show, its first message shows in full. The choice is kept. */
function setExpanded(article: HTMLElement, open: boolean): void {
  const id = article.dataset.thread;
  if (!id) return;
  if (open) expanded.add(id);
  else expanded.delete(id);
  article.classList.toggle('expanded', open);
  article.setAttribute('aria-expanded', String(open));
  const replies = article.querySelector<HTMLElement>(':scope > .replies');
  if (replies) replies.hidden = !open;
  const summary = article.querySelector<HTMLElement>(':scope > .summary');
  if (summary) summary.hidden = open;
  saveState();
}

/** Renews every relative time and waiting age from its timestamp (the panel may stay open for hours). */
function tickAges(): void {
  const t = now();
  list.querySelectorAll<HTMLElement>('time.age[datetime]').forEach((e) => {
    const text = messageAge(e.getAttribute('datetime') ?? '', t);
    if (e.textContent !== text) e.textContent = text;
  });
  list.querySelectorAll<HTMLElement>('.badge.waiting[data-since]').forEach((e) => {
    const text = waitingBadge(e.dataset.since, t);
    if (e.textContent !== text) e.textContent = text;
  });
}
setInterval(tickAges, AGE_TICK_MS);

function renderCount(): void {
  count.textContent = countText(threads.length, total, totalMessages);
  more.hidden = threads.length >= total;
  empty.hidden = total > 0 || !!ctx.problem;
  empty.textContent = totalMessages === 0 ? 'No messages yet. Start a thread with New Message.' : 'No thread matches the filters.';
}

function applyPage(p: ThreadPage): void {
  if (typeof p.now === 'number' && Number.isFinite(p.now)) clockSkew = p.now - Date.now();
  total = p.total;
  totalMessages = p.totalMessages;
  loadingMore = false;
  if (p.replace) {
    // Keep focus and scroll position across a live refresh.
    const active = document.activeElement as HTMLElement | null;
    const focusThread = active?.closest<HTMLElement>('[data-thread]')?.dataset.thread;
    const focusAction = active?.getAttribute('data-action');
    const focusId = active?.getAttribute('data-id');
    threads = p.threads;
    const frag = document.createDocumentFragment();
    threads.forEach((t, i) => frag.appendChild(renderThread(t, i)));
    // The scroll position is kept by the browser (nothing here reads layout, so rendering stays cheap).
    list.replaceChildren(frag);
    if (focusThread && list.contains(active) === false) {
      const again =
        (focusAction && focusId && list.querySelector<HTMLElement>(`[data-action="${CSS.escape(focusAction)}"][data-id="${CSS.escape(focusId)}"]`)) ||
        list.querySelector<HTMLElement>(`[data-thread="${CSS.escape(focusThread)}"]`);
      again?.focus({ preventScroll: true });
    }
  } else {
    const start = p.offset;
    threads = threads.slice(0, start).concat(p.threads);
    const frag = document.createDocumentFragment();
    p.threads.forEach((t, i) => frag.appendChild(renderThread(t, start + i)));
    // Drop anything rendered past the offset (a refresh may have shifted the list), then append.
    while (list.children.length > start) list.lastElementChild?.remove();
    list.appendChild(frag);
  }
  renderCount();
  if (firstPage) {
    firstPage = false;
    performance.mark('messageLog:firstPage');
  }
  maybeLoadMore();
}

// ------------------------------------------------------------------------------------------ composer

function showComposer(replyTo?: Draft['replyTo'], to?: string): void {
  const wasReply = !!draft.replyTo;
  draft.open = true;
  draft.replyTo = replyTo;
  if (to) draft.to = to;
  // A reply asks for nothing back unless the user ticks the box; a new message starts from its type's default.
  if (replyTo) draft.requiresResponse = requiresResponseByDefault('reply', draft.type, draft.to);
  else if (wasReply) draft.requiresResponse = requiresResponseByDefault('new', draft.type, draft.to);
  renderComposer();
  (replyTo ? cBody : draft.to ? cSubject : cTo).focus();
  saveState();
}

function renderComposer(): void {
  composer.hidden = !draft.open;
  const reply = draft.replyTo;
  headerFields.hidden = !!reply;
  cSubject.hidden = !!reply;
  cReplyTo.hidden = !reply;
  cReplyTo.textContent = reply ? `Replying to ${reply.id} from ${reply.from}: ${reply.subject}` : '';
  composer.setAttribute('aria-label', reply ? `Reply to ${reply.id}` : 'Compose a message');
  cSubject.value = draft.subject;
  cBody.value = draft.body;
  cRequires.checked = draft.requiresResponse;
  if (draft.to) cTo.value = draft.to;
  cType.value = draft.type;
  cPriority.value = draft.priority;
  cSend.disabled = busy;
  cError.textContent = '';
}

function readComposer(): void {
  draft.to = cTo.value;
  draft.subject = cSubject.value;
  draft.body = cBody.value;
  draft.type = cType.value || draft.type;
  draft.priority = cPriority.value || draft.priority;
  draft.requiresResponse = cRequires.checked;
  saveState();
}

function closeComposer(clear: boolean): void {
  // The next new message starts from its type's default again, not from the reply's.
  if (draft.replyTo) draft.requiresResponse = requiresResponseByDefault('new', draft.type, draft.to);
  draft.open = false;
  draft.replyTo = undefined;
  if (clear) {
    draft.subject = '';
    draft.body = '';
  }
  renderComposer();
  saveState();
  newBtn.focus();
}

function submit(): void {
  readComposer();
  cError.textContent = '';
  const requestId = nextRequest++;
  if (draft.replyTo) {
    if (!draft.body.trim()) {
      cError.textContent = 'Write a reply first.';
      return;
    }
    pending.set(requestId, 'reply');
    post({ type: 'reply', requestId, messageId: draft.replyTo.id, body: draft.body, requiresResponse: draft.requiresResponse });
  } else {
    if (!draft.to) {
      cError.textContent = 'Choose a recipient.';
      return;
    }
    if (!draft.subject.trim() || !draft.body.trim()) {
      cError.textContent = 'A message needs a subject and a text.';
      return;
    }
    const message: ComposeRequest = {
      to: draft.to,
      subject: draft.subject,
      body: draft.body,
      type: draft.type,
      priority: draft.priority,
      requiresResponse: draft.requiresResponse && draft.to !== 'all',
    };
    pending.set(requestId, 'send');
    post({ type: 'send', requestId, message });
  }
  cSend.disabled = true;
}

composer.addEventListener('submit', (e) => {
  e.preventDefault();
  submit();
});
cBody.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
    e.preventDefault();
    submit();
  }
});
composer.addEventListener('keydown', (e) => {
  if (e.key === 'Escape') {
    e.preventDefault();
    closeComposer(false);
  }
});
composer.addEventListener('input', readComposer);
composer.addEventListener('change', readComposer);
cType.addEventListener('change', () => {
  // Requests and questions ask for an answer; other types usually do not.
  cRequires.checked = requiresResponseByDefault('new', cType.value, cTo.value);
  readComposer();
});
cCancel.addEventListener('click', () => closeComposer(false));
newBtn.addEventListener('click', () => showComposer(undefined));
identityBtn.addEventListener('click', () => post({ type: 'setInstanceId' }));

// ------------------------------------------------------------------------------------------ filters

function sendFilter(): void {
  saveState();
  post({ type: 'setFilter', filter });
}
fInstance.addEventListener('change', () => {
  filter = { ...filter, instance: fInstance.value };
  sendFilter();
});
fStatus.addEventListener('change', () => {
  filter = { ...filter, status: fStatus.value as StatusFilter };
  sendFilter();
});
let textTimer: ReturnType<typeof setTimeout> | undefined;
fText.addEventListener('input', () => {
  if (textTimer) clearTimeout(textTimer);
  textTimer = setTimeout(() => {
    filter = { ...filter, text: fText.value };
    sendFilter();
  }, 200);
});

// ------------------------------------------------------------------------------------------ list actions

function findMessage(id: string): MessageView | undefined {
  for (const t of threads) {
    if (t.root.id === id) return t.root;
    const r = t.replies.find((x) => x.id === id);
    if (r) return r;
  }
  return undefined;
}

list.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const b = target.closest<HTMLButtonElement>('button[data-action]');
  if (!b) {
    // A click on a thread (not on one of its buttons, and not the end of selecting its text) opens or closes it.
    const article = target.closest<HTMLElement>('article.thread');
    if (!article || target.closest('button, a, input, select, textarea') || (window.getSelection()?.toString() ?? '') !== '') return;
    setExpanded(article, !article.classList.contains('expanded'));
    article.focus({ preventScroll: true });
    return;
  }
  const id = b.dataset.id ?? '';
  const action = b.dataset.action;
  if (action === 'reply') {
    const m = findMessage(id);
    const article = b.closest<HTMLElement>('article.thread');
    if (article && !article.classList.contains('expanded')) setExpanded(article, true);
    if (m) showComposer({ id, from: m.from, subject: m.subject });
  } else if (action === 'ack' || action === 'close') {
    const requestId = nextRequest++;
    pending.set(requestId, action);
    b.disabled = true;
    post({ type: action, requestId, messageId: id });
  } else if (action === 'reveal') {
    post({ type: 'reveal', messageId: id });
  }
});

list.addEventListener('keydown', (e) => {
  const article = (e.target as HTMLElement).closest<HTMLElement>('article');
  if (!article || (e.target as HTMLElement) !== article) return;
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    setExpanded(article, !article.classList.contains('expanded'));
    return;
  }
  let next: Element | null = null;
  if (e.key === 'ArrowDown' || e.key === 'PageDown') next = article.nextElementSibling;
  else if (e.key === 'ArrowUp' || e.key === 'PageUp') next = article.previousElementSibling;
  else if (e.key === 'Home') next = list.firstElementChild;
  else if (e.key === 'End') next = list.lastElementChild;
  if (next instanceof HTMLElement) {
    e.preventDefault();
    next.focus();
    if (!article.nextElementSibling) maybeLoadMore();
  }
});

function requestMore(): void {
  if (loadingMore || threads.length >= total) return;
  loadingMore = true;
  post({ type: 'loadMore', offset: threads.length });
}
moreBtn.addEventListener('click', requestMore);

/** Loads the next page when the end of the list comes near the view. */
const nearEnd = new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) requestMore();
}, { rootMargin: '0px 0px 400px 0px' });
function maybeLoadMore(): void {
  // Observing anew reports the current intersection once, also when the end stayed in view after a page.
  nearEnd.unobserve(more);
  if (!more.hidden) nearEnd.observe(more);
}

// ------------------------------------------------------------------------------------------ messages

window.addEventListener('message', (event: MessageEvent<ExtensionToWebview>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'context':
      ctx = msg.context;
      renderContext();
      renderComposer();
      renderCount();
      break;
    case 'page':
      applyPage(msg.page);
      break;
    case 'busy':
      busy = msg.busy;
      root.setAttribute('aria-busy', String(busy));
      cSend.disabled = busy;
      break;
    case 'result': {
      const kind = pending.get(msg.requestId);
      pending.delete(msg.requestId);
      cSend.disabled = busy;
      if (kind === 'send' || kind === 'reply') {
        if (msg.ok) closeComposer(true);
        else cError.textContent = msg.error ?? 'Failed.';
      } else if (!msg.ok) {
        banner.hidden = false;
        banner.textContent = msg.error ?? 'Failed.';
      }
      break;
    }
    case 'compose':
      showComposer(undefined, msg.to);
      break;
  }
});

renderComposer();
post({ type: 'ready', filter });
