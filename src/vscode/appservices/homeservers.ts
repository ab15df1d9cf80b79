// Which homeserver an appservice is pinged through: the settings entry's
// `homeserver`, else the one the user picked for it (remembered in
// workspaceState; a server name or URL is not a secret).
import type { AccountSummary } from '../accounts';
import type { AppserviceItem } from './catalog';
import type { MementoLike } from '../ports';

const MEMORY_KEY = 'matrixDevtools.appservices.homeservers';

export type HomeserverOrigin = 'settings' | 'remembered';

export interface EffectiveHomeserver {
  /** A server name or URL, as typed or as an account knows it. */
  input: string;
  origin: HomeserverOrigin;
}

export class HomeserverMemory {
  constructor(private readonly store: MementoLike) {}

  get(appserviceKey: string): string | undefined {
    return this.all()[appserviceKey];
  }

  async remember(appserviceKey: string, homeserver: string): Promise<void> {
    await this.store.update(MEMORY_KEY, { ...this.all(), [appserviceKey]: homeserver });
  }

  async forget(appserviceKey: string): Promise<void> {
    const rest = { ...this.all() };
    delete rest[appserviceKey];
    await this.store.update(MEMORY_KEY, rest);
  }

  private all(): Record<string, string> {
    const value = this.store.get<Record<string, string>>(MEMORY_KEY);
    return value && typeof value === 'object' ? value : {};
  }
}

export function effectiveHomeserver(item: AppserviceItem, memory: HomeserverMemory): EffectiveHomeserver | undefined {
  if (item.configuredHomeserver) return { input: item.configuredHomeserver, origin: 'settings' };
  const remembered = memory.get(item.key);
  return remembered ? { input: remembered, origin: 'remembered' } : undefined;
}

/**
 * What Ping All pings: every appservice, each through the homeserver a single
 * ping would use (none known = reported as not sent, never asked for mid-run).
 */
export function pingAllTargets(
  items: readonly AppserviceItem[],
  memory: HomeserverMemory,
): Array<{ item: AppserviceItem; homeserver: string | undefined }> {
  return items.map((item) => ({ item, homeserver: effectiveHomeserver(item, memory)?.input }));
}

export interface HomeserverChoice {
  homeserverUrl: string;
  /** The signed-in accounts on it, for the quick pick's detail. */
  userIds: string[];
}

/** One choice per homeserver the user has accounts on. */
export function homeserverChoices(accounts: readonly AccountSummary[]): HomeserverChoice[] {
  const byUrl = new Map<string, string[]>();
  for (const a of accounts) {
    const url = a.homeserverUrl.replace(/\/+$/, '');
    byUrl.set(url, [...(byUrl.get(url) ?? []), a.userId]);
  }
  return [...byUrl].map(([homeserverUrl, userIds]) => ({ homeserverUrl, userIds }));
}

/** What the tree shows as the item's description. */
export function describeHomeserver(input: string): string {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
    return url.host + url.pathname.replace(/\/+$/, '');
  } catch {
    return input;
  }
}
