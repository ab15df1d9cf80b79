// The few things the appservice model needs from its host, as small
// interfaces: VS Code's Memento, SecretStorage and LogOutputChannel fit them,
// and plain-Node tests pass in-memory versions.

/** workspaceState (vscode.Memento) */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** vscode.SecretStorage */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** Where ping reports go: the "Matrix Appservices" output channel. */
export interface OutputSink {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
  /** Bring the output to the front without taking focus. */
  reveal(): void;
}

/** A minimal event, so the model does not need vscode.EventEmitter. */
export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
