// The only module that talks HTTP. Everything above it gets parsed JSON or a
// typed error (MatrixApiError / RequestFailedError), never a raw response.
import { MatrixApiError, RequestFailedError } from './errors';
import { type Answerer, cancelled, parseBody, stripQuery, toMatrixError, translateRequestFailure } from './httpAnswers';
import { t } from './l10n';
import { nodeHttp, nodeHttps, nodeZlib } from './nodeModules';

/** One answer as the wire gave it: status, lower-cased headers, the whole body as text. */
interface RawAnswer {
  status: number;
  header(name: string): string | null;
  text: string;
}

/** Larger answers are refused: no Matrix endpoint we call sends anything near it. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * One request, no redirect followed, over Node's own http/https (the floor for
 * a Node program: a CLI process pays nothing but the request). `https` and
 * `zlib` load only when a URL or an answer needs them. Rejects with the raw
 * Node error (its `code`), which translateRequestFailure turns into a sentence.
 * VS Code's proxy support patches these same modules, so settings apply.
 */
function exchange(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? nodeHttps() : nodeHttp();
    // One connection per request, closed after it: no idle socket to race a server's keep-alive timeout.
    // Compressed answers are accepted as before (some proxies compress anyway).
    const headers: Record<string, string> = { ...init.headers, Connection: 'close', 'Accept-Encoding': 'gzip, deflate' };
    if (init.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(init.body));
    const req = transport.request(target, { method: init.method, headers, signal: init.signal });
    req.on('error', reject);
    req.on('response', (res) => {
      const header = (name: string): string | null => {
        const v = res.headers[name];
        return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
      };
      const encoding = (header('content-encoding') ?? '').trim().toLowerCase();
      let stream: NodeJS.ReadableStream = res;
      if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
        // createUnzip reads either wrapping (gzip or zlib) from the first bytes.
        const inflate = nodeZlib().createUnzip();
        inflate.on('error', reject);
        stream = res.pipe(inflate);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy();
          reject(
            new RequestFailedError(
              'invalid-response',
              t(
                '{0} sent an answer larger than {1} MB; check that the URL is a Matrix homeserver.',
                stripQuery(url),
                MAX_BODY_BYTES / 1024 / 1024,
              ),
              url,
              res.statusCode,
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      stream.on('end', () => resolve({ status: res.statusCode ?? 0, header, text: Buffer.concat(chunks).toString('utf8') }));
      // The connection closed before the whole answer arrived (Node names it ECONNRESET, "aborted").
      res.on('error', reject);
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
      });
    });
    req.end(init.body);
  });
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RequestOptions {
  method?: HttpMethod;
  /** Sent as `Authorization: Bearer`, and only to the origin it was meant for. */
  accessToken?: string;
  body?: unknown;
  /** Sent as `application/x-www-form-urlencoded` instead of a JSON `body` (OAuth endpoints, RFC 6749 §4.1.3). */
  form?: Record<string, string | undefined>;
  query?: Record<string, string | number | boolean | undefined>;
  /** Default: the client's timeout (30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** How many 429 answers to wait out before giving up (default 2; the ping uses 0). */
  rateLimitRetries?: number;
  /** An empty 2xx answer is a success (`{}`), not a broken one (RFC 7009 revocation answers 200 with no body). */
  allowEmptyBody?: boolean;
  /** Allow plain http:// off loopback for this request (appservice URLs inside private networks). */
  allowInsecureHttp?: boolean;
  /** Who answers (default a homeserver): an appservice's broken answer is blamed on the registration's `url`. */
  server?: Answerer;
}

export interface HttpResponse<T> {
  status: number;
  body: T;
  /** Wall-clock time of the last attempt, as this client saw it. */
  durationMs: number;
  /** Where the answer finally came from (after redirects). */
  url: string;
}

export interface HttpLogEntry {
  method: string;
  /** Origin + path, never the query string (it may carry `access_token`). */
  url: string;
  status?: number;
  errcode?: string;
  durationMs: number;
  failure?: string;
}

export interface HttpClientOptions {
  timeoutMs?: number;
  /** Allow plain http:// to hosts that are not loopback. Off by default: tokens would cross the network in clear text. */
  allowInsecureHttp?: boolean;
  log?: (entry: HttpLogEntry) => void;
  userAgent?: string;
  /** Longest 429 back-off worth waiting for instead of failing. */
  maxRateLimitWaitMs?: number;
  /** Injected for tests; defaults to a real timer. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;

/**
 * Hosts only this machine reaches. The one loopback rule: plain http:// is
 * allowed to them, and a registration url on one gets a warning. Takes a URL
 * hostname (IPv6 in brackets, IPv4-mapped addresses as the URL parser writes them).
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127(\.\d{1,3}){3}$/.test(h) ||
    h === '0.0.0.0' ||
    h === '::1' ||
    h === '::' ||
    /^::ffff:(7f[0-9a-f]{2}:[0-9a-f]{1,4}|127(\.\d{1,3}){3})$/.test(h)
  );
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What protocol code needs from an HTTP client. HttpClient is the implementation. */
export interface HttpRequester {
  /** Plain http:// is allowed off loopback (a user setting); endpoints a server advertises are held to it. */
  readonly allowsInsecureHttp: boolean;
  request<T = Record<string, unknown>>(baseUrl: string, path: string, opts?: RequestOptions): Promise<HttpResponse<T>>;
}

export class HttpClient implements HttpRequester {
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(private readonly options: HttpClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sleep = options.sleep ?? sleep;
  }

