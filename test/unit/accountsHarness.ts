// Simulated VS Code windows for the accounts tests: each window has its own
// AccountManager, HTTP client, log and prompts, like a window's extension host;
// all share one SecretStorage backend ("the keychain"), one globalState and
// one lock folder, as VS Code windows of one profile do.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLock } from '../../src/core/fileLock';
import { HttpClient, type HttpLogEntry } from '../../src/core/http';
import type { RotationPolicy } from '../../src/core/rotation';
import { AccountActions } from '../../src/vscode/accounts/actions';
import { AccountFlows } from '../../src/vscode/accounts/flows';
import type { ProgressRunner } from '../../src/vscode/progress';
import { AccountManager, type SessionEndedEvent } from '../../src/vscode/accounts/manager';
import { InMemoryMemento, InMemorySecretBackend, type InMemorySecretStorage } from '../support/memoryStorage';
import { SecretTokenStore } from '../../src/vscode/accounts/secretTokenStore';
import type { AccountsLog, SessionsChange, Timers } from '../../src/vscode/accounts/types';
import { showUnreadableData } from '../../src/vscode/accounts/unreadable';
import type { SecretStorageLike } from '../../src/vscode/ports';
import { ScriptedPrompts } from '../support/scriptedPrompts';

/** Raw log lines, NOT redacted: a token here means the code logged it. */
export class RecordingLog implements AccountsLog {
  readonly lines: string[] = [];
  info(m: string): void {
    this.lines.push(`[info] ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`[warn] ${m}`);
  }
  error(m: string): void {
    this.lines.push(`[error] ${m}`);
  }
  request(e: HttpLogEntry): void {
    this.lines.push(`[http] ${e.method} ${e.url} → ${e.status ?? e.failure} ${e.errcode ?? ''} (${e.durationMs} ms)`);
  }
}

export const immediateProgress: ProgressRunner = {
  run: (_title, task) => task(new AbortController().signal, { report: () => undefined }),
};

export class Clipboard {
  text: string | undefined;
  async writeText(text: string): Promise<void> {
    this.text = text;
  }
}

export interface WindowOptions {
  /** How late this window sees other windows' secret writes. */
  propagationDelayMs?: number;
  autoRotate?: boolean;
  policy?: RotationPolicy;
  /** Clock offset for this window's idea of now (tests of "token about to expire"). */
  clockOffsetMs?: number;
  timers?: Timers;
  timeoutMs?: number;
  /** How long this window's token store waits for another window's write to arrive. */
  catchUpTimeoutMs?: number;
  /** A remote or web window (sign in with a code first). */
  remoteWindow?: boolean;
  /** How long a browser sign-in waits. */
  browserTimeoutMs?: number;
  /** The matrixDevtools.allowInsecureHttp setting. */
  allowInsecureHttp?: boolean;
}

export class TestWindow<S extends SecretStorageLike = InMemorySecretStorage> {
  readonly log = new RecordingLog();
  readonly prompts = new ScriptedPrompts();
  readonly clipboard = new Clipboard();
  readonly http: HttpClient;
  readonly manager: AccountManager;
  readonly actions: AccountActions;
  readonly flows: AccountFlows;
  /** The window's secret entries, read the way the extension reads them (for assertions). */
  readonly tokens: SecretTokenStore;
  readonly sessionChanges: SessionsChange[] = [];
  readonly endedEvents: SessionEndedEvent[] = [];
  clockOffsetMs: number;

  constructor(
    readonly secrets: S,
    world: TestWorld,
    opts: WindowOptions,
  ) {
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
    this.http = new HttpClient({
      log: (e) => this.log.request(e),
      timeoutMs: opts.timeoutMs ?? 5_000,
      allowInsecureHttp: opts.allowInsecureHttp,
    });
    this.manager = new AccountManager({
      secrets,
      memento: world.memento,
      lock: new FileLock(world.lockDir, { pollMs: 5 }),
      coherenceDir: world.lockDir,
      http: this.http,
      log: this.log,
      settings: {
        autoRotate: () => opts.autoRotate ?? false,
        rotationPolicy: () => opts.policy ?? { lifetimeFraction: 2 / 3, minMarginMs: 30_000 },
      },
      now: () => Date.now() + this.clockOffsetMs,
      timers: opts.timers,
      retryDelaysMs: [20, 40, 80],
      catchUpTimeoutMs: opts.catchUpTimeoutMs,
      schedulerBackoffMs: [100, 200],
    });
    this.actions = new AccountActions(this.manager, { http: this.http, log: this.log, deviceDisplayName: 'Matrix DevTools (test)' });
    this.flows = new AccountFlows(this.manager, () => this.actions, this.prompts, immediateProgress, this.clipboard, this.log, {
      remoteWindow: opts.remoteWindow,
      browserTimeoutMs: opts.browserTimeoutMs,
    });
    this.tokens = new SecretTokenStore(secrets);
    this.manager.onDidChangeSessions((c) => this.sessionChanges.push(c));
    this.manager.onSessionEnded((e) => this.endedEvents.push(e));
    // As the extension shows them (src/vscode/accounts/index.ts).
    showUnreadableData(
      this.manager.onUnreadableData,
      (m, ...a) => this.prompts.warning(m, ...a),
      (id) => this.flows.signInAgain(id),
    );
  }

  dispose(): void {
    this.manager.dispose();
  }
}

export class TestWorld {
  readonly backend = new InMemorySecretBackend();
  readonly memento = new InMemoryMemento();
  readonly windows: TestWindow[] = [];

  private constructor(readonly lockDir: string) {}

  static async create(): Promise<TestWorld> {
    return new TestWorld(await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-accounts-')));
  }

  async openWindow(opts: WindowOptions = {}): Promise<TestWindow> {
    const w = new TestWindow(this.backend.openWindow(opts.propagationDelayMs ?? 0), this, opts);
    this.windows.push(w);
    await w.manager.load();
    return w;
  }

  /** A window over another SecretStorage (VS Code for the Web's, say), sharing globalState and the lock folder. */
  async openWindowWith<S extends SecretStorageLike>(secrets: S, opts: WindowOptions = {}): Promise<TestWindow<S>> {
    const w = new TestWindow(secrets, this, opts);
    this.windows.push(w as unknown as TestWindow);
    await w.manager.load();
    return w;
  }

  async dispose(): Promise<void> {
    for (const w of this.windows) w.dispose();
    // A rotation that was under way still writes its marker and lock files here.
    await Promise.all(this.windows.map((w) => w.manager.settled()));
    await fs.rm(this.lockDir, { recursive: true, force: true });
  }
}

export { eventually, ScriptedPrompts, type Notification } from '../support/scriptedPrompts';
