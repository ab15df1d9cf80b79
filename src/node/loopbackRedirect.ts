// The loopback redirect listener of RFC 8252 §7.3 (native apps): a one-shot
// HTTP server on 127.0.0.1 and a random port that waits for the browser to
// come back to /callback, answers it with a page that says what happened, and
// closes on success, error, cancel or timeout. Node-only (the extension host,
// the CLI); it knows nothing of OAuth beyond the callback path.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestFailedError } from '../core/errors';
import { formatDuration } from '../core/expiry';
import { t } from '../core/l10n';

export interface LoopbackPages {
  /** Shown in the browser tab after a successful redirect. */
  success: string;
  /** Shown when the redirect carried `error` (the user denied, the server refused). */
  failure: string;
}

export interface LoopbackListener {
  /** `http://127.0.0.1:<port>/callback`: what goes into the authorization request. */
  readonly redirectUri: string;
  /** The full callback URL the browser came back with. Rejects on timeout or cancel. */
  readonly callback: Promise<string>;
  close(): void;
}

export interface LoopbackOptions {
  /** 0 (default) = a random free port. A fixed port that is taken fails with one sentence. */
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  pages: LoopbackPages;
}

const CALLBACK_PATH = '/callback';

export async function startLoopbackListener(opts: LoopbackOptions): Promise<LoopbackListener> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new RequestFailedError(
              'network',
              t(
                'Port {0} on 127.0.0.1 is already in use, so the browser could not come back to VS Code; close what uses it or let Matrix DevTools pick a free port.',
                opts.port ?? 0,
              ),
              `http://127.0.0.1:${opts.port}`,
              undefined,
              e.code,
            )
          : e,
      );
    });
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const redirectUri = `http://127.0.0.1:${port}${CALLBACK_PATH}`;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const close = () => {
    if (timer) clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    server.close();
    server.closeAllConnections();
  };
  const callback = new Promise<string>((resolve, reject) => {
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const url = new URL(req.url ?? '/', redirectUri);
      if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found');
        return;
      }
      const html = url.searchParams.has('error') ? opts.pages.failure : opts.pages.success;
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
      res.end(html, () => close());
      resolve(url.toString());
    });
    timer = setTimeout(() => {
      close();
      reject(
        new RequestFailedError(
          'timeout',
          t('The browser did not come back within {0}; start the sign-in again.', formatDuration(opts.timeoutMs)),
          redirectUri,
        ),
      );
    }, opts.timeoutMs);
    timer.unref?.();
    onAbort = () => {
      close();
      reject(new RequestFailedError('cancelled', t('The sign-in was cancelled.'), redirectUri));
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  return { redirectUri, callback, close };
}

/** A small page for the browser tab; `title` and `message` are plain text. */
export function loopbackPage(title: string, message: string): string {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;display:flex;justify-content:center;margin-top:15vh;color:#333}main{max-width:28em;text-align:center}</style></head><body><main><h1>${esc(title)}</h1><p>${esc(message)}</p></main></body></html>`;
}