  get allowsInsecureHttp(): boolean {
    return this.options.allowInsecureHttp === true;
  }

  /** `baseUrl` + `path` (path already percent-encoded by the caller). */
  async request<T = Record<string, unknown>>(baseUrl: string, path: string, opts: RequestOptions = {}): Promise<HttpResponse<T>> {
    const url = joinUrl(baseUrl, path, opts.query);
    let retriesLeft = opts.rateLimitRetries ?? 2;
    for (;;) {
      try {
        return await this.send<T>(url, opts);
      } catch (e) {
        const wait = e instanceof MatrixApiError && e.status === 429 ? (e.retryAfterMs ?? 1000) : undefined;
        if (wait === undefined || retriesLeft <= 0 || wait > (this.options.maxRateLimitWaitMs ?? 30_000)) throw e;
        retriesLeft--;
        await this.sleep(wait, opts.signal).catch(() => {
          throw cancelled(url);
        });
      }
    }
  }

  private async send<T>(startUrl: string, opts: RequestOptions): Promise<HttpResponse<T>> {
    const method = opts.method ?? (opts.body === undefined && opts.form === undefined ? 'GET' : 'POST');
    const tokenOrigin = new URL(startUrl).origin;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onCallerAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const started = Date.now();
    let url = startUrl;
    let currentMethod: HttpMethod = method;
    const form = opts.form && new URLSearchParams(Object.entries(opts.form).filter((e): e is [string, string] => e[1] !== undefined));
    let body = form ? form.toString() : opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const entry = (extra: Partial<HttpLogEntry>) =>
      this.options.log?.({ method: currentMethod, url: stripQuery(url), durationMs: Date.now() - started, ...extra });
    try {
      if (opts.signal?.aborted) throw cancelled(url);
      for (let redirects = 0; ; redirects++) {
        this.checkUrlAllowed(url, opts.allowInsecureHttp);
        const headers: Record<string, string> = { Accept: 'application/json' };
        if (body !== undefined) headers['Content-Type'] = form ? 'application/x-www-form-urlencoded' : 'application/json';
        if (this.options.userAgent) headers['User-Agent'] = this.options.userAgent;
        // A redirect to another origin must not carry our token there.
        if (opts.accessToken && new URL(url).origin === tokenOrigin) headers.Authorization = `Bearer ${opts.accessToken}`;
        let res: RawAnswer;
        try {
          res = await exchange(url, { method: currentMethod, headers, body, signal: controller.signal });
        } catch (e) {
          throw translateRequestFailure(e, url, timedOut, timeoutMs, opts.signal);
        }
        const location = res.header('location');
        if (res.status >= 300 && res.status < 400 && location) {
          if (redirects >= MAX_REDIRECTS) {
            throw new RequestFailedError(
              'too-many-redirects',
              t('{0} redirected more than {1} times; check the homeserver URL.', stripQuery(url), MAX_REDIRECTS),
              url,
              res.status,
            );
          }
          url = new URL(location, url).toString();
          if (res.status === 303 || ((res.status === 301 || res.status === 302) && currentMethod === 'POST')) {
            currentMethod = 'GET';
            body = undefined;
          }
          continue;
        }
        const text = res.text;
        const parsed =
          opts.allowEmptyBody && text.trim() === '' ? {} : parseBody(text, res.header('content-type'), url, res.status, opts.server);
        if (res.status >= 400) {
          const error = toMatrixError(parsed, res.status, url, res.header('retry-after'));
          entry({ status: res.status, errcode: error.errcode });
          throw error;
        }
        // Every Matrix answer is a JSON object; callers read fields of it.
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
          throw new RequestFailedError(
            'invalid-response',
            t(
              '{0} answered HTTP {1} with JSON that is not an object; check that the URL is a Matrix homeserver.',
              stripQuery(url),
              res.status,
            ),
            url,
            res.status,
          );
        }
        entry({ status: res.status });
        return { status: res.status, body: parsed as T, durationMs: Date.now() - started, url };
      }
    } catch (e) {
      if (!(e instanceof MatrixApiError)) {
        entry({
          failure: e instanceof RequestFailedError ? e.kind : 'error',
          status: e instanceof RequestFailedError ? e.status : undefined,
        });
      }
      throw e;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private checkUrlAllowed(url: string, allowInsecure?: boolean): void {
    const parsed = new URL(url);
    if (parsed.protocol === 'https:') return;
    if (parsed.protocol !== 'http:') {
      throw new RequestFailedError('invalid-url', t('{0} is not an http(s) URL.', stripQuery(url)), url);
    }
    if (!isLoopbackHost(parsed.hostname) && !this.allowsInsecureHttp && !allowInsecure) {
      throw new RequestFailedError(
        'insecure-url',
        t(
          'Refusing plain http:// to {0}: tokens would travel unencrypted. Use https://, or for a test server allow it with the matrixDevtools.allowInsecureHttp setting (CLI: --allow-insecure-http).',
          parsed.host,
        ),
        url,
      );
    }
  }
}

export function joinUrl(baseUrl: string, path: string, query?: RequestOptions['query']): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url.toString();
}
