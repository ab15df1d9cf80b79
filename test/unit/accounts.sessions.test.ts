// The accounts feature against the test homeserver over real HTTP, driven the
// way the commands drive it (flows with scripted prompts), with simulated
// windows sharing one SecretStorage, one globalState and one lock folder.
import * as assert from 'node:assert/strict';
import { loginWithPassword, whoami } from '../../src/core/session';
import { SessionEndedError } from '../../src/core/rotation';
import { accountItemModel, markdownToText } from '../../src/vscode/accounts/present';
import { MatrixSessions } from '../../src/vscode/auth/sessions';
import { TestHomeserver } from '../support/homeserver';
import { eventually, TestWindow, TestWorld } from './accountsHarness';

const REFRESH = /\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
const WHOAMI = /\/account\/whoami$/;

async function addAlice(w: TestWindow, hs: TestHomeserver): Promise<string> {
  w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
  w.prompts.picks.push('password');
  const view = await w.flows.addAccount();
  assert.ok(view, `Add Account failed: ${JSON.stringify(w.prompts.notifications)}`);
  return view.id;
}

/** Every token string this test has seen, to prove none leaks. */
class TokenWitness {
  readonly seen = new Set<string>();
  async collect(w: TestWindow, id: string): Promise<void> {
    const stored = await w.tokens.read(id);
    if (stored?.tokens.accessToken) this.seen.add(stored.tokens.accessToken);
    if (stored?.tokens.refreshToken) this.seen.add(stored.tokens.refreshToken);
  }
  add(token: string | undefined): void {
    if (token) this.seen.add(token);
  }
  leaksInto(text: string): string[] {
    return [...this.seen].filter((tk) => text.includes(tk));
  }
}

/**
 * Requests the server refused. Add Account's auth_metadata probes answer 404 on
 * a server without OAuth 2.0: that is how discovery learns it, not a failure.
 */
function failedRequests(hs: TestHomeserver) {
  return hs.requests.filter((r) => r.status >= 400 && !r.path.endsWith('/auth_metadata'));
}

