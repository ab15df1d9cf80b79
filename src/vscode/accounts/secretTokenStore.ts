// Tokens live only in SecretStorage, one entry per account. VS Code's
// SecretStorage is cached per window and a write reaches the other windows a
// little later (through the main process), so a window that takes the rotation
// lock right after another released it can still read the OLD refresh token
// and refresh a second time: the "surprise logout" of MATRIX-NOTES. Each write
// therefore also leaves a marker file (a random generation id, nothing derived
// from a token) next to the lock files; a reader whose secret does not match a
// recent marker waits until its window has caught up.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../../core/http';
import { registerSecret } from '../../core/redact';
import { StaleTokensError, type TokenStore } from '../../core/rotation';
import type { SessionTokens } from '../../core/session';
import type { AccountsLog } from './types';
import type { SecretStorageLike } from '../ports';
import { nodeCrypto } from '../../core/nodeModules';

export const SECRET_KEY_PREFIX = 'matrixDevtools.tokens/';
/** Where an entry this version cannot read is copied before anything replaces it. */
export const UNREADABLE_SECRET_KEY_PREFIX = 'matrixDevtools.tokens-unreadable/';
/** The entry format this version writes; an entry with a higher `version` is a newer one's. */
export const STORED_SESSION_VERSION = 1;

export function secretKeyFor(accountId: string): string {
  return SECRET_KEY_PREFIX + accountId;
}

export function accountIdFromSecretKey(key: string): string | undefined {
  return key.startsWith(SECRET_KEY_PREFIX) ? key.slice(SECRET_KEY_PREFIX.length) : undefined;
}

/** What one secret entry holds. */
export interface StoredSession {
  tokens: SessionTokens;
  /** Set when the server refused the refresh token: the session is over, the tokens are kept. */
  ended?: { at: number; errcode: string };
  /** Changes with every write; matched against the marker file. */
  generation: string;
  /** When this entry was written (Date.now()); absent in entries from before 0.1.0. */
  writtenAt?: number;
}

export interface SecretTokenStoreOptions {
  /** Folder shared by all windows (the lock folder). Without it, no cross-window catch-up. */
  coherenceDir?: string;
  /** How long a reader waits for its window's SecretStorage to catch up. */
  catchUpTimeoutMs?: number;
  /**
   * For entries without `writtenAt` only: markers older than this are ignored
   * (a writer that crashed between the two writes).
   */
  markerTrustMs?: number;
  log?: AccountsLog;
  /** An entry turned out unreadable (told once per entry and window): the account shows as signed out. */
  onUnreadable?: (accountId: string, why: UnreadableEntry) => void;
}

/** Why a secret entry cannot be used: not the JSON this version writes, or a newer version's. */
export type UnreadableEntry = 'damaged' | 'newer';

interface Marker {
  generation: string | null;
  at: number;
  /** `writtenAt` of the entry it announces (absent for a deletion and in old markers). */
  writtenAt?: number;
}

export class SecretTokenStore implements TokenStore {
  private readonly catchUpTimeoutMs: number;
  private readonly markerTrustMs: number;

  constructor(
    private readonly secrets: SecretStorageLike,
    private readonly options: SecretTokenStoreOptions = {},
  ) {
    this.catchUpTimeoutMs = options.catchUpTimeoutMs ?? 5_000;
    this.markerTrustMs = options.markerTrustMs ?? 20_000;
  }

  /**
   * Usable tokens: undefined when there are none or the session ended. With
   * `forRotation`, a copy that never caught up with another window's write is
   * an error instead of an answer (see StaleTokensError).
   */
  async get(accountId: string, opts: { forRotation?: boolean } = {}): Promise<SessionTokens | undefined> {
    const stored = await this.read(accountId, opts.forRotation);
    return stored && !stored.ended ? stored.tokens : undefined;
  }

  /** Entries found unreadable, by account, as their text (so each is reported and backed up once). */
  private readonly unreadable = new Map<string, string>();

  /** Stores fresh tokens (a sign-in or a rotation); clears an ended mark. */
  async set(accountId: string, tokens: SessionTokens): Promise<void> {
    await this.write(accountId, { tokens: stripExtras(tokens), generation: nodeCrypto().randomUUID(), writtenAt: this.nextWriteTime() });
  }

