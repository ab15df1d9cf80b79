import * as assert from 'node:assert/strict';
import {
  describeNamespaces,
  findDuplicateIds,
  parseRegistration,
  ParsedRegistration,
  RegistrationProblem,
} from '../../src/core/registration';
import { setTranslator, Translator } from '../../src/core/l10n';

const AS = 'wJ3kQ9vX2mR7pL5nB8tY4hZ6cF1dG0sAqE2uI9oP7yT3rW5e';
const HS = 'Hk7Lm2Nq9Rs4Tv6Wx8Yz1Ab3Cd5Ef0GhJp2Kr4Ms6Nt8Pv0Qx';

// As mautrix-telegram writes it: the alias regex is a plain scalar starting
// with `\#` (a bare `#` would start a comment), which the RegExp `u` flag rejects.
const MAUTRIX = `id: telegram
url: http://mautrix-telegram:29317
as_token: ${AS}
hs_token: ${HS}
sender_localpart: Rs4pIQ7dMeh0pV7j3pbcjq2rqWYi8cDp
namespaces:
  users:
  - exclusive: true
    regex: '@telegram_.*:example\\.org'
  - exclusive: true
    regex: "@\\\\#foo.*"
  aliases:
  - exclusive: true
    regex: \\#telegram_.*:example\\.org
  rooms: []
rate_limited: false
protocols: [telegram]
de.sorunome.msc2409.push_ephemeral: true
push_ephemeral: true
org.matrix.msc3202: true
io.element.msc4190: true
`;

// The double-puppeting registration from the mautrix docs: url left blank on purpose.
const DOUBLE_PUPPET = `id: doublepuppet
url:
as_token: ${AS}
hs_token: ${HS}
sender_localpart: doublepuppetbot
rate_limited: false
namespaces:
  users:
  - regex: '@.*:example\\.org'
    exclusive: false
`;

const VALID = `id: bridge
url: https://bridge.example.org
as_token: ${AS}
hs_token: ${HS}
sender_localpart: bridgebot
namespaces:
  users:
  - exclusive: true
    regex: '@_bridge_.*:example\\.org'
`;

const seen: ParsedRegistration[] = [];
function parse(text: string, file?: string): ParsedRegistration {
  const parsed = parseRegistration(text, file);
  seen.push(parsed);
  return parsed;
}

type Shown = Pick<RegistrationProblem, 'severity' | 'code' | 'message' | 'line' | 'column' | 'endLine' | 'endColumn'> & { key?: string };
function shown(problems: RegistrationProblem[]): Shown[] {
  return problems.map(({ severity, code, message, line, column, endLine, endColumn, key }) => ({
    severity,
    code,
    message,
    line,
    column,
    endLine,
    endColumn,
    ...(key === undefined ? {} : { key }),
  }));
}

function assertNoTokenIn(problems: RegistrationProblem[]): void {
  for (const p of problems) {
    for (const token of [AS, HS]) {
      for (let i = 0; i + 8 <= token.length; i++) {
        assert.ok(!p.message.includes(token.slice(i, i + 8)), `a piece of a token leaked into: ${p.message}`);
      }
    }
  }
}

