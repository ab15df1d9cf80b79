// Placeholder until the appservices feature lands (issue: appservices).
import type { AccountsFeature } from '../accounts';
import type { FeatureDeps } from '../deps';

export interface AppservicesFeature {
  /** Internal, for the host test suite. */
  testApi: Record<string, unknown>;
}

export function registerAppservices(_deps: FeatureDeps, _accounts: AccountsFeature): AppservicesFeature {
  return { testApi: {} };
}
