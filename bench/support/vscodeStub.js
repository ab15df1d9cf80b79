// A stand-in for the `vscode` module, enough for dist/extension.js to load and
// activate() in a plain Node process (bench/activation.js). Not a test double
// for behaviour: it records what activation asked for (commands, views) and keeps
// secrets/globalState in memory, optionally loaded from and saved to a JSON file
// (BENCH_VSCODE_STATE) so that a later process starts with accounts.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const Module = require('node:module');

const statePath = process.env.BENCH_VSCODE_STATE;
const workspace = process.env.BENCH_WORKSPACE;
const saved = statePath && fs.existsSync(statePath) ? JSON.parse(fs.readFileSync(statePath, 'utf8')) : {};

class Disposable {
  constructor(fn) {
    this.fn = fn;
  }
  dispose() {
    if (this.fn) this.fn();
    this.fn = undefined;
  }
  static from(...items) {
    return new Disposable(() => items.forEach((d) => d && d.dispose && d.dispose()));
  }
}
class EventEmitter {
  constructor() {
    this.listeners = new Set();
    this.event = (fn, thisArg) => {
      const l = thisArg ? fn.bind(thisArg) : fn;
      this.listeners.add(l);
      return new Disposable(() => this.listeners.delete(l));
    };
  }
  fire(e) {
    for (const l of [...this.listeners]) l(e);
  }
  dispose() {
    this.listeners.clear();
  }
}
const noEvent = () => new Disposable();
class Uri {
  constructor(scheme, p) {
    this.scheme = scheme;
    this.path = p;
    this.fsPath = p;
    this.authority = '';
    this.query = '';
    this.fragment = '';
  }
  static file(p) {
    return new Uri('file', path.resolve(p));
  }
  static parse(s) {
    const u = new URL(s);
    return new Uri(u.protocol.replace(':', ''), decodeURIComponent(u.pathname));
  }
  static joinPath(base, ...parts) {
    return new Uri(base.scheme, path.join(base.fsPath, ...parts));
  }
  with(change) {
    return new Uri(change.scheme ?? this.scheme, change.path ?? this.path);
  }
  toString() {
    return `${this.scheme}://${this.path}`;
  }
}
class TreeItem {
  constructor(label, collapsibleState) {
    this.label = label;
    this.collapsibleState = collapsibleState;
  }
}
class ThemeIcon {
  constructor(id, color) {
    this.id = id;
    this.color = color;
  }
}
ThemeIcon.File = new ThemeIcon('file');
ThemeIcon.Folder = new ThemeIcon('folder');
class ThemeColor {
  constructor(id) {
    this.id = id;
  }
}
class MarkdownString {
  constructor(value = '', supportThemeIcons) {
    this.value = value;
    this.supportThemeIcons = supportThemeIcons;
  }
  appendMarkdown(s) {
    this.value += s;
    return this;
  }
  appendText(s) {
    this.value += s;
    return this;
  }
  appendCodeblock(s) {
    this.value += `\n\`\`\`\n${s}\n\`\`\`\n`;
    return this;
  }
}
class Position {
  constructor(line, character) {
    this.line = line;
    this.character = character;
  }
}
class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') {
      this.start = new Position(a, b);
      this.end = new Position(c, d);
    } else {
      this.start = a;
      this.end = b;
    }
  }
}
class Diagnostic {
  constructor(range, message, severity) {
    this.range = range;
    this.message = message;
    this.severity = severity;
  }
}
class RelativePattern {
  constructor(base, pattern) {
    this.base = base;
    this.baseUri = typeof base === 'string' ? Uri.file(base) : (base.uri ?? base);
    this.pattern = pattern;
  }
}
class FileSystemError extends Error {
  static FileNotFound(m) {
    const e = new FileSystemError(String(m));
    e.code = 'FileNotFound';
    return e;
  }
}

class Memento {
  constructor(data = {}) {
    this.data = data;
  }
  get(key, def) {
    return key in this.data ? this.data[key] : def;
  }
  update(key, value) {
    if (value === undefined) delete this.data[key];
    else this.data[key] = value;
    return Promise.resolve();
  }
  keys() {
    return Object.keys(this.data);
  }
  setKeysForSync() {}
}
class Secrets {
  constructor(data = {}) {
    this.data = data;
    this.changed = new EventEmitter();
    this.onDidChange = this.changed.event;
  }
  get(key) {
    return Promise.resolve(this.data[key]);
  }
  store(key, value) {
    this.data[key] = value;
    this.changed.fire({ key });
    return Promise.resolve();
  }
  delete(key) {
    delete this.data[key];
    this.changed.fire({ key });
    return Promise.resolve();
  }
  keys() {
    return Promise.resolve(Object.keys(this.data));
  }
}