describe('parseRegistration', () => {
  after(() => {
    // Every file parsed in this suite, good or bad, keeps tokens out of messages.
    assert.ok(seen.length > 20);
    for (const parsed of seen) assertNoTokenIn(parsed.problems);
  });

  describe('real registrations', () => {
    it('reads a mautrix-style registration, with \\# escapes and MSC keys, without any problem', () => {
      const parsed = parse(MAUTRIX, 'telegram-registration.yaml');
      assert.deepEqual(parsed.problems, []);
      const reg = parsed.registration;
      assert.ok(reg);
      assert.equal(reg.id, 'telegram');
      assert.equal(reg.url, 'http://mautrix-telegram:29317');
      assert.equal(reg.asToken, AS);
      assert.equal(reg.hsToken, HS);
      assert.equal(reg.senderLocalpart, 'Rs4pIQ7dMeh0pV7j3pbcjq2rqWYi8cDp');
      assert.deepEqual(reg.namespaces, {
        users: [
          { exclusive: true, regex: '@telegram_.*:example\\.org' },
          { exclusive: true, regex: '@\\#foo.*' },
        ],
        aliases: [{ exclusive: true, regex: '\\#telegram_.*:example\\.org' }],
        rooms: [],
      });
      assert.equal(reg.rateLimited, false);
      assert.deepEqual(reg.protocols, ['telegram']);
      assert.equal(reg.receiveEphemeral, true);
      assert.equal(reg.raw['io.element.msc4190'], true);
      assert.deepEqual(parsed.id, { value: 'telegram', line: 1, column: 5, endLine: 1, endColumn: 13 });
    });

    it('accepts regexes that only compile without the u flag', () => {
      // The premise: this is exactly the kind of source the `u` flag refuses.
      const bridgeStyle = '@\\#foo.*';
      assert.throws(() => new RegExp(bridgeStyle, 'u'));
      const parsed = parse(`${VALID}  aliases:
  - exclusive: true
    regex: '#_bridge_.*'
  - exclusive: false
    regex: "@\\\\#foo.*"
  - exclusive: false
    regex: '\\#_bridge_.*'
`);
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(
        parsed.registration?.namespaces.aliases.map((e) => e.regex),
        ['#_bridge_.*', '@\\#foo.*', '\\#_bridge_.*'],
      );
    });

    it('accepts Python regex syntax that Synapse compiles: named groups and leading inline flags', () => {
      const parsed = parse(`${VALID}  rooms:
  - exclusive: false
    regex: '(?P<bridge>!abc)(?P=bridge).*'
  - exclusive: false
    regex: '(?i)!ROOM.*'
`);
      assert.deepEqual(parsed.problems, []);
      assert.ok(parsed.registration);
    });

    it('reads a double-puppeting registration with a blank url as receive-only, with a warning on url', () => {
      const parsed = parse(DOUBLE_PUPPET);
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'warning',
          code: 'url-null',
          message: 'receive-only appservice: the homeserver cannot push events or pings to it',
          line: 2,
          column: 1,
          endLine: 2,
          endColumn: 4,
          key: 'url',
        },
      ]);
      assert.equal(parsed.registration?.url, null);
      assert.deepEqual(parsed.registration?.namespaces.users, [{ exclusive: false, regex: '@.*:example\\.org' }]);
    });

    it('points the url-null warning at the value when url: null is written out', () => {
      const parsed = parse(DOUBLE_PUPPET.replace('url:\n', 'url: null\n'));
      assert.deepEqual(
        parsed.problems.map((p) => [p.code, p.line, p.column, p.endColumn]),
        [['url-null', 2, 6, 10]],
      );
      assert.equal(parsed.registration?.url, null);
    });

    it('counts positions as an editor does in a Windows file with a byte-order mark', () => {
      const text =
        `\uFEFF${VALID.replace('https://bridge.example.org', 'http://localhost:29317')}  rooms:\n  - exclusive: true\n    regex: '!('\n`.replace(
          /\n/g,
          '\r\n',
        );
      assert.deepEqual(
        parse(text).problems.map((p) => [p.code, p.line, p.column, p.endLine, p.endColumn]),
        [
          ['url-loopback', 2, 6, 2, 28],
          ['regex-invalid', 12, 12, 12, 16],
        ],
      );
      assert.equal(parse(`\uFEFFid: 7\r\n`).problems.find((p) => p.code === 'wrong-type')?.column, 5);
    });

    it('reads a registration written as JSON (YAML is a superset)', () => {
      const json = JSON.stringify({
        id: 'j',
        url: 'http://bridge:8080',
        as_token: AS,
        hs_token: HS,
        sender_localpart: 'bot',
        namespaces: {},
      });
      const parsed = parse(json);
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(parsed.registration?.namespaces, { users: [], aliases: [], rooms: [] });
    });

    it('takes receiveEphemeral from the stable key too, and leaves optional fields out when absent', () => {
      assert.equal(parse(`${VALID}receive_ephemeral: true\n`).registration?.receiveEphemeral, true);
      const plain = parse(VALID).registration;
      assert.ok(plain);
      assert.deepEqual(Object.keys(plain).sort(), ['asToken', 'hsToken', 'id', 'namespaces', 'raw', 'senderLocalpart', 'url']);
    });
  });

  describe('files that are not a registration mapping', () => {
    const notMapping = (text: string): Shown[] => shown(parse(text).problems);

    it('rejects a list', () => {
      assert.deepEqual(notMapping(`- id: bridge\n- url: http://bridge:1\n`), [
        {
          severity: 'error',
          code: 'not-a-mapping',
          message:
            'The file is a list, not a mapping of registration keys: write key: value lines for id, url, as_token, hs_token, sender_localpart and namespaces.',
          line: 1,
          column: 1,
          endLine: 1,
          endColumn: 13,
        },
      ]);
    });

    it('rejects a bare string and a number', () => {
      assert.deepEqual(
        notMapping('just some text\n').map((p) => [p.code, p.message]),
        [
          [
            'not-a-mapping',
            'The file is a string, not a mapping of registration keys: write key: value lines for id, url, as_token, hs_token, sender_localpart and namespaces.',
          ],
        ],
      );
      assert.deepEqual(
        notMapping('42').map((p) => p.message),
        [
          'The file is a number, not a mapping of registration keys: write key: value lines for id, url, as_token, hs_token, sender_localpart and namespaces.',
        ],
      );
    });

    it('explains keys written without a space after the colon', () => {
      assert.deepEqual(
        notMapping('id:bridge\nurl:http://bridge:1\n').map((p) => [p.code, p.message, p.line]),
        [
          [
            'not-a-mapping',
            'The file is a single string, not a mapping of registration keys: put a space after each colon (id: my-bridge).',
            1,
          ],
        ],
      );
    });

    it('rejects binary junk (random bytes read as UTF-8) at the first undecodable byte', () => {
      let seed = 42;
      const bytes = Buffer.from(Array.from({ length: 512 }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff));
      const text = bytes.toString('utf8');
      const problems = parse(text).problems;
      assert.equal(problems.length, 1);
      assert.equal(problems[0].code, 'not-a-mapping');
      assert.equal(
        problems[0].message,
        'The file holds binary data, not a YAML mapping of registration keys: open the registration file the homeserver loads (often registration.yaml).',
      );
      const firstBad = text.search(/[\0\uFFFD]/);
      const lineStart = text.lastIndexOf('\n', firstBad - 1) + 1;
      assert.deepEqual([problems[0].line, problems[0].column], [text.slice(0, firstBad).split('\n').length, firstBad - lineStart + 1]);
    });

    it('rejects a PNG header and a UTF-16 file', () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).toString('utf8');
      assert.deepEqual(
        notMapping(png).map((p) => [p.code, p.line, p.column]),
        [['not-a-mapping', 1, 1]],
      );
      const utf16 = Buffer.from('id: bridge\n', 'utf16le').toString('utf8');
      assert.deepEqual(
        notMapping(utf16).map((p) => [p.code, p.line, p.column]),
        [['not-a-mapping', 1, 2]],
      );
    });

    it('reports an empty file and a file with only comments', () => {
      const empty = 'The file is empty: a registration needs id, url, as_token, hs_token, sender_localpart and namespaces.';
      assert.deepEqual(notMapping(''), [
        { severity: 'error', code: 'empty-file', message: empty, line: 1, column: 1, endLine: 1, endColumn: 1 },
      ]);
      assert.deepEqual(
        notMapping('# generated later\n\n').map((p) => [p.code, p.message]),
        [['empty-file', empty]],
      );
    });

    it('reports a stray control character where it is', () => {
      assert.deepEqual(notMapping('id: bridge\nurl: http://a\x07b\n'), [
        {
          severity: 'error',
          code: 'invalid-character',
          message: 'YAML does not allow the control character U+0007: remove it.',
          line: 2,
          column: 14,
          endLine: 2,
          endColumn: 15,
        },
      ]);
    });
  });

  describe('YAML syntax errors', () => {
    it('points an unclosed quote at where it opens, not at the end of the file', () => {
      const parsed = parse(`id: telegram\nurl: http://bridge:1\nas_token: "${AS}\nhs_token: ${HS}\n`);
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message: 'This quoted value has no closing quote: add the quote where the value ends.',
          line: 3,
          column: 11,
          endLine: 3,
          endColumn: 12,
        },
      ]);
      assert.equal(parsed.registration, undefined);
    });

    it('explains an unquoted regex starting with @', () => {
      const parsed = parse('id: telegram\nnamespaces:\n  users:\n  - exclusive: true\n    regex: @telegram_.*\n');
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message: 'A plain value cannot start with this character: put the value in quotes.',
          line: 5,
          column: 12,
          endLine: 5,
          endColumn: 13,
        },
      ]);
    });

    it('explains \\# inside double quotes', () => {
      const parsed = parse('id: telegram\nnamespaces:\n  users:\n  - exclusive: true\n    regex: "@\\#foo.*"\n');
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message:
            'This backslash escape is not valid in a double-quoted string: double the backslash ("@\\\\#...") or use single quotes (\'@\\#...\').',
          line: 5,
          column: 14,
          endLine: 5,
          endColumn: 15,
        },
      ]);
    });

    it('reports tabs, a missing colon and a duplicate key at their lines', () => {
      assert.deepEqual(shown(parse('id: telegram\nnamespaces:\n\tusers: []\n').problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message: 'YAML does not allow tabs for indentation: indent with spaces.',
          line: 3,
          column: 1,
          endLine: 3,
          endColumn: 2,
        },
      ]);
      assert.deepEqual(shown(parse('id: telegram\nurl http://bridge:1\n').problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message: 'This key has no colon after it: write key: value.',
          line: 2,
          column: 1,
          endLine: 2,
          endColumn: 20,
        },
      ]);
      assert.deepEqual(shown(parse(`${VALID}id: other\n`).problems), [
        {
          severity: 'error',
          code: 'duplicate-key',
          message: 'This key appears twice in the same mapping: keep only one, because homeservers differ on which one wins.',
          line: 10,
          column: 1,
          endLine: 10,
          endColumn: 3,
        },
      ]);
    });

    it('reports a second document at its --- line', () => {
      assert.deepEqual(shown(parse(`${VALID}---\nid: second\n`).problems), [
        {
          severity: 'error',
          code: 'multiple-documents',
          message:
            'The file holds more than one YAML document (a second ---): a registration is a single document, so remove the extra one.',
          line: 10,
          column: 1,
          endLine: 10,
          endColumn: 4,
        },
      ]);
      assert.deepEqual(parse(`---\n${VALID}`).problems, [], 'a leading --- alone is one document');
    });

    it('reports an alias to an anchor that does not exist, and resolves one that does', () => {
      assert.deepEqual(shown(parse(`id: a\nurl: *address\n`).problems), [
        {
          severity: 'error',
          code: 'yaml-syntax',
          message: 'This alias refers to no anchor defined before it: define the anchor (&name) first or write the value out.',
          line: 2,
          column: 6,
          endLine: 2,
          endColumn: 14,
        },
      ]);
      const parsed = parse(VALID.replace('as_token:', 'hs_token_copy: &tok x\nas_token:').replace(`hs_token: ${HS}`, 'hs_token: *tok'));
      assert.equal(parsed.registration?.hsToken, 'x');
    });
  });

  describe('required keys', () => {
    const messages: Record<string, string> = {
      id: 'id is missing: add a unique id for this appservice (the homeserver and the ping use it).',
      url: 'url is missing: add the address where the homeserver reaches the appservice, or url: null for a receive-only appservice.',
      as_token: 'as_token is missing: add the secret the appservice uses to call the homeserver.',
      hs_token: 'hs_token is missing: add the secret the homeserver uses to call the appservice.',
      sender_localpart: "sender_localpart is missing: add the localpart of the appservice's bot user.",
      namespaces: 'namespaces is missing: add it, even when empty (namespaces: {users: [], aliases: [], rooms: []}).',
    };
    for (const [key, message] of Object.entries(messages)) {
      it(`reports a missing ${key} on the mapping's first line`, () => {
        const text = MAUTRIX.split('\n')
          .filter(
            (line, i, lines) =>
              !line.startsWith(`${key}:`) &&
              !(key === 'namespaces' && i > 0 && /^ {2}/.test(line) && lines.slice(0, i).some((l) => l.startsWith('namespaces:'))),
          )
          .join('\n');
        const parsed = parse(text);
        const firstLine = text.split('\n')[0];
        assert.deepEqual(shown(parsed.problems), [
          { severity: 'error', code: 'missing-key', message, line: 1, column: 1, endLine: 1, endColumn: firstLine.length + 1, key },
        ]);
        assert.equal(parsed.registration, undefined);
      });
    }

    it('reports missing exclusive and regex at their namespace entry', () => {
      const parsed = parse(`${VALID}  rooms:\n  - regex: '!abc.*'\n  - exclusive: true\n`);
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'missing-key',
          message: 'namespaces.rooms[0].exclusive is missing: add exclusive: true (only this appservice may use these IDs) or false.',
          line: 11,
          column: 5,
          endLine: 11,
          endColumn: 20,
          key: 'namespaces.rooms[0].exclusive',
        },
        {
          severity: 'error',
          code: 'missing-key',
          message: 'namespaces.rooms[1].regex is missing: add the regular expression of the IDs this entry covers.',
          line: 12,
          column: 5,
          endLine: 12,
          endColumn: 20,
          key: 'namespaces.rooms[1].regex',
        },
      ]);
    });

    it('reports wrong types without quoting the value', () => {
      const parsed = parse(`id: 7
url: [http://bridge]
as_token: 123456789
hs_token: ${HS}
sender_localpart: bot
namespaces:
  users: {exclusive: true}
  aliases:
  - exclusive: "true"
    regex: 5
  - '#room'
`);
      assert.deepEqual(
        shown(parsed.problems).map((p) => [p.code, p.key, p.line, p.column, p.message]),
        [
          ['wrong-type', 'id', 1, 5, 'id must be a string, not a number: put the value in quotes.'],
          ['wrong-type', 'url', 2, 6, 'url must be a string or null, not a list.'],
          ['wrong-type', 'as_token', 3, 11, 'as_token must be a string, not a number: put the value in quotes.'],
          ['wrong-type', 'namespaces.users', 7, 10, 'namespaces.users must be a list of entries with exclusive and regex, not a mapping.'],
          ['wrong-type', 'namespaces.aliases[0].exclusive', 9, 16, 'namespaces.aliases[0].exclusive must be true or false, not a string.'],
          [
            'wrong-type',
            'namespaces.aliases[0].regex',
            10,
            12,
            'namespaces.aliases[0].regex must be a string, not a number: put the regular expression in quotes.',
          ],
          ['wrong-type', 'namespaces.aliases[1]', 11, 5, 'namespaces.aliases[1] must be a mapping with exclusive and regex, not a string.'],
        ],
      );
      assert.equal(parsed.id, undefined, 'no string id, nothing to compare across files');
    });

    it('reports empty tokens as errors', () => {
      const parsed = parse(VALID.replace(`as_token: ${AS}`, 'as_token: ""').replace(`hs_token: ${HS}`, 'hs_token:'));
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'empty-value',
          message: 'as_token is empty: set it to a long random secret (for example the output of openssl rand -hex 32).',
          line: 3,
          column: 11,
          endLine: 3,
          endColumn: 13,
          key: 'as_token',
        },
        {
          severity: 'error',
          code: 'empty-value',
          message: 'hs_token is empty: set it to a long random secret (for example the output of openssl rand -hex 32).',
          line: 4,
          column: 1,
          endLine: 4,
          endColumn: 9,
          key: 'hs_token',
        },
      ]);
    });

    it('accepts YAML 1.1 yes/no as Synapse does, with a warning', () => {
      const parsed = parse(VALID.replace('exclusive: true', 'exclusive: yes'));
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'warning',
          code: 'yaml11-boolean',
          message:
            'namespaces.users[0].exclusive is written as yes, which Synapse reads as a boolean but YAML 1.2 loaders read as text: write true or false.',
          line: 8,
          column: 16,
          endLine: 8,
          endColumn: 19,
          key: 'namespaces.users[0].exclusive',
        },
      ]);
      assert.equal(parsed.registration?.namespaces.users[0].exclusive, true);
      assert.equal(
        parse(VALID.replace('exclusive: true', "exclusive: 'yes'")).problems[0].code,
        'wrong-type',
        'a quoted yes is text everywhere',
      );
    });
  });

  describe('values', () => {
    it('reports an invalid regex at that regex, with the reason', () => {
      const parsed = parse(`${VALID}  aliases:
  - exclusive: true
    regex: '#ok_.*'
  - exclusive: true
    regex: '#(unclosed_.*'
`);
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'regex-invalid',
          message:
            'namespaces.aliases[1].regex is not a valid regular expression (Unterminated group): fix it, or the homeserver refuses to load the registration.',
          line: 14,
          column: 12,
          endLine: 14,
          endColumn: 27,
          key: 'namespaces.aliases[1].regex',
        },
      ]);
      assert.equal(parsed.registration, undefined);
    });

    it('reports equal tokens at hs_token without showing either', () => {
      const parsed = parse(VALID.replace(`hs_token: ${HS}`, `hs_token: ${AS}`));
      assert.deepEqual(shown(parsed.problems), [
        {
          severity: 'error',
          code: 'tokens-equal',
          message: 'as_token and hs_token are the same secret: generate a separate random secret for each.',
          line: 4,
          column: 11,
          endLine: 4,
          endColumn: 11 + AS.length,
          key: 'hs_token',
        },
      ]);
      assert.equal(parsed.registration, undefined);
      assert.equal(parsed.id?.value, 'bridge', 'the id stays known for labels and duplicate checks');
    });

    it('rejects urls that are not http(s)', () => {
      for (const url of ['ftp://bridge:21', 'bridge:29317', '""', 'http://']) {
        const problems = parse(VALID.replace('https://bridge.example.org', url)).problems;
        assert.deepEqual(
          problems.map((p) => [p.code, p.severity, p.line, p.message]),
          [
            [
              'url-invalid',
              'error',
              2,
              'url must be an http:// or https:// address the homeserver can reach, such as http://bridge.internal:29317.',
            ],
          ],
          url,
        );
      }
    });

    it('warns about loopback urls, which only a homeserver on the same host reaches', () => {
      for (const url of ['http://localhost:29317', 'http://127.0.0.1:8009', 'http://[::1]:8009', 'http://bridge.localhost']) {
        const parsed = parse(VALID.replace('https://bridge.example.org', url));
        assert.deepEqual(
          shown(parsed.problems),
          [
            {
              severity: 'warning',
              code: 'url-loopback',
              message:
                'url points at the loopback interface, which only a homeserver on the same host and outside any container can reach: use an address the homeserver can reach if it runs elsewhere.',
              line: 2,
              column: 6,
              endLine: 2,
              endColumn: 6 + url.length,
              key: 'url',
            },
          ],
          url,
        );
        assert.ok(parsed.registration, 'a warning keeps the registration usable');
      }
      assert.deepEqual(parse(VALID.replace('https://bridge.example.org', 'http://127.example.org')).problems, []);
    });

    it('warns about ids that break the ping path', () => {
      for (const id of ['"my bridge"', 'a/b', '"tab\\there"']) {
        const problems = parse(VALID.replace('id: bridge', `id: ${id}`)).problems;
        assert.deepEqual(
          problems.map((p) => [p.code, p.severity, p.line, p.message]),
          [
            [
              'id-unsafe',
              'warning',
              1,
              'id contains characters that break the ping URL path (/, ?, #, % or whitespace): use letters, digits, dots, - and _.',
            ],
          ],
          id,
        );
      }
    });

    it('rejects a full user ID or URL-encoded characters as sender_localpart', () => {
      assert.deepEqual(
        parse(VALID.replace('sender_localpart: bridgebot', "sender_localpart: '@bridgebot:example.org'")).problems.map((p) => [
          p.code,
          p.line,
          p.message,
        ]),
        [['sender-localpart-invalid', 5, 'sender_localpart must be only the localpart (bot), not a full user ID (@bot:example.org).']],
      );
      assert.deepEqual(
        parse(VALID.replace('sender_localpart: bridgebot', 'sender_localpart: bridge=bot')).problems.map((p) => p.message),
        ['sender_localpart has characters that need URL encoding, which Synapse refuses: use only a-z, 0-9, ., _, - and /.'],
      );
    });

    it('warns about a misspelt namespace kind at its key', () => {
      assert.deepEqual(shown(parse(`${VALID}  user: []\n`).problems), [
        {
          severity: 'warning',
          code: 'unknown-namespace',
          message: 'Homeservers know only the users, aliases and rooms namespaces and ignore this one: check the spelling.',
          line: 10,
          column: 3,
          endLine: 10,
          endColumn: 7,
          key: 'namespaces.user',
        },
      ]);
    });

    it('checks the optional keys Synapse checks', () => {
      const parsed = parse(`${VALID}rate_limited: "false"\nprotocols: telegram\norg.matrix.msc3202: 1\n`);
      assert.deepEqual(
        shown(parsed.problems).map((p) => [p.severity, p.code, p.key, p.message]),
        [
          [
            'warning',
            'wrong-type',
            'rate_limited',
            "rate_limited must be true or false, not a string: homeservers ignore it and rate-limit the appservice's users.",
          ],
          ['error', 'wrong-type', 'protocols', 'protocols must be a list of protocol names, not a string.'],
          [
            'error',
            'wrong-type',
            'org.matrix.msc3202',
            'org.matrix.msc3202 must be true or false, not a number: Synapse refuses to load the registration otherwise.',
          ],
        ],
      );
    });

    it('lists problems in reading order', () => {
      const parsed = parse(`id: a/b
url: ftp://x
as_token: ${AS}
hs_token: ${AS}
sender_localpart: "@x:y"
namespaces:
  users:
  - {exclusive: true, regex: "("}
`);
      assert.deepEqual(
        parsed.problems.map((p) => [p.line, p.code]),
        [
          [1, 'id-unsafe'],
          [2, 'url-invalid'],
          [4, 'tokens-equal'],
          [5, 'sender-localpart-invalid'],
          [8, 'regex-invalid'],
        ],
      );
    });
  });

  it('sends every message through the translator', () => {
    const upper: Translator = (message, ...args) => message.replace(/\{(\d+)\}/g, (_m, i: string) => String(args[Number(i)])).toUpperCase();
    setTranslator(upper);
    try {
      const messages = [...parse('- a').problems, ...parse(DOUBLE_PUPPET).problems, ...parse(`${VALID}  user: []\n`).problems].map(
        (p) => p.message,
      );
      assert.equal(messages.length, 3);
      for (const m of messages) assert.equal(m, m.toUpperCase(), m);
    } finally {
      setTranslator((message, ...args) =>
        message.replace(/\{(\d+)\}/g, (m, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : m)),
      );
    }
  });
});

