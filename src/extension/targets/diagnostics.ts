import * as vscode from 'vscode';
import { verifyIsCurrent, verifyProblems } from '../../core/targets/overview';
import { Disposable } from '../lifecycle';
import { TargetsModel } from './model';

/**
 * Broken links and config files that do not parse, from each target's last verify, in the Problems panel at
 * the file and line of the target where they are. A new verify of a target replaces that target's entries; a
 * verify from before the target's last sync or restore is shown in the tree but not here (its lines may be gone).
 */
export class VerifyDiagnostics extends Disposable {
  readonly collection = this.register(vscode.languages.createDiagnosticCollection('syncord-targets'));
  private shown = '';

  constructor(private readonly model: TargetsModel) {
    super();
    this.register(model.onDidChange(() => this.update()));
  }

  update(): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const info of this.model.snapshot?.targets ?? []) {
      const v = info.verify;
      if (!v || !verifyIsCurrent(info)) continue;
      for (const p of verifyProblems(v.result)) {
        const line = Math.max(0, (p.line ?? 1) - 1);
        const col = Math.max(0, (p.column ?? 1) - 1);
        // From the reported position to the end of that line (the whole first line when no line is known).
        const d = new vscode.Diagnostic(new vscode.Range(line, col, line, Number.MAX_SAFE_INTEGER), p.message, vscode.DiagnosticSeverity.Error);
        d.source = `Syncord verify (${info.target.name})`;
        d.code = p.check;
        const list = byFile.get(p.file) ?? [];
        list.push(d);
        byFile.set(p.file, list);
      }
    }
    const key = JSON.stringify([...byFile].map(([f, ds]) => [f, ds.map((d) => [d.message, d.range.start.line, d.range.start.character])]));
    if (key === this.shown) return;
    this.shown = key;
    this.collection.clear();
    for (const [file, ds] of byFile) this.collection.set(vscode.Uri.file(file), ds);
  }

  /** How many entries the Problems panel has from Syncord's verify. */
  get count(): number {
    let n = 0;
    this.collection.forEach((_, ds) => (n += ds.length));
    return n;
  }
}
