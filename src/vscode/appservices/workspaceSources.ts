// Keeps the catalog in step with the workspace: registration files matching
// the glob (watched), files named in the settings, and the Problems panel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { t } from '../../core/l10n';
import { config } from '../settings';
import { AppserviceCatalog, type AppserviceItem, AppserviceSettingsEntry } from './catalog';
import { CoalescingRunner } from '../../core/concurrency';
import { toDiagnosticData } from './diagnostics';

const DEFAULT_GLOB = '**/*registration*.{yaml,yml}';
/** Never searched, watched or rescanned for; `excluded` is the same rule for watcher events. */
const EXCLUDED_FOLDER = 'node_modules';
const EXCLUDE = `**/${EXCLUDED_FOLDER}/**`;
const excluded = (uri: vscode.Uri) => uri.fsPath.split(path.sep).includes(EXCLUDED_FOLDER);
const NEW_FOLDER_FIRST_PASS_MS = 300;
const NEW_FOLDER_SECOND_PASS_MS = 1_500;

export async function readTextFile(file: string): Promise<string> {
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.file(file)));
}

/**
 * Nothing is read or parsed at activation: `discover()` only lists the files
 * (for the palette's context keys); the first `load()` (the Appservices view
 * shown, a command that needs appservices, a registration file opened) reads
 * and parses them, and from then on every change rescans.
 */
