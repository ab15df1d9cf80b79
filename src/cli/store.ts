// The CLI's session store: one JSON file, mode 0600, replaced atomically
// (temp file + rename) so a crash never leaves it half-written. Writes take a
// file lock so two CLI processes cannot lose each other's updates.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileLock } from '../core/fileLock';
import { t } from '../core/l10n';
import type { TokenStore } from '../core/rotation';
import type { SessionTokens } from '../core/session';

export interface CliAccount {
  userId: string;
  deviceId: string;
  homeserverUrl: string;
  refreshTokenLifetimeMs?: number;
  tokens: SessionTokens;
  /** The server refused the refresh token: kept for the record, never sent again; `login` replaces the account. */
  ended?: { at: number; errcode: string };
}

interface StoreFile {
  version: 1;
  defaultAccount?: string;
  accounts: Record<string, CliAccount>;
}

export function defaultStorePath(): string {
  if (process.env.MATRIX_DEVTOOLS_STORE) return process.env.MATRIX_DEVTOOLS_STORE;
  const base =
    process.env.XDG_CONFIG_HOME || (process.platform === 'win32' ? process.env.APPDATA : undefined) || path.join(os.homedir(), '.config');
  return path.join(base ?? os.homedir(), 'matrix-devtools', 'cli-sessions.json');
}

export class CliStore implements TokenStore {
  readonly lock: FileLock;

  constructor(readonly file: string) {
    this.lock = new FileLock(path.join(path.dirname(file), '.locks'));
  }

  async read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, accounts: {} };
      throw e;
    }
    try {
      const parsed = JSON.parse(text) as StoreFile;
      if (!parsed || typeof parsed !== 'object' || typeof parsed.accounts !== 'object') throw new Error('shape');
      return parsed;
    } catch {
      throw new Error(t('The session store {0} is not valid JSON; fix or delete it (it is left untouched).', this.file));
    }
  }

  /** Read-modify-write under the store lock. */
  async update(change: (data: StoreFile) => void): Promise<void> {
    await this.lock.run(`store:${this.file}`, async () => {
      const data = await this.read();
      change(data);
      await this.writeAtomically(data);
    });
  }

  async account(userId: string): Promise<CliAccount | undefined> {
    return (await this.read()).accounts[userId];
  }

  // TokenStore: rotation re-reads and writes only the tokens of one account.
  /** Undefined for an ended session, so that its dead refresh token is never sent again. */
  async get(accountId: string): Promise<SessionTokens | undefined> {
    const account = await this.account(accountId);
    return account && !account.ended ? account.tokens : undefined;
  }

  async set(accountId: string, tokens: SessionTokens): Promise<void> {
    await this.update((data) => {
      const account = data.accounts[accountId];
      if (!account) throw new Error(t('Account {0} was removed from {1} while its tokens were being rotated.', accountId, this.file));
      account.tokens = tokens;
      delete account.ended;
    });
  }

  /** Called by the rotator, under the lock, when /refresh answers 401/403. Keeps the tokens. */
  async markEnded(accountId: string, reason: { errcode: string }, at = Date.now()): Promise<void> {
    await this.update((data) => {
      const account = data.accounts[accountId];
      if (account && !account.ended) account.ended = { at, errcode: reason.errcode };
    });
  }

  private async writeAtomically(data: StoreFile): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, this.file);
    } catch (e) {
      await fs.rm(temp, { force: true });
      throw e;
    }
  }
}
