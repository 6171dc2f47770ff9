import * as vscode from 'vscode';
import { Services } from '../services';
import { VerifyDiagnostics } from './diagnostics';
import { MergedConfigProvider } from './configDiff';
import { ConflictMerges } from './merge';
import { TargetsModel } from './model';

/** What the Targets view, its status bar item, its Problems entries and its commands share. */
export interface Targets {
  services: Services;
  model: TargetsModel;
  diagnostics: VerifyDiagnostics;
  configDocs: MergedConfigProvider;
  /** Conflicts open in the merge editor. */
  merges: ConflictMerges;
}

/** The targets state of this activation. Nothing is read until a view or command asks. */
export function createTargets(services: Services): Targets {
  const model = new TargetsModel(services);
  const diagnostics = new VerifyDiagnostics(model);
  const configDocs = new MergedConfigProvider();
  const merges = new ConflictMerges(services, model);
  services.context.subscriptions.push(
    model,
    diagnostics,
    configDocs,
    merges,
    vscode.workspace.registerTextDocumentContentProvider(MergedConfigProvider.scheme, configDocs),
  );
  return { services, model, diagnostics, configDocs, merges };
}
