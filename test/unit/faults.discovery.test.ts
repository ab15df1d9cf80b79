// The fault matrix for Add Account (discovery and login) and for where a
// token may go: each case runs the Add Account flow as the command does, and
// asserts the one sentence the user reads and that no account or secret was
// stored. Authorization never follows a redirect to another origin, and no
// request carries ?access_token=.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { HttpClient } from '../../src/core/http';
import { whoami } from '../../src/core/session';
import { TestHomeserver } from '../support/homeserver';
import {
  emptyJsonHandler,
  redirectTo,
  selfSignedCertificate,
  startHttpServer,
  startTlsServer,
  websiteHandler,
  type ForeignServer,
} from '../support/foreignServers';
import { assertOneSentence, recordFault } from '../support/reliabilityFigures';
import { TestWorld } from './accountsHarness';

const WELL_KNOWN = /^\/\.well-known\/matrix\/client$/;

describe('fault matrix: Add Account (discovery and login)', function () {
  this.timeout(20_000);
  let hs: TestHomeserver | undefined;
  let world: TestWorld;
  const others: ForeignServer[] = [];
  beforeEach(async () => {
    world = await TestWorld.create();
  });
  afterEach(async () => {
    await world.dispose();
    await hs?.stop();
    hs = undefined;
    for (const s of others.splice(0)) await s.stop();
  });

  /** Runs Add Account with `server` typed in; returns the error the user read. */
  async function addAccountFails(server: string, area: string, fault: string): Promise<string> {
    const w = await world.openWindow({ timeoutMs: 2_000 });
    w.prompts.inputs.push(server, 'alice', 'wonderland');
    w.prompts.picks.push('password');
    const view = await w.flows.addAccount();
    assert.equal(view, undefined, 'an account was added');
    assert.deepEqual(w.manager.accounts(), []);
    assert.deepEqual(
      w.secrets.keys().filter((k) => k.startsWith('matrixDevtools.tokens/')),
      [],
    );
    const errors = w.prompts.notifications.filter((n) => n.kind === 'error');
    assert.equal(errors.length, 1, JSON.stringify(w.prompts.notifications));
    assertOneSentence(errors[0].message);
    recordFault(area, fault);
    return errors[0].message;
  }

  it('well-known pointing to a dead URL: says where it points and that nothing listens there', async () => {
    hs = await TestHomeserver.start({ wellKnown: { 'm.homeserver': { base_url: 'http://127.0.0.1:9' } } });
    const message = await addAccountFails(hs.baseUrl, 'discovery', 'well-known pointing to a dead URL');
    assert.match(message, /points at http:\/\/127\.0\.0\.1:9/);
    assert.match(message, /connection refused/);
  });

  it('well-known with invalid JSON: says the well-known file is broken and what to do', async () => {
    hs = await TestHomeserver.start();
    hs.answerRaw(WELL_KNOWN, { status: 200, text: '{"m.homeserver": {"base_url": ' });
    const message = await addAccountFails(hs.baseUrl, 'discovery', 'well-known with invalid JSON');
    assert.match(message, /well-known\/matrix\/client is broken/);
    assert.match(message, /enter the homeserver URL directly/);
  });

  it('https:// to a port that speaks plain HTTP: one sentence, not OpenSSL\'s "wrong version number"', async () => {
    hs = await TestHomeserver.start();
    const message = await addAccountFails(`https://127.0.0.1:${hs.port}`, 'discovery', 'https:// to a plain-HTTP port');
    assert.match(message, /plain HTTP/);
    assert.match(message, /use http:\/\//);
  });

  it('a certificate this machine does not trust: names the certificate problem', async function () {
    const credentials = selfSignedCertificate();
    if (!credentials) this.skip(); // no openssl to make a certificate with
    const tls = await startTlsServer(emptyJsonHandler, credentials!);
    others.push(tls);
    const message = await addAccountFails(tls.url, 'discovery', 'an untrusted certificate');
    assert.match(message, /certificate is not trusted/);
    assert.match(message, /SELF_SIGNED/);
  });

  it('a server that is not Matrix at all (a website): says so', async () => {
    const site = await startHttpServer(websiteHandler);
    others.push(site);
    const message = await addAccountFails(site.url, 'discovery', 'a website that is not Matrix');
    assert.match(message, /does not answer as a Matrix homeserver/);
    assert.match(message, /HTML page/);
  });

  it('a wrong password: 403 M_FORBIDDEN in one sentence, nothing stored', async () => {
    hs = await TestHomeserver.start();
    const w = await world.openWindow();
    w.prompts.inputs.push(hs.baseUrl, 'alice', 'not-the-password');
    w.prompts.picks.push('password');
    assert.equal(await w.flows.addAccount(), undefined);
    const [error] = w.prompts.notifications.filter((n) => n.kind === 'error');
    assert.ok(error);
    assert.match(error.message, /M_FORBIDDEN/);
    assertOneSentence(error.message);
    assert.deepEqual(w.secrets.keys(), []);
    recordFault('login', 'wrong password');
  });
});

describe('where an access token may go', function () {
  this.timeout(20_000);
  const servers: ForeignServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
  });

  it('Authorization never follows a redirect to another origin, and does follow one on the same origin', async () => {
    const elsewhere = await startHttpServer(emptyJsonHandler);
    const redirecting = await startHttpServer((req, res) => {
      if (req.url?.startsWith('/same/')) return emptyJsonHandler(req, res);
      if (req.url?.includes('same-origin')) return redirectTo(() => `${redirecting.url}/same`)(req, res);
      return redirectTo(() => elsewhere.url, 307)(req, res);
    });
    servers.push(elsewhere, redirecting);
    const http = new HttpClient({ timeoutMs: 2_000 });
    const token = 'syt_secret_access_token';
    await whoami(http, redirecting.url, token);
    assert.equal(elsewhere.requests.length, 1, 'the redirect was not followed');
    assert.equal(elsewhere.requests[0].headers.authorization, undefined, 'the token went to another origin');
    await http.request(`${redirecting.url}/same-origin`, '/_matrix/client/v3/account/whoami', { accessToken: token });
    const followed = redirecting.requests.find((r) => r.url.startsWith('/same/'));
    assert.equal(
      followed?.headers.authorization,
      `Bearer ${token}`,
      'a same-origin redirect lost the token (the check above would then prove nothing)',
    );
    for (const r of [...elsewhere.requests, ...redirecting.requests]) assert.doesNotMatch(r.url, /access_token=/);
    recordFault('authenticated call', 'a redirect to another origin');
  });

  it('no client code puts access_token into a URL', async () => {
    const src = path.resolve(__dirname, '../../../src');
    const offenders: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (
          entry.name.endsWith('.ts') &&
          /[?&]access_token=|searchParams\.(set|append)\(\s*['"]access_token|query:\s*\{[^}]*\baccess_token\b/.test(
            await fs.readFile(full, 'utf8'),
          )
        ) {
          offenders.push(full);
        }
      }
    };
    await walk(src);
    assert.deepEqual(offenders, []);
  });
});
