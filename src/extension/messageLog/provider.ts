import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { acknowledgeMessage, BROADCAST, closeThread, replyToMessage, sendMessage } from '../../core/coordination/messages';
import { CoordinationKey } from '../../core/coordination/store';
import { filterThreads, Thread, ThreadFilter } from '../../core/coordination/threads';
import { locatePath } from '../../core/store';
import {
  DEFAULT_FILTER,
  ExtensionToWebview,
  LogContext,
  LogFilter,
  PAGE_SIZE,
  ThreadPage,
  WebviewToExtension,
} from '../../shared/protocol';
import { Command } from '../../shared/commands';
import { chooseIdentity } from '../coordination/commands';
import { Coordination } from '../coordination/context';
import { Disposable } from '../lifecycle';
import { Sessions } from '../sessions/context';
import { nudgeAfterSend } from '../sessions/deliver';
import { messageLogHtml } from './html';
import { onDidChangeSettings } from '../settings';
import { logContext, pageOf } from '../../views/messageLog';

/**
 * The Message Log webview view in the panel: threads of communication-log.json, filters, composer. The
 * extension keeps the full log and posts one page of threads at a time (PAGE_SIZE); the webview asks for
 * more as it is scrolled. Every change goes through the core (core/coordination/messages.ts).
 */
