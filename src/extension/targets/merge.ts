import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ConflictInputs, getTarget, loadRules, settleConflict } from '../../core/targets';
import { ensureSyncordDir } from '../../core/targets/syncordDir';
import { checkedTargetName, syncordDir, WorkspacePaths } from '../../core/workspace';
import { describeSettled, describeUnfinishedMerge, hasConflictMarkers, mergeEditorLabels } from '../../views/conflicts';
import { reportError } from '../errors';
import { Disposable } from '../lifecycle';
import { Services } from '../services';
import { TargetsModel } from './model';

/**
 * Read-only documents holding the merge base of a conflict (what the last sync wrote), for the merge editor.
 * URIs: `syncord-merge:/<target>/<Base (…)>/<path in the target>?<nonce>`.
 */
export class MergeBaseProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  static readonly scheme = 'syncord-merge';
  private readonly texts = new Map<string, string>();

  set(target: string, note: string, targetPath: string, nonce: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: MergeBaseProvider.scheme, path: `/${target}/${note}/${targetPath}`, query: nonce });
    this.texts.set(uri.toString(), text);
    return uri;
  }

  forget(uri: vscode.Uri): void {
    this.texts.delete(uri.toString());
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  dispose(): void {
    this.texts.clear();
  }
}

/** The input of a merge editor tab (`vscode.TabInputTextMerge`: in the API, typed only in a proposal). */
export interface MergeTabInput {
  base: vscode.Uri;
  input1: vscode.Uri;
  input2: vscode.Uri;
  result: vscode.Uri;
}

const TabInputTextMerge = (vscode as unknown as { TabInputTextMerge?: abstract new (...args: never[]) => MergeTabInput }).TabInputTextMerge;

/** The merge editor input of a tab, when it is a merge editor. */
export function mergeTabInput(tab: vscode.Tab): MergeTabInput | undefined {
  return TabInputTextMerge && tab.input instanceof TabInputTextMerge ? tab.input : undefined;
}

/** One conflict open in the merge editor. */
export interface MergeSession {
  target: string;
  /** Path in the target, relative to its root. */
  targetPath: string;
  /** SHA-256 of the target's copy when the editor opened: settling refuses a copy changed since. */
  targetHash: string | null;
  base: vscode.Uri;
  input1: vscode.Uri;
  input2: vscode.Uri;
  /** The scratch file the merge editor writes (never the target's file). */
  output: vscode.Uri;
  /** The scratch folder of this merge, removed when it is settled or abandoned. */
  dir: string;
  settling?: boolean;
  /** Written to the target: the scratch folder goes when the editor closes. */
  settled?: boolean;
  /** Refused by the core: the scratch file holds the user's merged text and is kept (the message says where). */
  refused?: boolean;
}

/** The folder of scratch files of the merges of a target: `.syncord/tmp/merge/<target>/` in the main project. */
export function mergeScratchRoot(paths: WorkspacePaths, target: string): string {
  return path.join(syncordDir(paths), 'tmp', 'merge', checkedTargetName(target));
}

/**
 * Conflicts in VS Code's own three-way merge editor: the main project's version (input 1), the target's copy
 * (input 2), the base the last sync wrote, and a scratch file under `.syncord/tmp/merge/` as the result, first
 * holding the target's copy. The target's file is written only when the merge is completed (the scratch file
 * is saved without conflict markers), through the core's `settleConflict`; an abandoned merge changes nothing.
 */
export class ConflictMerges extends Disposable {
  readonly bases = this.register(new MergeBaseProvider());
  private readonly sessions = new Map<string, MergeSession>();

  constructor(
    private readonly services: Services,
    private readonly model: TargetsModel,
  ) {
    super();
    this.register(vscode.workspace.registerTextDocumentContentProvider(MergeBaseProvider.scheme, this.bases));
    this.register(vscode.workspace.onDidSaveTextDocument((doc) => void this.saved(doc)));
    this.register(vscode.window.tabGroups.onDidChangeTabs((e) => this.closed(e.closed)));
    this.register({ dispose: () => [...this.sessions.values()].forEach((s) => !s.settling && this.drop(s)) });
  }

  /** The merges open now (for tests and the log). */
  get open(): readonly MergeSession[] {
    return [...this.sessions.values()];
  }

