// The CLI's session store: one JSON file, mode 0600, replaced atomically
// (temp file + rename) so a crash never leaves it half-written. Writes take a
// file lock so two CLI processes cannot lose each other's updates. A file or
// an entry it cannot read is never overwritten: a damaged or newer file stops
// every command with one sentence, a damaged entry is written back as it was,
// and an entry that `login` replaces is first copied to a backup file (0600).
import { promises as fs, readdir } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { FileLock } from '../core/fileLock';
import { t } from '../core/l10n';
import { nodeCrypto, nodeOs } from '../core/nodeModules';
import type { TokenStore } from '../core/rotation';
import type { SessionTokens } from '../core/session';
import { readText } from './readText';
import { emptyStore, parseStore, serializeStore, type CliAccount, type StoreData } from './storeFormat';

export type { CliAccount } from './storeFormat';

export function defaultStorePath(): string {
  if (process.env.MATRIX_DEVTOOLS_STORE) return process.env.MATRIX_DEVTOOLS_STORE;
  const base =
    process.env.XDG_CONFIG_HOME ||
    (process.platform === 'win32' ? process.env.APPDATA : undefined) ||
    path.join(nodeOs().homedir(), '.config');
  return path.join(base ?? nodeOs().homedir(), 'matrix-devtools', 'cli-sessions.json');
}

// The read path (every command) uses callback fs (readText.ts); only writes use fs.promises.
const listDir = promisify(readdir);

export class CliStore implements TokenStore {
  readonly lock: FileLock;

  private swept = false;

  /** `notice` gets one sentence when the store kept a backup of something it replaced. */
  constructor(
    readonly file: string,
    private readonly notice: (sentence: string) => void = () => undefined,
  ) {
    this.lock = new FileLock(path.join(path.dirname(file), '.locks'));
  }

  async read(): Promise<StoreData> {
    await this.sweepStaleTempFiles(false);
    return this.readFile();
  }

  private async readFile(): Promise<StoreData> {
    let text: string;
    try {
      text = await readText(this.file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyStore();
      throw e;
    }
    const parsed = parseStore(this.file, text);
    if (!parsed.ok) throw new Error(parsed.problem);
    return parsed.data;
  }

  /** Read-modify-write under the store lock. */
  async update(change: (data: StoreData) => void): Promise<void> {
    await this.lock.run(`store:${this.file}`, async () => {
      await this.sweepStaleTempFiles(true);
      const data = await this.readFile();
      const unreadable = { ...data.unreadable };
      change(data);
      // An entry this CLI could not read and the change replaces: keep a copy first.
      const replaced = Object.keys(unreadable).filter((id) => id in data.accounts);
      if (replaced.length > 0) {
        const backup = await this.writeBackup(Object.fromEntries(replaced.map((id) => [id, unreadable[id]])));
        for (const id of replaced) delete data.unreadable[id];
        this.notice(t('The old, unreadable entry of {0} was replaced; a copy is kept in {1}.', replaced.join(', '), backup));
      }
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

  /**
   * Temp files of a writer that died between its two writes hold tokens: remove
   * them, under the store lock (writers create them only while holding it), once
   * per process and only when there are any, so a plain read takes no lock.
   */
  private async sweepStaleTempFiles(locked: boolean): Promise<void> {
    if (this.swept) return;
    this.swept = true;
    const list = async () => {
      const prefix = `${path.basename(this.file)}.`;
      const names = await listDir(path.dirname(this.file)).catch(() => [] as string[]);
      return names.filter((n) => n.startsWith(prefix) && /\.[0-9a-f]{12}\.tmp$/.test(n));
    };
    if ((await list()).length === 0) return;
    const sweep = async () => {
      for (const name of await list()) await fs.rm(path.join(path.dirname(this.file), name), { force: true });
    };
    await (locked ? sweep() : this.lock.run(`store:${this.file}`, sweep));
  }

  private async writeBackup(entries: Record<string, unknown>): Promise<string> {
    const backup = `${this.file}.unreadable-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    await fs.writeFile(backup, `${JSON.stringify({ accounts: entries }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return backup;
  }

  private async writeAtomically(data: StoreData): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${nodeCrypto().randomBytes(6).toString('hex')}.tmp`;
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(serializeStore(data));
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
