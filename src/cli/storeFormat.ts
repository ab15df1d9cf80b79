// What the CLI's session store file may hold, and how to tell a usable entry
// from a damaged one or one written by a newer matrix-devtools. Parsing never
// throws a library error at the user: it returns the accounts it understands,
// the raw entries it does not (kept as they are on every write), or one
// sentence that says why the whole file is unusable.
import { t } from '../core/l10n';
import type { SessionTokens } from '../core/session';

/** The store format this CLI reads and writes. */
export const STORE_VERSION = 1;

export interface CliAccount {
  userId: string;
  deviceId: string;
  homeserverUrl: string;
  refreshTokenLifetimeMs?: number;
  tokens: SessionTokens;
  /** The server refused the refresh token: kept for the record, never sent again; `login` replaces the account. */
  ended?: { at: number; errcode: string };
}

export interface StoreData {
  version: typeof STORE_VERSION;
  defaultAccount?: string;
  /** The entries this CLI can use. */
  accounts: Record<string, CliAccount>;
  /** Entries it cannot use (damaged, or of unknown shape): written back untouched. */
  unreadable: Record<string, unknown>;
  /** Top-level fields it does not know: written back untouched. */
  extra: Record<string, unknown>;
}

export type ParsedStore = { ok: true; data: StoreData } | { ok: false; problem: string };

export function emptyStore(): StoreData {
  return { version: STORE_VERSION, accounts: {}, unreadable: {}, extra: {} };
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const optional = (v: unknown, type: 'string' | 'number') => v === undefined || typeof v === type;

/** Why an account entry is unusable, or undefined when it is fine. */
export function accountProblem(id: string, v: unknown): string | undefined {
  if (!isObject(v)) return 'not an object';
  if (v.userId !== id) return 'userId does not match its key';
  if (typeof v.deviceId !== 'string' || typeof v.homeserverUrl !== 'string' || !URL.canParse(v.homeserverUrl)) {
    return 'deviceId or homeserverUrl missing';
  }
  if (!optional(v.refreshTokenLifetimeMs, 'number')) return 'refreshTokenLifetimeMs is not a number';
  const tk = v.tokens;
  if (!isObject(tk) || typeof tk.accessToken !== 'string' || typeof tk.issuedAt !== 'number') return 'tokens missing';
  if (!optional(tk.refreshToken, 'string') || !optional(tk.expiresAt, 'number')) return 'tokens of the wrong type';
  if (v.ended !== undefined && (!isObject(v.ended) || typeof v.ended.at !== 'number' || typeof v.ended.errcode !== 'string')) {
    return 'ended of the wrong type';
  }
  return undefined;
}

export function parseStore(file: string, text: string): ParsedStore {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isObject(value) || !isObject(value.accounts)) {
    return {
      ok: false,
      problem: t(
        'The session store {0} is damaged (not the JSON this tool writes; maybe cut short) and was left untouched: move it aside and sign in again with "matrix-devtools login", or use another store with --store.',
        file,
      ),
    };
  }
  const { version, defaultAccount, accounts, ...extra } = value;
  if (typeof version === 'number' && Number.isInteger(version) && version > STORE_VERSION) {
    return {
      ok: false,
      problem: t(
        'The session store {0} was written by a newer matrix-devtools (store version {1}; this one knows version {2}) and was left untouched: upgrade matrix-devtools, or use another store with --store.',
        file,
        version,
        STORE_VERSION,
      ),
    };
  }
  if (version !== STORE_VERSION) {
    return {
      ok: false,
      problem: t(
        'The session store {0} has no usable version field and was left untouched: move it aside and sign in again with "matrix-devtools login", or use another store with --store.',
        file,
      ),
    };
  }
  const data = emptyStore();
  data.extra = extra;
  if (typeof defaultAccount === 'string') data.defaultAccount = defaultAccount;
  for (const [id, entry] of Object.entries(accounts)) {
    if (accountProblem(id, entry) === undefined) data.accounts[id] = entry as unknown as CliAccount;
    else data.unreadable[id] = entry;
  }
  return { ok: true, data };
}

/** The file's text: the usable entries as changed, the unreadable ones as they were. */
export function serializeStore(data: StoreData): string {
  const accounts: Record<string, unknown> = { ...data.unreadable, ...data.accounts };
  const out: Record<string, unknown> = { ...data.extra, version: STORE_VERSION, accounts };
  if (data.defaultAccount !== undefined) out.defaultAccount = data.defaultAccount;
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** One sentence for a command that asked for an entry it cannot use. */
export function unreadableAccountMessage(file: string, id: string, entry: unknown): string {
  return t(
    'The stored session of {0} in {1} is damaged ({2}) and was left untouched: sign in again with "matrix-devtools login", which keeps a copy of the old entry next to the store.',
    id,
    file,
    accountProblem(id, entry) ?? 'unknown',
  );
}
