import * as vscode from 'vscode';
import { CoordinationStore } from '../../core/coordination/store';
import { ViewId } from '../../views/ids';
import { reportError } from '../errors';
import { Services } from '../services';
import { CoordinationModel } from './model';

/** Counts writes in flight; the status bar spins and the webview disables its buttons while any runs. */
export class BusyState implements vscode.Disposable {
  private count = 0;
  private readonly emitter = new vscode.EventEmitter<boolean>();
  readonly onDidChange = this.emitter.event;

  get busy(): boolean {
    return this.count > 0;
  }

  begin(): void {
    if (this.count++ === 0) this.emitter.fire(true);
  }

  end(): void {
    if (this.count > 0 && --this.count === 0) this.emitter.fire(false);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** What the coordination views, commands, status bar and Message Log share: one model, one busy state. */
export interface Coordination {
  services: Services;
  model: CoordinationModel;
  busy: BusyState;
  /** Requests from commands to open the Message Log's composer, optionally addressed (the Message Log listens). */
  compose: vscode.EventEmitter<{ to?: string }>;
  /**
   * Runs a change through the core with progress in the Coordination view and a spinning status bar, then
   * re-reads the files at once (the watcher would too, a moment later). Errors are shown to the user and
   * returned as `undefined`, unless `rethrow`.
   */
  write<T>(title: string, fn: (store: CoordinationStore) => Promise<T>, opts?: { rethrow?: boolean }): Promise<T | undefined>;
}

/** The coordination state of this activation: one model, one busy state. Nothing is read until a view asks. */
export function createCoordination(services: Services): Coordination {
  const model = new CoordinationModel(services);
  const busy = new BusyState();
  const compose = new vscode.EventEmitter<{ to?: string }>();
  services.context.subscriptions.push(model, busy, compose);
  return {
    services,
    model,
    busy,
    compose,
    async write(title, fn, opts) {
      const store = model.store();
      if (!store) {
        void vscode.window.showWarningMessage('Syncord needs an open folder: open the main project first.');
        return undefined;
      }
      busy.begin();
      try {
        return await vscode.window.withProgress(
          { location: { viewId: ViewId.coordination }, title },
          () => fn(store),
        );
      } catch (e) {
        if (opts?.rethrow) throw e;
        reportError(services, title, e);
        return undefined;
      } finally {
        busy.end();
        await model.reload();
      }
    },
  };
}
