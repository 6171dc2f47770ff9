import * as vscode from 'vscode';
import { Services } from '../services';
import { VerifyDiagnostics } from './diagnostics';
import { MergedConfigProvider } from './configDiff';
import { TargetsModel } from './model';

/** What the Targets view, its status bar item, its Problems entries and its commands share. */
export interface Targets {
  services: Services;
  model: TargetsModel;
  diagnostics: VerifyDiagnostics;
  configDocs: MergedConfigProvider;
  /** Set by views.ts once the tree view exists (reveal after commands). */
  treeView?: vscode.TreeView<import('../../core/targets/view').ViewNode>;
}

const instances = new WeakMap<Services, Targets>();

/** The targets state of this activation, created on first use. Nothing is read until a view or command asks. */
export function targetsOf(services: Services): Targets {
  let t = instances.get(services);
  if (t) return t;
  const model = new TargetsModel(services);
  const diagnostics = new VerifyDiagnostics(model);
  const configDocs = new MergedConfigProvider();
  services.context.subscriptions.push(
    model,
    diagnostics,
    configDocs,
    vscode.workspace.registerTextDocumentContentProvider(MergedConfigProvider.scheme, configDocs),
  );
  t = { services, model, diagnostics, configDocs };
  instances.set(services, t);
  return t;
}
