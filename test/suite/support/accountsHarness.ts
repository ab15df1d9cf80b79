// What the account tests share: a recording proxy in front of the test
// homeserver (so the tests see request and response bodies, which the
// homeserver's own request log does not keep), the token strings it issued,
// and small steps a user takes (add an account, remove it afterwards).
import * as assert from 'assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import type { AccountView } from '../../../src/vscode/accounts/types';
import type { TestHomeserver, TestHomeserverOptions } from '../../support/homeserver';
import type { Notification, ScriptedPrompts } from '../../support/scriptedPrompts';
import { renderTree, treeText } from './appservices';
import { afterThisTest, allScriptedPrompts, extensionApi, extensionId, runCommand, startHomeserver } from './host';

/** One request as it passed the proxy. */
export interface Exchange {
  method: string;
  path: string;
  authorization?: string;
  requestBody: string;
  status?: number;
  responseBody?: string;
  /** The homeserver closed the connection without answering (a fault knob). */
  dropped?: boolean;
}

/** Every access and refresh token any homeserver of these tests handed out, across tests. */
export const issuedTokens = new Set<string>();
/** Every notification the account tests' scripted prompts recorded, across tests. */

/**
 * A loopback HTTP proxy that forwards to the homeserver and records each
 * exchange. The extension talks to the homeserver through it (the
 * homeserver's .well-known points at it), so its URL is the account's
 * homeserver URL.
 */
export class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  target: URL | undefined;
  private readonly agent = new http.Agent({ keepAlive: false });

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(): Promise<RecordingProxy> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new RecordingProxy(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => proxy.forward(req, res));
    return proxy;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  /** Exchanges whose method matches and whose path ends with `pathSuffix` (e.g. '/refresh'). */
  find(method: string, pathSuffix: string): Exchange[] {
    return this.exchanges.filter((e) => e.method === method && e.path.endsWith(pathSuffix));
  }

  /** The JSON request bodies of the matching exchanges. */
  bodies(method: string, pathSuffix: string): Array<Record<string, unknown>> {
    return this.find(method, pathSuffix).map((e) => (e.requestBody ? (JSON.parse(e.requestBody) as Record<string, unknown>) : {}));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const requestBody = Buffer.concat(chunks).toString('utf8');
      const exchange: Exchange = {
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0],
        authorization: req.headers.authorization,
        requestBody,
      };
      this.exchanges.push(exchange);
      if (!this.target) {
        res.writeHead(503).end();
        return;
      }
      const upstream = http.request(
        new URL(req.url ?? '/', this.target),
        { method: req.method, headers: { ...req.headers, host: this.target.host }, agent: this.agent },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            const text = Buffer.concat(body).toString('utf8');
            exchange.status = answer.statusCode;
            exchange.responseBody = text;
            // Recorded before the client sees them, so no token reaches the extension unrecorded.
            harvestTokens(text);
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(text);
          });
          answer.on('error', () => {
            exchange.dropped = true;
            req.socket.destroy();
          });
        },
      );
      upstream.on('error', () => {
        exchange.dropped = true;
        req.socket.destroy();
      });
      upstream.end(requestBody);
    });
  }
}

function harvestTokens(text: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const body = value as Record<string, unknown>;
  for (const key of ['access_token', 'refresh_token']) {
    const token = body[key];
    if (typeof token === 'string' && token.length > 0) issuedTokens.add(token);
  }
}

export interface RecordedHomeserver {
  hs: TestHomeserver;
  proxy: RecordingProxy;
  /** What the user types and what the account's homeserverUrl becomes. */
  url: string;
}

/** A test homeserver behind a recording proxy; both stop after the test. */
export async function startRecordedHomeserver(options: TestHomeserverOptions = {}): Promise<RecordedHomeserver> {
  const proxy = await RecordingProxy.start();
  const hs = await startHomeserver({ publicBaseUrl: proxy.url, ...options });
  proxy.target = new URL(hs.baseUrl);
  afterThisTest(() => proxy.stop());
  return { hs, proxy, url: proxy.url };
}

export async function accountFor(url: string, userId = '@alice:localhost'): Promise<AccountView | undefined> {
  const api = await extensionApi();
  return api.accounts.listAccounts().find((a) => a.homeserverUrl === url && a.userId === userId);
}

/** Removes the account after the test (through the command, answering its confirmation) if it still exists. */
export function removeAfterTest(prompts: ScriptedPrompts, accountId: string): void {
  afterThisTest(async () => {
    const api = await extensionApi();
    if (!api.accounts.listAccounts().some((a) => a.id === accountId)) return;
    prompts.answers.length = 0;
    prompts.answers.push('Remove');
    await runCommand('matrixDevtools.removeAccount', accountId);
    assert.ok(!api.accounts.listAccounts().some((a) => a.id === accountId), `cleanup could not remove ${accountId}`);
  });
}