  /** Opens the merge editor on one conflict with a text on both sides. */
  async openEditor(paths: WorkspacePaths, target: string, inputs: ConflictInputs): Promise<MergeSession> {
    if (!inputs.sourceFile) throw new Error(`${inputs.path}: the main project has no such file; there is nothing to merge`);
    const nonce = randomBytes(6).toString('hex');
    await ensureSyncordDir(paths);
    const root = mergeScratchRoot(paths, target);
    const dir = path.join(root, nonce);
    await fs.promises.mkdir(dir, { recursive: true });
    const name = path.basename(inputs.targetFile);
    const output = path.join(dir, name);
    const st = await fs.promises.lstat(inputs.targetFile);
    if (!st.isFile()) throw new Error(`${inputs.path} in ${target} is not a regular file`);
    await fs.promises.writeFile(output, await fs.promises.readFile(inputs.targetFile), { flag: 'wx' });
    const sourceRel = path.relative(paths.root, inputs.sourceFile).split(path.sep).join('/');
    const labels = mergeEditorLabels(target, inputs.path, sourceRel, !!inputs.base);
    const session: MergeSession = {
      target,
      targetPath: inputs.path,
      targetHash: inputs.targetHash,
      base: this.bases.set(target, labels.baseNote, inputs.path, nonce, inputs.base ? inputs.base.toString('utf8') : ''),
      input1: vscode.Uri.file(inputs.sourceFile),
      input2: vscode.Uri.file(inputs.targetFile),
      output: vscode.Uri.file(output),
      dir,
    };
    this.sessions.set(session.output.toString(), session);
    try {
      await vscode.commands.executeCommand('_open.mergeEditor', {
        base: session.base,
        input1: { uri: session.input1, ...labels.input1 },
        input2: { uri: session.input2, ...labels.input2 },
        output: session.output,
      });
    } catch (e) {
      this.drop(session);
      throw e;
    }
    this.services.log.info(`Resolve Sync Conflicts: ${target}: ${inputs.path} open in the merge editor (result in ${output})`);
    return session;
  }

  /** A saved result: applied to the target when it holds no conflict marker. */
  private async saved(doc: vscode.TextDocument): Promise<void> {
    const s = this.sessions.get(doc.uri.toString());
    if (!s || s.settling) return;
    if (s.settled) {
      void vscode.window.showInformationMessage(`Syncord: ${s.targetPath} in ${s.target} was already settled with this merge; this save changes nothing in the target.`);
      return;
    }
    const text = doc.getText();
    if (hasConflictMarkers(text)) {
      s.refused = true; // the half-merged text stays where the message says, even once the editor closes
      void vscode.window.showWarningMessage(`Syncord: ${describeUnfinishedMerge(s.targetPath, s.output.fsPath)}`);
      return;
    }
    const paths = this.services.paths();
    if (!paths) return;
    s.refused = false;
    s.settling = true;
    try {
      const { rules } = await loadRules(paths);
      const target = await getTarget(paths, s.target);
      this.model.noteOwnWrites();
      await settleConflict(paths, rules, target, s.targetPath, { text }, s.targetHash);
      this.services.log.info(`Resolve Sync Conflicts: ${s.target}: ${s.targetPath} settled with the merged text`);
      void vscode.window.showInformationMessage(`Syncord: ${describeSettled(s.target, s.targetPath, 'merge')}`);
      s.settled = true;
      s.settling = false;
      // Complete Merge closes the editor itself; after a plain save it stays open until the user closes it
      // (closing it here would ask about the conflicts the merge editor still counts as unhandled).
      if (!this.isShown(s)) this.drop(s);
    } catch (e) {
      s.settling = false;
      s.refused = true;
      reportError(this.services, `Resolve Sync Conflicts (your merged text is kept in ${s.output.fsPath})`, e);
    } finally {
      await this.model.reload('conflict settled');
    }
  }

  /** Merge editors closed without completing: their scratch files go. */
  private closed(tabs: readonly vscode.Tab[]): void {
    for (const tab of tabs) {
      const input = mergeTabInput(tab);
      if (!input) continue;
      const s = this.sessions.get(input.result.toString());
      if (s && !s.settling && !this.isShown(s)) this.drop(s);
    }
  }

  private isShown(s: MergeSession): boolean {
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => mergeTabInput(t)?.result.toString() === s.output.toString()));
  }

  /** Forgets a merge and removes its scratch folder (only a folder under `.syncord/tmp/merge/`). */
  private drop(s: MergeSession): void {
    this.sessions.delete(s.output.toString());
    this.bases.forget(s.base);
    const paths = this.services.paths();
    if (!paths || s.refused) return;
    const root = path.join(syncordDir(paths), 'tmp', 'merge') + path.sep;
    if (!s.dir.startsWith(root)) return;
    try {
      fs.rmSync(s.dir, { recursive: true, force: true });
    } catch (e) {
      this.services.log.warn(`Resolve Sync Conflicts: cannot remove ${s.dir}: ${(e as Error).message}`);
    }
  }
}
