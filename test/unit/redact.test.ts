import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_REMEMBERED_SECRETS, redact, registerSecret } from '../../src/core/redact';

/** What redact must do with registered secrets, the plain way: mark what every indexOf occurrence covers, one `<redacted>` per covered stretch. */
function replaceEveryOccurrence(text: string, secrets: readonly string[]): string {
  const covered = new Array<boolean>(text.length).fill(false);
  for (const secret of secrets) {
    for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) covered.fill(true, at, at + secret.length);
  }
  return text
    .split('')
    .map((c, i) => (!covered[i] ? c : i > 0 && covered[i - 1] ? '' : '<redacted>'))
    .join('');
}

describe('redact', () => {
  it('removes Synapse-shaped tokens, bearer headers, query tokens and JSON token fields', () => {
    const line = [
      'token syt_YWxpY2U_abcdefghijklmnopqrst_0a1b2c',
      'refresh syr_YWxpY2U_abcdefghijklmnopqrst_0a1b2c',
      'Authorization: Bearer abc.def-123',
      'GET /x?access_token=qwerty123&b=1',
      '{"access_token":"zzz-111","as_token":"as-secret-22","user":"@a:b"}',
      'hs_token: hs-secret-33',
    ].join(' | ');
    const out = redact(line);
    for (const secret of ['abcdefghijklmnopqrst', 'abc.def-123', 'qwerty123', 'zzz-111', 'as-secret-22', 'hs-secret-33']) {
      assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
    }
    assert.ok(out.includes('"user":"@a:b"'), 'non-secret fields stay readable');
  });

  it('removes registered secrets of any shape', () => {
    registerSecret('plain-opaque-value-42');
    assert.equal(redact('x plain-opaque-value-42 y'), 'x <redacted> y');
  });

  it('finds every registered secret in one pass: overlapping, nested, repeated, sharing their ends', () => {
    let run = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: fc.constantFrom('b', 'f', 'k', '0', '9', '_'), minLength: 5, maxLength: 14 }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.oneof(fc.nat(), fc.string({ unit: fc.constantFrom('b', 'f', 'k', '0', '9', '_', ' ', '\n'), maxLength: 8 })), {
          maxLength: 30,
        }),
        (bodies, parts) => {
          // A character of this run's own in every secret: the secrets of earlier runs never occur in this text.
          const marker = String.fromCharCode(0x4e00 + run++);
          const secrets = bodies.map((b, i) => (i % 2 ? `${marker}${b}` : `${b}${marker}`));
          secrets.forEach((x) => registerSecret(x));
          const text = parts.map((p) => (typeof p === 'number' ? secrets[p % secrets.length] : p)).join('');
          assert.equal(redact(text), replaceEveryOccurrence(text, secrets));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('remembers the most recently registered secrets, not every secret ever registered', () => {
    // Opaque values (no token shape): only the registered set can redact them.
    const opaque = (name: string, i: number) => `opaque-${name}-${i}-${'q'.repeat(8)}`;
    const old = 'opaque-rotated-long-ago-value';
    const inUse = 'opaque-still-in-use-value';
    registerSecret(old);
    registerSecret(inUse);
    for (let i = 0; i < MAX_REMEMBERED_SECRETS / 2; i++) registerSecret(opaque('a', i));
    // A token in use is read (and registered) again before each use.
    registerSecret(inUse);
    for (let i = 0; i < MAX_REMEMBERED_SECRETS / 2; i++) registerSecret(opaque('b', i));
    assert.equal(redact(`x ${inUse} y`), 'x <redacted> y', 'registered again, so still remembered');
    assert.equal(redact(`x ${opaque('a', 1)} y`), 'x <redacted> y');
    assert.equal(redact(`x ${opaque('b', MAX_REMEMBERED_SECRETS / 2 - 1)} y`), 'x <redacted> y');
    // The oldest, never registered again, was forgotten to make room.
    assert.equal(redact(`x ${old} y`), `x ${old} y`);
  });

  it('leaves explanations that mention a token key readable', () => {
    const next =
      "The appservice rejected the homeserver's hs_token: make the hs_token in the appservice's config match the registration file.";
    assert.equal(redact(next), next);
    assert.equal(
      redact('It also accepted a wrong hs_token: the appservice does not check who calls it.'),
      'It also accepted a wrong hs_token: the appservice does not check who calls it.',
    );
    assert.equal(redact('hs_token: 3f9c2a1b7e as_token=ghijkl more'), 'hs_token: <redacted> as_token=<redacted> more');
  });
});
