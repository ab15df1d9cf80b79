// Server name or URL → a verified base URL, against the test homeserver.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestFailedError } from '../../src/core/errors';
import { discoverHomeserver, getLoginFlows, parseServerInput, supportsSpecVersion } from '../../src/core/homeserver';
import { HttpClient } from '../../src/core/http';
import { TestHomeserver } from '../support/homeserver';

async function rejection(p: Promise<unknown>): Promise<RequestFailedError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof RequestFailedError, `expected RequestFailedError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected discovery to fail');
}

describe('homeserver discovery', () => {
  const client = new HttpClient({ timeoutMs: 3000 });
  const servers: TestHomeserver[] = [];
  const start = async (opts: Parameters<typeof TestHomeserver.start>[0] = {}) => {
    const hs = await TestHomeserver.start(opts);
    servers.push(hs);
    return hs;
  };
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('follows .well-known from a server name to the real base URL', async () => {
    const real = await start();
    const front = await start({ wellKnown: { 'm.homeserver': { base_url: `${real.baseUrl}/` } } });
    const found = await discoverHomeserver(client, `127.0.0.1:${front.port}`);
    assert.equal(found.baseUrl, real.baseUrl);
    assert.equal(found.viaWellKnown, true);
    assert.equal(found.serverName, `127.0.0.1:${front.port}`);
    assert.ok(found.versions.versions.includes('v1.6'));
    assert.equal(real.count('GET', '/_matrix/client/versions'), 1);
    assert.equal(front.count('GET', '/_matrix/client/versions'), 0);
  });

  it('asks /versions of a typed URL while .well-known is still on its way (one round trip, not two)', async () => {
    // .well-known answers only once /versions has arrived, or after 2 s: asked one after the other, /versions comes too late.
    let versionsArrived!: () => void;
    const arrived = new Promise<void>((r) => (versionsArrived = r));
    let wellKnownWaited = false;
    const server = http.createServer((req, res) => {
      if (req.url === '/_matrix/client/versions') {
        versionsArrived();
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ versions: ['v1.11'] }));
        return;
      }
      void Promise.race([arrived.then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]).then((inTime) => {
        wellKnownWaited = inTime === true;
        res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errcode: 'M_NOT_FOUND', error: 'Not found' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const found = await discoverHomeserver(client, url);
      assert.equal(found.baseUrl, url);
      assert.deepEqual(found.versions.versions, ['v1.11']);
      assert.ok(wellKnownWaited, '/versions was asked only after .well-known answered');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("ignores the typed URL's own /versions when .well-known points elsewhere", async () => {
    const real = await start();
    const front = await start({ wellKnown: { 'm.homeserver': { base_url: real.baseUrl } } });
    front.answerHtml(/^\/_matrix\/client\/versions$/, 5, 502);
    const found = await discoverHomeserver(client, front.baseUrl);
    assert.equal(found.baseUrl, real.baseUrl);
    assert.equal(found.viaWellKnown, true);
    assert.equal(real.count('GET', '/_matrix/client/versions'), 1);
  });

  it('uses the given host when .well-known is absent (404)', async () => {
    const hs = await start({ wellKnown: null });
    const found = await discoverHomeserver(client, hs.baseUrl);
    assert.equal(found.baseUrl, hs.baseUrl);
    assert.equal(found.viaWellKnown, false);
  });

  it('reports a .well-known that is not JSON, naming it and what to do', async () => {
    const hs = await start({ wellKnown: 'invalid-json' });
    const e = await rejection(discoverHomeserver(client, hs.baseUrl));
    assert.equal(e.kind, 'invalid-response');
    assert.match(e.message, /\/\.well-known\/matrix\/client is broken .*enter the homeserver URL directly/);
  });

  it('reports a .well-known without m.homeserver.base_url', async () => {
    const hs = await start({ wellKnown: { 'm.identity_server': { base_url: 'https://vector.im' } } });
    const e = await rejection(discoverHomeserver(client, hs.baseUrl));
    assert.match(e.message, /has no valid m\.homeserver\.base_url/);
  });

  it('reports a .well-known that points at something that is not a homeserver', async () => {
    const hs = await start({ wellKnown: { 'm.homeserver': { base_url: 'http://127.0.0.1:1' } } });
    const e = await rejection(discoverHomeserver(client, hs.baseUrl));
    assert.equal(e.kind, 'network');
    assert.match(e.message, /points at http:\/\/127\.0\.0\.1:1, which does not answer as a Matrix homeserver: Nothing is listening/);
  });

  it('reports a URL that serves HTML instead of the client API', async () => {
    const hs = await start({ wellKnown: null });
    hs.answerHtml(/^\/_matrix\/client\/versions$/, 1, 200);
    const e = await rejection(discoverHomeserver(client, hs.baseUrl));
    assert.equal(e.kind, 'invalid-response');
    assert.match(e.message, /does not answer as a Matrix homeserver: .*HTML page instead of JSON/);
  });

  it('rejects input that is not a server name or URL, before any request', () => {
    assert.throws(() => parseServerInput('   '), /Enter a server name/);
    assert.throws(() => parseServerInput('ftp://example.org'), /not an http\(s\) URL/);
    assert.throws(() => parseServerInput('https://example.org/?access_token=x'), /query, fragment or credentials/);
    assert.equal(parseServerInput('example.org').toString(), 'https://example.org/');
    assert.equal(parseServerInput('localhost:8008').toString(), 'http://localhost:8008/');
  });

  it('reads login flows and compares spec versions', async () => {
    const hs = await start();
    const flows = await getLoginFlows(client, hs.baseUrl);
    assert.ok(flows.some((f) => f.type === 'm.login.password'));
    const found = await discoverHomeserver(client, hs.baseUrl);
    assert.equal(supportsSpecVersion(found.versions, 'v1.6'), true);
    assert.equal(supportsSpecVersion(found.versions, 'v1.7'), false);
    assert.equal(supportsSpecVersion({ versions: ['v1.10'], unstableFeatures: {} }, 'v1.7'), true);
  });
});
