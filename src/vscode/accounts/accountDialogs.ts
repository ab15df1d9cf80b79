// The dialogs of the per-account commands other than signing in: Remove,
// Sign Out, Manage Account, Rotate Now, Check Session, Copy Access Token and
// the refresh-token lifetime. Loaded on the first one run (flows.ts; esbuild.js
// emits dist/accountDialogs.js). Errors go back through flows.ts's guard, which
// decides what the user reads. Plain Node, like flows.ts.
import { describeError } from '../../core/errors';
import { formatDuration } from '../../core/expiry';
import { t } from '../../core/l10n';
import { accountManagementUrl, accountPagesOf, type AccountPage } from '../../core/oauth/accountManagement';
import { ServerLogoutFailedError } from './errors';
import { describeExpiry, hostOf, parseLifetime } from './present';
import type { FlowDeps } from './signInFlows';

export class AccountDialogs {
  constructor(private readonly d: FlowDeps) {}

  async removeAccount(id: string): Promise<boolean> {
    const m = this.d.mgr.account(id);
    if (!m) return false;
    const remove = t('Remove');
    const answer = await this.d.prompts.confirm(
      t('Remove the Matrix account {0}?', m.userId),
      t('Signs this session out on {0} when possible and deletes its tokens from this machine.', m.homeserverUrl),
      remove,
    );
    if (answer !== remove) return false;
    return (
      (await this.d.guard(t('Remove Account'), id, async () => {
        await this.d.progress.run(t('Removing {0}…', m.userId), (signal) => this.d.actions.remove(id, signal), { cancellable: true });
        return true;
      })) ?? false
    );
  }

  async signOut(id: string): Promise<boolean> {
    const m = this.d.mgr.account(id);
    if (!m) return false;
    return (
      (await this.d.guard(t('Sign Out'), id, async () => {
        try {
          await this.d.progress.run(t('Signing out {0}…', m.userId), (signal) => this.d.actions.signOut(id, { signal }), {
            cancellable: true,
          });
        } catch (e) {
          if (!(e instanceof ServerLogoutFailedError)) throw e;
          this.d.log.warn(`Sign-out of ${m.userId} on the server failed: ${e.message}`);
          const forget = t('Forget Tokens');
          const answer = await this.d.prompts.warning(
            t(
              '{0} Forget the tokens on this machine anyway? The session then stays valid on the server until it expires.',
              describeError(e.cause),
            ),
            forget,
          );
          if (answer !== forget) return false;
          await this.d.actions.signOut(id, { forgetIfUnreachable: true });
        }
        void this.d.prompts.info(t('Signed out {0}.', m.userId));
        return true;
      })) ?? false
    );
  }

  /** Opens the server's account page (OAuth 2.0 servers), asking which page when it lists several. */
  async manageAccount(id: string): Promise<void> {
    const m = this.d.mgr.account(id);
    if (!m) return;
    await this.d.guard(t('Manage Account'), id, async () => {
      let management = m.accountManagement;
      if (!management) {
        // Added before the server moved to OAuth 2.0, or by an older version: ask the server now.
        const methods = await this.d.progress.run(
          t('Contacting {0}…', hostOf(m.homeserverUrl)),
          (signal) => this.d.actions.signInMethodsOf(m.homeserverUrl, signal),
          { cancellable: true },
        );
        const uri = methods.oauth?.accountManagementUri;
        management = uri ? { uri, actions: methods.oauth?.accountManagementActionsSupported } : undefined;
        if (management) await this.d.mgr.updateAccount(id, { accountManagement: management });
      }
      if (!management) {
        void this.d.prompts.info(
          t(
            '{0} names no account page (no account_management_uri); manage {1} in a Matrix client instead.',
            hostOf(m.homeserverUrl),
            m.userId,
          ),
        );
        return;
      }
      const pages = accountPagesOf(management.actions);
      const labels: Record<AccountPage, { label: string; description: string }> = {
        profile: { label: t('Profile'), description: t('name, avatar, e-mail addresses') },
        thisDevice: { label: t('This session'), description: t('device {0}, used by Matrix DevTools', m.deviceId || t('unknown')) },
        devices: { label: t('All sessions'), description: t('every device signed in to {0}', m.userId) },
      };
      const items = pages.filter((p) => p !== 'thisDevice' || m.deviceId).map((page) => ({ ...labels[page], page }));
      const picked =
        items.length > 1
          ? await this.d.prompts.quickPick(items, { title: t('Manage {0}', m.userId), placeHolder: t('Which page of your account?') })
          : items[0];
      if (items.length > 1 && !picked) return;
      const url = accountManagementUrl(management.uri, picked?.page, { actionsSupported: management.actions, deviceId: m.deviceId });
      if (!(await this.d.prompts.openExternal(url))) {
        void this.d.prompts.warning(t('The browser could not be opened; the account page of {0} is {1}', m.userId, url));
      }
    });
  }

