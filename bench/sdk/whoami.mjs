// One whoami with matrix-js-sdk and an existing access token (bundled by bench/run.js).
import { createClient } from 'matrix-js-sdk';
import { quietLogger } from './quietLogger.mjs';

const [baseUrl, accessToken] = process.argv.slice(2);
const client = createClient({
  baseUrl,
  accessToken,
  logger: quietLogger,
});
async function main() {
  await client.whoami();
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
