// Matrix-style errors and JSON answers, shaped like Synapse's (`cs_error`).
import type * as http from 'node:http';

/** Thrown by handlers; the router turns it into `{errcode, error, ...extra}`. */
export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { errcode: this.errcode, error: this.message, ...this.extra };
  }
}

export const unrecognized = (status: 404 | 405 | 400 = 404) => new MatrixError(status, 'M_UNRECOGNIZED', 'Unrecognized request');

/** Synapse sends these on every client-server answer. */
export const CORS_HEADERS: Record<string, string> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization, Date',
};

export interface Reply {
  status: number;
  /** Serialised as JSON unless `raw` is set. */
  body?: unknown;
  raw?: { contentType: string; text: string };
  headers?: Record<string, string>;
}

export function errorReply(e: MatrixError): Reply {
  return { status: e.status, body: e.body(), headers: e.headers };
}

export function send(res: http.ServerResponse, reply: Reply): void {
  const text = reply.raw ? reply.raw.text : JSON.stringify(reply.body ?? {});
  res.writeHead(reply.status, {
    ...CORS_HEADERS,
    'Content-Type': reply.raw ? reply.raw.contentType : 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Synapse's `parse_json_object_from_request`: an empty body is not JSON either. */
export function parseJsonObject(raw: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new MatrixError(400, 'M_NOT_JSON', 'Content not JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'Content must be a JSON object.');
  }
  return value as Record<string, unknown>;
}

export const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