export class WorkspaceRegistrationSources implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('matrix-registration');
  private readonly disposables: vscode.Disposable[] = [this.diagnostics];
  private watchers: vscode.Disposable[] = [];
  /** What the current watchers watch; they are recreated only when this changes. */
  private watching: string | undefined;
  private folderScan: ReturnType<typeof setTimeout> | undefined;
  /** For the host tests: how often watchers were (re)created and full scans ran. */
  readonly stats = { watcherSets: 0, scans: 0 };
  private readonly scans = new CoalescingRunner(() => this.scan());
  private readonly discoveries = new CoalescingRunner(() => this.discoverOnce());
  /** The first full scan, once something asked for it. */
  private loaded: Promise<void> | undefined;
  /** The files have been read at least once: the catalog is the truth from then on. */
  private read = false;
  /** Before that, what the catalog will hold, from the file names alone. */
  private preview: AppserviceItem[] = [];
  private readonly previewChanged = new vscode.EventEmitter<void>();
  /** Fires when `items()` changed before the first load (afterwards the catalog's onDidChange does). */
  readonly onDidChangePreview = this.previewChanged.event;

  constructor(private readonly catalog: AppserviceCatalog) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('matrixDevtools.appservices') || e.affectsConfiguration('matrixDevtools.registrationGlob')) {
          void this.refresh();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
      vscode.workspace.onDidOpenTextDocument((doc) => this.loadIfRegistration(doc)),
      catalog.onDidChange(() => this.publishDiagnostics()),
      this.previewChanged,
    );
    for (const editor of vscode.window.visibleTextEditors) this.loadIfRegistration(editor.document);
  }

  /** Reads and parses every registration the first time; later calls only wait for that first load. */
  load(): Promise<void> {
    return (this.loaded ??= this.rescan());
  }

  /**
   * The appservices the palette's context keys are computed from: the catalog
   * once it was read, before that the files found and the settings entries.
   */
  items(): AppserviceItem[] {
    return this.read ? this.catalog.items() : this.preview;
  }

  /** Lists the files (no file read, no YAML) until the first load; rescans after it. */
  refresh(): Promise<void> {
    return this.loaded ? this.rescan() : this.discoveries.run();
  }

  /**
   * Full rescan. Resolves once a scan that started after this call is done, so
   * a caller sees what it just changed; calls made during a scan share one follow-up.
   */
  rescan(): Promise<void> {
    const scan = this.scans.run();
    this.loaded ??= scan;
    return scan;
  }

  /** The diagnostics currently shown for a file (for the host tests). */
  diagnosticsFor(file: string): readonly vscode.Diagnostic[] {
    return this.diagnostics.get(vscode.Uri.file(file)) ?? [];
  }

  dispose(): void {
    if (this.folderScan) clearTimeout(this.folderScan);
    vscode.Disposable.from(...this.watchers, ...this.disposables).dispose();
  }

  private async scan(): Promise<void> {
    this.stats.scans++;
    const { entries, glob } = this.settings();
    this.catalog.setBaseDir(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    this.catalog.setEntries(entries);
    const found = await this.find(glob);
    const files = new Set([...found, ...this.catalog.settingsFiles()]);
    const loaded = await Promise.all([...files].map(async (file) => [file, await this.readRegistration(file)] as const));
    this.read = true;
    // A settings file that does not exist stays out of the catalog: its entry reports "not found".
    this.catalog.replaceFiles(loaded.filter(([, content]) => content !== undefined) as Array<[string, string | { unreadable: string }]>);
    this.watch(glob);
  }

  /** What the first scan will find, without reading a file: the same entries and glob, files unread. */
  private async discoverOnce(): Promise<void> {
    const { entries, glob } = this.settings();
    const found = await this.find(glob);
    if (this.loaded) return;
    const preview = new AppserviceCatalog(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
    preview.setEntries(entries);
    preview.replaceFiles(found.map((file) => [file, { unreadable: t('not read yet') }]));
    this.preview = preview.items();
    preview.dispose();
    this.previewChanged.fire();
    this.watch(glob);
  }

  private settings(): { entries: AppserviceSettingsEntry[]; glob: string } {
    const c = config();
    return {
      entries: c.get<AppserviceSettingsEntry[]>('appservices', []) ?? [],
      glob: c.get<string>('registrationGlob', DEFAULT_GLOB) || DEFAULT_GLOB,
    };
  }

  private async find(glob: string): Promise<string[]> {
    if (!vscode.workspace.workspaceFolders?.length) return [];
    return (await vscode.workspace.findFiles(glob, EXCLUDE)).map((u) => u.fsPath);
  }

  /** A registration file opened in an editor gets its diagnostics without the view being shown. */
  private loadIfRegistration(doc: vscode.TextDocument): void {
    if (this.loaded || doc.uri.scheme !== 'file' || excluded(doc.uri)) return;
    if (vscode.languages.match({ pattern: this.settings().glob }, doc) > 0) void this.load();
  }

  /**
   * Runs the events of one file one after the other: a change event's read that
   * is still under way when the file is deleted must not put it back afterwards.
   */
  private inOrder(file: string, task: () => Promise<void>): Promise<void> {
    const next = (this.pending.get(file) ?? Promise.resolve()).then(task, task);
    this.pending.set(file, next);
    void next.finally(() => {
      if (this.pending.get(file) === next) this.pending.delete(file);
    });
    return next;
  }

  private readonly pending = new Map<string, Promise<void>>();

  private async readRegistration(file: string): Promise<string | { unreadable: string } | undefined> {
    try {
      return await readTextFile(file);
    } catch (e) {
      if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return undefined;
      return { unreadable: e instanceof Error ? e.message : String(e) };
    }
  }

  private watch(glob: string): void {
    const settingsFiles = this.catalog.settingsFiles();
    const key = JSON.stringify([glob, [...settingsFiles].sort(), vscode.workspace.workspaceFolders?.map((f) => f.uri.toString())]);
    if (key === this.watching) return;
    this.watching = key;
    this.stats.watcherSets++;
    vscode.Disposable.from(...this.watchers).dispose();
    this.watchers = [];
    const onChange = (uri: vscode.Uri) =>
      this.inOrder(uri.fsPath, async () => {
        if (excluded(uri)) return;
        if (!this.loaded) return this.refresh();
        const content = await this.readRegistration(uri.fsPath);
        if (content === undefined) this.catalog.removeFile(uri.fsPath);
        else this.catalog.setFile(uri.fsPath, content);
      });
    const onDelete = (uri: vscode.Uri) =>
      this.inOrder(uri.fsPath, async () => (this.loaded ? this.catalog.removeFile(uri.fsPath) : this.refresh()));
    const patterns: vscode.GlobPattern[] = [glob];
    for (const file of settingsFiles) {
      patterns.push(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    }
    for (const pattern of patterns) {
      const watcher = vscode.workspace.createFileSystemWatcher(pattern);
      watcher.onDidCreate(onChange);
      watcher.onDidChange(onChange);
      watcher.onDidDelete(onDelete);
      this.watchers.push(watcher);
    }
    // code-server's watcher misses files written right after their folder was
    // created: look into every new folder (a little later, once more) instead.
    const folders = vscode.workspace.createFileSystemWatcher('**/*', false, true, true);
    folders.onDidCreate((uri) => void this.onCreated(uri));
    this.watchers.push(folders);
  }

  private async onCreated(uri: vscode.Uri): Promise<void> {
    if (excluded(uri)) return;
    const stat = await Promise.resolve(vscode.workspace.fs.stat(uri)).catch(() => undefined);
    if (!stat || (stat.type & vscode.FileType.Directory) === 0) return;
    if (this.folderScan) clearTimeout(this.folderScan);
    // One pass soon (files written with the folder), one later (files written just after).
    this.folderScan = setTimeout(() => {
      void this.refresh();
      this.folderScan = setTimeout(() => {
        this.folderScan = undefined;
        void this.refresh();
      }, NEW_FOLDER_SECOND_PASS_MS);
    }, NEW_FOLDER_FIRST_PASS_MS);
  }

  private publishDiagnostics(): void {
    const known = new Set(this.catalog.knownFiles());
    this.diagnostics.forEach((uri) => {
      if (!known.has(uri.fsPath)) this.diagnostics.delete(uri);
    });
    for (const file of known) {
      const diagnostics = toDiagnosticData(this.catalog.problemsForFile(file)).map((d) => {
        const range = new vscode.Range(d.range.startLine, d.range.startCharacter, d.range.endLine, d.range.endCharacter);
        const diagnostic = new vscode.Diagnostic(
          range,
          d.message,
          d.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error,
        );
        diagnostic.source = d.source;
        diagnostic.code = d.code;
        return diagnostic;
      });
      this.diagnostics.set(vscode.Uri.file(file), diagnostics);
    }
  }
}

/** For messages: a path relative to the workspace when it is inside it. */
export function displayPath(file: string): string {
  const rel = vscode.workspace.asRelativePath(file, true);
  return rel || file || t('(unknown file)');
}
