// Matrix Authentication Service's refresh-token rules, on top of
// oidc-provider's stricter ones (shared/MATRIX-NOTES.md):
// - MAS: reusing a refresh token whose successor was never used re-issues that
//   answer, so a lost response is survivable. oidc-provider would revoke the
//   whole grant instead.
// - MAS: reusing it after the successor was used answers `invalid_grant` and
//   leaves the newer tokens alone. oidc-provider would revoke them too.
// "Used" means: the successor refresh token was presented at the token
// endpoint, or its access token was introspected as active by the homeserver.

interface Rotation {
  answer: string;
  refreshToken: string;
  accessToken: string;
}

export class RefreshReplay {
  private readonly rotations = new Map<string, Rotation>();
  private readonly used = new Set<string>();

  /** What to answer instead of asking oidc-provider, or undefined to let it answer. */
  intercept(refreshToken: string): { status: number; body: string } | undefined {
    const rotation = this.rotations.get(refreshToken);
    if (!rotation) {
      this.used.add(refreshToken);
      return undefined;
    }
    if (!this.used.has(rotation.refreshToken) && !this.used.has(rotation.accessToken)) return { status: 200, body: rotation.answer };
    return { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'refresh token already used' }) };
  }

  /** oidc-provider's successful answer to a refresh with `refreshToken`. */
  record(refreshToken: string, answer: string): void {
    const parsed = JSON.parse(answer) as { access_token?: string; refresh_token?: string };
    if (!parsed.refresh_token || parsed.refresh_token === refreshToken || !parsed.access_token) return;
    this.rotations.set(refreshToken, { answer, refreshToken: parsed.refresh_token, accessToken: parsed.access_token });
  }

  markUsed(token: string): void {
    this.used.add(token);
  }
}
