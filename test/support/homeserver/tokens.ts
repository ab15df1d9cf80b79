// Token and device-id formats copied from Synapse, so clients see realistic
// values: `syt_<base64 localpart>_<20 letters>_<base62 crc32>` (and `syr_` for
// refresh tokens, whose shape Synapse checks before any lookup).
import { randomInt } from 'node:crypto';
import { crc32 } from 'node:zlib';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const BASE62 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function randomLetters(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += LETTERS[randomInt(LETTERS.length)];
  return s;
}

function base62(num: number, minWidth: number): string {
  let s = '';
  while (num > 0) {
    s = BASE62[num % 62] + s;
    num = Math.floor(num / 62);
  }
  return s.padStart(minWidth, '0');
}

const checksum = (base: string) => base62(crc32(base), 6);

export function generateToken(kind: 'syt' | 'syr', localpart: string): string {
  const b64 = Buffer.from(localpart, 'utf8').toString('base64').replace(/=+$/, '');
  const base = `${kind}_${b64}_${randomLetters(20)}`;
  return `${base}_${checksum(base)}`;
}

/** Synapse's `_verify_refresh_token`: four parts, `syr` prefix, matching checksum. */
export function hasRefreshTokenShape(token: string): boolean {
  const parts = token.split('_');
  if (parts.length !== 4 || parts[0] !== 'syr') return false;
  return checksum(parts.slice(0, 3).join('_')) === parts[3];
}

/** Synapse: `random_string(10).upper()`. */
export const generateDeviceId = () => randomLetters(10).toUpperCase();
