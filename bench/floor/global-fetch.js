// The same request with Node's global fetch (undici).
//   node global-fetch.js GET|POST <url> <token> [json-body]
'use strict';
const [method, url, token, body] = process.argv.slice(2);
fetch(url, { method, body, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } })
  .then((res) => res.json().then(() => process.exit(res.ok ? 0 : 1)))
  .catch(() => process.exit(1));
