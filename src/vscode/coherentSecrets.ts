// VS Code for the Web (code-server) loads SecretStorage into each window once
// and saves the window's WHOLE copy on every write. A window that never saw
// another window's write (a rotation, a new account, an appservice token) and
// then stores any secret puts its older copy of every other secret back: the
// next reload loads dead tokens and the session is gone.
//
// So every secret write of this extension goes through here. Under one lock
// shared by the windows of the profile, a window first checks that its copy
// has seen the last write — a generation kept both inside SecretStorage and in
// a marker file next to the locks (a random id and a time, nothing derived
// from a secret) — and refuses the write when it has not. Desktop VS Code
// propagates writes between windows, so there the check only waits (bounded)
// for this window's copy to catch up.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { FileLock, type ExclusiveLock } from '../core/fileLock';
import { sleep } from '../core/http';
import { t } from '../core/l10n';
import type { AccountsLog } from './accounts/types';
import type { EventLike, SecretStorageLike } from './ports';
import { nodeCrypto } from '../core/nodeModules';

/** The SecretStorage key of the generation (not a secret itself). */
export const SECRET_GENERATION_KEY = 'matrixDevtools.secretStore.generation';
const LOCK_KEY = 'matrixDevtools.secretStore';
const MARKER_FILE = 'secret-store.generation';

/** This window's copy of SecretStorage is older than another window's last write: nothing was written. */
export class StaleSecretStoreError extends Error {
  readonly name = 'StaleSecretStoreError';
  constructor() {
    super(
      t(
        'Another VS Code window changed the stored Matrix secrets after this window loaded them, so this window saved nothing (its older copy would overwrite them). Reload this window, then try again.',
      ),
    );
  }
}

interface Generation {
  id: string;
  /** Date.now() of the write, strictly increasing per window. */
  writtenAt: number;
}

export interface CoherentSecretStorageOptions {
  /** Folder shared by every window of the profile (the lock folder). */
  dir: string;
  lock: ExclusiveLock;
  /** How long a write waits for this window's copy to catch up (desktop VS Code propagates). */
  catchUpTimeoutMs?: number;
  log?: Pick<AccountsLog, 'info' | 'warn'>;
}

export class CoherentSecretStorage implements SecretStorageLike {
  readonly onDidChange: EventLike<{ readonly key: string }>;
  private readonly catchUpTimeoutMs: number;
  /** The marker generation this window waited for in vain: later checks do not wait for it again. */
  private neverArrived: string | undefined;
  private lastWriteTime = 0;

  constructor(
    private readonly inner: SecretStorageLike,
    private readonly options: CoherentSecretStorageOptions,
  ) {
    this.onDidChange = inner.onDidChange;
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
  }

  get(key: string): Thenable<string | undefined> {
    return this.inner.get(key);
  }

  store(key: string, value: string): Promise<void> {
    return this.write(() => this.inner.store(key, value));
  }

  delete(key: string): Promise<void> {
    return this.write(() => this.inner.delete(key));
  }

  /**
   * Throws StaleSecretStoreError when a write from this window would put an
   * older copy back. Callers ask before work that cannot be repeated for free
   * (a sign-in creates a device, a /refresh ends the old refresh token).
   */
  async assertCurrent(): Promise<void> {
    const deadline = Date.now() + this.catchUpTimeoutMs;
    for (let waited = false; ; waited = true) {
      const marker = await this.readMarker();
      const mine = parseGeneration(await this.inner.get(SECRET_GENERATION_KEY));
      // Newer than the marker: this window wrote and stopped before updating the marker.
      if (!marker || marker.id === mine?.id || (mine && mine.writtenAt > marker.writtenAt)) {
        if (waited) this.options.log?.info('This window picked up the secrets another window stored.');
        this.neverArrived = undefined;
        return;
      }
      if (this.neverArrived === marker.id) throw new StaleSecretStoreError();
      if (Date.now() >= deadline) {
        this.neverArrived = marker.id;
        this.options.log?.warn(
          `The secret store of this window did not catch up with another window's write within ${this.catchUpTimeoutMs} ms; this window stores no secret until it is reloaded.`,
        );
        throw new StaleSecretStoreError();
      }
      await sleep(25);
    }
  }

  private write(op: () => Thenable<void>): Promise<void> {
    return this.options.lock.run(LOCK_KEY, async () => {
      await this.assertCurrent();
      await op();
      this.lastWriteTime = Math.max(Date.now(), this.lastWriteTime + 1);
      const next: Generation = { id: nodeCrypto().randomUUID(), writtenAt: this.lastWriteTime };
      // Inside SecretStorage first: a window saves its whole copy, so this copy
      // now holds the write and its generation together.
      await this.inner.store(SECRET_GENERATION_KEY, JSON.stringify(next));
      await this.writeMarker(next);
    });
  }

  private markerFile(): string {
    return path.join(this.options.dir, MARKER_FILE);
  }

  private async readMarker(): Promise<Generation | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.markerFile(), 'utf8');
    } catch {
      return undefined;
    }
    const parsed = parseGeneration(text);
    if (!parsed) this.options.log?.warn(`The secret-store marker ${this.markerFile()} is not readable; ignoring it.`);
    return parsed;
  }

  private async writeMarker(generation: Generation): Promise<void> {
    const file = this.markerFile();
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${nodeCrypto().randomUUID()}.tmp`;
      await fs.writeFile(temp, JSON.stringify(generation), { mode: 0o600 });
      await fs.rename(temp, file);
    } catch (e) {
      // The secret itself is stored; only other windows' staleness check suffers.
      this.options.log?.warn(`Could not write the secret-store marker: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function parseGeneration(text: string | undefined): Generation | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Generation> | null;
    return value && typeof value.id === 'string' && typeof value.writtenAt === 'number'
      ? { id: value.id, writtenAt: value.writtenAt }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The lock folder every window of the profile shares (globalStorage is per profile). */
export function lockDirOf(context: vscode.ExtensionContext): string {
  return path.join(context.globalStorageUri.fsPath, 'locks');
}

/** The extension's one SecretStorage, shared by every feature. */
export function coherentSecretsOf(context: vscode.ExtensionContext, log?: CoherentSecretStorageOptions['log']): CoherentSecretStorage {
  const dir = lockDirOf(context);
  return new CoherentSecretStorage(context.secrets, { dir, lock: new FileLock(dir), log });
}