export class MessageLogProvider extends Disposable implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private filter: LogFilter = { ...DEFAULT_FILTER };
  /** Threads the webview shows now (pages loaded), so a refresh re-sends as many. */
  private shownCount = PAGE_SIZE;
  private filtered: { threads: readonly Thread[]; key: string; list: Thread[] } | undefined;
  private lastContext = '';

  constructor(
    private readonly coordination: Coordination,
    private readonly sessions: Sessions,
  ) {
    super();
    this.register(coordination.model.onDidChange((keys) => this.onModelChange(keys)));
    this.register(coordination.busy.onDidChange((busy) => this.post({ type: 'busy', busy })));
    this.register(onDidChangeSettings(() => void this.sendAll()));
    this.register(
      coordination.compose.event((req) => {
        if (this.ready) void this.post({ type: 'compose', to: req.to });
        else this.pendingCompose = req;
      }),
    );
  }

  private pendingCompose: { to?: string } | undefined;

  resolveWebviewView(view: vscode.WebviewView): void {
    const extUri = this.coordination.services.context.extensionUri;
    this.view = view;
    this.ready = false;
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extUri, 'media'), vscode.Uri.joinPath(extUri, 'dist')],
    };
    view.webview.html = this.html(view.webview);
    const subs = [
      view.webview.onDidReceiveMessage((m: WebviewToExtension) => void this.receive(m)),
      view.onDidChangeVisibility(() => {
        if (view.visible && this.ready) void this.sendAll();
      }),
    ];
    view.onDidDispose(() => {
      subs.forEach((s) => s.dispose());
      if (this.view === view) {
        this.view = undefined;
        this.ready = false;
      }
    });
  }

  private post(m: ExtensionToWebview): Thenable<boolean> | undefined {
    if (!this.view || !this.ready) return undefined;
    return this.view.webview.postMessage(m);
  }

  private me(): string | undefined {
    return this.coordination.services.settings().instanceId;
  }

  private context(): LogContext {
    return logContext(this.coordination.model.snapshot, this.me());
  }

  private threadFilter(): ThreadFilter {
    return { instance: this.filter.instance || undefined, status: this.filter.status, text: this.filter.text };
  }

  /** The filtered, sorted threads, recomputed only when the log or the filter changed. */
  private matching(): Thread[] {
    const threads = this.coordination.model.threads();
    const key = JSON.stringify(this.filter);
    if (this.filtered && this.filtered.threads === threads && this.filtered.key === key) return this.filtered.list;
    const list = filterThreads(threads, this.threadFilter());
    this.filtered = { threads, key, list };
    return list;
  }

  /** A page of threads from `offset`. */
  page(offset: number, limit: number, replace: boolean): ThreadPage {
    return pageOf(this.matching(), offset, limit, {
      now: Date.now(),
      me: this.me(),
      totalMessages: this.coordination.model.value('messages')?.messages.length ?? 0,
      replace,
    });
  }

  private async sendAll(): Promise<void> {
    if (!this.ready) return;
    await this.coordination.model.ensureLoaded();
    const ctx = this.context();
    const text = JSON.stringify(ctx);
    if (text !== this.lastContext) {
      this.lastContext = text;
      await this.post({ type: 'context', context: ctx });
    }
    await this.post({ type: 'page', page: this.page(0, Math.max(PAGE_SIZE, this.shownCount), true) });
  }

  private onModelChange(keys: ReadonlySet<CoordinationKey>): void {
    if (!this.ready || !this.view) return;
    if (keys.has('messages') || keys.has('registry')) void this.sendAll();
  }

  private async receive(m: WebviewToExtension): Promise<void> {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.filter = { ...DEFAULT_FILTER, ...m.filter };
        this.shownCount = PAGE_SIZE;
        this.lastContext = '';
        await this.post({ type: 'busy', busy: this.coordination.busy.busy });
        await this.sendAll();
        if (this.pendingCompose) {
          await this.post({ type: 'compose', to: this.pendingCompose.to });
          this.pendingCompose = undefined;
        }
        return;
      case 'setFilter':
        this.filter = { ...DEFAULT_FILTER, ...m.filter };
        this.shownCount = PAGE_SIZE;
        await this.post({ type: 'page', page: this.page(0, PAGE_SIZE, true) });
        return;
      case 'loadMore': {
        const p = this.page(m.offset, PAGE_SIZE, false);
        this.shownCount = Math.max(this.shownCount, p.offset + p.threads.length);
        await this.post({ type: 'page', page: p });
        return;
      }
      case 'send':
      case 'reply':
      case 'ack':
      case 'close':
        await this.act(m);
        return;
      case 'reveal':
        await this.reveal(m.messageId);
        return;
      case 'setInstanceId':
        await vscode.commands.executeCommand(Command.setInstanceId);
        return;
    }
  }

  /** The instance an action on this message is meant for: who answers or reads it, or who closes its thread. */
  private addressee(m: Extract<WebviewToExtension, { type: 'send' | 'reply' | 'ack' | 'close' }>): string | undefined {
    if (m.type === 'send') return undefined;
    const log = this.coordination.model.value('messages');
    const msg = log?.messages.find((x) => x.message_id === m.messageId);
    if (!msg) return undefined;
    const who = m.type === 'close' ? msg.from : msg.to;
    return who === BROADCAST ? undefined : who;
  }

  private async act(m: Extract<WebviewToExtension, { type: 'send' | 'reply' | 'ack' | 'close' }>): Promise<void> {
    // Acting without syncord.instanceId: asked once (the message's addressee offered first), then remembered.
    const me = this.me() ?? (await chooseIdentity(this.coordination, this.addressee(m)));
    if (!me) {
      await this.post({ type: 'result', requestId: m.requestId, ok: false, error: 'Set your instance id (syncord.instanceId) first.' });
      return;
    }
    const titles = { send: 'Send message', reply: 'Reply', ack: 'Acknowledge message', close: 'Close thread' };
    try {
      const r = await this.coordination.write(
        titles[m.type],
        async (store) => {
          switch (m.type) {
            case 'send': {
              const x = m.message;
              return (
                await sendMessage(store, {
                  from: me,
                  to: x.to,
                  subject: x.subject,
                  body: x.body,
                  type: x.type,
                  priority: x.priority,
                  requiresResponse: x.requiresResponse,
                  relatedTask: x.relatedTask || undefined,
                })
              ).message.message_id;
            }
            case 'reply':
              return (await replyToMessage(store, { id: m.messageId, from: me, body: m.body, requiresResponse: m.requiresResponse })).message.message_id;
            case 'ack':
              return (await acknowledgeMessage(store, { id: m.messageId, by: me })).message.message_id;
            case 'close':
              await closeThread(store, { id: m.messageId, by: me });
              return m.messageId;
          }
        },
        { rethrow: true },
      );
      await this.post({ type: 'result', requestId: m.requestId, ok: true, messageId: r });
      // A new message or reply reaches the recipients' live agent sessions at once.
      if (r && (m.type === 'send' || m.type === 'reply')) await nudgeAfterSend(this.sessions, r);
    } catch (e) {
      // Shown inside the webview next to the form, where the user is looking; also in the log.
      const error = e instanceof Error ? e.message : String(e);
      this.coordination.services.log.warn(`${titles[m.type]} failed: ${error}`);
      await this.post({ type: 'result', requestId: m.requestId, ok: false, error });
    }
  }

  private async reveal(messageId: string): Promise<void> {
    const st = this.coordination.model.snapshot?.messages;
    if (st?.state !== 'ok') return;
    const index = st.value.messages.findIndex((x) => x.message_id === messageId);
    if (index < 0) return;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(st.file));
    const loc = locatePath(st.file, doc.getText(), ['messages', index]);
    const pos = new vscode.Position((loc.line ?? 1) - 1, (loc.column ?? 1) - 1);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const extUri = this.coordination.services.context.extensionUri;
    const script = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'dist', 'webview.js'));
    const css = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'media', 'messageLog.css'));
    const codicons = webview.asWebviewUri(vscode.Uri.joinPath(extUri, 'dist', 'codicons', 'codicon.css'));
    return messageLogHtml({ nonce, cspSource: webview.cspSource, script: script.toString(), css: css.toString(), codicons: codicons.toString() });
  }
}

/** The Message Log webview view: it shows the coordination model, and tells live sessions about what it sends. */
export function registerMessageLog(coordination: Coordination, sessions: Sessions, viewId: string): MessageLogProvider {
  const provider = new MessageLogProvider(coordination, sessions);
  coordination.services.context.subscriptions.push(provider, vscode.window.registerWebviewViewProvider(viewId, provider));
  return provider;
}
