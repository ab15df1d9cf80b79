// Properties that must hold for any text a user can open: parseRegistration
// never throws, an unusable file always says why, positions stay inside the
// text, and no message carries a token.
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseRegistration, ParsedRegistration } from '../../src/core/registration';

const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 300) };

function assertWellFormed(text: string, parsed: ParsedRegistration): void {
  const lines = text.split('\n');
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  if (parsed.registration) assert.equal(errors.length, 0, 'a registration comes only without errors');
  else assert.ok(errors.length > 0, 'an unusable file has at least one error');
  for (const p of parsed.problems) {
    assert.ok(p.severity === 'error' || p.severity === 'warning');
    assert.ok(p.code.length > 0 && p.code !== 'internal-error', `code ${p.code}: ${p.message}`);
    assert.ok(p.message.trim().length > 0);
    for (const [line, column] of [
      [p.line, p.column],
      [p.endLine, p.endColumn],
    ]) {
      assert.ok(Number.isInteger(line) && line >= 1 && line <= lines.length, `line ${line} outside 1..${lines.length} (${p.code})`);
      assert.ok(
        Number.isInteger(column) && column >= 1 && column <= lines[line - 1].length + 1,
        `column ${column} outside line ${line} (${p.code})`,
      );
    }
    assert.ok(p.endLine > p.line || (p.endLine === p.line && p.endColumn >= p.column), `range ends before it starts (${p.code})`);
  }
}

function assertNoTokenIn(parsed: ParsedRegistration, tokens: string[]): void {
  for (const p of parsed.problems) {
    for (const token of tokens) {
      // Not even a piece: every 8-character slice of the token stays out.
      for (let i = 0; i + 8 <= token.length; i++) assert.ok(!p.message.includes(token.slice(i, i + 8)), `token piece in "${p.message}"`);
    }
  }
}

const yamlish = fc.string({ unit: fc.constantFrom(...'ab1:- []{}#&*!|>\'"%@\\,?~.\n\n\t\r'.split('')), maxLength: 120 });
const token = (prefix: string) => fc.stringMatching(/^[A-Za-z0-9]{24,40}$/).map((s) => `${prefix}${s}`);
const regex = fc.constantFrom(
  '@_bridge_.*:example\\.org',
  '\\#telegram_.*:example\\.org',
  '#_bridge_.*',
  '@\\#foo.*',
  '!room.*',
  '(?P<name>@a)(?P=name)',
);
const entry = fc.record({ exclusive: fc.boolean(), regex }, { noNullPrototype: true });
const entries = fc.array(entry, { maxLength: 3 });

const validRegistration = fc.record(
  {
    id: fc.stringMatching(/^[a-z][a-z0-9_.-]{0,15}$/),
    url: fc.constantFrom('http://bridge:29317', 'https://bridge.example.org/as', null),
    as_token: token('as_'),
    hs_token: token('hs_'),
    sender_localpart: fc.stringMatching(/^[a-zA-Z0-9._-]{1,24}$/),
    namespaces: fc.record({ users: entries, aliases: entries, rooms: entries }, { requiredKeys: [], noNullPrototype: true }),
    rate_limited: fc.boolean(),
    protocols: fc.array(fc.constantFrom('telegram', 'irc'), { maxLength: 2 }),
    receive_ephemeral: fc.boolean(),
    'de.sorunome.msc2409.push_ephemeral': fc.boolean(),
    'org.matrix.msc3202': fc.boolean(),
    'io.element.msc4190': fc.boolean(),
  },
  { requiredKeys: ['id', 'url', 'as_token', 'hs_token', 'sender_localpart', 'namespaces'], noNullPrototype: true },
);

