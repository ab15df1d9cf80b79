// SecretStorage as VS Code for the Web (code-server) has it: one persisted map
// (the browser's localStorage); each window loads its own copy once, when it
// opens, and on every write saves its WHOLE copy back. Another window's write
// never reaches an open window; only a reload (a new window) sees it.
import { Emitter, type SecretStorageLike } from '../../src/vscode/ports';

export class WebSecretBackend {
  private persisted = new Map<string, string>();

  /** A window opened (or reloaded) now: a copy of what is persisted. */
  openWindow(): WebWindowSecrets {
    return new WebWindowSecrets(this, new Map(this.persisted));
  }

  /** What the next window would load. */
  persistedValue(key: string): string | undefined {
    return this.persisted.get(key);
  }

  /** @internal */
  save(copy: ReadonlyMap<string, string>): void {
    this.persisted = new Map(copy);
  }
}

export class WebWindowSecrets implements SecretStorageLike {
  private readonly emitter = new Emitter<{ readonly key: string }>();
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly backend: WebSecretBackend,
    private readonly copy: Map<string, string>,
  ) {}

  async get(key: string): Promise<string | undefined> {
    return this.copy.get(key);
  }

  async store(key: string, value: string): Promise<void> {
    this.copy.set(key, value);
    this.backend.save(this.copy);
    queueMicrotask(() => this.emitter.fire({ key }));
  }

  async delete(key: string): Promise<void> {
    this.copy.delete(key);
    this.backend.save(this.copy);
    queueMicrotask(() => this.emitter.fire({ key }));
  }
}
