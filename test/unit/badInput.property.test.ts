// Bad input, generated (fast-check): whatever a user types as a homeserver and
// whatever JSON a homeserver answers, the code never throws anything but its
// own errors, each one sentence. The CLI calls an unusable --homeserver a
// usage error (exit 2), not a failure of the homeserver.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { MatrixApiError, RequestFailedError } from '../../src/core/errors';
import { getLoginFlows, getVersions, parseServerInput } from '../../src/core/homeserver';
import { HttpClient } from '../../src/core/http';
import { loginWithPassword, requestRefresh, whoami } from '../../src/core/session';
import { runCli } from '../support/cliProcess';
import { startHttpServer, type ForeignServer } from '../support/foreignServers';
import { assertOneSentence, recordFigures } from '../support/reliabilityFigures';

const RUNS = Number(process.env.MATRIX_DEVTOOLS_PROPERTY_RUNS ?? 200);

const scheme = fc.constantFrom('http://', 'https://', 'ftp://', 'file://', 'javascript:', 'mxc://', 'HTTPS://', '//', 'http:/', '');
const host = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.ipV6(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('matrix.example.org', 'bücher.example', '例え.テスト', 'localhost', 'a_b', 'ht!tp', '[::1', 'exa mple.org', '.', '..'),
);
const port = fc.oneof(
  fc.constant(''),
  fc.integer({ min: -5, max: 70_000 }).map((p) => `:${p}`),
  fc.constantFrom(':', ':abc', ':0', ':8448'),
);
const tail = fc.oneof(fc.constant(''), fc.constantFrom('/', '//', '/_matrix', '?x=1', '#f', '/path/../x'), fc.webPath());
const serverInput = fc.oneof(
  fc.tuple(scheme, fc.option(fc.constantFrom('user:pw@', 'u@'), { nil: '' }), host, port, tail).map((parts) => parts.join('')),
  fc.string({ maxLength: 40 }),
  fc.webUrl(),
);

function assertOwnError(e: unknown): void {
  assert.ok(
    e instanceof RequestFailedError || e instanceof MatrixApiError,
    `an unexpected ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
  );
  assertOneSentence(e.message || `${(e as MatrixApiError).errcode}`);
}

describe('bad input: what a user types as a homeserver', () => {
  it('parseServerInput gives an http(s) URL without query or credentials, or one sentence', () => {
    fc.assert(
      fc.property(serverInput, (input) => {
        try {
          const url = parseServerInput(input);
          assert.ok(url.protocol === 'http:' || url.protocol === 'https:', `${input} → ${url.href}`);
          assert.equal(url.search + url.hash + url.username + url.password, '', `${input} → ${url.href}`);
        } catch (e) {
          assert.ok(e instanceof RequestFailedError && e.kind === 'invalid-url', `${JSON.stringify(input)}: ${String(e)}`);
          assertOneSentence(e.message);
        }
      }),
      { numRuns: RUNS * 5 },
    );
    recordFigures({ inputs: RUNS * 5 });
  });

  it('the CLI exits 2 (usage) for a --homeserver it cannot parse, before sending anything', async function () {
    this.timeout(60_000);
    const unusable = [
      'ftp://example.org',
      'http://[::1',
      'https://exa mple.org',
      'example.org?x=1',
      'http://127.0.0.1:99999',
      'ht!tp://x',
      'user:pw@example.org',
      ' ',
    ];
    for (const input of unusable) {
      const run = await runCli(['whoami', '--homeserver', input, '--store', '/nonexistent/store.json']);
      assert.equal(run.code, 2, `${JSON.stringify(input)}: exit ${run.code}, ${run.stderr}`);
      assert.match(run.stderr, /^matrix-devtools: --homeserver: /);
      assertOneSentence(run.stderr.trim().replace(/^matrix-devtools: --homeserver: /, ''));
    }
    recordFigures({ inputs: unusable.length });
  });
});

describe('bad input: JSON answers from a homeserver', function () {
  this.timeout(60_000);
  let server: ForeignServer;
  let next: { status: number; text: string } = { status: 200, text: '{}' };
  before(async () => {
    server = await startHttpServer((_req, res) => {
      res.writeHead(next.status, { 'Content-Type': 'application/json' });
      res.end(next.text);
    });
  });
  after(() => server.stop());

  const status = fc.constantFrom(200, 200, 200, 201, 400, 401, 403, 404, 429, 500, 502);
  const answer = fc.oneof(
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          versions: fc.anything(),
          flows: fc.anything(),
          user_id: fc.anything(),
          access_token: fc.anything(),
          expires_in_ms: fc.anything(),
          errcode: fc.anything(),
          retry_after_ms: fc.anything(),
          soft_logout: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v) ?? 'null'),
    fc.string({ maxLength: 30 }),
  );
  const calls: Array<[string, (http: HttpClient, base: string) => Promise<unknown>]> = [
    ['versions', (http, base) => getVersions(http, base)],
    ['login flows', (http, base) => getLoginFlows(http, base)],
    ['login', (http, base) => loginWithPassword(http, base, { user: 'alice', password: 'wonderland' })],
    ['whoami', (http, base) => whoami(http, base, 'syt_token')],
    ['refresh', (http, base) => requestRefresh(http, base, 'syr_token')],
  ];

  for (const [name, call] of calls) {
    it(`${name}: a result of the right shape, or the client's own error in one sentence`, async () => {
      const http = new HttpClient({ timeoutMs: 2_000, maxRateLimitWaitMs: 0 });
      await fc.assert(
        fc.asyncProperty(status, answer, async (s, text) => {
          next = { status: s, text };
          try {
            await call(http, server.url);
          } catch (e) {
            assertOwnError(e);
          }
        }),
        { numRuns: RUNS },
      );
      recordFigures({ inputs: RUNS, requests: RUNS });
    });
  }
});