describe('findDuplicateIds', () => {
  it('reports each file whose id another file also uses, naming the others', () => {
    const files = [
      { file: 'a/registration.yaml', parsed: parseRegistration(VALID) },
      {
        file: 'b/registration.yaml',
        parsed: parseRegistration(VALID.replace(AS, 'other-as-token-1234567890').replace(HS, 'other-hs-token-1234567890')),
      },
      { file: 'c/registration.yaml', parsed: parseRegistration(MAUTRIX.replace(AS, 'third-as-token-1234567890')) },
      // A broken file still has an id the homeserver would clash on.
      {
        file: 'd/registration.yaml',
        parsed: parseRegistration(VALID.replace('https://bridge.example.org', 'ftp://x').replace(AS, 'fourth-as-token-123456789')),
      },
    ];
    const result = findDuplicateIds(files);
    assert.deepEqual([...result.keys()].sort(), ['a/registration.yaml', 'b/registration.yaml', 'd/registration.yaml']);
    assert.deepEqual(shown(result.get('a/registration.yaml') ?? []), [
      {
        severity: 'error',
        code: 'duplicate-id',
        message:
          'Another registration file (b/registration.yaml, d/registration.yaml) uses the same id: give each appservice its own id, or the homeserver refuses to start.',
        line: 1,
        column: 5,
        endLine: 1,
        endColumn: 11,
        key: 'id',
      },
    ]);
    assert.equal(
      result.get('b/registration.yaml')?.[0].message,
      'Another registration file (a/registration.yaml, d/registration.yaml) uses the same id: give each appservice its own id, or the homeserver refuses to start.',
    );
  });

  it('reports an as_token reused across files without showing it', () => {
    const result = findDuplicateIds([
      { file: 'one.yaml', parsed: parseRegistration(VALID) },
      { file: 'two.yaml', parsed: parseRegistration(MAUTRIX) },
    ]);
    assert.deepEqual(shown(result.get('two.yaml') ?? []), [
      {
        severity: 'error',
        code: 'duplicate-as-token',
        message:
          'Another registration file (one.yaml) uses the same as_token: give each appservice its own secret, or the homeserver refuses to start.',
        line: 3,
        column: 11,
        endLine: 3,
        endColumn: 11 + AS.length,
        key: 'as_token',
      },
    ]);
    assert.equal(result.get('one.yaml')?.[0].code, 'duplicate-as-token');
    for (const problems of result.values()) assertNoTokenIn(problems);
  });

  it('is empty when ids and tokens differ, and ignores the same file listed twice', () => {
    const parsed = parseRegistration(VALID);
    assert.equal(
      findDuplicateIds([
        { file: 'x.yaml', parsed },
        { file: 'y.yaml', parsed: parseRegistration(DOUBLE_PUPPET.replace(AS, 'zz-as').replace(HS, 'zz-hs')) },
      ]).size,
      0,
    );
    assert.equal(
      findDuplicateIds([
        { file: 'x.yaml', parsed },
        { file: 'x.yaml', parsed },
      ]).size,
      0,
    );
  });
});

describe('describeNamespaces', () => {
  it('gives one short line per namespace entry', () => {
    const reg = parseRegistration(MAUTRIX).registration;
    assert.ok(reg);
    assert.deepEqual(describeNamespaces(reg), [
      'users (exclusive): @telegram_.*:example\\.org',
      'users (exclusive): @\\#foo.*',
      'aliases (exclusive): \\#telegram_.*:example\\.org',
    ]);
    const puppet = parseRegistration(DOUBLE_PUPPET).registration;
    assert.ok(puppet);
    assert.deepEqual(describeNamespaces(puppet), ['users (shared): @.*:example\\.org']);
    assert.deepEqual(describeNamespaces({ namespaces: { users: [], aliases: [], rooms: [] } }), []);
  });
});
