// The CLI's account commands: login, accounts, whoami, token, refresh (rotate), logout.
// The same core functions as the Accounts view (core/session.ts, core/rotation.ts, core/oauth/).
import { expiryText } from '../core/expiry';
import { discoverHomeserver } from '../core/homeserver';
import { TokenRotator } from '../core/rotation';
import { shown } from '../core/shown';
import { revokeSession } from '../core/oauth';
import { clearTextPasswordWarning, type LoginResult, loginWithPassword, logout, whoami } from '../core/session';
import { need, UsageError, type CliContext, type Command } from './context';
import { oauthDeviceLogin } from './oauthLogin';
import type { CliAccount } from './store';
import { unreadableAccountMessage } from './storeFormat';

function rotatorFor(ctx: CliContext): TokenRotator {
  return new TokenRotator({ http: ctx.http, store: ctx.store, lock: ctx.store.lock });
}

async function pickStoredAccount(ctx: CliContext): Promise<CliAccount> {
  const data = await ctx.store.read();
  const wanted = ctx.options.account as string | undefined;
  const ids = Object.keys(data.accounts);
  const damaged = (id: string) => new Error(unreadableAccountMessage(ctx.store.file, id, data.unreadable[id]));
  if (wanted) {
    const account = data.accounts[wanted];
    if (!account && wanted in data.unreadable) throw damaged(wanted);
    if (!account) throw new UsageError(`no stored session for ${shown(wanted)} (stored: ${ids.map(shown).join(', ') || 'none'})`);
    return account;
  }
  if (data.defaultAccount !== undefined && data.defaultAccount in data.unreadable) throw damaged(data.defaultAccount);
  if (ids.length === 0 && Object.keys(data.unreadable).length === 1) throw damaged(Object.keys(data.unreadable)[0]);
  if (ids.length === 0) throw new UsageError('no stored session; run "matrix-devtools login" first');
  const chosen = data.defaultAccount && data.accounts[data.defaultAccount] ? data.defaultAccount : ids.length === 1 ? ids[0] : undefined;
  if (!chosen) throw new UsageError(`several sessions are stored; choose one with --account (${ids.join(', ')})`);
  return data.accounts[chosen];
}

/** The account to act for; an ended session stops here, before any request. */
async function pickAccount(ctx: CliContext): Promise<CliAccount> {
  const account = await pickStoredAccount(ctx);
  if (account.ended) {
    throw new Error(
      `the session of ${account.userId} ended on ${new Date(account.ended.at).toISOString()} (${account.ended.errcode}: the server refused its refresh token); sign in again with "matrix-devtools login".`,
    );
  }
  return account;
}

const rotatable = (a: CliAccount) => ({ id: a.userId, homeserverUrl: a.homeserverUrl, refreshTokenLifetimeMs: a.refreshTokenLifetimeMs });

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('--password-stdin reads the password from standard input; pipe it in');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

const login: Command = async (ctx) => {
  const homeserver = need(ctx, 'homeserver');
  if (ctx.options.oauth) return finishLogin(ctx, await oauthDeviceLogin(ctx.http, (line) => ctx.err(line), homeserver), undefined);
  const user = need(ctx, 'user');
  if (!ctx.options['password-stdin']) {
    throw new UsageError('pass the password on standard input with --password-stdin (never as an argument)');
  }
  const lifetimeText = ctx.options['refresh-lifetime-ms'] as string | undefined;
  const refreshTokenLifetimeMs = lifetimeText === undefined ? undefined : Number(lifetimeText);
  if (refreshTokenLifetimeMs !== undefined && !(Number.isInteger(refreshTokenLifetimeMs) && refreshTokenLifetimeMs > 0)) {
    throw new UsageError('--refresh-lifetime-ms takes a positive whole number of milliseconds');
  }
  const password = await readStdin();
  if (!password) throw new UsageError('the password on standard input is empty');
  const server = await discoverHomeserver(ctx.http, homeserver);
  // Off loopback, plain http:// got this far only with --allow-insecure-http: that is the consent, but say what it costs.
  const warning = clearTextPasswordWarning(server.baseUrl);
  if (warning) ctx.err(`matrix-devtools: warning: ${warning}`);
  const result = await loginWithPassword(ctx.http, server.baseUrl, {
    user,
    password,
    clearTextPasswordConfirmed: ctx.options['allow-insecure-http'] === true,
    refreshTokenLifetimeMs,
    deviceDisplayName: (ctx.options['device-name'] as string | undefined) ?? 'Matrix DevTools CLI',
  });
  return finishLogin(ctx, { baseUrl: server.baseUrl, result }, refreshTokenLifetimeMs);
};

