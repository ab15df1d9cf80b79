// The HTTP layer against real loopback servers that misbehave the ways real
// deployments do: proxies answering HTML, garbage, hangs, 429s and redirects.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as zlib from 'node:zlib';
import { MatrixApiError, RequestFailedError, describeError } from '../../src/core/errors';
import { HttpClient, HttpLogEntry, isLoopbackHost } from '../../src/core/http';
import { parseRegistration } from '../../src/core/registration';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

async function serve(
  handler: Handler,
): Promise<{ url: string; close(): Promise<void>; seen: Array<{ path: string; auth?: string; method?: string }> }> {
  const seen: Array<{ path: string; auth?: string; method?: string }> = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', auth: req.headers.authorization, method: req.method });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected the request to fail');
}

describe('HttpClient', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const start = async (h: Handler) => {
    const s = await serve(h);
    servers.push(s);
    return s;
  };

  it('sends JSON with the bearer token and returns the parsed answer', async () => {
    const s = await start((_req, res, body) => json(res, 200, { echoed: JSON.parse(body) }));
    const res = await new HttpClient().request(s.url, '/_matrix/client/v3/x', {
      method: 'POST',
      body: { a: 1 },
      accessToken: 'secret-token',
    });
    assert.deepEqual(res.body, { echoed: { a: 1 } });
    assert.equal(s.seen[0].auth, 'Bearer secret-token');
  });

  it('turns a Matrix error into MatrixApiError with errcode, soft logout and the URL', async () => {
    const s = await start((_req, res) => json(res, 401, { errcode: 'M_UNKNOWN_TOKEN', error: 'Token expired', soft_logout: true }));
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/v3/account/whoami', { accessToken: 'x' }));
    assert.ok(e instanceof MatrixApiError);
    assert.equal(e.status, 401);
    assert.equal(e.errcode, 'M_UNKNOWN_TOKEN');
    assert.equal(e.softLogout, true);
    assert.match(describeError(e), /expired.*soft logout.*rotate the token or sign in again/);
  });

  it('names the URL and status when a proxy answers with an HTML page', async () => {
    const s = await start((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError);
    assert.equal(e.kind, 'invalid-response');
    assert.equal(e.status, 502);
    assert.match(e.message, new RegExp(`${s.url}/_matrix/client/versions answered HTTP 502 with an HTML page`));
  });

  it('an appservice answering without JSON is told apart from a homeserver: the advice names the registration url', async () => {
    const s = await start((req, res) => {
      if (req.url?.startsWith('/_matrix/app/v1/ping')) {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('');
      } else {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>my blog</html>');
      }
    });
    const asAppservice = { server: 'appservice' } as const;
    const empty = (await failure(
      new HttpClient().request(s.url, '/_matrix/app/v1/ping', { method: 'POST', body: {}, ...asAppservice }),
    )) as Error;
    assert.match(empty.message, /empty body instead of JSON; is this the appservice's URL\?/);
    assert.doesNotMatch(empty.message, /homeserver/);
    // Behind a path prefix: the caller, not the path, says who answers.
    const html = (await failure(
      new HttpClient().request(`${s.url}/bridge`, '/_matrix/app/v1/transactions/1', { method: 'PUT', body: {}, ...asAppservice }),
    )) as Error;
    assert.match(html.message, /HTML page instead of JSON: the registration's url probably points at a website/);
    // The same answer to a homeserver request blames the homeserver URL.
    const homeserver = (await failure(new HttpClient().request(s.url, '/_matrix/client/versions'))) as Error;
    assert.match(homeserver.message, /not a Matrix homeserver API/);
  });

  it('rejects a 200 answer that is not JSON', async () => {
    const s = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.end('\u0000\u0001garbage{');
    });
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError && e.kind === 'invalid-response');
    assert.match(e.message, /answered HTTP 200 with something that is not JSON/);
  });

  it('reads a gzip or deflate answer (it asks for them, as proxies may compress anyway)', async () => {
    const asked: Array<string | undefined> = [];
    const s = await start((req, res) => {
      asked.push(req.headers['accept-encoding']);
      const body = JSON.stringify({ versions: ['v1.11'], path: req.url });
      const gzip = req.url === '/gzip';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': gzip ? 'gzip' : 'deflate' });
      res.end(gzip ? zlib.gzipSync(body) : zlib.deflateSync(body));
    });
    const client = new HttpClient();
    assert.deepEqual((await client.request(s.url, '/gzip')).body, { versions: ['v1.11'], path: '/gzip' });
    assert.deepEqual((await client.request(s.url, '/deflate')).body, { versions: ['v1.11'], path: '/deflate' });
    assert.deepEqual(asked, ['gzip, deflate', 'gzip, deflate']);
  });

  it('explains a compressed answer that cannot be unpacked in one sentence', async () => {
    const s = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end('{"not": "gzip at all"}');
    });
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError && e.kind === 'network', String(e));
    assert.match(String(e.code), /^Z_/);
    assert.match(e.message, /^127\.0\.0\.1:\d+ sent a compressed answer that could not be unpacked \(Z_\w+\); check for a proxy/);
  });

  it('refuses an answer larger than 16 MB instead of holding it all', async () => {
    const s = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 20 && res.write(chunk)) sent++;
        if (sent < 20) res.once('drain', more);
        else res.end();
      };
      res.on('error', () => undefined);
      more();
    });
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError && e.kind === 'invalid-response', String(e));
    assert.match(e.message, /sent an answer larger than 16 MB/);
  });

  it('explains a connection closed in the middle of the answer', async () => {
    const s = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '100' });
      res.write('{"versions": [');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const e = await failure(new HttpClient().request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError && e.kind === 'network', String(e));
    assert.equal(e.code, 'ECONNRESET');
    assert.match(e.message, /The connection to 127\.0\.0\.1:\d+ was lost before the answer arrived/);
  });

  it('times out an answer that stalls after its headers', async () => {
    const s = await start((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"versions": [');
    });
    const e = await failure(new HttpClient({ timeoutMs: 200 }).request(s.url, '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError);
    assert.equal(e.kind, 'timeout');
  });

  it('times out a server that never answers', async () => {
    const s = await start(() => undefined);
    const started = Date.now();
    const e = await failure(new HttpClient({ timeoutMs: 150 }).request(s.url, '/slow'));
    assert.ok(e instanceof RequestFailedError);
    assert.equal(e.kind, 'timeout');
    assert.match(e.message, /127\.0\.0\.1:\d+ did not answer within 0\.2 s/);
    assert.ok(Date.now() - started < 5000);
  });

  it('cancels through an AbortSignal', async () => {
    const s = await start(() => undefined);
    const controller = new AbortController();
    const pending = new HttpClient().request(s.url, '/slow', { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const e = await failure(pending);
    assert.ok(e instanceof RequestFailedError);
    assert.equal(e.kind, 'cancelled');
  });

  it('explains a refused connection', async () => {
    const s = await start(() => undefined);
    await s.close();
    servers.pop();
    const e = await failure(new HttpClient().request(s.url, '/x'));
    assert.ok(e instanceof RequestFailedError && e.kind === 'network');
    assert.equal(e.code, 'ECONNREFUSED');
    assert.match(e.message, /Nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it('waits out a 429 using retry_after_ms and then succeeds', async () => {
    let calls = 0;
    const s = await start((_req, res) =>
      ++calls === 1
        ? json(res, 429, { errcode: 'M_LIMIT_EXCEEDED', error: 'Too many requests', retry_after_ms: 120 })
        : json(res, 200, { ok: true }),
    );
    const waits: number[] = [];
    const client = new HttpClient({ sleep: async (ms) => void waits.push(ms) });
    const res = await client.request(s.url, '/x');
    assert.deepEqual(res.body, { ok: true });
    assert.deepEqual(waits, [120]);
  });

  it('reads Retry-After in seconds when the body has no retry_after_ms', async () => {
    const s = await start((_req, res) => json(res, 429, { errcode: 'M_LIMIT_EXCEEDED' }, { 'Retry-After': '3' }));
    const e = await failure(new HttpClient().request(s.url, '/x', { rateLimitRetries: 0 }));
    assert.ok(e instanceof MatrixApiError);
    assert.equal(e.retryAfterMs, 3000);
    assert.match(describeError(e), /rate-limiting.*try again in 3 s/);
  });

  it('gives up on a 429 that asks for longer than it will wait', async () => {
    let calls = 0;
    const s = await start((_req, res) => {
      calls++;
      json(res, 429, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 3_600_000 });
    });
    const e = await failure(new HttpClient({ sleep: async () => undefined }).request(s.url, '/x'));
    assert.ok(e instanceof MatrixApiError && e.errcode === 'M_LIMIT_EXCEEDED');
    assert.equal(calls, 1);
  });

  it('keeps the Authorization header on a same-origin redirect', async () => {
    const s = await start((req, res) => {
      if (req.url === '/old') {
        res.writeHead(307, { Location: '/new' });
        res.end();
      } else json(res, 200, { at: req.url });
    });
    const res = await new HttpClient().request(s.url, '/old', { accessToken: 'tok-1' });
    assert.deepEqual(res.body, { at: '/new' });
    assert.deepEqual(
      s.seen.map((x) => x.auth),
      ['Bearer tok-1', 'Bearer tok-1'],
    );
  });

  it('never sends the Authorization header to another origin on redirect', async () => {
    const other = await start((_req, res) => json(res, 200, { other: true }));
    const s = await start((_req, res) => {
      res.writeHead(302, { Location: `${other.url}/landing` });
      res.end();
    });
    const res = await new HttpClient().request(s.url, '/start', { accessToken: 'tok-2' });
    assert.deepEqual(res.body, { other: true });
    assert.equal(s.seen[0].auth, 'Bearer tok-2');
    assert.equal(other.seen[0].auth, undefined);
  });

  it('refuses plain http to a non-loopback host unless allowed', async () => {
    const e = await failure(new HttpClient().request('http://matrix.example.org', '/_matrix/client/versions'));
    assert.ok(e instanceof RequestFailedError);
    assert.equal(e.kind, 'insecure-url');
    assert.match(e.message, /Refusing plain http:\/\/ to matrix\.example\.org/);
    assert.match(e.message, /matrixDevtools\.allowInsecureHttp setting \(CLI: --allow-insecure-http\)/);
  });

  it('refuses a redirect from loopback to plain http elsewhere', async () => {
    const s = await start((_req, res) => {
      res.writeHead(301, { Location: 'http://evil.example.net/steal' });
      res.end();
    });
    const e = await failure(new HttpClient().request(s.url, '/x', { accessToken: 'tok-3' }));
    assert.ok(e instanceof RequestFailedError && e.kind === 'insecure-url');
  });

  it('logs method, URL without query, status and errcode, and never the token', async () => {
    const s = await start((_req, res) => json(res, 403, { errcode: 'M_FORBIDDEN', error: 'no' }));
    const log: HttpLogEntry[] = [];
    await failure(
      new HttpClient({ log: (e) => log.push(e) }).request(s.url, '/p', { accessToken: 'tok-4', query: { access_token: 'tok-4' } }),
    );
    assert.equal(log.length, 1);
    assert.equal(log[0].url, `${s.url}/p`);
    assert.equal(log[0].status, 403);
    assert.equal(log[0].errcode, 'M_FORBIDDEN');
    assert.ok(!JSON.stringify(log).includes('tok-4'));
  });

  it('has one loopback rule: the registration check warns about exactly the hosts plain http is allowed to', () => {
    const loopback = ['localhost', '127.0.0.1', '[::1]', '0.0.0.0', '[::]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', 'bridge.localhost'];
    const elsewhere = ['example.org', '10.0.0.1', '[::ffff:a00:1]', '[2001:db8::1]', 'synapse'];
    const warns = (host: string) =>
      parseRegistration(
        `id: x\nurl: http://${host}:9000\nas_token: a1\nhs_token: h1\nsender_localpart: bot\nnamespaces: {}\n`,
      ).problems.some((p) => p.code === 'url-loopback');
    for (const h of loopback) {
      assert.ok(isLoopbackHost(new URL(`http://${h}:9000`).hostname), `http: ${h}`);
      assert.ok(warns(h), `registration: ${h}`);
    }
    for (const h of elsewhere) {
      assert.ok(!isLoopbackHost(new URL(`http://${h}:9000`).hostname), `http: ${h}`);
      assert.ok(!warns(h), `registration: ${h}`);
    }
  });

  it('knows which hosts are loopback', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'app.localhost']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['example.org', '10.0.0.1', '128.0.0.1', 'localhost.example.org']) assert.ok(!isLoopbackHost(h), h);
  });
});
