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
import { AccountFlows, type ProgressRunner } from '../../src/vscode/accounts/flows';
import { AccountManager, type SessionEndedEvent } from '../../src/vscode/accounts/manager';
import { InMemoryMemento, InMemorySecretBackend, type InMemorySecretStorage } from '../../src/vscode/accounts/memoryStorage';
import type { AccountsLog, SessionsChange, Timers } from '../../src/vscode/accounts/types';
import type { Prompts } from '../../src/vscode/prompts';

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

export interface Notification {
  kind: 'info' | 'warning' | 'error' | 'confirm';
  message: string;
  actions: string[];
}

/** Prompts answered from a script; records what the user would have seen. */
export class ScriptedPrompts implements Prompts {
  /** Answers for input boxes, in order (undefined = Escape). */
  readonly inputs: Array<string | undefined> = [];
  /** Quick-pick answers: the label (or a part of it) to choose; undefined = Escape. */
  readonly picks: Array<string | undefined> = [];
  /** Answers for modal confirmations and notifications with actions, in order. */
  readonly answers: Array<string | undefined> = [];
  readonly notifications: Notification[] = [];
  readonly inputBoxes: Array<{ title?: string; prompt?: string; password: boolean; value?: string }> = [];

  async inputBox(options: { title?: string; prompt?: string; password?: boolean; value?: string; validateInput?: (v: string) => unknown }): Promise<string | undefined> {
    this.inputBoxes.push({ title: options.title, prompt: options.prompt, password: options.password === true, value: options.value });
    if (this.inputs.length === 0) throw new Error(`Unexpected input box: ${options.title ?? ''} / ${options.prompt ?? ''}`);
    const answer = this.inputs.shift();
    if (answer !== undefined && options.validateInput) {
      const problem = await options.validateInput(answer);
      if (problem) throw new Error(`Scripted answer rejected by validateInput: ${String(problem)}`);
    }
    return answer;
  }

  readonly quickPicks: Array<{ labels: string[]; placeHolder?: string }> = [];

  async quickPick<T extends { label: string }>(items: readonly T[] | Thenable<readonly T[]>, options?: { placeHolder?: string }): Promise<T | undefined> {
    const list = await items;
    this.quickPicks.push({ labels: list.map((i) => i.label), placeHolder: options?.placeHolder });
    if (this.picks.length === 0) throw new Error(`Unexpected quick pick: ${list.map((i) => i.label).join(' | ')}`);
    const want = this.picks.shift();
    if (want === undefined) return undefined;
    const found = list.find((i) => i.label.includes(want));
    if (!found) throw new Error(`No quick-pick item "${want}" in ${list.map((i) => i.label).join(' | ')}`);
    return found;
  }

  async confirm(message: string, detail: string, ...actions: string[]): Promise<string | undefined> {
    this.notifications.push({ kind: 'confirm', message: `${message} ${detail}`, actions });
    return this.answers.shift();
  }

  async info(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('info', message, actions);
  }

  async warning(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('warning', message, actions);
  }

  async error(message: string, ...actions: string[]): Promise<string | undefined> {
    return this.note('error', message, actions);
  }

  private note(kind: Notification['kind'], message: string, actions: string[]): string | undefined {
    this.notifications.push({ kind, message, actions });
    return actions.length > 0 ? this.answers.shift() : undefined;
  }
}

export const immediateProgress: ProgressRunner = {
  run: (_title, task) => task(new AbortController().signal),
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
}

export class TestWindow {
  readonly log = new RecordingLog();
  readonly prompts = new ScriptedPrompts();
  readonly clipboard = new Clipboard();
  readonly http: HttpClient;
  readonly manager: AccountManager;
  readonly actions: AccountActions;
  readonly flows: AccountFlows;
  readonly sessionChanges: SessionsChange[] = [];
  readonly endedEvents: SessionEndedEvent[] = [];
  clockOffsetMs: number;

  constructor(readonly secrets: InMemorySecretStorage, world: TestWorld, opts: WindowOptions) {
    this.clockOffsetMs = opts.clockOffsetMs ?? 0;
    this.http = new HttpClient({ log: (e) => this.log.request(e), timeoutMs: opts.timeoutMs ?? 5_000 });
    this.manager = new AccountManager({
      secrets,
      memento: world.memento,
      lock: new FileLock(world.lockDir, { pollMs: 5 }),
      coherenceDir: world.lockDir,
      http: this.http,
      log: this.log,
      settings: { autoRotate: () => opts.autoRotate ?? false, rotationPolicy: () => opts.policy ?? { lifetimeFraction: 2 / 3, minMarginMs: 30_000 } },
      now: () => Date.now() + this.clockOffsetMs,
      timers: opts.timers,
      retryDelaysMs: [20, 40, 80],
      schedulerBackoffMs: [100, 200],
    });
    this.actions = new AccountActions(this.manager, { deviceDisplayName: 'Matrix DevTools (test)' });
    this.flows = new AccountFlows(this.manager, this.actions, this.prompts, immediateProgress, this.clipboard);
    this.manager.onDidChangeSessions((c) => this.sessionChanges.push(c));
    this.manager.onSessionEnded((e) => this.endedEvents.push(e));
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

  async dispose(): Promise<void> {
    for (const w of this.windows) w.dispose();
    await fs.rm(this.lockDir, { recursive: true, force: true });
  }
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
