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

/**
 * Every known secret by a hash of its last `END` characters, so that a text is
 * scanned once whatever the number of secrets (checking each secret with
 * `includes` cost 38 µs for an output block with 200 secrets, 148 µs with
 * 1,024, and every log line pays it). The end, not the start: tokens of one
 * user share their first characters (`syt_<localpart>_`).
 */
const END = 6; // the shortest secret registered
const byEnd = new Map<number, string[]>();
/** How many secrets have each low 16 bits of that hash: most positions of a text stop at this look-up. */
const endBits = new Uint16Array(1 << 16);
/** 31^(END - 1), to take the oldest character out of a rolling hash. */
const OLDEST = 31 ** (END - 1);

function endHash(text: string, end: number): number {
  let h = 0;
  for (let i = end - END; i < end; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return h;
}

function index(secret: string): void {
  const h = endHash(secret, secret.length);
  const list = byEnd.get(h);
  if (list) list.push(secret);
  else byEnd.set(h, [secret]);
  endBits[h & 0xffff]++;
}

function unindex(secret: string): void {
  const h = endHash(secret, secret.length);
  const list = byEnd.get(h) ?? [];
  const at = list.indexOf(secret);
  if (at === -1) return;
  list.splice(at, 1);
  if (list.length === 0) byEnd.delete(h);
  endBits[h & 0xffff]--;
}

/** Remember a secret so that `redact` removes it wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < END) return;
  if (known.delete(secret)) {
    // Registered again: now the newest.
    known.add(secret);
    return;
  }
  known.add(secret);
  index(secret);
  if (known.size > MAX_REMEMBERED_SECRETS) {
    const oldest = known.values().next().value as string;
    known.delete(oldest);
    unindex(oldest);
  }
}

/** `text` with each stretch that known secrets cover (overlapping or touching) replaced by one `<redacted>`. */
function redactKnown(text: string): string {
  if (byEnd.size === 0 || text.length < END) return text;
  const found: Array<[number, number]> = [];
  let h = endHash(text, END);
  for (let end = END; ; end++) {
    if (endBits[h & 0xffff] !== 0) {
      for (const secret of byEnd.get(h) ?? []) {
        const start = end - secret.length;
        if (start >= 0 && text.startsWith(secret, start)) found.push([start, end]);
      }
    }
    if (end === text.length) break;
    h = (Math.imul(h - Math.imul(text.charCodeAt(end - END), OLDEST), 31) + text.charCodeAt(end)) | 0;
  }
  if (found.length === 0) return text;
  found.sort((a, b) => a[0] - b[0]);
  let out = '';
  let copied = 0;
  for (let i = 0; i < found.length;) {
    const start = found[i][0];
    let end = found[i][1];
    for (i++; i < found.length && found[i][0] <= end; i++) end = Math.max(end, found[i][1]);
    out += `${text.slice(copied, start)}<redacted>`;
    copied = end;
  }
  return out + text.slice(copied);
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
  let out = redactKnown(text);
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
