// Appservice registrations and the homeserver → appservice half of a ping,
// done over real HTTP so every failure a user can hit (refused, hung, error
// status, bad token) comes from a real socket.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { parse as parseYaml } from 'yaml';
import { MatrixError } from './http';
import type { NamespaceEntry, RegistrationObject } from './types';

interface LoadedAppservice {
  reg: RegistrationObject;
  userRegexes: RegExp[];
}

export class AppserviceRegistry {
  private readonly byId = new Map<string, LoadedAppservice>();

  constructor(private readonly serverName: string) {}

  add(source: string | RegistrationObject): RegistrationObject {
    const reg = typeof source === 'string' ? readRegistrationFile(source) : validateRegistration(source, 'registration object');
    for (const other of this.byId.values()) {
      if (other.reg.id === reg.id) throw new Error(`Duplicate appservice id '${reg.id}'`);
      if (other.reg.as_token === reg.as_token) throw new Error(`Appservice '${reg.id}' reuses the as_token of '${other.reg.id}'`);
    }
    this.byId.set(reg.id, { reg, userRegexes: compileNamespace(reg.namespaces?.users, reg.id) });
    return reg;
  }

  remove(id: string): boolean {
    return this.byId.delete(id);
  }

  get(id: string): RegistrationObject | undefined {
    return this.byId.get(id)?.reg;
  }

  byToken(asToken: string): RegistrationObject | undefined {
    for (const a of this.byId.values()) if (a.reg.as_token === asToken) return a.reg;
    return undefined;
  }

  senderOf(reg: RegistrationObject): string {
    return `@${reg.sender_localpart}:${this.serverName}`;
  }

  /** Synapse's `is_interested_in_user`: the sender, or a users-namespace match (Python `re.match`, anchored at the start only). */
  isInterestedInUser(reg: RegistrationObject, userId: string): boolean {
    if (userId === this.senderOf(reg)) return true;
    return (this.byId.get(reg.id)?.userRegexes ?? []).some((r) => r.test(userId));
  }
}

function readRegistrationFile(file: string): RegistrationObject {
  const parsed: unknown = parseYaml(fs.readFileSync(file, 'utf8'));
  return validateRegistration(parsed, file);
}

function validateRegistration(value: unknown, where: string): RegistrationObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: an appservice registration must be a mapping`);
  }
  const reg = value as Record<string, unknown>;
  for (const key of ['id', 'as_token', 'hs_token', 'sender_localpart']) {
    if (typeof reg[key] !== 'string' || reg[key] === '') throw new Error(`${where}: '${key}' must be a non-empty string`);
  }
  if (!('url' in reg) || (reg.url !== null && typeof reg.url !== 'string')) {
    throw new Error(`${where}: 'url' must be a string or null`);
  }
  return { ...(reg as RegistrationObject) };
}

function compileNamespace(entries: NamespaceEntry[] | undefined, id: string): RegExp[] {
  if (entries === undefined) return [];
  if (!Array.isArray(entries)) throw new Error(`${id}: namespaces.users must be a list`);
  return entries.map((e) => {
    if (typeof e?.regex !== 'string') throw new Error(`${id}: every namespace entry needs a string 'regex'`);
    // No `u` flag, like a Python-compatible reading (`\#` is legal there).
    return new RegExp(`^(?:${e.regex})`);
  });
}

export interface PendingPings {
  add(req: http.ClientRequest): void;
  delete(req: http.ClientRequest): void;
}

/**
 * `POST {url}/_matrix/app/v1/ping` with the hs_token, mapped to the outcomes
 * of Synapse's AppservicePingRestServlet. Returns the round trip in ms.
 */
export async function pingAppservice(
  reg: RegistrationObject,
  transactionId: unknown,
  timeoutMs: number,
  pending: PendingPings,
): Promise<number> {
  const started = performance.now();
  await callAppservice(reg, 'POST', '/_matrix/app/v1/ping', { transaction_id: transactionId ?? null }, timeoutMs, pending);
  return Math.floor(performance.now() - started);
}

/**
 * Synapse's `ApplicationServiceApi.push_bulk`: `PUT {url}/_matrix/app/v1/transactions/{txnId}`
 * with the hs_token both as a header and (deprecated) in the query. Rejects with
 * the same errors as a ping, so a caller can record what Synapse would log.
 */
export async function pushTransaction(
  reg: RegistrationObject,
  txnId: string,
  events: unknown[],
  timeoutMs: number,
  pending: PendingPings,
): Promise<void> {
  await callAppservice(
    reg,
    'PUT',
    `/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}?access_token=${encodeURIComponent(reg.hs_token)}`,
    { events },
    timeoutMs,
    pending,
  );
}

function callAppservice(
  reg: RegistrationObject,
  method: string,
  path: string,
  payload: unknown,
  timeoutMs: number,
  pending: PendingPings,
): Promise<void> {
  const body = JSON.stringify(payload);
  return new Promise<void>((resolve, reject) => {
    let target: URL;
    try {
      // Synapse concatenates, so a trailing slash in `url` gives `//_matrix`.
      target = new URL(`${reg.url}${path}`);
    } catch (e) {
      reject(connectionFailed(`ValueError: ${(e as Error).message}`));
      return;
    }
    const client = target.protocol === 'https:' ? https : http;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pending.delete(req);
      fn();
    };
    const req = client.request(target, {
      method,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        Authorization: `Bearer ${reg.hs_token}`,
        'User-Agent': 'Synapse/1.84.0 (test homeserver)',
      },
      agent: false,
    });
    const timer = setTimeout(() => {
      finish(() => reject(new MatrixError(504, 'M_CONNECTION_TIMEOUT', 'Timeout waiting for response from remote server')));
      req.destroy();
    }, timeoutMs);
    pending.add(req);
    req.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(connectionFailed(describeSocketError(e, target)))));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(connectionFailed(describeSocketError(e, target)))));
      res.on('end', () =>
        finish(() => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            reject(new MatrixError(502, 'M_BAD_STATUS', `HTTP ${status} ${res.statusMessage ?? ''}`, { status, body: text }));
            return;
          }
          // Synapse decodes a 2xx body as JSON; junk there is a failure, not a success.
          try {
            JSON.parse(text);
          } catch (e) {
            reject(connectionFailed(`JSONDecodeError: ${(e as Error).message}`));
            return;
          }
          resolve();
        }),
      );
    });
    req.end(body);
  });
}

const connectionFailed = (message: string) => new MatrixError(502, 'M_CONNECTION_FAILED', message);

/** Node socket errors in the words Twisted uses, which is what Synapse forwards. */
function describeSocketError(e: NodeJS.ErrnoException, target: URL): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'ConnectionRefusedError: Connection was refused by other side: 111: Connection refused.';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DNSLookupError: DNS lookup failed: no results for hostname lookup: ${target.hostname}.`;
    case 'ECONNRESET':
    case 'EPIPE':
      return 'ResponseNeverReceived: Connection to the other side was lost in a non-clean fashion: Connection lost.';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `NoRouteError: No route to host: ${e.message}`;
    default:
      return `${e.code ?? e.name}: ${e.message}`;
  }
}