describe('accounts against the test homeserver', function () {
  this.timeout(20_000);
  let hs: TestHomeserver;
  let world: TestWorld;

  afterEach(async () => {
    await world?.dispose();
    await hs?.stop();
  });

  describe('signing in', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start();
      world = await TestWorld.create();
    });

    it('adds an account with a password: discovery, login flows, a password box, tokens only in the secret store', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const [account] = w.manager.accounts();
      assert.equal(account.userId, '@alice:localhost');
      assert.equal(account.homeserverUrl, hs.baseUrl);
      assert.equal(account.displayState, 'signedIn');
      assert.ok(account.token?.refreshable && account.token.expiresAt, 'refreshable token with an expiry');
      assert.deepEqual(
        hs.devices('@alice:localhost').map((d) => d.deviceId),
        [account.deviceId],
      );
      const passwordBox = w.prompts.inputBoxes.find((b) => /password/i.test(b.title ?? ''));
      assert.equal(passwordBox?.password, true, 'the password is asked in a password box');
      assert.deepEqual(w.secrets.keys(), [`matrixDevtools.tokens/${id}`]);
      assert.ok(hs.count('GET', '/.well-known/matrix/client') >= 1 && hs.count('GET', '/_matrix/client/v3/login') === 1);
      assert.deepEqual(account.specVersions.slice(-1), ['v1.6']);
      assert.ok(w.prompts.notifications.some((n) => n.kind === 'info' && n.message.includes('@alice:localhost')));
      assert.deepEqual(w.sessionChanges, [{ added: [id], removed: [], changed: [] }], 'one "added" session event');
    });

    it('adds an account from an existing access token checked with whoami, and refuses a bad one', async () => {
      const w = await world.openWindow();
      const http = w.http;
      const login = await loginWithPassword(http, hs.baseUrl, { user: 'alice', password: 'wonderland' });
      w.prompts.inputs.push(hs.baseUrl, 'syt_not_a_real_token', '');
      w.prompts.picks.push('existing access token');
      assert.equal(await w.flows.addAccount(), undefined);
      const error = w.prompts.notifications.find((n) => n.kind === 'error');
      assert.match(error?.message ?? '', /M_UNKNOWN_TOKEN/);
      assert.equal(w.manager.accounts().length, 0);

      w.prompts.inputs.push(hs.baseUrl, login.tokens.accessToken, login.tokens.refreshToken);
      w.prompts.picks.push('existing access token');
      const view = await w.flows.addAccount();
      assert.equal(view?.userId, '@alice:localhost');
      assert.equal(view?.deviceId, login.deviceId);
      assert.equal(view?.signInMethod, 'accessToken');
      assert.ok(view?.token?.refreshable);
      // The pasted pair works for rotation.
      await w.manager.rotateNow(view.id);
      assert.equal(hs.count('POST', REFRESH), 1);
    });

    it('offers only the access token when the server has no password login', async () => {
      hs.setLoginFlows([{ type: 'm.login.sso' }]);
      const w = await world.openWindow();
      w.prompts.inputs.push(hs.baseUrl);
      w.prompts.picks.push(undefined);
      assert.equal(await w.flows.addAccount(), undefined);
      assert.deepEqual(w.prompts.quickPicks[0].labels, ['Use an existing access token']);
      assert.match(w.prompts.quickPicks[0].placeHolder ?? '', /offers no password login/);
    });
  });

  describe('rotation', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start({ honourCustomRefreshLifetime: true });
      world = await TestWorld.create();
    });

    it('100 concurrent callers with an expired token cause exactly one /refresh, and all succeed', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const before = await w.tokens.get(id);
      w.clockOffsetMs = 301_000; // this window now sees the access token as expired
      const results = await Promise.all(
        Array.from({ length: 100 }, () => w.manager.withAccessToken(id, (token) => whoami(w.http, hs.baseUrl, token))),
      );
      assert.equal(hs.count('POST', REFRESH), 1);
      assert.ok(results.every((r) => r.userId === '@alice:localhost'));
      const after = await w.tokens.get(id);
      assert.notEqual(after?.accessToken, before?.accessToken);
      assert.equal(failedRequests(hs).length, 0, 'no request failed');
    });

    it('100 concurrent callers hitting a soft logout (401, soft_logout) cause one /refresh and each call is retried once', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      hs.expireAccessToken((await w.tokens.get(id))!.accessToken);
      const results = await Promise.all(
        Array.from({ length: 100 }, () => w.manager.withAccessToken(id, (token) => whoami(w.http, hs.baseUrl, token))),
      );
      assert.equal(results.length, 100);
      assert.equal(hs.count('POST', REFRESH), 1);
      assert.equal(hs.count('GET', WHOAMI), 200, 'each caller: one 401, one retry');
    });

    it('two windows rotating at the same moment: one /refresh, the same working tokens, no 403 afterwards', async () => {
      const a = await world.openWindow();
      const b = await world.openWindow();
      const id = await addAlice(a, hs);
      await eventually(() => b.manager.account(id)?.token !== undefined, 'window B has loaded the session');
      await Promise.all([a.manager.rotateNow(id), b.manager.rotateNow(id)]);
      assert.equal(hs.count('POST', REFRESH), 1);
      const ta = await a.manager.getAccessToken(id);
      const tb = await b.manager.getAccessToken(id);
      assert.equal(ta, tb);
      await a.actions.checkSession(id);
      await b.actions.checkSession(id);
      await Promise.all([a.manager.rotateNow(id), b.manager.rotateNow(id)]);
      assert.equal(hs.count('POST', REFRESH), 2);
      await b.actions.checkSession(id);
      assert.deepEqual(
        hs.requests.filter((r) => r.status === 403 || r.status === 401),
        [],
      );
      assert.equal(a.manager.account(id)?.displayState, 'signedIn');
      assert.equal(b.manager.account(id)?.displayState, 'signedIn');
    });

    it('two windows whose secret store lags 200 ms behind each other still refresh only once', async () => {
      const a = await world.openWindow({ propagationDelayMs: 200 });
      const b = await world.openWindow({ propagationDelayMs: 200 });
      const id = await addAlice(a, hs);
      await eventually(() => b.manager.account(id)?.token !== undefined, 'window B has loaded the session');
      for (let round = 1; round <= 3; round++) {
        await Promise.all([a.manager.rotateNow(id), b.manager.rotateNow(id)]);
        assert.equal(hs.count('POST', REFRESH), round, `round ${round}`);
        await a.actions.checkSession(id);
        await b.actions.checkSession(id);
      }
      assert.deepEqual(failedRequests(hs), []);
    });

    it('a window whose secret store never catches up (VS Code for the Web) refuses to rotate with its old copy, and the session survives', async () => {
      const a = await world.openWindow();
      const id = await addAlice(a, hs);
      // Opened now, B holds a copy of the secrets that never sees A's later writes.
      const b = await world.openWindow({ propagationDelayMs: Infinity, catchUpTimeoutMs: 300 });
      await a.manager.rotateNow(id);
      await a.actions.checkSession(id); // the new tokens are used: the old refresh token is dead now
      await assert.rejects(b.manager.rotateNow(id), (e: Error) => e.name === 'StaleTokensError' && /Reload this window/.test(e.message));
      assert.equal(hs.count('POST', REFRESH), 1, 'B sent its superseded refresh token');
      await b.flows.dialogs.rotateNow(id);
      const told = b.prompts.notifications.find((n) => n.kind === 'error');
      assert.ok(told && told.actions.includes('Reload Window'), `B was not told to reload: ${JSON.stringify(b.prompts.notifications)}`);
      // B waited for A's write once; later reads know it will not come.
      assert.equal(b.log.lines.filter((l) => l.includes('did not catch up')).length, 1, b.log.lines.join('\n'));
      await a.manager.rotateNow(id);
      await a.actions.checkSession(id);
      assert.equal(a.manager.account(id)?.displayState, 'signedIn');
      assert.deepEqual(failedRequests(hs), []);
    });

    it('a window picks up another window’s rotation: session "changed" event, new token, timer re-armed, no extra /refresh', async () => {
      const a = await world.openWindow();
      const b = await world.openWindow({ autoRotate: true });
      const id = await addAlice(a, hs);
      await eventually(() => b.manager.account(id)?.nextRotationAt !== undefined, 'window B armed its timer');
      const armedAt = b.manager.account(id)?.nextRotationAt;
      b.sessionChanges.length = 0;
      await new Promise((r) => setTimeout(r, 20));
      await a.manager.rotateNow(id);
      await eventually(() => b.sessionChanges.some((c) => c.changed.includes(id)), 'window B reports the session changed');
      assert.equal(await b.manager.getAccessToken(id), await a.manager.getAccessToken(id));
      assert.ok((b.manager.account(id)?.nextRotationAt ?? 0) > (armedAt ?? Infinity), 'timer moved to the new tokens');
      assert.equal(hs.count('POST', REFRESH), 1);
    });

    it('a refresh answer lost after the server committed it is retried with the old refresh token and the session survives', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const old = await w.tokens.get(id);
      hs.dropResponseAfterCommit('refresh');
      const fresh = await w.manager.rotateNow(id);
      assert.equal(hs.count('POST', REFRESH), 2);
      assert.equal(hs.requests.filter((r) => REFRESH.test(r.path))[0].dropped, true);
      assert.notEqual(fresh.refreshToken, old?.refreshToken);
      assert.equal((await w.actions.checkSession(id)).userId, '@alice:localhost');
      await w.manager.rotateNow(id);
      await w.actions.checkSession(id);
      assert.equal(w.manager.account(id)?.displayState, 'signedIn');
      assert.deepEqual(failedRequests(hs), []);
    });

    it('soft logout on whoami: one rotation, then success', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      hs.expireAccessToken((await w.tokens.get(id))!.accessToken);
      const me = await w.actions.checkSession(id);
      assert.equal(me.userId, '@alice:localhost');
      assert.equal(hs.count('POST', REFRESH), 1);
      assert.deepEqual(
        hs.requests.filter((r) => WHOAMI.test(r.path)).map((r) => `${r.status} ${r.errcode ?? ''}`),
        ['401 M_UNKNOWN_TOKEN', '200 '],
      );
    });

    it('sends the custom refresh-token lifetime only when it is set', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const lifetimeOf = async () => hs.refreshTokenExpiresAt((await w.tokens.get(id))!.refreshToken!);
      await w.manager.rotateNow(id);
      assert.equal(await lifetimeOf(), null, 'not set: the server default (no expiry) applies');

      w.prompts.inputs.push('10m');
      await w.flows.dialogs.setRefreshTokenLifetime(id);
      await w.manager.rotateNow(id);
      const expiresAt = await lifetimeOf();
      assert.ok(typeof expiresAt === 'number' && Math.abs(expiresAt - (Date.now() + 600_000)) < 10_000, `about 10 min, got ${expiresAt}`);
      assert.match(
        markdownToText(accountItemModel(w.manager.account(id)!, Date.now()).tooltipMarkdown),
        /Custom refresh-token lifetime: 10 min/,
      );

      w.prompts.inputs.push('');
      await w.flows.dialogs.setRefreshTokenLifetime(id);
      await w.manager.rotateNow(id);
      assert.equal(await lifetimeOf(), null, 'cleared: no longer sent');
    });

    it('Copy Access Token rotates first when the token expires within a minute, and never shows the token', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      await w.flows.dialogs.copyAccessToken(id);
      assert.equal(hs.count('POST', REFRESH), 0);
      const first = w.clipboard.text;
      assert.equal(first, await w.tokens.get(id).then((t) => t?.accessToken));
      w.clockOffsetMs = 300_000 - 30_000; // 30 s left
      await w.flows.dialogs.copyAccessToken(id);
      assert.equal(hs.count('POST', REFRESH), 1);
      assert.notEqual(w.clipboard.text, first);
      assert.equal((await whoami(w.http, hs.baseUrl, w.clipboard.text!)).userId, '@alice:localhost');
      const copied = w.prompts.notifications.filter((n) => /Copied/.test(n.message));
      assert.equal(copied.length, 2);
      assert.ok(copied.every((n) => !n.message.includes(first!) && !n.message.includes(w.clipboard.text!)));
    });

    it('rotates automatically before expiry, once for two windows', async () => {
      await hs.stop();
      hs = await TestHomeserver.start({ accessTokenLifetimeMs: 1_500 });
      const policy = { lifetimeFraction: 0.5, minMarginMs: 200 };
      const a = await world.openWindow({ autoRotate: true, policy });
      const b = await world.openWindow({ autoRotate: true, policy });
      const id = await addAlice(a, hs);
      await eventually(() => hs.count('POST', REFRESH) >= 1, 'an automatic rotation', 3_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(hs.count('POST', REFRESH), 1, 'one window rotated, the other adopted');
      await eventually(() => hs.count('POST', REFRESH) >= 2, 'the next automatic rotation', 3_000);
      await a.actions.checkSession(id);
      await b.actions.checkSession(id);
      assert.deepEqual(failedRequests(hs), []);
      assert.ok(
        a.log.lines.some((l) => /Rotating the tokens of @alice:localhost automatically/.test(l)) ||
          b.log.lines.some((l) => /automatically/.test(l)),
      );
    });
  });

  describe('timers', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start();
      world = await TestWorld.create();
    });

    it("waits for another window's changes through the injected timers, and cancels those waits on dispose", async () => {
      const asked: Array<{ ms: number; disposed: boolean }> = [];
      const recording = {
        setTimeout(fn: () => void, ms: number) {
          const entry = { ms, disposed: false };
          asked.push(entry);
          const handle = setTimeout(fn, ms);
          return {
            dispose: () => {
              entry.disposed = true;
              clearTimeout(handle);
            },
          };
        },
      };
      const a = await world.openWindow();
      const b = await world.openWindow({ timers: recording });
      await addAlice(a, hs);
      await eventually(() => b.manager.accounts().length === 1, 'window b sees the new account');
      await eventually(() => asked.some((x) => x.ms === 1_000), "the repaint after another window's change is an injected timer");
      b.dispose();
      assert.ok(
        asked.filter((x) => x.ms === 1_000).every((x) => x.disposed),
        'dispose cancels the pending repaint',
      );
    });
  });

  describe('end of a session', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start({ refreshTokenLifetimeMs: 300 });
      world = await TestWorld.create();
    });

    it('/refresh 403 → needs sign-in, account, metadata and tokens kept, user told once; Sign In Again keeps the device', async () => {
      const a = await world.openWindow();
      const b = await world.openWindow();
      const id = await addAlice(a, hs);
      const deviceId = a.manager.account(id)!.deviceId;
      await new Promise((r) => setTimeout(r, 400)); // the refresh token expires
      const attempts = await Promise.allSettled([a.manager.rotateNow(id), a.manager.rotateNow(id), b.manager.rotateNow(id)]);
      assert.ok(attempts.every((r) => r.status === 'rejected'));
      assert.ok(attempts.some((r) => r.status === 'rejected' && r.reason instanceof SessionEndedError));
      assert.equal(
        hs.requests.filter((r) => REFRESH.test(r.path) && r.status === 403).length,
        1,
        'one refused refresh, not one per caller',
      );
      await eventually(
        () => a.manager.account(id)?.displayState === 'needsSignIn' && b.manager.account(id)?.displayState === 'needsSignIn',
        'both windows show needs sign-in',
      );
      await new Promise((r) => setTimeout(r, 100));
      const told = [...a.endedEvents, ...b.endedEvents];
      assert.equal(told.length, 1, 'told once (by whichever window got the refusal)');
      assert.match(told[0].message, /M_FORBIDDEN/);
      const kept = a.manager.account(id)!;
      assert.equal(kept.userId, '@alice:localhost');
      assert.equal(kept.deviceId, deviceId);
      assert.equal(kept.nextRotationAt, undefined, 'no more automatic attempts');
      assert.ok((await a.tokens.read(id))?.tokens.refreshToken, 'tokens kept');
      assert.equal(accountItemModel(kept, Date.now()).contextValue, 'account.needsSignIn');

      a.prompts.picks.push('password');
      a.prompts.inputs.push('wonderland');
      const again = await a.flows.signInAgain(id);
      assert.equal(again?.displayState, 'signedIn');
      assert.equal(again?.deviceId, deviceId, 'same device');
      await eventually(() => b.manager.account(id)?.displayState === 'signedIn', 'window B sees the new session');
      assert.equal((await b.actions.checkSession(id)).deviceId, deviceId);
    });

    it('a hard 401 (signed out elsewhere) marks the session over once and keeps the account', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      hs.logoutAllDevices('@alice:localhost');
      await w.flows.dialogs.checkSession(id);
      await eventually(() => w.manager.account(id)?.displayState === 'needsSignIn', 'needs sign-in');
      assert.equal(w.endedEvents.length, 1);
      assert.match(w.endedEvents[0].message, /signed out elsewhere/);
      assert.equal(w.prompts.notifications.filter((n) => n.kind === 'error').length, 0, 'no second, generic error');
      await w.flows.dialogs.checkSession(id);
      assert.equal(w.endedEvents.length, 1, 'still once');
      assert.equal(hs.count('POST', REFRESH), 0);
    });
  });

  describe('sign-out, removal and what is stored', () => {
    beforeEach(async () => {
      hs = await TestHomeserver.start();
      world = await TestWorld.create();
    });

    it('Sign Out ends the server session, forgets the tokens and keeps the entry', async () => {
      const a = await world.openWindow();
      const b = await world.openWindow();
      const id = await addAlice(a, hs);
      const token = (await a.tokens.get(id))!.accessToken;
      await eventually(() => b.manager.account(id)?.token !== undefined, 'B has loaded the session');
      assert.equal(await a.flows.dialogs.signOut(id), true);
      assert.equal(hs.isAccessTokenKnown(token), false);
      assert.deepEqual(hs.devices('@alice:localhost'), []);
      assert.equal(a.manager.account(id)?.displayState, 'signedOut');
      assert.deepEqual(a.secrets.keys(), []);
      await eventually(() => b.manager.account(id)?.displayState === 'signedOut', 'B sees the sign-out');
      assert.ok(b.sessionChanges.some((c) => c.removed.includes(id)));
      assert.equal(a.endedEvents.length, 0);
    });

    it('Sign Out with the homeserver down asks before forgetting the tokens', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      await hs.stop();
      w.prompts.answers.push(undefined); // the user does not want to forget them
      assert.equal(await w.flows.dialogs.signOut(id), false);
      assert.equal(w.manager.account(id)?.displayState, 'unreachable');
      w.prompts.answers.push('Forget Tokens');
      assert.equal(await w.flows.dialogs.signOut(id), true);
      assert.equal(w.manager.account(id)?.displayState, 'signedOut');
    });

    it('Refresh re-checks every account: unreachable while the server is down, spec versions updated when it is back', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const port = hs.port;
      await hs.stop();
      await w.flows.recheckAccounts();
      assert.equal(w.manager.account(id)?.displayState, 'unreachable');
      assert.match(w.manager.account(id)?.unreachableReason ?? '', /connection refused|could not reach|ECONNREFUSED/i);
      assert.equal(
        accountItemModel(w.manager.account(id)!, Date.now()).contextValue,
        'account.signedIn.refreshable',
        'still offers the session actions',
      );
      assert.match(w.prompts.notifications.at(-1)?.message ?? '', /1 of 1 accounts could not be checked/);
      // The same port again, so the stored homeserver URL fits.
      hs = await TestHomeserver.start({ port, versions: ['v1.5', 'v1.11'] });
      // The old tokens are unknown to the new server process: the account needs a new sign-in.
      await w.flows.recheckAccounts();
      assert.equal(w.manager.account(id)?.displayState, 'needsSignIn');
      assert.deepEqual(w.manager.account(id)?.specVersions, ['v1.5', 'v1.11']);
      assert.equal(w.endedEvents.length, 1);
    });

    it('shows a token that is about to expire as expiring soon', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      assert.equal(w.manager.account(id)?.displayState, 'signedIn');
      w.clockOffsetMs = 260_000; // 40 s left
      const view = w.manager.account(id)!;
      assert.equal(view.displayState, 'expiringSoon');
      assert.match(markdownToText(accountItemModel(view, Date.now() + 260_000).tooltipMarkdown), /expires in 40 s/);
    });

    it('Remove asks (modal), logs out on the server and deletes secrets and metadata, in every window', async () => {
      const w = await world.openWindow();
      const other = await world.openWindow();
      const id = await addAlice(w, hs);
      await eventually(() => other.manager.account(id)?.token !== undefined, 'the other window has the session');
      w.prompts.answers.push(undefined);
      assert.equal(await w.flows.dialogs.removeAccount(id), false);
      assert.equal(w.manager.accounts().length, 1);
      w.prompts.answers.push('Remove');
      assert.equal(await w.flows.dialogs.removeAccount(id), true);
      assert.equal(w.prompts.notifications.filter((n) => n.kind === 'confirm').length, 2);
      assert.deepEqual(w.manager.accounts(), []);
      assert.deepEqual(w.secrets.keys(), []);
      assert.deepEqual(hs.devices('@alice:localhost'), []);
      assert.equal(world.memento.dump(), 'matrixDevtools.accounts=[]');
      await eventually(
        () => other.manager.accounts().length === 0 && other.sessionChanges.some((c) => c.removed.includes(id)),
        'gone in the other window too',
      );
      assert.deepEqual(other.secrets.keys(), []);
    });

    it('the auth provider sessions carry a fresh token and filter on the homeserver', async () => {
      const w = await world.openWindow();
      const id = await addAlice(w, hs);
      const sessions = new MatrixSessions(w.manager, w.log);
      assert.deepEqual(await sessions.getSessions(['https://matrix.example.org']), []);
      w.clockOffsetMs = 290_000; // 10 s left
      const [session] = await sessions.getSessions([hs.baseUrl]);
      assert.equal(session.id, id);
      assert.equal(session.account.label, '@alice:localhost');
      assert.equal(hs.count('POST', REFRESH), 1, 'rotated before handing out a token about to expire');
      assert.equal((await whoami(w.http, hs.baseUrl, session.accessToken)).userId, '@alice:localhost');
    });

    it('after add, rotate, check, copy, lifetime, sign-out, token sign-in and removal, no token is in globalState, the log or a notification', async () => {
      const w = await world.openWindow();
      const other = await world.openWindow();
      const witness = new TokenWitness();
      const id = await addAlice(w, hs);
      await witness.collect(w, id);
      await w.flows.dialogs.rotateNow(id);
      await witness.collect(w, id);
      await w.flows.dialogs.checkSession(id);
      await w.flows.dialogs.copyAccessToken(id);
      witness.add(w.clipboard.text);
      w.prompts.inputs.push('1h');
      await w.flows.dialogs.setRefreshTokenLifetime(id);
      hs.expireAccessToken((await w.tokens.get(id))!.accessToken);
      await w.flows.dialogs.checkSession(id); // soft logout → rotation
      await witness.collect(w, id);
      await w.flows.dialogs.signOut(id);
      const pasted = await loginWithPassword(w.http, hs.baseUrl, { user: 'alice', password: 'wonderland' }, {});
      witness.add(pasted.tokens.accessToken);
      witness.add(pasted.tokens.refreshToken);
      w.prompts.picks.push('existing access token');
      w.prompts.inputs.push(pasted.tokens.accessToken, pasted.tokens.refreshToken);
      await w.flows.signInAgain(id);
      await w.flows.dialogs.rotateNow(id);
      await witness.collect(w, id);
      const rendered = accountItemModel(w.manager.account(id)!, Date.now());
      w.prompts.answers.push('Remove');
      await w.flows.dialogs.removeAccount(id);
      await new Promise((r) => setTimeout(r, 50));

      assert.ok(witness.seen.size >= 8, `saw ${witness.seen.size} tokens`);
      assert.equal(w.prompts.notifications.filter((n) => n.kind === 'error').length, 0, JSON.stringify(w.prompts.notifications));
      assert.deepEqual(witness.leaksInto(world.memento.dump()), [], 'globalState');
      assert.deepEqual(witness.leaksInto([...w.log.lines, ...other.log.lines].join('\n')), [], 'log');
      assert.deepEqual(witness.leaksInto(JSON.stringify(w.prompts.notifications)), [], 'notifications');
      assert.deepEqual(witness.leaksInto(JSON.stringify(rendered)), [], 'tree item');
      assert.ok(
        w.log.lines.some((l) => l.includes('/_matrix/client/v3/refresh')),
        'requests are logged',
      );
    });
  });
});