  async rotateNow(id: string): Promise<void> {
    const m = this.d.mgr.account(id);
    if (!m) return;
    await this.d.guard(t('Rotate Refresh Token Now'), id, async () => {
      await this.d.progress.run(t('Rotating the tokens of {0}…', m.userId), (signal) => this.d.mgr.rotateNow(id, signal), {
        cancellable: true,
      });
      const after = this.d.mgr.account(id);
      void this.d.prompts.info(
        t('Rotated the tokens of {0}; the new access token {1}.', m.userId, after ? describeExpiry(after, this.d.mgr.now()) : '?'),
      );
    });
  }

  async checkSession(id: string): Promise<void> {
    const m = this.d.mgr.account(id);
    if (!m) return;
    await this.d.guard(t('Check Session'), id, async () => {
      const me = await this.d.progress.run(
        t('Checking the session of {0}…', m.userId),
        (signal) => this.d.actions.checkSession(id, signal),
        {
          cancellable: true,
        },
      );
      const after = this.d.mgr.account(id) ?? m;
      void this.d.prompts.info(
        t(
          '{0} is signed in on {1} (device {2}); the access token {3}.',
          me.userId,
          after.homeserverUrl,
          me.deviceId ?? t('unknown'),
          describeExpiry(after, this.d.mgr.now()),
        ),
      );
    });
  }

  /** Copies a token valid for at least a minute; the notification never shows it. */
  async copyAccessToken(id: string): Promise<void> {
    const m = this.d.mgr.account(id);
    if (!m) return;
    await this.d.guard(t('Copy Access Token'), id, async () => {
      const token = await this.d.progress.run(
        t('Getting a fresh access token for {0}…', m.userId),
        (signal) => this.d.mgr.getAccessToken(id, { minValidityMs: 60_000, signal }),
        { cancellable: true },
      );
      await this.d.clipboard.writeText(token);
      const after = this.d.mgr.account(id) ?? m;
      void this.d.prompts.info(
        t('Copied the access token of {0} to the clipboard; it {1}.', m.userId, describeExpiry(after, this.d.mgr.now())),
      );
    });
  }

  async setRefreshTokenLifetime(id: string): Promise<void> {
    const m = this.d.mgr.account(id);
    if (!m) return;
    const input = await this.d.prompts.inputBox({
      title: t('Refresh-Token Lifetime for {0}', m.userId),
      prompt: t(
        'Asks the server for this refresh-token lifetime (com.famedly.refresh_token_lifetime_ms), for example 10m, 2h or 1d. Leave empty to clear. Servers without support ignore it.',
      ),
      value: m.refreshTokenLifetimeMs === undefined ? '' : String(m.refreshTokenLifetimeMs),
      ignoreFocusOut: true,
      validateInput: (v) => {
        const parsed = parseLifetime(v);
        return 'error' in parsed ? parsed.error : undefined;
      },
    });
    if (input === undefined) return;
    const parsed = parseLifetime(input);
    if ('error' in parsed) return;
    await this.d.guard(t('Set Refresh-Token Lifetime'), id, async () => {
      await this.d.actions.setRefreshTokenLifetime(id, parsed.ms);
      const now = this.d.mgr.account(id);
      const rotate = t('Rotate Now');
      const canRotate = now?.displayState !== 'signedOut' && now?.displayState !== 'needsSignIn' && now?.token?.refreshable;
      const message =
        parsed.ms === undefined
          ? t('{0} no longer asks for a custom refresh-token lifetime.', m.userId)
          : t('{0} asks for a refresh-token lifetime of {1} from the next rotation or sign-in.', m.userId, formatDuration(parsed.ms));
      const answer = await (canRotate ? this.d.prompts.info(message, rotate) : this.d.prompts.info(message));
      if (answer === rotate) await this.rotateNow(id);
    });
  }
}
