import * as vscode from 'vscode';
import { Finding, HealthDocuments, healthOf, HealthReport } from '../../core/coordination/health';
import { CoordinationKey } from '../../core/coordination/store';
import type { FileState } from '../../core/coordination/snapshot';
import { Disposable } from '../lifecycle';
import { SettingKey } from '../settings';
import { Coordination } from './context';

const KEYS: CoordinationKey[] = ['registry', 'tasks', 'messages', 'decisions'];
const SOURCE = 'Syncord';

const SEVERITY: Record<Finding['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** The range a finding points at: from its position to the end of that line's content. */
function rangeAt(lines: LineIndex, line1: number, col1: number): vscode.Range {
  const line = Math.max(0, line1 - 1);
  const col = Math.max(0, col1 - 1);
  const text = lines.line(line);
  const end = Math.max(col + 1, text.replace(/[,\s]+$/, '').length);
  return new vscode.Range(line, col, line, end);
}

/** Lines of a file's text, split only when first asked. */
class LineIndex {
  private lines: string[] | undefined;
  constructor(private readonly text: string) {}
  line(n: number): string {
    this.lines ??= this.text.split(/\r?\n/);
    return this.lines[n] ?? '';
  }
}

/**
 * The seed's health checks (core/coordination/health.ts) as entries in the Problems panel, on the coordination
 * files at the positions the findings name, plus one error for a file that cannot be read. The checks run on
 * the files the model already holds (no second read); when one file is broken, the others are still checked.
 * Refreshed whenever the files change, the thresholds (`syncord.health.*`) change, and every few minutes.
 */
export class HealthDiagnostics extends Disposable {
  private readonly collection = this.register(vscode.languages.createDiagnosticCollection('syncord-coordination'));
  private readonly emitter = this.register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.emitter.event;
  report: HealthReport | undefined;
  /** Files that cannot be read (each counts as a problem). */
  broken = 0;

  constructor(private readonly coordination: Coordination) {
    super();
    this.register(coordination.model.onDidChange(() => this.refresh()));
    this.register(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(SettingKey.healthStaleCheckinHours) || e.affectsConfiguration(SettingKey.healthResponseHours)) this.refresh();
      }),
    );
    // Findings such as "not answered within 4 h" appear with time alone, without any file change.
    const tick = setInterval(() => {
      if (this.coordination.model.snapshot?.exists) this.refresh();
    }, 5 * 60_000);
    this.register({ dispose: () => clearInterval(tick) });
  }

  /** Errors and warnings, for the status bar. */
  get problemCount(): number {
    return this.broken + (this.report ? this.report.counts.error + this.report.counts.warning : 0);
  }

  /** Checks the files as the model holds them now and replaces the Problems panel's entries. */
  refresh(): void {
    const snap = this.coordination.model.snapshot;
    if (!snap || !snap.exists) {
      this.collection.clear();
      this.report = undefined;
      this.broken = 0;
      this.emitter.fire();
      return;
    }
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const add = (file: string, d: vscode.Diagnostic) => {
      let list = byFile.get(file);
      if (!list) byFile.set(file, (list = []));
      list.push(d);
    };
    const states = KEYS.map((k) => [k, snap[k] as FileState<unknown>] as const);
    const docs: Record<string, { file: string; text: string; value: unknown }> = {};
    this.broken = 0;
    for (const [key, st] of states) {
      if (st.state === 'ok') docs[key] = st;
      if (st.state !== 'invalid') continue;
      this.broken++;
      const line = Math.max(0, (st.line ?? 1) - 1);
      const col = Math.max(0, (st.column ?? 1) - 1);
      const d = new vscode.Diagnostic(new vscode.Range(line, col, line, col + 1), `${st.message} (the file is not changed until it is fixed)`, vscode.DiagnosticSeverity.Error);
      d.source = SOURCE;
      d.code = 'invalid-file';
      add(st.file, d);
    }
    const settings = this.coordination.services.settings();
    this.report = undefined;
    try {
      this.report = healthOf(docs as HealthDocuments, { staleHours: settings.staleCheckinHours, responseHours: settings.responseHours });
    } catch (e) {
      this.coordination.services.log.warn(`health check failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    const texts = new Map<string, LineIndex>();
    for (const [, st] of states) if (st.state === 'ok') texts.set(st.file, new LineIndex(st.text));
    for (const f of this.report?.findings ?? []) {
      if (!f.location) continue;
      const lines = texts.get(f.location.file) ?? new LineIndex('');
      const d = new vscode.Diagnostic(rangeAt(lines, f.location.line ?? 1, f.location.column ?? 1), f.message, SEVERITY[f.severity]);
      d.source = SOURCE;
      d.code = f.code;
      add(f.location.file, d);
    }
    this.collection.clear();
    for (const [, st] of states) this.collection.set(vscode.Uri.file(st.file), byFile.get(st.file) ?? []);
    this.emitter.fire();
  }

  /** The diagnostics shown for a file, for tests. */
  get(file: string): readonly vscode.Diagnostic[] {
    return this.collection.get(vscode.Uri.file(file)) ?? [];
  }
}

export function registerHealthDiagnostics(coordination: Coordination): HealthDiagnostics {
  const h = new HealthDiagnostics(coordination);
  coordination.services.context.subscriptions.push(h);
  return h;
}