  /** Marks the session as ended, keeping its tokens (TokenStore.markEnded: called under the lock). */
  async markEnded(accountId: string, reason: { errcode: string }, at = Date.now()): Promise<void> {
    const stored = await this.read(accountId);
    if (!stored || stored.ended) return;
    await this.write(accountId, {
      tokens: stored.tokens,
      ended: { at, errcode: reason.errcode },
      generation: nodeCrypto().randomUUID(),
      writtenAt: this.nextWriteTime(),
    });
  }

  async delete(accountId: string): Promise<void> {
    await this.keepUnreadable(accountId);
    await this.secrets.delete(secretKeyFor(accountId));
    await this.writeMarker(accountId, null, this.nextWriteTime());
  }

  /**
   * Marker generations this window waited for in vain, per account: its copy of
   * SecretStorage does not catch up (VS Code for the Web), so later reads do not
   * wait for the same write again.
   */
  private readonly neverArrived = new Map<string, string | null>();

  /** The whole entry, after waiting (bounded) for writes other windows announced. */
  async read(accountId: string, requireCurrent = false): Promise<StoredSession | undefined> {
    // Rotating ends the old refresh token: only worth it when the new one can be stored.
    if (requireCurrent) await this.assertWritable();
    const deadline = Date.now() + this.catchUpTimeoutMs;
    for (let waited = false; ; waited = true) {
      const stored = await this.readRaw(accountId);
      const marker = await this.readMarker(accountId);
      const current = !marker || marker.generation === (stored?.generation ?? null) || this.newerThanMarker(stored, marker);
      if (current) {
        this.neverArrived.delete(accountId);
        if (waited) this.options.log?.info(`Picked up the tokens another window stored for ${accountId}.`);
        return stored;
      }
      const knownMissing = this.neverArrived.has(accountId) && this.neverArrived.get(accountId) === marker.generation;
      if (knownMissing || Date.now() >= deadline) {
        if (!knownMissing) {
          this.neverArrived.set(accountId, marker.generation);
          this.options.log?.warn(
            `The secret store of this window did not catch up with another window's write for ${accountId} within ${this.catchUpTimeoutMs} ms; ${requireCurrent ? 'not rotating with its older copy' : 'using what it has'}.`,
          );
        }
        if (requireCurrent) throw new StaleTokensError(accountId);
        return stored;
      }
      await sleep(25);
    }
  }

  /**
   * Throws StaleSecretStoreError when this window may not store secrets now
   * (its copy of SecretStorage is older than another window's last write).
   * Asked before a sign-in or a rotation, which cannot be undone once sent.
   */
  async assertWritable(): Promise<void> {
    await this.secrets.assertCurrent?.();
  }

  /**
   * The entry was written after the marker: its writer stopped before it could
   * update the marker (both live on this machine's clock). An entry older than
   * the marker is a copy that missed another window's write, however long ago.
   */
  private newerThanMarker(stored: StoredSession | undefined, marker: Marker): boolean {
    const announced = marker.writtenAt ?? marker.at;
    if (stored?.writtenAt !== undefined && stored.writtenAt !== announced) return stored.writtenAt > announced;
    return Date.now() - marker.at > this.markerTrustMs;
  }

  private lastWriteTime = 0;

  /** Date.now(), but strictly increasing in this window, so two writes never share a time. */
  private nextWriteTime(): number {
    this.lastWriteTime = Math.max(Date.now(), this.lastWriteTime + 1);
    return this.lastWriteTime;
  }

  private async readRaw(accountId: string): Promise<StoredSession | undefined> {
    const text = await this.secrets.get(secretKeyFor(accountId));
    if (text === undefined) return undefined;
    const parsed = parseStored(text);
    if (typeof parsed === 'string') {
      if (this.unreadable.get(accountId) !== text) {
        this.unreadable.set(accountId, text);
        this.options.log?.warn(
          `The secret entry of ${accountId} is ${parsed === 'newer' ? 'from a newer version of Matrix DevTools' : 'damaged'}; treating the account as signed out and keeping the entry until it is replaced.`,
        );
        this.options.onUnreadable?.(accountId, parsed);
      }
      return undefined;
    }
    this.unreadable.delete(accountId);
    registerSecret(parsed.tokens.accessToken);
    registerSecret(parsed.tokens.refreshToken);
    return parsed;
  }

