// The Appservices feature: find registrations, ping them through their
// homeserver, check them directly, and explain every outcome in the
// "Matrix Appservices" output channel. This file only wires the parts.
import * as vscode from 'vscode';
import type { AccountsFeature } from '../accounts';
import { CONTEXT_KEYS, ContextKeys } from '../contextKeys';
import type { FeatureDeps } from '../deps';
import { Log } from '../log';
import { config, createHttpClient } from '../settings';
import { AppserviceCatalog } from './catalog';
import { registerAppserviceCommands } from './commands';
import { HomeserverMemory } from './homeservers';
import { AppserviceDoctorService } from './doctorService';
import { appserviceContextKeys } from './picker';
import { AppservicePingService, PingSettings } from './pingService';
import { AppservicesTreeProvider } from './tree';
import { displayPath, readTextFile, WorkspaceRegistrationSources } from './workspaceSources';

export interface AppservicesFeature {
  /** Internal, for the host test suite. */
  testApi: AppservicesTestApi & Record<string, unknown>;
}

export interface AppservicesTestApi {
  catalog: AppserviceCatalog;
  pings: AppservicePingService;
  doctor: AppserviceDoctorService;
  memory: HomeserverMemory;
  /** What the output channel received (redacted), oldest first. */
  outputLines(): readonly string[];
  rescan(): Promise<void>;
  /** Waits for the first full scan, starting it if nothing has asked for it yet. */
  loaded(): Promise<void>;
  diagnosticsFor(file: string): readonly vscode.Diagnostic[];
  /** The provider behind the Appservices view. */
  tree: AppservicesTreeProvider;
  /** The palette's context keys as this feature last set them. */
  contextKeys(): Record<string, boolean>;
  /** How often the registration watchers were (re)created and full scans ran. */
  sourceStats(): { watcherSets: number; scans: number };
  /** This extension's workspaceState entries (remembered homeservers, last pings), as JSON text. */
  workspaceStateText(): string;
}

export function pingSettings(): PingSettings {
  const c = config();
  return {
    pingTimeoutMs: Math.max(5, c.get<number>('pingTimeoutSeconds', 75)) * 1000,
    concurrency: Math.min(16, Math.max(1, Math.floor(c.get<number>('pingAllConcurrency', 4)))),
    revealOnFailure: c.get<boolean>('revealOutputOnPingFailure', true),
  };
}

export function registerAppservices(deps: FeatureDeps, accounts: AccountsFeature): AppservicesFeature {
  const { context, prompts } = deps;
  const log = new Log('Matrix Appservices');
  const catalog = new AppserviceCatalog(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  const memory = new HomeserverMemory(context.workspaceState);
  const output = {
    info: (l: string) => log.info(l),
    warn: (l: string) => log.warn(l),
    error: (l: string) => log.error(l),
    reveal: () => log.show(true),
  };
  const pings = new AppservicePingService({
    http: () => createHttpClient(log),
    readText: readTextFile,
    secrets: deps.secrets,
    state: context.workspaceState,
    output,
    settings: pingSettings,
    knownParse: (file, text) => catalog.parsedIfSame(file, text),
  });
  const doctor = new AppserviceDoctorService({
    http: () => createHttpClient(log),
    readText: readTextFile,
    catalog,
    output,
    settings: pingSettings,
    displayPath,
    state: context.workspaceState,
  });
  const sources = new WorkspaceRegistrationSources(catalog);
  const tree = new AppservicesTreeProvider(catalog, pings, memory, doctor, () => sources.load());
  const view = vscode.window.createTreeView('matrixDevtools.appservices', { treeDataProvider: tree, showCollapseAll: true });
  const contextKeys = new ContextKeys((key, value) => vscode.commands.executeCommand('setContext', key, value));
  const updateContextKeys = () => contextKeys.update(appserviceContextKeys(sources.items()));
  updateContextKeys();

  context.subscriptions.push(
    log,
    catalog,
    pings,
    doctor,
    sources,
    tree,
    view,
    // A file the watcher missed shows up when the user looks.
    view.onDidChangeVisibility((e) => {
      if (e.visible) void sources.rescan();
    }),
    catalog.onDidChange(() => {
      tree.repaint();
      updateContextKeys();
    }),
    sources.onDidChangePreview(updateContextKeys),
    pings.onDidChangeResult(() => tree.repaint()),
    doctor.onDidChange(() => tree.repaint()),
    context.secrets.onDidChange((e) => {
      if (e.key.startsWith('matrixDevtools.appservice.')) tree.repaint();
    }),
    registerAppserviceCommands({
      catalog,
      pings,
      memory,
      accounts,
      prompts,
      doctor,
      output,
      showLog: () => {
        log.show(false);
        contextKeys.update({ [CONTEXT_KEYS.appserviceLogShown]: true });
      },
      rescan: () => sources.rescan(),
      ready: () => sources.load(),
      repaintTree: () => tree.repaint(),
    }),
  );
  // Activation only lists the files (context keys); reading and parsing them waits until someone looks
  // (the view asks for its items when it is drawn).
  void sources.refresh();

  return {
    testApi: {
      catalog,
      pings,
      doctor,
      memory,
      outputLines: () => log.lines,
      rescan: () => sources.rescan(),
      loaded: () => sources.load(),
      diagnosticsFor: (file) => sources.diagnosticsFor(file),
      tree,
      contextKeys: () => contextKeys.snapshot(),
      sourceStats: () => ({ ...sources.stats }),
      workspaceStateText: () => {
        const keys = context.workspaceState.keys().filter((k) => k.startsWith('matrixDevtools.'));
        return JSON.stringify(Object.fromEntries(keys.map((k) => [k, context.workspaceState.get(k)])));
      },
    },
  };
}
