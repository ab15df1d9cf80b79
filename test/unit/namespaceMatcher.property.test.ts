// Property tests for the namespace matcher and the automaton behind overlap
// detection: on generated ids and regexes, both agree with an independent
// start-anchored reading (a sticky JavaScript RegExp at index 0, which is
// what Python's re.match does), and "no id matches both" is never claimed
// when a generated id does.
import * as assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { claimsOf, namespaceMatches } from '../../src/core/doctor';
import { overlapExample } from '../../src/core/doctor/namespaceAnalysis';
import { commonExample } from '../../src/core/doctor/regexAutomaton';

const CHARS = ['@', 'a', 'b', '_', ':', '.', '1', 'x'];
const escape = (c: string) => (c === '.' ? '\\.' : c);

const atom = fc.oneof(
  fc.constantFrom(...CHARS).map(escape),
  fc.constantFrom('.', '[ab]', '[^:]', '[a-z0-9_]', '\\d', '\\w', '(?:a|b_)', '(x|:1)'),
);
const quantifier = fc.constantFrom('', '', '', '*', '+', '?', '{1,2}', '{2}');
const piece = fc.tuple(atom, quantifier).map(([a, q]) => a + q);
const sequence = fc.array(piece, { minLength: 0, maxLength: 6 }).map((p) => p.join(''));
const regex = fc.oneof(
  { weight: 4, arbitrary: sequence },
  { weight: 1, arbitrary: fc.tuple(sequence, sequence).map(([a, b]) => `${a}|${b}`) },
  { weight: 1, arbitrary: sequence.map((s) => `${s}$`) },
);
const id = fc.array(fc.constantFrom(...CHARS), { maxLength: 10 }).map((c) => c.join(''));

/** The independent reading: a sticky match at index 0. */
function stickyMatch(source: string, text: string): boolean {
  const r = new RegExp(source, 'y');
  r.lastIndex = 0;
  return r.test(text);
}

describe('namespace matcher (properties)', () => {
  it('agrees with a start-anchored reading on generated ids and regexes', () => {
    fc.assert(
      fc.property(regex, id, (r, text) => {
        assert.equal(namespaceMatches(r, text), stickyMatch(r, text), `${r} on ${text}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('is anchored at the start but not at the end: a match still matches with anything appended', () => {
    fc.assert(
      fc.property(
        regex.filter((r) => !r.includes('$')),
        id,
        id,
        (r, text, tail) => {
          fc.pre(namespaceMatches(r, text));
          assert.ok(namespaceMatches(r, text + tail), `${r} matched ${text} but not ${text + tail}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('an escaped literal claims exactly the ids that start with it', () => {
    fc.assert(
      fc.property(id, id, (literal, text) => {
        const r = literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        assert.equal(namespaceMatches(r, text), text.startsWith(literal));
        assert.equal(
          claimsOf(`@${text}`, [
            {
              source: 'f',
              registration: {
                id: 'x',
                senderLocalpart: 'zz',
                namespaces: { users: [{ exclusive: true, regex: `@${r}` }], aliases: [], rooms: [] },
              },
            },
          ]).length,
          text.startsWith(literal) ? 1 : 0,
        );
      }),
    );
  });

  it('the automaton accepts exactly what the start-anchored reading accepts', () => {
    fc.assert(
      fc.property(regex, id, (r, text) => {
        // A regex matching `text` (and the literal text itself) have `text`, or something shorter, in common.
        const literal = `${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
        const example = commonExample([r, literal]);
        assert.equal(example === undefined, !stickyMatch(r, text), `${r} on ${text}: ${String(example)}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('never says two regexes are disjoint when a generated id matches both, and every example it gives matches both', () => {
    fc.assert(
      fc.property(regex, regex, id, (a, b, text) => {
        const example = commonExample([a, b]);
        assert.notEqual(example, 'unknown');
        if (stickyMatch(a, text) && stickyMatch(b, text)) assert.notEqual(example, undefined, `${a} and ${b} both match ${text}`);
        if (typeof example === 'string') assert.ok(stickyMatch(a, example) && stickyMatch(b, example), `${example} for ${a} / ${b}`);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds the overlap bridges actually write, and none where there is none', () => {
    assert.equal(overlapExample('users', '@telegram_.*', '@.*:example\\.org'), '@telegram_:example.org');
    assert.equal(overlapExample('users', '@_tg_.*', '@_telegram_.*'), undefined);
    assert.equal(overlapExample('users', '@signal_[0-9a-f-]+:x\\.org', '@signal_.*:x\\.org'), '@signal_a:x.org');
    assert.equal(overlapExample('aliases', '#whatsapp_.*:a\\.org', '#whatsapp_.*:b\\.org'), undefined);
  });

  it('tells literal prefixes apart without a search, and only where they really differ', () => {
    // Different from the first character after their common part: nothing in common.
    assert.equal(commonExample(['@r0as1_.*:localhost', '@r0as2_.*:localhost']), undefined);
    assert.equal(commonExample(['@telegram_.*', '@whatsapp_.*']), undefined);
    // One prefix is the start of the other: they overlap.
    assert.equal(commonExample(['@bot', '@bot_x.*']), '@bot_x');
    // What ends a literal prefix: a class, a quantifier, a group, alternation, a case-insensitive flag.
    assert.equal(commonExample(['@[ab]_.*', '@b_.*']), '@b_');
    assert.equal(commonExample(['@ax?_', '@a_']), '@a_');
    assert.equal(commonExample(['@(a|b)_', '@b_']), '@b_');
    assert.equal(commonExample(['@a_|@b_', '@b_']), '@b_');
    assert.equal(commonExample(['(?i)@TG_.*', '@tg_.*']), '@tg_');
  });
});
