// The context keys behind `menus.commandPalette`: the palette shows a command
// only when it can do something right now. Each feature sets its own keys;
// this file names them all, so the manifest test can check every `when`.

export const CONTEXT_KEYS = {
  /** At least one account is listed (in any state). */
  hasAccounts: 'matrixDevtools.hasAccounts',
  /** At least one account has a usable session. */
  hasSignedInAccount: 'matrixDevtools.hasSignedInAccount',
  /** At least one signed-in account has a refresh token. */
  hasRotatableAccount: 'matrixDevtools.hasRotatableAccount',
  /** At least one account signs in with OAuth 2.0 (its server has an account page). */
  hasOAuthAccount: 'matrixDevtools.hasOAuthAccount',
  /** At least one appservice (file or setting) is known. */
  hasAppservices: 'matrixDevtools.hasAppservices',
  /** At least one appservice comes with a registration file. */
  hasRegistrationFiles: 'matrixDevtools.hasRegistrationFiles',
  /** At least one appservice is listed in settings without a file (its as_token is in the secret store). */
  hasSettingsAppservices: 'matrixDevtools.hasSettingsAppservices',
  /**
   * The Matrix Appservices output was shown on request in this window (Show Appservice Log, or a
   * notification's Show Output button, which the workbench never sees as a command): completes
   * the walkthrough's output step.
   */
  appserviceLogShown: 'matrixDevtools.appserviceLogShown',
} as const;

export type ContextKey = (typeof CONTEXT_KEYS)[keyof typeof CONTEXT_KEYS];

/** Sets context keys through `setContext`, only when a value changes. */
export class ContextKeys {
  private readonly values = new Map<ContextKey, boolean>();

  constructor(private readonly setContext: (key: ContextKey, value: boolean) => Thenable<unknown>) {}

  update(values: Partial<Record<ContextKey, boolean>>): void {
    for (const [key, value] of Object.entries(values) as Array<[ContextKey, boolean]>) {
      if (this.values.get(key) === value) continue;
      this.values.set(key, value);
      void this.setContext(key, value);
    }
  }

  /** What was last set, for the host test suite. */
  snapshot(): Record<string, boolean> {
    return Object.fromEntries(this.values);
  }
}
