// In-memory stand-ins for VS Code's SecretStorage and globalState, for unit
// tests and for the host test suite. They behave like VS Code's across
// windows: every window has its own cached view of the shared store; a write
// is visible in the writing window at once and reaches the other windows
// (firing their onDidChange) after `propagationDelayMs`.
import { Emitter, type EventLike, type MementoLike, type SecretStorageLike } from '../../src/vscode/ports';

type Entries = Map<string, string>;

/** The shared backing store ("the keychain"). Open one view per simulated window. */
export class InMemorySecretBackend {
  private readonly views = new Set<InMemorySecretStorage>();

  /** A window's SecretStorage. `propagationDelayMs` is how late it sees other windows' writes. */
  openWindow(propagationDelayMs = 0): InMemorySecretStorage {
    const first = [...this.views][0];
    const view = new InMemorySecretStorage(this, propagationDelayMs, first ? new Map(first.snapshot()) : new Map());
    this.views.add(view);
    return view;
  }

  /** @internal */
  broadcast(from: InMemorySecretStorage, key: string, value: string | undefined): void {
    for (const view of this.views) if (view !== from) view.receive(key, value);
  }

  /** Every value any window wrote, as the writing windows see them (for "no token leaked" checks). */
  allValues(): string[] {
    return [...this.views].flatMap((v) => [...v.snapshot().values()]);
  }
}

export class InMemorySecretStorage implements SecretStorageLike {
  private readonly emitter = new Emitter<{ readonly key: string }>();
  readonly onDidChange: EventLike<{ readonly key: string }> = this.emitter.event;

  constructor(
    private readonly backend: InMemorySecretBackend | undefined,
    private readonly propagationDelayMs: number,
    private readonly entries: Entries = new Map(),
  ) {}

  /** A single window's store with no other windows. */
  static standalone(): InMemorySecretStorage {
    return new InMemorySecretBackend().openWindow();
  }

  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
    this.changed(key);
    this.backend?.broadcast(this, key, value);
  }

  async delete(key: string): Promise<void> {
    const had = this.entries.delete(key);
    if (had) this.changed(key);
    this.backend?.broadcast(this, key, undefined);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  snapshot(): ReadonlyMap<string, string> {
    return this.entries;
  }

  /** @internal Another window's write arriving. */
  receive(key: string, value: string | undefined): void {
    const apply = () => {
      if (value === undefined) {
        if (!this.entries.delete(key)) return;
      } else {
        if (this.entries.get(key) === value) return;
        this.entries.set(key, value);
      }
      this.changed(key);
    };
    // Infinity: a window whose copy never catches up, as in VS Code for the Web.
    if (this.propagationDelayMs === Infinity) return;
    if (this.propagationDelayMs > 0) setTimeout(apply, this.propagationDelayMs);
    else queueMicrotask(apply);
  }

  private changed(key: string): void {
    // VS Code fires onDidChange asynchronously, after the write completed.
    queueMicrotask(() => this.emitter.fire({ key }));
  }
}

/** globalState stand-in; several "windows" may share one instance. */
export class InMemoryMemento implements MementoLike {
  private readonly values = new Map<string, string>();

  get<T>(key: string): T | undefined {
    const json = this.values.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  async update(key: string, value: unknown): Promise<void> {
    // Stored as JSON, like VS Code: what cannot be serialised does not survive.
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.stringify(value));
  }

  keys(): readonly string[] {
    return [...this.values.keys()];
  }

  /** Everything stored, as text (for "no token leaked" checks). */
  dump(): string {
    return [...this.values.entries()].map(([k, v]) => `${k}=${v}`).join('\n');
  }
}