/** Add Account → server → "Sign in with a password" → user → password, as a user would. */
export async function addPasswordAccount(
  prompts: ScriptedPrompts,
  url: string,
  user = 'alice',
  password = 'wonderland',
): Promise<AccountView> {
  prompts.inputs.push(url, user, password);
  prompts.picks.push('Sign in with a password');
  await runCommand('matrixDevtools.addAccount');
  const userId = user.startsWith('@') ? user : `@${user}:localhost`;
  const account = await accountFor(url, userId);
  assert.ok(account, `no account for ${userId} on ${url}; notifications: ${JSON.stringify(prompts.notifications)}`);
  removeAfterTest(prompts, account.id);
  return account;
}

/** The current access token, without rotating (it is not due in these tests). */
export async function currentAccessToken(accountId: string): Promise<string> {
  const api = await extensionApi();
  return api.accounts.internalGetAccessTokenForTest(accountId);
}

/** GET whoami with a token, straight at the homeserver (not through the extension). */
export async function whoami(baseUrl: string, accessToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(new URL('/_matrix/client/v3/account/whoami', baseUrl), {
    headers: { Authorization: `Bearer ${accessToken}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A password login made by "another client" through the proxy (so its tokens are recorded too). */
export async function loginElsewhere(
  url: string,
  withRefresh: boolean,
  user = 'alice',
  password = 'wonderland',
): Promise<{ accessToken: string; refreshToken?: string; deviceId: string }> {
  const response = await fetch(new URL('/_matrix/client/v3/login', url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, refresh_token: withRefresh }),
  });
  assert.strictEqual(response.status, 200, 'the other client could not log in');
  const body = (await response.json()) as { access_token: string; refresh_token?: string; device_id: string };
  return { accessToken: body.access_token, refreshToken: body.refresh_token, deviceId: body.device_id };
}

/** The last token string handed out in a response to `pathSuffix` (e.g. the login's refresh token). */
export function lastIssued(proxy: RecordingProxy, pathSuffix: string, key: 'access_token' | 'refresh_token'): string {
  const answered = proxy.find('POST', pathSuffix).filter((e) => e.status === 200 && e.responseBody);
  const last = answered[answered.length - 1];
  assert.ok(last?.responseBody, `no successful ${pathSuffix} answer recorded`);
  const value = (JSON.parse(last.responseBody) as Record<string, unknown>)[key];
  assert.strictEqual(typeof value, 'string', `the last ${pathSuffix} answer has no ${key}`);
  return value as string;
}

/** Collects `matrix` session-change events for the rest of the test. */
export function watchMatrixSessions(): { count(): number } {
  let n = 0;
  const subscription = vscode.authentication.onDidChangeSessions((e) => {
    if (e.provider.id === 'matrix') n++;
  });
  afterThisTest(() => subscription.dispose());
  return { count: () => n };
}

/** Where token strings must never show up, as named texts. */
export async function userVisibleTexts(extra: Notification[] = []): Promise<Record<string, string>> {
  const api = await extensionApi();
  const config = vscode.workspace.getConfiguration('matrixDevtools');
  const keys = Object.keys(JSON.parse(JSON.stringify(config)) as Record<string, unknown>);
  const inspected = keys.map((k) => config.inspect(k));
  return {
    globalState: api.accounts.globalStateText(),
    log: api.accounts.logLines().join('\n'),
    tree: JSON.stringify(api.accounts.treeItems()),
    notifications: JSON.stringify([...allScriptedPrompts.flatMap((p) => p.notifications), ...extra]),
    settings: JSON.stringify(config) + JSON.stringify(inspected),
    workspaceState: api.appservices.workspaceStateText(),
    appserviceOutput: api.appservices.outputLines().join('\n'),
    appserviceTree: treeText(await renderTree(api.appservices.tree)).join('\n'),
    // The Output view's documents, when Show Log opened one.
    output: vscode.workspace.textDocuments
      .filter((d) => d.uri.scheme === 'output')
      .map((d) => d.getText())
      .join('\n'),
  };
}

/** "where: token prefix…" for every issued token found in a text. */
export function findLeaks(tokens: Iterable<string>, texts: Record<string, string>): string[] {
  const leaks: string[] = [];
  for (const token of tokens) {
    for (const [where, text] of Object.entries(texts)) {
      if (text.includes(token)) leaks.push(`${where}: ${token.slice(0, 8)}…`);
    }
  }
  return leaks;
}

/**
 * The session another extension would get for `url`, after the user granted
 * access the way VS Code offers it: getSession without createIfNone puts a
 * "grant access" entry in the Accounts menu; the user runs it and picks the
 * account in the quick pick. VS Code remembers the grant per account label.
 */
export async function grantedSession(url: string): Promise<vscode.AuthenticationSession | undefined> {
  const silent = await vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true });
  if (silent) return silent;
  const requested = await vscode.authentication.getSession('matrix', [url], { createIfNone: false });
  if (requested) return requested;
  // Workbench commands, not ours: runCommand only runs contributed ones.
  let done = false;
  const grant = Promise.resolve(vscode.commands.executeCommand(`matrix${extensionId}Access`)).finally(() => {
    done = true;
  });
  for (let i = 0; i < 100 && !done; i++) {
    await new Promise((r) => setTimeout(r, 100));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  await grant;
  return vscode.authentication.getSession('matrix', [url], { createIfNone: false, silent: true });
}
