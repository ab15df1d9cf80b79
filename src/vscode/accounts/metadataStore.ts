// Non-secret account facts in globalState (a Memento). Read fresh on every
// call: VS Code updates a window's globalState when another window writes it.
// An entry this version cannot read (damaged, or a newer version's) is left
// out of the list but written back as it was; a value that is not a list at
// all is copied to its own key before the first write replaces it.
import { type AccountMetadata } from './types';
import { Emitter, type MementoLike } from '../ports';

export const METADATA_KEY = 'matrixDevtools.accounts';
/** Prefix of the key a whole unreadable value is copied to (with the time of the copy). */
export const UNREADABLE_METADATA_KEY_PREFIX = 'matrixDevtools.accounts.unreadable.';

export class AccountMetadataStore {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly changed = new Emitter<void>();
  /** Fires after every write made through this store. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly memento: MementoLike) {}

  list(): AccountMetadata[] {
    const value = this.memento.get<unknown>(METADATA_KEY);
    return Array.isArray(value) ? value.filter(isMetadata) : [];
  }

  /** How many stored entries this version cannot read (a whole value that is not a list counts as one). */
  unreadableCount(): number {
    const value = this.memento.get<unknown>(METADATA_KEY);
    if (value === undefined) return 0;
    return Array.isArray(value) ? value.filter((v) => !isMetadata(v)).length : 1;
  }

  get(id: string): AccountMetadata | undefined {
    return this.list().find((a) => a.id === id);
  }

  /** Adds or replaces the entry with this id (order kept). */
  upsert(account: AccountMetadata): Promise<void> {
    return this.change((all) => {
      const i = all.findIndex((a) => a.id === account.id);
      if (i >= 0) all[i] = account;
      else all.push(account);
    });
  }

  /** Changes some fields; `undefined` values remove the field. No-op for an unknown id. */
  patch(id: string, fields: Partial<AccountMetadata>): Promise<void> {
    return this.change((all) => {
      const a = all.find((x) => x.id === id);
      if (!a) return;
      for (const [k, v] of Object.entries(fields)) {
        if (v === undefined) delete (a as unknown as Record<string, unknown>)[k];
        else (a as unknown as Record<string, unknown>)[k] = v;
      }
    });
  }

  remove(id: string): Promise<void> {
    return this.change((all) => {
      const i = all.findIndex((a) => a.id === id);
      if (i >= 0) all.splice(i, 1);
    });
  }

  /** Read-modify-write, one at a time in this window. */
  private change(edit: (all: AccountMetadata[]) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const value = this.memento.get<unknown>(METADATA_KEY);
      if (value !== undefined && !Array.isArray(value)) {
        await this.memento.update(`${UNREADABLE_METADATA_KEY_PREFIX}${Date.now()}`, value);
      }
      const kept = Array.isArray(value) ? value.filter((v) => !isMetadata(v)) : [];
      const all = this.list().map((a) => ({ ...a }));
      edit(all);
      await this.memento.update(METADATA_KEY, [...all, ...kept]);
      this.changed.fire();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

const STATES: ReadonlySet<unknown> = new Set(['signedIn', 'needsSignIn', 'signedOut']);

/** The fields the model relies on without checking again. */
function isMetadata(v: unknown): v is AccountMetadata {
  const a = v as AccountMetadata;
  return (
    !!a &&
    typeof a === 'object' &&
    typeof a.id === 'string' &&
    typeof a.userId === 'string' &&
    typeof a.homeserverUrl === 'string' &&
    URL.canParse(a.homeserverUrl) &&
    typeof a.serverName === 'string' &&
    typeof a.deviceId === 'string' &&
    STATES.has(a.state) &&
    Array.isArray(a.specVersions)
  );
}
