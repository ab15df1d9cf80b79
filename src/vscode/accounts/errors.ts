// Errors of the account layer that the lazily loaded dialogs (accountDialogs.ts,
// its own bundle) must recognise when the main bundle throws them.
import { crossBundleMark } from '../../core/errors';
import { t } from '../../core/l10n';

const serverLogoutFailed = crossBundleMark('ServerLogoutFailedError');

/** Sign-out found the server unreachable; the tokens are still stored. */
export class ServerLogoutFailedError extends Error {
  static [Symbol.hasInstance](value: unknown): value is ServerLogoutFailedError {
    return serverLogoutFailed.is(value);
  }
  readonly name = 'ServerLogoutFailedError';
  constructor(
    readonly accountId: string,
    readonly cause: unknown,
  ) {
    super(t('Could not sign out on the server: {0}', cause instanceof Error ? cause.message : String(cause)));
    serverLogoutFailed.set(this);
  }
}
