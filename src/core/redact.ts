// Log lines pass through here. Known secrets (registered when they are read or
// issued) are replaced exactly; token-shaped strings are caught by pattern too.

/**
 * How many secrets are remembered: the most recently registered ones. Tokens
 * in use are registered again every time they are read (a session's on each
 * request, an as_token on each ping), so they stay; what goes is the tokens of
 * rotations long past. Unbounded, the set grew by two tokens per rotation
 * forever (an account with 5-minute access tokens rotates 288 times a day),
 * and every log line was checked against all of them (`npm run bench`, memory).
 */
export const MAX_REMEMBERED_SECRETS = 1024;

/** In registration order, oldest first (a Set keeps insertion order). */
const known = new Set<string>();

/** Remember a secret so that `redact` removes it wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < 6) return;
  // Registered again: now the newest.
  known.delete(secret);
  known.add(secret);
  if (known.size > MAX_REMEMBERED_SECRETS) known.delete(known.values().next().value as string);
}

const PATTERNS: Array<[RegExp, string]> = [
  // Synapse access/refresh/appservice tokens and MAS tokens.
  [/\b(sy[trn]|mat|mar|mct|syr)_[A-Za-z0-9_-]{6,}/g, '$1_<redacted>'],
  [/(Bearer\s+)[^\s"',]+/gi, '$1<redacted>'],
  [/([?&](?:access_token|refresh_token|token)=)[^&\s"']+/gi, '$1<redacted>'],
  [/("(?:access_token|refresh_token|as_token|hs_token|password|token)"\s*:\s*")(?:[^"\\]|\\.)*"/gi, '$1<redacted>"'],
  // `key: value` / `key=value`, but not prose such as "rejected the hs_token: make the hs_token…".
  [/\b((?:as_token|hs_token|access_token|refresh_token|password)(?:\s*=\s*|\s*:\s*(?![a-z]+\s+[a-z])))[^\s,}]+/gi, '$1<redacted>'],
];

export function redact(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('<redacted>');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
