// From what a person types ("example.org", "https://matrix.example.org:8448")
// to a verified client-server API base URL and what that server can do.
import { MatrixApiError, RequestFailedError } from './errors';
import { type HttpRequester, isLoopbackHost } from './http';
import { t } from './l10n';
import { sharedPerKey } from './memo';

export interface DiscoveredHomeserver {
  /** Client-server API base URL without a trailing slash. */
  baseUrl: string;
  /** The name the user typed, as a host (used for `@user:server` guesses). */
  serverName: string;
  /** True when `.well-known/matrix/client` pointed us there. */
  viaWellKnown: boolean;
  versions: ServerVersions;
}

export interface ServerVersions {
  versions: string[];
  unstableFeatures: Record<string, boolean>;
}

export interface LoginFlow {
  type: string;
  [key: string]: unknown;
}

/** Why `value` cannot be a homeserver (one sentence), or undefined: the check for every input box that asks for one. */
export function serverInputProblem(value: string): string | undefined {
  try {
    parseServerInput(value);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Whether the input starts with a URL scheme (`https://`, `http://`, …), as opposed to a bare server name. */
function hasScheme(input: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(input);
}

/** Turns user input into a URL to start from. Loopback hosts default to http, everything else to https. */
export function parseServerInput(input: string): URL {
  const trimmed = input.trim().replace(/\/+$/, '');
  if (!trimmed) {
    throw new RequestFailedError(
      'invalid-url',
      t('Enter a server name such as example.org or a URL such as https://matrix.example.org.'),
      input,
    );
  }
  const withScheme = hasScheme(trimmed) ? trimmed : `${guessScheme(trimmed)}://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new RequestFailedError('invalid-url', t('"{0}" is neither a server name nor a URL.', input), input);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RequestFailedError('invalid-url', t('"{0}" is not an http(s) URL.', input), input);
  }
  // URL accepts host names no resolver knows ("ht!tp", "a b"); say so now, not after a DNS
  // lookup. Underscores stay: Docker Compose service names have them.
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?)$/i.test(url.hostname)) {
    throw new RequestFailedError('invalid-url', t('"{0}" does not contain a valid host name.', input), input);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new RequestFailedError(
      'invalid-url',
      t('"{0}" has a query, fragment or credentials; enter just the server name or URL.', input),
      input,
    );
  }
  return url;
}

function guessScheme(hostish: string): 'http' | 'https' {
  const host = hostish.split('/')[0].replace(/:\d+$/, '');
  return isLoopbackHost(host) ? 'http' : 'https';
}

/**
 * Resolves a server name or URL through `.well-known/matrix/client` and checks
 * the result answers `/versions`. A 404 (or an unreachable well-known) means
 * "use the given host"; a well-known that exists but is broken is an error,
 * because the server's admin told clients to look there.
 *
 * When the input is a URL (a scheme typed), `/versions` of that URL is asked
 * at the same time as `.well-known`: a URL is almost always the homeserver
 * itself, and then discovery takes one round trip instead of two. When
 * `.well-known` names another base URL that early request is cancelled and
 * its answer, or failure, is never used. A bare server name (example.org)
 * usually delegates, so its host is not asked for `/versions` it rarely serves.
 */
export async function discoverHomeserver(http: HttpRequester, input: string, signal?: AbortSignal): Promise<DiscoveredHomeserver> {
  const start = parseServerInput(input);
  const serverName = start.host;
  const given = (start.origin + start.pathname).replace(/\/+$/, '');
  const early = new AbortController();
  const stopEarly = () => early.abort();
  signal?.addEventListener('abort', stopEarly, { once: true });
  const typedUrl = hasScheme(input.trim());
  const givenVersions = typedUrl ? getVersions(http, given, early.signal) : undefined;
  givenVersions?.catch(() => undefined); // read below, or abandoned when .well-known points elsewhere
  try {
    const wellKnown = await fetchWellKnown(http, start.origin, signal);
    const baseUrl = wellKnown ?? given;
    const viaWellKnown = wellKnown !== undefined;
    if (baseUrl !== given) stopEarly();
    let versions: ServerVersions;
    try {
      versions = await (baseUrl === given && givenVersions ? givenVersions : getVersions(http, baseUrl, signal));
    } catch (e) {
      // Our own refusals (cancelled, plain http:// not allowed) say nothing about the server's file.
      if (e instanceof RequestFailedError && (e.kind === 'cancelled' || e.kind === 'insecure-url')) throw e;
      const why = e instanceof Error ? e.message : String(e);
      const message = viaWellKnown
        ? t('{0}/.well-known/matrix/client points at {1}, which does not answer as a Matrix homeserver: {2}', start.origin, baseUrl, why)
        : t('{0} does not answer as a Matrix homeserver: {1}', baseUrl, why);
      throw new RequestFailedError(
        e instanceof RequestFailedError ? e.kind : 'invalid-response',
        message,
        baseUrl,
        e instanceof RequestFailedError ? e.status : undefined,
      );
    }
    return { baseUrl, serverName, viaWellKnown, versions };
  } finally {
    stopEarly();
    signal?.removeEventListener('abort', stopEarly);
  }
}

/** How a batch finds a homeserver: discoverHomeserver, or one discovery shared by the batch (discoveryPerBatch). */
export type Discover = (input: string, signal?: AbortSignal) => Promise<DiscoveredHomeserver>;

/**
 * discoverHomeserver once per server input for one batch of calls that share
 * one signal (Ping All, Diagnose All, the CLI's doctor over several files):
 * without it each ping of a Ping All asked .well-known and /versions again,
 * three homeserver requests for one ping. Concurrent callers share the one
 * discovery in flight; a failed one is forgotten, so the next call asks again
 * (a homeserver that restarts during a Ping All is found again).
 */
export function discoveryPerBatch(http: HttpRequester): Discover {
  return sharedPerKey((input: string, signal?: AbortSignal) => discoverHomeserver(http, input, signal));
}

/**
 * What the last discovery of each server input found, in one window. A ping
 * goes out to it while discovery runs again (PreparePingRequest.recalled) and
 * is reported only when the new discovery finds the same: the report never
 * rests on an old `/versions`, and a second ping does not wait for discovery.
 */
export class DiscoveryMemory {
  private readonly last = new Map<string, DiscoveredHomeserver>();

  /** What the last discovery of `input` found, unless it failed since. */
  recall(input: string): DiscoveredHomeserver | undefined {
    return this.last.get(input);
  }

  /** `discover`, remembering what it finds and forgetting an input whose discovery failed. */
  remembering(discover: Discover): Discover {
    return async (input, signal) => {
      try {
        const found = await discover(input, signal);
        this.last.set(input, found);
        return found;
      } catch (e) {
        if (!signal?.aborted) this.last.delete(input);
        throw e;
      }
    };
  }
}

async function fetchWellKnown(http: HttpRequester, origin: string, signal?: AbortSignal): Promise<string | undefined> {
  let body: Record<string, unknown>;
  try {
    body = (await http.request(origin, '/.well-known/matrix/client', { signal, timeoutMs: 10_000 })).body;
  } catch (e) {
    if (e instanceof MatrixApiError && e.status === 404) return undefined;
    if (e instanceof RequestFailedError && (e.kind === 'network' || e.kind === 'timeout')) return undefined;
    if (e instanceof RequestFailedError && e.kind === 'invalid-response' && e.status === 404) return undefined;
    // A website's catch-all page, not a file an admin wrote: there is no well-known.
    if (e instanceof RequestFailedError && e.kind === 'invalid-response' && e.code === 'html') return undefined;
    // Our own refusals (cancelled, plain http:// not allowed) say nothing about the server's file.
    if (e instanceof RequestFailedError && (e.kind === 'cancelled' || e.kind === 'insecure-url')) throw e;
    throw new RequestFailedError(
      'invalid-response',
      t(
        '{0}/.well-known/matrix/client is broken ({1}); ask the server admin to fix it, or enter the homeserver URL directly.',
        origin,
        e instanceof Error ? e.message : String(e),
      ),
      origin,
    );
  }
  const hs = body['m.homeserver'] as Record<string, unknown> | undefined;
  const baseUrl = hs && typeof hs === 'object' ? hs.base_url : undefined;
  if (typeof baseUrl !== 'string' || !/^https?:\/\//i.test(baseUrl)) {
    throw new RequestFailedError(
      'invalid-response',
      t(
        '{0}/.well-known/matrix/client has no valid m.homeserver.base_url; ask the server admin to fix it, or enter the homeserver URL directly.',
        origin,
      ),
      origin,
    );
  }
  return baseUrl.replace(/\/+$/, '');
}

export async function getVersions(http: HttpRequester, baseUrl: string, signal?: AbortSignal): Promise<ServerVersions> {
  const { body } = await http.request(baseUrl, '/_matrix/client/versions', { signal });
  if (!Array.isArray(body.versions)) {
    throw new RequestFailedError(
      'invalid-response',
      t('{0}/_matrix/client/versions answered without a versions list; this is not a Matrix homeserver.', baseUrl),
      baseUrl,
    );
  }
  const unstable =
    body.unstable_features && typeof body.unstable_features === 'object' ? (body.unstable_features as Record<string, unknown>) : {};
  return {
    versions: body.versions.filter((v): v is string => typeof v === 'string'),
    unstableFeatures: Object.fromEntries(Object.entries(unstable).map(([k, v]) => [k, v === true])),
  };
}

/**
 * A spec version from /versions as a comparable triple: `r0.6.1` (the r0
 * era, before v1.1) or `vX.Y`; undefined for anything else. The one parser.
 */
function parseSpecVersion(v: string): [era: number, major: number, minor: number] | undefined {
  const m = /^([rv])(\d+)\.(\d+)(?:\.\d+)?$/.exec(v);
  return m ? [m[1] === 'r' ? 0 : 1, Number(m[2]), Number(m[3])] : undefined;
}

/** Orders spec versions oldest first; unknown strings sort before all known ones, alphabetically. */
export function compareSpecVersions(a: string, b: string): number {
  const pa = parseSpecVersion(a);
  const pb = parseSpecVersion(b);
  if (!pa || !pb) return pa ? 1 : pb ? -1 : a.localeCompare(b);
  return pa[0] - pb[0] || pa[1] - pb[1] || pa[2] - pb[2];
}

/** True when the server claims spec version `wanted` (e.g. "v1.7") or later. */
export function supportsSpecVersion(versions: ServerVersions, wanted: string): boolean {
  if (!parseSpecVersion(wanted)) return false;
  return versions.versions.some((v) => parseSpecVersion(v) !== undefined && compareSpecVersions(v, wanted) >= 0);
}

/** The newest spec version in a /versions list. */
export function newestSpecVersion(versions: readonly string[]): string | undefined {
  const known = versions.filter((v) => parseSpecVersion(v) !== undefined);
  return known.length ? known.reduce((a, b) => (compareSpecVersions(b, a) > 0 ? b : a)) : undefined;
}

export async function getLoginFlows(http: HttpRequester, baseUrl: string, signal?: AbortSignal): Promise<LoginFlow[]> {
  const { body } = await http.request(baseUrl, '/_matrix/client/v3/login', { signal });
  const flows = Array.isArray(body.flows) ? body.flows : [];
  return flows.filter((f): f is LoginFlow => !!f && typeof f === 'object' && typeof (f as LoginFlow).type === 'string');
}