const asText = fc.constantFrom<(v: unknown) => string>(
  (v) => stringify(v),
  (v) => JSON.stringify(v, null, 2),
  (v) => stringify(v, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' }),
);

// Mutations a registration goes through in real life: a key deleted or
// misspelt, a value of the wrong kind, a token pasted into the wrong place.
const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('delete' as const),
    key: fc.constantFrom('id', 'url', 'as_token', 'hs_token', 'sender_localpart', 'namespaces'),
  }),
  fc.record({
    kind: fc.constant('replace' as const),
    key: fc.constantFrom(
      'id',
      'url',
      'as_token',
      'hs_token',
      'sender_localpart',
      'namespaces',
      'rate_limited',
      'protocols',
      'org.matrix.msc3202',
    ),
    value: fc.anything({ maxDepth: 2, maxKeys: 3 }),
  }),
  fc.record({
    kind: fc.constant('token-into' as const),
    key: fc.constantFrom('id', 'url', 'sender_localpart', 'hs_token', 'namespaces', 'regex', 'key'),
    which: fc.constantFrom<'as_token' | 'hs_token'>('as_token', 'hs_token'),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(reg: { as_token: string; hs_token: string }, mutations: Mutation[]): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(reg);
  for (const m of mutations) {
    if (m.kind === 'delete') delete out[m.key];
    else if (m.kind === 'replace') out[m.key] = m.value;
    else {
      const secret = m.which === 'as_token' ? reg.as_token : reg.hs_token;
      if (m.key === 'regex') out.namespaces = { users: [{ exclusive: true, regex: `(${secret}` }] };
      else if (m.key === 'key') out.namespaces = { [secret]: [] };
      else if (m.key === 'url') out.url = `http://${secret}`;
      else if (m.key === 'namespaces') out.namespaces = secret;
      else out[m.key] = secret;
    }
  }
  return out;
}

describe('parseRegistration (properties)', () => {
  it('never throws on random text, and positions stay inside it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), yamlish, fc.string({ unit: 'grapheme', maxLength: 80 })),
        (text) => {
          assertWellFormed(text, parseRegistration(text));
        },
      ),
      RUNS,
    );
  });

  it('handles any YAML value: only a mapping can be a registration', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 3, maxKeys: 5 }), (value) => {
        let text: string;
        try {
          text = stringify(value) ?? '';
        } catch {
          return; // yaml cannot write every JavaScript value; those are not files anyone has.
        }
        const parsed = parseRegistration(text);
        assertWellFormed(text, parsed);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) assert.equal(parsed.registration, undefined);
      }),
      RUNS,
    );
  });

  it('reads every valid registration back exactly, in YAML or JSON', () => {
    fc.assert(
      fc.property(validRegistration, asText, (reg, write) => {
        const text = write(reg);
        const parsed = parseRegistration(text);
        assertWellFormed(text, parsed);
        assert.deepEqual(
          parsed.problems.filter((p) => p.code !== 'url-null'),
          [],
        );
        const r = parsed.registration;
        assert.ok(r, text);
        assert.deepEqual(
          [r.id, r.url, r.asToken, r.hsToken, r.senderLocalpart],
          [reg.id, reg.url, reg.as_token, reg.hs_token, reg.sender_localpart],
        );
        assert.deepEqual(r.namespaces, { users: [], aliases: [], rooms: [], ...reg.namespaces });
        assert.equal(r.rateLimited, reg.rate_limited);
        if (reg.protocols?.length) assert.deepEqual(r.protocols, reg.protocols);
        const ephemeral = [reg.receive_ephemeral, reg['de.sorunome.msc2409.push_ephemeral']].filter((f) => f !== undefined);
        assert.equal(r.receiveEphemeral, ephemeral.length ? ephemeral.includes(true) : undefined);
        assert.equal(parsed.id?.value, reg.id);
      }),
      RUNS,
    );
  });

  it('survives mutated registrations and never puts a token, or a piece of one, in a message', () => {
    fc.assert(
      fc.property(validRegistration, fc.array(mutation, { minLength: 1, maxLength: 3 }), asText, (reg, mutations, write) => {
        const mutated = mutate(reg, mutations);
        let text: string;
        try {
          text = write(mutated) ?? '';
        } catch {
          return;
        }
        const parsed = parseRegistration(text);
        assertWellFormed(text, parsed);
        assertNoTokenIn(parsed, [reg.as_token, reg.hs_token]);
        if (parsed.registration) {
          assert.equal(parsed.registration.asToken, mutated.as_token);
          assert.notEqual(parsed.registration.asToken, parsed.registration.hsToken);
        }
      }),
      RUNS,
    );
  });
});
