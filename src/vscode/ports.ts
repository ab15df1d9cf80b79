// The few things the extension's models need from VS Code, as small
// interfaces: vscode.SecretStorage, vscode.Memento and vscode.Disposable fit
// them, so the models run unchanged in plain-Node tests (whose in-memory
// versions live in test/support/memoryStorage.ts). Also the one event emitter
// and the one Disposable base the models use.

export interface DisposableLike {
  dispose(): unknown;
}

/** Same shape as `vscode.Event` (extra arguments omitted). */
export type EventLike<T> = (listener: (e: T) => unknown) => DisposableLike;

/** The part of `vscode.SecretStorage` the models use. */
export interface SecretStorageLike {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
  onDidChange: EventLike<{ readonly key: string }>;
  /** Throws when a write from this window would put an older copy back (see coherentSecrets.ts). */
  assertCurrent?(): Promise<void>;
}

/** The part of `vscode.Memento` (globalState, workspaceState) the models use. */
export interface MementoLike {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

let reportListenerError: (error: unknown) => void = (error) => console.error('Matrix DevTools: an event listener failed:', error);

/** Where a failing listener's error goes (the extension sends it to its log at activation). */
export function setListenerErrorHandler(handler: (error: unknown) => void): void {
  reportListenerError = handler;
}

/** vscode.EventEmitter's surface: a failing listener is reported and does not stop the others. */
export class Emitter<T> implements DisposableLike {
  private readonly listeners = new Set<(e: T) => unknown>();

  readonly event: EventLike<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(e: T): void {
    for (const listener of [...this.listeners]) {
      try {
        const result = listener(e);
        if (result instanceof Promise) result.catch(reportListenerError);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** Owns what it registers and disposes it once, newest first (like VS Code's own Disposable base). */
export abstract class Disposable implements DisposableLike {
  private readonly owned: DisposableLike[] = [];
  private disposedAlready = false;

  protected get isDisposed(): boolean {
    return this.disposedAlready;
  }

  protected _register<D extends DisposableLike>(d: D): D {
    if (this.disposedAlready) d.dispose();
    else this.owned.push(d);
    return d;
  }

  dispose(): void {
    if (this.disposedAlready) return;
    this.disposedAlready = true;
    for (const d of this.owned.splice(0).reverse()) {
      try {
        d.dispose();
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