async function finishLogin(
  ctx: CliContext,
  { baseUrl, result }: { baseUrl: string; result: LoginResult },
  refreshTokenLifetimeMs: number | undefined,
): Promise<number> {
  const server = { baseUrl };
  const account: CliAccount = {
    userId: result.userId,
    deviceId: result.deviceId,
    homeserverUrl: server.baseUrl,
    refreshTokenLifetimeMs,
    tokens: result.tokens,
  };
  await ctx.store.update((data) => {
    data.accounts[account.userId] = account;
    data.defaultAccount = account.userId;
  });
  const signIn = result.tokens.oauth ? 'oauth' : 'password';
  const summary = {
    ok: true,
    userId: account.userId,
    deviceId: account.deviceId,
    homeserver: server.baseUrl,
    signIn,
    expiresAt: result.tokens.expiresAt ?? null,
    refreshable: !!result.tokens.refreshToken,
  };
  ctx.out(
    ctx.json
      ? JSON.stringify(summary)
      : `Signed in as ${account.userId} on ${server.baseUrl} (device ${account.deviceId}); access token ${expiryText(result.tokens.expiresAt, Date.now())}${result.tokens.refreshToken ? ', refreshable' : ''}.`,
  );
  return 0;
}

const accounts: Command = async (ctx) => {
  const data = await ctx.store.read();
  const list = Object.values(data.accounts).map((a) => ({
    userId: a.userId,
    deviceId: a.deviceId,
    homeserver: a.homeserverUrl,
    expiresAt: a.tokens.expiresAt ?? null,
    refreshable: !!a.tokens.refreshToken,
    default: a.userId === data.defaultAccount,
    ended: a.ended ?? null,
  }));
  const unreadable = Object.keys(data.unreadable);
  if (ctx.json) ctx.out(JSON.stringify({ ok: true, accounts: list, unreadable }));
  else if (list.length === 0 && unreadable.length === 0) ctx.out('No stored sessions.');
  else {
    for (const a of list) {
      ctx.out(
        `${a.default ? '*' : ' '} ${a.userId}  ${a.homeserver}  device ${a.deviceId}  ${a.ended ? `session ended (${a.ended.errcode}); sign in again` : expiryText(a.expiresAt ?? undefined, Date.now())}`,
      );
    }
    for (const id of unreadable) ctx.out(`  ${id}  entry damaged, left untouched; sign in again with "matrix-devtools login"`);
  }
  return 0;
};

const whoamiCommand: Command = async (ctx) => {
  const account = await pickAccount(ctx);
  const me = await rotatorFor(ctx).withAccessToken(rotatable(account), (token) => whoami(ctx.http, account.homeserverUrl, token));
  ctx.out(
    ctx.json
      ? JSON.stringify({
          ok: true,
          userId: me.userId,
          deviceId: me.deviceId ?? null,
          isGuest: me.isGuest,
          homeserver: account.homeserverUrl,
        })
      : `${me.userId} (device ${me.deviceId ?? 'none'}) on ${account.homeserverUrl}`,
  );
  return 0;
};

const token: Command = async (ctx) => {
  const account = await pickAccount(ctx);
  const accessToken = await rotatorFor(ctx).getAccessToken(rotatable(account));
  ctx.out(ctx.json ? JSON.stringify({ ok: true, userId: account.userId, accessToken }) : accessToken);
  return 0;
};

const rotate: Command = async (ctx) => {
  const account = await pickAccount(ctx);
  const tokens = await rotatorFor(ctx).rotate(rotatable(account));
  ctx.out(
    ctx.json
      ? JSON.stringify({ ok: true, userId: account.userId, expiresAt: tokens.expiresAt ?? null })
      : `Rotated the tokens of ${account.userId}; access token ${expiryText(tokens.expiresAt, Date.now())}.`,
  );
  return 0;
};

const logoutCommand: Command = async (ctx) => {
  const account = await pickStoredAccount(ctx);
  let serverNote = 'signed out on the server';
  if (account.ended) {
    serverNote = 'the server had already ended it';
  } else {
    try {
      const oauth = account.tokens.oauth;
      if (oauth) await revokeSession(ctx.http, { ...account.tokens, oauth });
      else await rotatorFor(ctx).withAccessToken(rotatable(account), (t) => logout(ctx.http, account.homeserverUrl, t));
    } catch (e) {
      // The session may already be gone on the server; forgetting it locally is still what was asked.
      serverNote = `the server did not confirm (${(e as Error).message})`;
    }
  }
  await ctx.store.update((data) => {
    delete data.accounts[account.userId];
    if (data.defaultAccount === account.userId) delete data.defaultAccount;
  });
  ctx.out(
    ctx.json
      ? JSON.stringify({ ok: true, userId: account.userId, serverConfirmed: serverNote === 'signed out on the server' })
      : `Forgot the session of ${account.userId}; ${serverNote}.`,
  );
  return 0;
};

export const accountCommands: Record<string, Command> = {
  login,
  accounts,
  whoami: whoamiCommand,
  token,
  refresh: rotate,
  logout: logoutCommand,
};
