// The same flow on matrix-js-sdk, for the size and start-up comparison:
// password login with a refresh token, refresh, whoami, appservice ping, logout.
//   node flow.js <homeserverUrl> <user> <password> [appserviceId]   (bundled by bench/run.js)
import { createClient, Method } from 'matrix-js-sdk';
import { quietLogger } from './quietLogger.mjs';

const [baseUrl, user, password, appserviceId, only] = process.argv.slice(2);
const client = createClient({
  baseUrl,
  logger: quietLogger,
});
if (only === 'load') process.exit(0);
async function main() {
  const login = await client.loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
    refresh_token: true,
  });
  const refreshed = await client.refreshToken(login.refresh_token);
  client.setAccessToken(refreshed.access_token);
  await client.whoami();
  if (appserviceId) {
    await client.http.authedRequest(
      Method.Post,
      `/appservice/${encodeURIComponent(appserviceId)}/ping`,
      undefined,
      { transaction_id: `bench${Date.now()}` },
      { prefix: '/_matrix/client/v1' },
    );
  }
  await client.logout();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
