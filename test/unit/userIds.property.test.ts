// Bad input, generated (fast-check): Matrix user ids wherever the code reads
// one — typed into `match` and `--account`, answered by a homeserver's whoami
// (the doctor's as-token check), asked for by another extension as a session
// scope, matched against namespaces. Never an exception the code did not mean,
// every refusal one sentence.
import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { checkAsToken } from '../../src/core/doctor/homeserverChecks';
import { claimsOf, namespaceKindOf } from '../../src/core/doctor/matcher';
import { HttpClient } from '../../src/core/http';
import { accountMatchesScopes } from '../../src/vscode/auth/sessions';
import { runCli } from '../support/cliProcess';
import { startHttpServer, type ForeignServer } from '../support/foreignServers';
import { assertOneSentence, recordFigures } from '../support/reliabilityFigures';

const RUNS = Number(process.env.MATRIX_DEVTOOLS_PROPERTY_RUNS ?? 200);
const CLI_RUNS = 12;

const sigil = fc.constantFrom('@', '@', '#', '!', '', '@@', ' @', '＠');
const localpart = fc.oneof(
  fc.stringMatching(/^[a-z0-9._=\-/+]{0,20}$/),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const serverName = fc.oneof(
  fc.domain(),
  fc.ipV4(),
  fc.ipV6().map((ip) => `[${ip}]`),
  fc.tuple(fc.domain(), fc.integer({ min: -1, max: 70_000 })).map(([d, p]) => `${d}:${p}`),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.constantFrom('localhost', 'Example.ORG', '例え.テスト', ''),
);
export const userIdInput = fc.oneof(
  fc.tuple(sigil, localpart, fc.constantFrom(':', ':', '', '::'), serverName).map((parts) => parts.join('')),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '@alice:localhost',
    '@:',
    '@alice:',
    '@alice',
    ':server',
    '@a:[::1]:8448',
    '@a:b:c',
    '@\n:x',
    '@a\u0000:x',
    '@\u202eevil:x',
  ),
);

const registrations = [
  {
    source: 'bridge-registration.yaml',
    registration: {
      id: 'bridge',
      senderLocalpart: 'bridge_bot',
      namespaces: {
        users: [{ exclusive: true, regex: '@bridge_.*:localhost' }],
        aliases: [{ exclusive: false, regex: '#.*' }],
        rooms: [{ exclusive: false, regex: '(' }],
      },
    },
  },
];

describe('bad input: Matrix user ids', () => {
  it('namespace matching takes any id: a kind only for @ # !, claims only of that kind', () => {
    fc.assert(
      fc.property(userIdInput, (id) => {
        const kind = namespaceKindOf(id);
        const claims = claimsOf(id, registrations);
        if (!kind) assert.deepEqual(claims, []);
        for (const c of claims) assert.equal(c.kind, kind);
      }),
      { numRuns: RUNS * 5 },
    );
    recordFigures({ inputs: RUNS * 5 });
  });

  it('a user-id session scope from another extension matches the account with that id and no other', () => {
    const account = { homeserverUrl: 'https://matrix.example.org', serverName: 'example.org', userId: '@alice:example.org' };
    fc.assert(
      fc.property(userIdInput, (id) => {
        const matched = accountMatchesScopes(account, [id]);
        assert.equal(typeof matched, 'boolean');
        if (id.trim().startsWith('@')) assert.equal(matched, id.trim() === account.userId, JSON.stringify(id));
        const both = accountMatchesScopes(account, ['https://matrix.example.org', id]);
        assert.ok(!both || matched, JSON.stringify(id));
      }),
      { numRuns: RUNS * 5 },
    );
    recordFigures({ inputs: RUNS * 5 });
  });

  describe('answered by a homeserver', function () {
    this.timeout(60_000);
    let server: ForeignServer;
    let answer = '@bridge_bot:localhost';
    before(async () => {
      server = await startHttpServer((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ user_id: answer }));
      });
    });
    after(() => server.stop());

    it("the doctor's as-token check reads any whoami user_id into one sentence", async () => {
      const http = new HttpClient({ timeoutMs: 2_000 });
      const reg = { id: 'bridge', asToken: 'as-prop', senderLocalpart: 'bridge_bot' } as Parameters<typeof checkAsToken>[2];
      await fc.assert(
        fc.asyncProperty(userIdInput, async (id) => {
          answer = id;
          const outcome = await checkAsToken(http, server.url, reg);
          assert.ok(outcome.check.status === 'ok' || outcome.check.status === 'fail', JSON.stringify(outcome.check));
          assertOneSentence(outcome.check.message);
          assert.equal(outcome.check.status === 'ok', id.split(':')[0] === '@bridge_bot' && id.includes(':'), JSON.stringify(id));
        }),
        { numRuns: RUNS },
      );
      recordFigures({ inputs: RUNS, requests: RUNS });
    });
  });

  it('the CLI: match and --account take any id, answering or refusing in one sentence (exit 0, 1 or 2)', async function () {
    this.timeout(120_000);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mdt-userids-'));
    try {
      const file = path.join(dir, 'bridge-registration.yaml');
      await fs.writeFile(
        file,
        stringify({
          id: 'bridge',
          url: null,
          as_token: 'as-prop-cli',
          hs_token: 'hs-prop-cli',
          sender_localpart: 'bridge_bot',
          namespaces: { users: [{ exclusive: true, regex: '@bridge_.*:localhost' }] },
        }),
      );
      const store = path.join(dir, 'store.json');
      const ids = fc.sample(
        userIdInput.filter((id) => !id.startsWith('-') && !id.includes('\u0000')),
        { numRuns: CLI_RUNS, seed: 18 },
      );
      for (const id of [...ids, '@bridge_x:localhost', 'bridge', '@a\nb:x']) {
        const matched = await runCli(['match', id, '--registration', file]);
        assert.ok([0, 1, 2].includes(matched.code ?? -1), `match ${JSON.stringify(id)}: exit ${matched.code}: ${matched.stderr}`);
        if (matched.code === 2) assertOneSentence(matched.stderr.trim().replace(/^matrix-devtools: /, ''));
        assert.equal(matched.code === 2, namespaceKindOf(id) === undefined, `match ${JSON.stringify(id)}: ${matched.stderr}`);
        const who = await runCli(['whoami', '--account', id, '--store', store]);
        assert.equal(who.code, 2, `whoami --account ${JSON.stringify(id)}: ${who.stderr}`);
        assertOneSentence(who.stderr.trim().replace(/^matrix-devtools: /, ''));
      }
      recordFigures({ inputs: ids.length + 3 });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
