// PKCE (RFC 7636) with S256 only, and the `state` value (RFC 6749 §10.12).
import { createHash, randomBytes } from 'node:crypto';

/** RFC 7636 §4.1: 43–128 characters of the unreserved set; 32 random bytes → 43 base64url characters. */
export function generateCodeVerifier(): string {
  return randomBytes(32).toString('base64url');
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export function codeChallengeS256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function generateState(): string {
  return randomBytes(16).toString('base64url');
}