  /**
   * Before an unreadable entry is replaced or deleted: copy it, as it is, to its
   * own secret key, so a damaged entry or a newer version's is never lost silently.
   */
  private async keepUnreadable(accountId: string): Promise<void> {
    const text = await this.secrets.get(secretKeyFor(accountId));
    if (text === undefined || typeof parseStored(text) !== 'string') return;
    await this.secrets.store(UNREADABLE_SECRET_KEY_PREFIX + accountId, text);
    this.options.log?.info(`Kept a copy of the unreadable secret entry of ${accountId} under ${UNREADABLE_SECRET_KEY_PREFIX}${accountId}.`);
  }

  private async write(accountId: string, stored: StoredSession): Promise<void> {
    registerSecret(stored.tokens.accessToken);
    registerSecret(stored.tokens.refreshToken);
    await this.keepUnreadable(accountId);
    await this.secrets.store(secretKeyFor(accountId), JSON.stringify(stored));
    await this.writeMarker(accountId, stored.generation, stored.writtenAt);
  }

  private markerFile(accountId: string): string | undefined {
    const dir = this.options.coherenceDir;
    return dir ? path.join(dir, `${nodeCrypto().createHash('sha256').update(accountId).digest('hex').slice(0, 32)}.generation`) : undefined;
  }

  private async readMarker(accountId: string): Promise<Marker | undefined> {
    const file = this.markerFile(accountId);
    if (!file) return undefined;
    try {
      const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as Partial<Marker>;
      if (typeof parsed.at !== 'number') return undefined;
      return {
        generation: typeof parsed.generation === 'string' ? parsed.generation : null,
        at: parsed.at,
        ...(typeof parsed.writtenAt === 'number' ? { writtenAt: parsed.writtenAt } : {}),
      };
    } catch {
      return undefined;
    }
  }

  private async writeMarker(accountId: string, generation: string | null, writtenAt: number | undefined): Promise<void> {
    const file = this.markerFile(accountId);
    if (!file) return;
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${nodeCrypto().randomUUID()}.tmp`;
      await fs.writeFile(temp, JSON.stringify({ generation, at: Date.now(), writtenAt } satisfies Marker), { mode: 0o600 });
      await fs.rename(temp, file);
    } catch (e) {
      // Only the cross-window catch-up suffers; the tokens themselves are stored.
      this.options.log?.warn(`Could not write the token marker for ${accountId}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function stripExtras(tokens: SessionTokens): SessionTokens {
  const out: SessionTokens = { accessToken: tokens.accessToken, issuedAt: tokens.issuedAt };
  if (tokens.refreshToken !== undefined) out.refreshToken = tokens.refreshToken;
  if (tokens.expiresAt !== undefined) out.expiresAt = tokens.expiresAt;
  // Not secret, but it belongs with the tokens: rotation needs it when discovery is down.
  if (tokens.oauth !== undefined) out.oauth = tokens.oauth;
  return out;
}

/** The entry, or why it cannot be used. */
function parseStored(text: string): StoredSession | UnreadableEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'damaged';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'damaged';
  const v = value as Partial<StoredSession> & { version?: unknown };
  if (typeof v.version === 'number' && v.version > STORED_SESSION_VERSION) return 'newer';
  const tk = v.tokens as Partial<SessionTokens> | undefined;
  if (!tk || typeof tk !== 'object' || typeof tk.accessToken !== 'string' || typeof tk.issuedAt !== 'number') return 'damaged';
  if (tk.refreshToken !== undefined && typeof tk.refreshToken !== 'string') return 'damaged';
  if (tk.expiresAt !== undefined && typeof tk.expiresAt !== 'number') return 'damaged';
  return {
    tokens: stripExtras(tk as SessionTokens),
    ended: v.ended && typeof v.ended.at === 'number' ? { at: v.ended.at, errcode: String(v.ended.errcode) } : undefined,
    generation: typeof v.generation === 'string' ? v.generation : '',
    ...(typeof v.writtenAt === 'number' ? { writtenAt: v.writtenAt } : {}),
  };
}
