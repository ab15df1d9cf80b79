// Servers that are not the test homeserver, for the login and discovery
// faults: a website that is not Matrix, a server that redirects elsewhere and
// records what arrives, a TLS server with a self-signed certificate.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface ForeignServer {
  url: string;
  port: number;
  /** Every request: its url (with query) and headers. */
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  stop(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(
  server: http.Server | https.Server,
  scheme: 'http' | 'https',
  requests: ForeignServer['requests'],
): Promise<ForeignServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function startHttpServer(handler: Handler): Promise<ForeignServer> {
  const requests: ForeignServer['requests'] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    handler(req, res);
  });
  return listen(server, 'http', requests);
}

/** A web page for every path, as a website (not a homeserver) answers. */
export const websiteHandler: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('<!doctype html><html><body><h1>Welcome to our shop</h1></body></html>');
};

/** Answers JSON `{}` to everything (the target of a redirect). */
export const emptyJsonHandler: Handler = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ user_id: '@elsewhere:example.org' }));
};

/** A redirect of every request to `target` + the same path. */
export const redirectTo =
  (target: () => string, status = 302): Handler =>
  (req, res) => {
    res.writeHead(status, { Location: `${target()}${req.url ?? '/'}` });
    res.end();
  };

/** A self-signed certificate for 127.0.0.1 (openssl), or undefined when openssl is missing. */
export function selfSignedCertificate(): { key: Buffer; cert: Buffer } | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=127.0.0.1'],
      { cwd: dir, stdio: 'ignore' },
    );
    return { key: fs.readFileSync(path.join(dir, 'k.pem')), cert: fs.readFileSync(path.join(dir, 'c.pem')) };
  } catch {
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function startTlsServer(handler: Handler, credentials: { key: Buffer; cert: Buffer }): Promise<ForeignServer> {
  const requests: ForeignServer['requests'] = [];
  const server = https.createServer(credentials, (req, res) => {
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers });
    handler(req, res);
  });
  return listen(server, 'https', requests);
}
