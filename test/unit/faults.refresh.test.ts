// The fault matrix for /refresh: each fault a real deployment shows, against
// the test homeserver on loopback, through Rotate Refresh Token Now as the
// command runs it. For each: what the user reads, and that the stored tokens
// and the account are intact (or, where the server ended the session, kept
// and marked, never deleted).
import * as assert from 'node:assert/strict';
import { whoami } from '../../src/core/session';
import { TestHomeserver } from '../support/homeserver';
import { TestWindow, TestWorld } from './accountsHarness';
import { assertOneSentence, recordFault } from '../support/reliabilityFigures';

const REFRESH = /^\/_matrix\/client\/(r0|v3|unstable)\/refresh$/;
const JSON_500 = { status: 500, text: JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Internal server error' }) };

interface Fault {
  name: string;
  inject(hs: TestHomeserver): void | Promise<void>;
  /** After the fault is gone (cleared, the server back). */
  heal?(hs: TestHomeserver): void | Promise<void>;
  /** What happens: the rotation recovers by itself, fails and keeps the tokens, or the server ended the session. */
  outcome: 'recovers' | 'fails' | 'ended';
  /** What the message must say. */
  says: RegExp;
}

const PERSIST = 20; // more than the rotator's attempts

const FAULTS: Fault[] = [
  {
    name: 'connection refused (homeserver down)',
    inject: (hs) => hs.goDown(),
    heal: (hs) => hs.comeBack(),
    outcome: 'fails',
    says: /reach|connect|refused/i,
  },
  {
    name: 'connection reset after the server committed the rotation',
    inject: (hs) => hs.dropResponseAfterCommit('refresh'),
    outcome: 'recovers',
    says: /Rotated/,
  },
  {
    name: 'connection reset after the server committed, every attempt',
    inject: (hs) => hs.dropResponseAfterCommit('refresh', PERSIST),
    outcome: 'fails',
    says: /./,
  },
  {
    name: 'request lost before the server handled it',
    inject: (hs) => hs.resetBeforeCommit(REFRESH),
    outcome: 'recovers',
    says: /Rotated/,
  },
  // Stalled past the end of the test: the server never gets to handle them (a late answer is the "reset after commit" case).
  {
    name: 'stall past the request timeout',
    inject: (hs) => hs.delay(REFRESH, 60_000, PERSIST),
    outcome: 'fails',
    says: /time|respond|answer/i,
  },
  { name: '500 once', inject: (hs) => hs.answerRaw(REFRESH, JSON_500), outcome: 'recovers', says: /Rotated/ },
  { name: '500 on every attempt', inject: (hs) => hs.answerRaw(REFRESH, JSON_500, PERSIST), outcome: 'fails', says: /500/ },
  { name: '502 with an HTML page', inject: (hs) => hs.answerHtml(REFRESH, PERSIST), outcome: 'fails', says: /502/ },
  { name: '429 with retry_after_ms', inject: (hs) => hs.rateLimit(REFRESH, 120), outcome: 'recovers', says: /Rotated/ },
  {
    name: '429 with only a Retry-After header',
    inject: (hs) =>
      hs.answerRaw(REFRESH, {
        status: 429,
        text: JSON.stringify({ errcode: 'M_LIMIT_EXCEEDED', error: 'Too Many Requests' }),
        headers: { 'Retry-After': '1' },
      }),
    outcome: 'recovers',
    says: /Rotated/,
  },
  { name: '429 on every attempt', inject: (hs) => hs.rateLimit(REFRESH, 20, PERSIST), outcome: 'fails', says: /M_LIMIT_EXCEEDED/ },
  {
    name: '200 with invalid JSON',
    inject: (hs) => hs.answerRaw(REFRESH, { status: 200, text: '{"access_token": "abc' }, PERSIST),
    outcome: 'fails',
    says: /JSON|answer|response/i,
  },
  {
    name: '200 without access_token',
    inject: (hs) => hs.answerRaw(REFRESH, { status: 200, text: JSON.stringify({ refresh_token: 'r', expires_in_ms: 60_000 }) }, PERSIST),
    outcome: 'fails',
    says: /without an access token/,
  },
  {
    name: '401 M_UNKNOWN_TOKEN',
    inject: (hs) =>
      hs.answerRaw(REFRESH, {
        status: 401,
        text: JSON.stringify({ errcode: 'M_UNKNOWN_TOKEN', error: 'Unknown refresh token', soft_logout: false }),
      }),
    outcome: 'ended',
    says: /M_UNKNOWN_TOKEN/,
  },
  {
    name: '403 expired refresh token',
    inject: (hs) =>
      hs.answerRaw(REFRESH, { status: 403, text: JSON.stringify({ errcode: 'M_FORBIDDEN', error: 'Refresh token has expired' }) }),
    outcome: 'ended',
    says: /M_FORBIDDEN/,
  },
];

describe('fault matrix: /refresh', function () {
  this.timeout(30_000);
  let hs: TestHomeserver;
  let world: TestWorld;
  afterEach(async () => {
    await world?.dispose();
    await hs?.stop();
  });

  async function signedIn(): Promise<{ w: TestWindow; id: string }> {
    hs = await TestHomeserver.start();
    world = await TestWorld.create();
    const w = await world.openWindow({ timeoutMs: 400 });
    w.prompts.inputs.push(hs.baseUrl, 'alice', 'wonderland');
    w.prompts.picks.push('password');
    const view = await w.flows.addAccount();
    assert.ok(view, JSON.stringify(w.prompts.notifications));
    w.prompts.notifications.length = 0;
    return { w, id: view.id };
  }

  for (const fault of FAULTS) {
    it(`${fault.name}: ${fault.outcome === 'recovers' ? 'rotates anyway' : fault.outcome === 'ended' ? 'the session ends, its tokens and account are kept' : 'one clear error, tokens and account intact'}`, async () => {
      const { w, id } = await signedIn();
      const before = await w.tokens.read(id);
      const facts = () => {
        const m = w.manager.account(id);
        return { userId: m?.userId, homeserverUrl: m?.homeserverUrl, deviceId: m?.deviceId };
      };
      const factsBefore = facts();
      assert.ok(before);
      await fault.inject(hs);
      await w.flows.dialogs.rotateNow(id);
      // The end of a session is announced once, by the manager's event (a warning with Sign In Again).
      const ended = w.endedEvents.at(-1);
      const told = fault.outcome === 'ended' && ended ? { kind: 'warning', message: ended.message } : w.prompts.notifications.at(-1);
      assert.ok(told, 'the user was told nothing');
      assert.match(told.message, fault.says);
      assertOneSentence(told.message);
      if (fault.outcome !== 'recovers') assert.notEqual(told.kind, 'info', `reported as a success: ${told.message}`);
      await fault.heal?.(hs);
      hs.clearFaults();

      const after = await w.tokens.read(id);
      assert.ok(after, 'the secret entry is gone');
      assert.deepEqual(facts(), factsBefore, 'the account entry changed');
      if (fault.outcome === 'ended') {
        assert.deepEqual(after.tokens, before.tokens, 'the ended session lost its tokens');
        assert.ok(after.ended, 'the session is not marked ended');
        assert.equal(w.manager.account(id)?.displayState, 'needsSignIn');
      } else {
        if (fault.outcome === 'fails') assert.deepEqual(after.tokens, before.tokens, 'a failed rotation changed the stored tokens');
        else assert.notEqual(after.tokens.accessToken, before.tokens.accessToken, 'no new tokens stored');
        // The session still works and still rotates.
        const me = await w.manager.withAccessToken(id, (token) => whoami(w.http, hs.baseUrl, token));
        assert.equal(me.userId, '@alice:localhost');
        await w.manager.rotateNow(id);
        assert.equal((await w.manager.withAccessToken(id, (token) => whoami(w.http, hs.baseUrl, token))).userId, '@alice:localhost');
      }
      recordFault('refresh', fault.name);
    });
  }
});