/** What activation registered, for the benchmarks to drive. */
const recorded = { commands: new Map(), treeViews: new Map(), outputChannels: [], context: new Map() };

function outputChannel(name) {
  const lines = [];
  const ch = {
    name,
    lines,
    logLevel: 2,
    onDidChangeLogLevel: noEvent,
    show() {},
    hide() {},
    clear() {
      lines.length = 0;
    },
    dispose() {},
    replace() {},
  };
  for (const m of ['append', 'appendLine', 'trace', 'debug', 'info', 'warn', 'error'])
    ch[m] = (s) => {
      if (lines.length < 1000) lines.push(String(s));
    };
  recorded.outputChannels.push(ch);
  return ch;
}

function walk(dir, out, depth = 0) {
  if (depth > 6) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out, depth + 1);
    else if (/registration.*\.ya?ml$/.test(e.name)) out.push(Uri.file(p));
  }
  return out;
}

const settings = saved.settings ?? {};
const format = (message, ...args) => {
  const text = typeof message === 'string' ? message : message.message;
  const values = typeof message === 'string' ? args : (message.args ?? []);
  return text.replace(/\{(\d+)\}/g, (m, i) => (i < values.length ? String(values[Number(i)]) : m));
};

const vscode = {
  version: '1.100.0',
  Disposable,
  EventEmitter,
  Uri,
  TreeItem,
  ThemeIcon,
  ThemeColor,
  MarkdownString,
  Position,
  Range,
  Diagnostic,
  RelativePattern,
  FileSystemError,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  ExtensionMode: { Production: 1, Development: 2, Test: 3 },
  UIKind: { Desktop: 1, Web: 2 },
  l10n: { t: format, bundle: undefined, uri: undefined },
  env: {
    appName: 'Visual Studio Code',
    machineId: 'bench',
    language: 'en',
    uiKind: 1,
    remoteName: undefined,
    clipboard: { writeText: () => Promise.resolve(), readText: () => Promise.resolve('') },
    openExternal: () => Promise.resolve(true),
  },
  commands: {
    registerCommand(id, fn) {
      recorded.commands.set(id, fn);
      return new Disposable(() => recorded.commands.delete(id));
    },
    executeCommand(id, ...args) {
      if (id === 'setContext') recorded.context.set(args[0], args[1]);
      const fn = recorded.commands.get(id);
      return Promise.resolve(fn ? fn(...args) : undefined);
    },
  },
  window: {
    createOutputChannel: outputChannel,
    createTreeView(id, options) {
      const visibility = new EventEmitter();
      const view = {
        visible: true,
        onDidChangeVisibility: visibility.event,
        onDidChangeSelection: noEvent,
        onDidExpandElement: noEvent,
        onDidCollapseElement: noEvent,
        selection: [],
        reveal: () => Promise.resolve(),
        dispose() {},
        options,
      };
      recorded.treeViews.set(id, view);
      return view;
    },
    registerTreeDataProvider(id, provider) {
      recorded.treeViews.set(id, { options: { treeDataProvider: provider } });
      return new Disposable();
    },
    withProgress(_options, task) {
      const token = { isCancellationRequested: false, onCancellationRequested: noEvent };
      return Promise.resolve(task({ report() {} }, token));
    },
    showInformationMessage: () => Promise.resolve(undefined),
    showWarningMessage: () => Promise.resolve(undefined),
    showErrorMessage: () => Promise.resolve(undefined),
    showInputBox: () => Promise.resolve(undefined),
    showQuickPick: () => Promise.resolve(undefined),
    showTextDocument: () => Promise.resolve(undefined),
    onDidChangeWindowState: noEvent,
    visibleTextEditors: [],
    state: { focused: true },
  },
  workspace: {
    workspaceFolders: workspace ? [{ uri: Uri.file(workspace), name: path.basename(workspace), index: 0 }] : undefined,
    getConfiguration(section) {
      const prefix = section ? `${section}.` : '';
      return {
        get: (key, def) => (prefix + key in settings ? settings[prefix + key] : def),
        has: (key) => prefix + key in settings,
        inspect: (key) => ({ key: prefix + key, globalValue: settings[prefix + key] }),
        update: (key, value) => {
          settings[prefix + key] = value;
          return Promise.resolve();
        },
      };
    },
    onDidChangeConfiguration: noEvent,
    onDidChangeWorkspaceFolders: noEvent,
    onDidSaveTextDocument: noEvent,
    onDidOpenTextDocument: noEvent,
    onDidChangeTextDocument: noEvent,
    // VS Code's search runs in another process and answers later: the walk is not the caller's time.
    findFiles: () => new Promise((resolve) => setImmediate(() => resolve(workspace ? walk(workspace, []) : []))),
    createFileSystemWatcher: () => ({ onDidChange: noEvent, onDidCreate: noEvent, onDidDelete: noEvent, dispose() {} }),
    asRelativePath: (p) => (workspace ? path.relative(workspace, typeof p === 'string' ? p : p.fsPath) : String(p)),
    fs: {
      readFile: (uri) => fs.promises.readFile(uri.fsPath).then((b) => new Uint8Array(b)),
      writeFile: (uri, data) => fs.promises.writeFile(uri.fsPath, data),
      stat: (uri) =>
        fs.promises.stat(uri.fsPath).then((s) => ({ type: s.isDirectory() ? 2 : 1, size: s.size, mtime: s.mtimeMs, ctime: s.ctimeMs })),
    },
  },
  languages: {
    createDiagnosticCollection(name) {
      const map = new Map();
      return {
        name,
        set: (uri, d) => map.set(uri.toString(), d),
        delete: (uri) => map.delete(uri.toString()),
        clear: () => map.clear(),
        get: (uri) => map.get(uri.toString()),
        has: (uri) => map.has(uri.toString()),
        forEach: (fn) => map.forEach((d, u) => fn(Uri.parse(u), d)),
        dispose: () => map.clear(),
      };
    },
  },
  authentication: {
    registerAuthenticationProvider: () => new Disposable(),
    getSession: () => Promise.resolve(undefined),
    onDidChangeSessions: noEvent,
  },
};

