import { promises as fs } from 'node:fs';
import { AsToken, checkDirectlyAndCompare, directRunFailed, PingRun, prepareAndPing } from '../core/appserviceChecks';
import { expiryText } from '../core/expiry';
import { discoverHomeserver } from '../core/homeserver';
import type { HttpRequester } from '../core/http';
import { AppserviceRegistration, RegistrationProblem } from '../core/registration';
import { LoadedRegistration, loadRegistrationForPing } from '../core/registrationFile';
import { TokenRotator } from '../core/rotation';
import { revokeSession } from '../core/oauth/revoke';
import { type LoginResult, loginWithPassword, logout, whoami } from '../core/session';
import { oauthDeviceLogin } from './oauthLogin';
import { CliAccount, CliStore } from './store';
import { unreadableAccountMessage } from './storeFormat';

export class UsageError extends Error {}

export interface CliContext {
  options: Record<string, string | boolean | undefined>;
  /** Every value of options that may repeat (`--registration a --registration b`). */
  lists: Record<string, string[] | undefined>;
  positionals: string[];
  http: HttpRequester;
  store: CliStore;
  json: boolean;
  out(text: string): void;
  err(text: string): void;
}

type Command = (ctx: CliContext) => Promise<number>;

function need(ctx: CliContext, name: string): string {
  const v = ctx.options[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

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
    if (!account) throw new UsageError(`no stored session for ${wanted} (stored: ${ids.join(', ') || 'none'})`);
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
  const result = await loginWithPassword(ctx.http, server.baseUrl, {
    user,
    password,
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

/** A registration the CLI can use, or a usage error that says why (with the file's problems). */
export async function loadRegistration(file: string): Promise<LoadedRegistration> {
  const loaded = await loadRegistrationForPing((f) => fs.readFile(f, 'utf8'), file);
  if ('unreadable' in loaded) throw new UsageError(loaded.problem);
  return loaded;
}

async function usableRegistration(ctx: CliContext, file: string): Promise<AppserviceRegistration> {
  const loaded = await loadRegistration(file);
  if ('problem' in loaded) {
    printProblems(ctx, file, loaded.problems);
    throw new UsageError(`${file} is not a usable registration`);
  }
  return loaded.registration;
}

function printProblems(ctx: CliContext, file: string, problems: RegistrationProblem[]): void {
  for (const p of problems) ctx.err(`${file}:${p.line}:${p.column}: ${p.severity}: ${p.message} [${p.code}]`);
}

const checkRegistration: Command = async (ctx) => {
  const file = ctx.positionals[0] ?? (ctx.options.registration as string | undefined);
  if (!file) throw new UsageError('check-registration needs a file');
  const parsed = await loadRegistration(file);
  const registration = 'registration' in parsed ? parsed.registration : undefined;
  const errors = parsed.problems.filter((p) => p.severity === 'error');
  if (ctx.json) {
    const id = registration?.id ?? ('id' in parsed ? parsed.id : undefined);
    ctx.out(
      JSON.stringify({
        ok: errors.length === 0,
        id: id ?? null,
        problems: parsed.problems.map(({ severity, code, message, line, column, key }) => ({ severity, code, message, line, column, key })),
      }),
    );
  } else {
    printProblems(ctx, file, parsed.problems);
    if (errors.length === 0) {
      ctx.out(
        `${file}: registration "${registration?.id}" is valid${parsed.problems.length ? ` (${parsed.problems.length} warning(s))` : ''}.`,
      );
    }
  }
  return errors.length === 0 ? 0 : 1;
};

function printPing(ctx: CliContext, run: PingRun): void {
  const r = run.result;
  if (ctx.json) {
    ctx.out(JSON.stringify({ ...r, sent: run.sent }));
    return;
  }
  const how = run.sent ? `${r.endpoint ?? 'no endpoint'}, txn ${r.transactionId}` : 'not sent';
  const line = `${r.ok ? 'OK  ' : 'FAIL'} ${r.appserviceId} via ${r.homeserverUrl} (${how}): ${r.summary}`;
  if (r.ok) ctx.out(`${line} Round trip here: ${r.roundTripMs} ms.`);
  else ctx.err(`${line}${r.nextStep ? `\n     Next: ${r.nextStep}` : ''}`);
}

function pingTimeoutMs(ctx: CliContext): number | undefined {
  return ctx.options['timeout-ms'] ? Number(ctx.options['timeout-ms']) : undefined;
}

const ping: Command = async (ctx) => {
  const homeserver = need(ctx, 'homeserver');
  let id: string;
  let token: AsToken;
  if (ctx.options.registration) {
    const registration = await usableRegistration(ctx, ctx.options.registration as string);
    id = registration.id;
    token = { asToken: registration.asToken, registrationId: registration.id };
  } else {
    id = need(ctx, 'id');
    const envName = need(ctx, 'as-token-env');
    const fromEnv = process.env[envName];
    if (!fromEnv) throw new UsageError(`environment variable ${envName} is empty or not set`);
    token = { asToken: fromEnv };
  }
  const run = await prepareAndPing(ctx.http, { appserviceId: id, homeserver, asToken: async () => token, timeoutMs: pingTimeoutMs(ctx) });
  printPing(ctx, run);
  return run.result.ok ? 0 : 1;
};

const checkAppservice: Command = async (ctx) => {
  const registration = await usableRegistration(ctx, need(ctx, 'registration'));
  const homeserver = typeof ctx.options.homeserver === 'string' ? ctx.options.homeserver : undefined;
  const run = await checkDirectlyAndCompare(ctx.http, {
    registration: { registration },
    ping: homeserver
      ? () =>
          prepareAndPing(ctx.http, {
            appserviceId: registration.id,
            homeserver,
            asToken: async () => ({ asToken: registration.asToken, registrationId: registration.id }),
            timeoutMs: pingTimeoutMs(ctx),
          })
      : undefined,
  });
  const ok = !directRunFailed(run);
  const { direct, ping: homeserverPing, verdict } = run;
  if (ctx.json) {
    ctx.out(
      JSON.stringify({
        ok,
        notChecked: run.notChecked ?? null,
        direct: direct ?? null,
        homeserverPing: homeserverPing?.result ?? null,
        verdict: verdict ?? null,
      }),
    );
  } else if (run.notChecked || !direct) {
    ctx.err(`Not checked: ${run.notChecked}`);
  } else {
    ctx.out(`Direct: ${direct.summary}${direct.nextStep ? ` ${direct.nextStep}` : ''}`);
    if (direct.urlNote) ctx.out(`Note: ${direct.urlNote}`);
    if (homeserverPing) printPing(ctx, homeserverPing);
    if (verdict) ctx.out(`Verdict: ${verdict}`);
  }
  return ok ? 0 : 1;
};

export const commands: Record<string, Command> = {
  login,
  accounts,
  whoami: whoamiCommand,
  token,
  refresh: rotate,
  logout: logoutCommand,
  ping,
  'check-registration': checkRegistration,
  'check-appservice': checkAppservice,
};
