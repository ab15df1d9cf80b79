// Placeholder until the accounts feature lands (issue: accounts in VS Code).
import type { FeatureDeps } from '../deps';

export interface AccountSummary {
  userId: string;
  homeserverUrl: string;
}

export interface AccountsFeature {
  /** Signed-in accounts, for features that need "a picked account's homeserver". */
  list(): AccountSummary[];
  /** Internal, for the host test suite. */
  testApi: Record<string, unknown>;
}

export function registerAccounts(_deps: FeatureDeps): AccountsFeature {
  return { list: () => [], testApi: {} };
}