/** An ExtensionContext with in-memory storage, loaded from BENCH_VSCODE_STATE when it exists. */
function createContext() {
  // BENCH_GLOBAL_STORAGE: a folder kept from one process to the next, as VS Code keeps globalStorage
  // (the code cache lives there); otherwise a new empty one, as at the first start.
  const storage = process.env.BENCH_GLOBAL_STORAGE || fs.mkdtempSync(path.join(os.tmpdir(), 'bench-vscode-'));
  const context = {
    subscriptions: [],
    secrets: new Secrets(saved.secrets),
    globalState: new Memento(saved.globalState),
    workspaceState: new Memento(saved.workspaceState),
    globalStorageUri: Uri.file(storage),
    storageUri: Uri.file(path.join(storage, 'ws')),
    logUri: Uri.file(path.join(storage, 'log')),
    extensionUri: Uri.file(path.resolve(__dirname, '../..')),
    extensionPath: path.resolve(__dirname, '../..'),
    extensionMode: 1,
    environmentVariableCollection: {},
    asAbsolutePath: (p) => path.resolve(__dirname, '../..', p),
  };
  context.save = () => {
    if (statePath)
      fs.writeFileSync(
        statePath,
        JSON.stringify({
          settings,
          secrets: context.secrets.data,
          globalState: context.globalState.data,
          workspaceState: context.workspaceState.data,
        }),
      );
  };
  return context;
}

/** Makes `require('vscode')` return the stub, as the extension host does with the real API. */
function install() {
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    return request === 'vscode' ? __filename : resolve.call(this, request, ...rest);
  };
}

// The real API object has a property for every runtime export of @types/vscode
// (namespaces, classes, enums), and bundles pay per property when they copy it
// (esbuild's __toESM). The names the stub does not implement are placeholders.
// vscodeApiNames.json: the `\texport (class|enum|namespace|const|function|let) Name`
// lines of node_modules/@types/vscode/index.d.ts (the engine's version).
for (const name of require('./vscodeApiNames.json')) if (!(name in vscode)) vscode[name] = {};

module.exports = vscode;
Object.defineProperty(vscode, '__bench', { value: { install, createContext, recorded } });
