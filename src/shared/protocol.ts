/**
 * The one typed message protocol between the extension and the Message Log webview.
 * Both sides import this file; nothing else crosses the boundary. Plain data only: no DOM, no `vscode`.
 */

import type { ThreadStatusFilter } from '../core/coordination/threads';

/** Status filter of the Message Log (the core's thread filter). */
export type StatusFilter = ThreadStatusFilter;

/** Filters of the Message Log; kept by the webview in its state and sent on every change. */
export interface LogFilter {
  /** Instance id, or '' for everyone. */
  instance: string;
  status: StatusFilter;
  text: string;
}

/** One message as shown. Every string is file content: the webview renders it as text. */
export interface MessageView {
  id: string;
  from: string;
  to: string;
  type: string;
  subject: string;
  body: string;
  timestamp: string;
  /** "3h ago", computed by the extension when the page is posted; the webview renews it from `timestamp`. */
  age: string;
  priority?: string;
  status: string;
  requiresResponse: boolean;
  /** Waiting for a response: shown prominently with its age. */
  waiting: boolean;
  relatedTask?: string;
  relatedFiles: string[];
  /**
   * The user (syncord.instanceId) may answer it: it is addressed to them and its thread is open. Without an
   * instance id: someone may answer it (the extension asks who the user is when they do).
   */
  canReply: boolean;
  /** The user may mark it read: sent to them (or to all), needing no answer, not yet acknowledged (without an instance id: unread by someone). */
  canAck: boolean;
}

export interface ThreadView {
  /** The root message's id. */
  id: string;
  root: MessageView;
  replies: MessageView[];
  waiting: boolean;
  open: boolean;
  /** Age of the oldest message still waiting for a response in this thread. */
  waitingAge?: string;
  /** Timestamp of that message, for the webview to renew the age while the panel stays open. */
  waitingSince?: string;
  /** The user started the thread and it is not closed yet: they may acknowledge the answers and close it (without an instance id: the thread is open). */
  canClose: boolean;
}

/** A slice of the filtered threads, newest first. */
export interface ThreadPage {
  /** The extension's clock when the page was made (ms): the webview ages the page from it, whatever its own clock says. */
  now: number;
  /** Threads that match the filter, in all. */
  total: number;
  /** Messages in the log, in all. */
  totalMessages: number;
  /** Index of the first thread of `threads` in the filtered list. */
  offset: number;
  threads: ThreadView[];
  /** When set, the page replaces the whole list (filter changed or the log changed) instead of appending. */
  replace: boolean;
}

export interface ComposeRequest {
  to: string;
  subject: string;
  body: string;
  type: string;
  priority: string;
  requiresResponse: boolean;
  relatedTask?: string;
}

/** Messages the webview sends to the extension. */
export type WebviewToExtension =
  | { type: 'ready'; filter: LogFilter }
  | { type: 'setFilter'; filter: LogFilter }
  /** More threads, after the ones already shown. */
  | { type: 'loadMore'; offset: number }
  | { type: 'send'; requestId: number; message: ComposeRequest }
  | { type: 'reply'; requestId: number; messageId: string; body: string; requiresResponse: boolean }
  | { type: 'ack'; requestId: number; messageId: string }
  | { type: 'close'; requestId: number; messageId: string }
  | { type: 'reveal'; messageId: string }
  | { type: 'setInstanceId' };

/** State of the coordination files the webview needs beside the threads. */
export interface LogContext {
  /** The instance the user acts as, or null when `syncord.instanceId` is unset. */
  instanceId: string | null;
  /** Registered instances, for the filter and the recipient picker. */
  instances: string[];
  /** Set when communication-log.json cannot be read: the message and where. */
  problem: string | null;
  messageTypes: string[];
  priorities: string[];
}

/** Messages the extension sends to the webview. */
export type ExtensionToWebview =
  | { type: 'context'; context: LogContext }
  | { type: 'page'; page: ThreadPage }
  | { type: 'busy'; busy: boolean }
  | { type: 'result'; requestId: number; ok: boolean; error?: string; messageId?: string }
  /** Ask the webview to put focus into the composer, optionally addressed to an instance. */
  | { type: 'compose'; to?: string };

/** Threads per page: what the webview renders at once and asks for more of when scrolled near the end. */
export const PAGE_SIZE = 50;

export const DEFAULT_FILTER: LogFilter = { instance: '', status: 'all', text: '' };
