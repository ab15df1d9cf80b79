// The sign-ins that happen in a browser, as the user meets them in VS Code:
// OAuth 2.0 with a loopback redirect, OAuth 2.0 with a code (the device grant,
// for remote and web windows), and legacy SSO. The protocol is the core's
// (src/core/oauth, src/node): one code path with the CLI. This file adds the
// prompts: the browser is opened through Prompts.openExternal, the wait is a
// cancellable progress notification, the code is shown in a dialog with Copy
// and Open buttons. Plain Node, like flows.ts.
import { RequestFailedError } from '../../core/errors';
import type { HttpRequester } from '../../core/http';
import { t } from '../../core/l10n';
import type { DeviceAuthorization } from '../../core/oauth/device';
import { signInWithBrowser, signInWithDeviceCode, signInWithSso } from '../../core/oauth';
import type { AuthMetadata } from '../../core/oauth/types';
import type { LoginResult } from '../../core/session';
import type { SsoProvider } from '../../core/signInMethods';
import { loopbackPage, type LoopbackPages } from '../../node/loopbackRedirect';
import type { ProgressRunner, ProgressReporter } from '../progress';
import type { Prompts } from '../prompts';
import { hostOf } from './present';

export interface BrowserSignInDeps {
  http: HttpRequester;
  prompts: Prompts;
  progress: ProgressRunner;
  clipboard: { writeText(text: string): Thenable<void> };
  log: { info(message: string): void };
  /** Shown in the user's device list (SSO; OAuth clients are named by their registration). */
  deviceDisplayName: string;
  /** How long to wait for the browser. Default 5 minutes. */
  browserTimeoutMs?: number;
}

export interface BrowserSignInOptions {
  /** Sign in again on this device. */
  deviceId?: string;
}

export class BrowserSignIns {
  constructor(private readonly deps: BrowserSignInDeps) {}

  /** Authorization code + PKCE; the browser comes back to a loopback listener in this extension host. */
  oauthBrowser(baseUrl: string, metadata: AuthMetadata, opts: BrowserSignInOptions = {}): Promise<LoginResult> {
    const issuerHost = hostOf(metadata.issuer);
    return this.deps.progress.run(
      t('Signing in to {0} in the browser…', hostOf(baseUrl)),
      (signal, progress) => {
        progress.report({ message: t('Opening {0}; finish the sign-in there and come back.', issuerHost) });
        return signInWithBrowser(this.deps.http, baseUrl, metadata, {
          openBrowser: (url) => this.open(url, issuerHost),
          pages: this.pages(),
          signal,
          deviceId: opts.deviceId,
          timeoutMs: this.deps.browserTimeoutMs,
        });
      },
      { cancellable: true },
    );
  }

  /** The device grant (RFC 8628): a code to enter in any browser, polled for until it is confirmed. */
  oauthCode(baseUrl: string, metadata: AuthMetadata, opts: BrowserSignInOptions = {}): Promise<LoginResult> {
    return this.deps.progress.run(
      t('Signing in to {0} with a code…', hostOf(baseUrl)),
      (signal, progress) => {
        progress.report({ message: t('Asking {0} for a code…', hostOf(metadata.issuer)) });
        return signInWithDeviceCode(this.deps.http, baseUrl, metadata, {
          signal,
          deviceId: opts.deviceId,
          onCode: (a) => this.showCode(a, metadata, progress),
        });
      },
      { cancellable: true },
    );
  }

  /** Legacy SSO: the homeserver's redirect (through `provider` when given), then m.login.token. */
  sso(baseUrl: string, provider: SsoProvider | undefined, opts: BrowserSignInOptions = {}): Promise<LoginResult> {
    const where = provider?.name ?? hostOf(baseUrl);
    return this.deps.progress.run(
      t('Signing in to {0} with single sign-on…', hostOf(baseUrl)),
      (signal, progress) => {
        progress.report({ message: t('Opening {0} in the browser; finish the sign-in there and come back.', where) });
        return signInWithSso(this.deps.http, baseUrl, {
          openBrowser: (url) => this.open(url, where),
          pages: this.pages(),
          idpId: provider?.id,
          deviceDisplayName: this.deps.deviceDisplayName,
          deviceId: opts.deviceId,
          signal,
          timeoutMs: this.deps.browserTimeoutMs,
        });
      },
      { cancellable: true },
    );
  }

  /**
   * The code in an information dialog (so it cannot scroll away; nothing is at risk, so not
   * a warning), with Open and Copy; Cancel (or Escape) ends the sign-in.
   */
  private async showCode(a: DeviceAuthorization, metadata: AuthMetadata, progress: ProgressReporter): Promise<void> {
    const open = t('Open Browser');
    const copy = t('Copy Code');
    const expires = new Date(a.expiresAt).toLocaleTimeString();
    const answer = await this.deps.prompts.dialog(
      t('Your sign-in code: {0}', a.userCode),
      t('Open {0} in a browser on any device and enter this code; both buttons copy it. It expires at {1}.', a.verificationUri, expires),
      open,
      copy,
    );
    if (answer === undefined) throw new RequestFailedError('cancelled', t('The sign-in with a code was cancelled.'), metadata.issuer);
    await this.deps.clipboard.writeText(a.userCode);
    if (answer === open) {
      const opened = await this.deps.prompts.openExternal(a.verificationUriComplete ?? a.verificationUri);
      if (!opened) this.deps.log.info(`Could not open ${a.verificationUri}; the code is on the clipboard.`);
    }
    progress.report({ message: t('Enter the code {0} at {1}; waiting for you to confirm it…', a.userCode, a.verificationUri) });
  }

  private async open(url: string, where: string): Promise<boolean> {
    // The URL carries only public values (client id, PKCE challenge, state): safe to log without the query.
    this.deps.log.info(`Opening the sign-in page of ${where} in the browser (${new URL(url).origin}${new URL(url).pathname}).`);
    return this.deps.prompts.openExternal(url);
  }

  private pages(): LoopbackPages {
    return {
      success: loopbackPage(t('Signed in to Matrix DevTools'), t('You can close this tab and return to VS Code.')),
      failure: loopbackPage(t('Not signed in'), t('The sign-in did not complete. Return to VS Code to see why and try again.')),
    };
  }
}
