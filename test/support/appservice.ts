// A fake appservice that answers the homeserver's `POST /_matrix/app/v1/ping`
// and `PUT /_matrix/app/v1/transactions/{txnId}` the way a real one does
// (hs_token checked, transactions recorded and de-duplicated by id), or
// misbehaves on request, plus `freePort()` for "nothing listens there" scenarios.
import * as http from 'node:http';
import * as net from 'node:net';

/** 'accept-any-token': answers 200 to any Authorization, as an appservice that never checks hs_token. */
export type FakeAppserviceBehaviour = 'ok' | 'status500' | 'status404' | 'hang' | 'reject-token' | 'accept-any-token';

/** How transactions are answered, independently of pings. Default 'ok'. */
export type FakeTransactionBehaviour = 'ok' | 'status500';

export interface FakeAppserviceCall {
  authorization?: string;
  /** Parsed JSON, or the raw text when the body was not JSON. */
  body: unknown;
}

export interface FakeAppservice {
  readonly url: string;
  readonly port: number;
  /** Pings received. */
  readonly calls: FakeAppserviceCall[];
  /** Transactions received, answered or not, oldest first. */
  readonly transactions: Array<FakeAppserviceCall & { txnId: string; status: number }>;
  setBehaviour(behaviour: FakeAppserviceBehaviour): void;
  setTransactionBehaviour(behaviour: FakeTransactionBehaviour): void;
  stop(): Promise<void>;
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

function tokenOf(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);
  // The deprecated query form, which older homeservers still send.
  return new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('access_token') ?? undefined;
}

export async function startFakeAppservice(opts: {
  hsToken: string;
  behaviour?: FakeAppserviceBehaviour;
  transactions?: FakeTransactionBehaviour;
  host?: string;
}): Promise<FakeAppservice> {
  let behaviour: FakeAppserviceBehaviour = opts.behaviour ?? 'ok';
  let transactionBehaviour: FakeTransactionBehaviour = opts.transactions ?? 'ok';
  const calls: FakeAppserviceCall[] = [];
  const transactions: FakeAppservice['transactions'] = [];
  const parse = (chunks: Buffer[]): unknown => {
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text; // keep the raw text so a test can see what was sent
    }
  };
  /** A transaction as the spec and mautrix/matrix-appservice-bridge handle it. */
  const onTransaction = (req: http.IncomingMessage, res: http.ServerResponse, txnId: string, body: unknown) => {
    const token = tokenOf(req);
    const answer = (status: number, reply: unknown) => {
      transactions.push({ authorization: req.headers.authorization, body, txnId, status });
      json(res, status, reply);
    };
    if (req.method !== 'PUT') return answer(405, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
    if (token === undefined) return answer(401, { errcode: 'M_UNAUTHORIZED', error: 'Missing token' });
    if (token !== opts.hsToken) return answer(403, { errcode: 'M_FORBIDDEN', error: 'Bad token supplied by homeserver' });
    if (transactionBehaviour === 'status500') return answer(500, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
    if (typeof body !== 'object' || body === null || !Array.isArray((body as { events?: unknown }).events)) {
      return answer(400, { errcode: 'M_BAD_JSON', error: 'events must be a list' });
    }
    answer(200, {});
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      const txn = /^\/_matrix\/app\/v1\/transactions\/([^/]+)$/.exec(path);
      if (txn) {
        onTransaction(req, res, decodeURIComponent(txn[1]), parse(chunks));
        return;
      }
      if (path !== '/_matrix/app/v1/ping') {
        json(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
        return;
      }
      if (req.method !== 'POST') {
        json(res, 405, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
        return;
      }
      const body = parse(chunks);
      calls.push({ authorization: req.headers.authorization, body });
      const token = tokenOf(req);
      switch (behaviour) {
        case 'hang':
          return; // accept the connection, never answer
        case 'status500':
          json(res, 500, { errcode: 'M_UNKNOWN', error: 'Internal server error' });
          return;
        case 'status404':
          json(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
          return;
        case 'reject-token':
          json(res, 403, { errcode: 'M_FORBIDDEN', error: 'Bad token supplied by homeserver' });
          return;
        case 'accept-any-token':
          json(res, 200, {});
          return;
        case 'ok':
          if (token === undefined) json(res, 401, { errcode: 'M_UNAUTHORIZED', error: 'Missing token' });
          else if (token !== opts.hsToken) json(res, 403, { errcode: 'M_FORBIDDEN', error: 'Bad token supplied by homeserver' });
          else json(res, 200, {});
      }
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    calls,
    transactions,
    setBehaviour: (b) => {
      behaviour = b;
    },
    setTransactionBehaviour: (b) => {
      transactionBehaviour = b;
    },
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging pings keep their sockets open; end them so tests finish promptly.
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** A port nothing listens on right now (bound, read, released). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
