import * as assert from 'node:assert/strict';
import { redact, registerSecret } from '../../src/core/redact';

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
