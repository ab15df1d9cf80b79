// The requests `matrix-devtools ping --id` makes, with node:http and nothing else:
// .well-known/matrix/client and /versions at once, then the stable ping. No checks,
// no explanations: the floor for the same protocol work (http-request.js is one request).
//   node http-discover-ping.js <homeserver-url> <appservice-id> <as_token>
'use strict';
const http = require('node:http');
const [base, id, token] = process.argv.slice(2);
const call = (method, path, body) =>
  new Promise((resolve) => {
    const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Connection: 'close' };
    const req = http.request(base + path, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
Promise.all([call('GET', '/.well-known/matrix/client'), call('GET', '/_matrix/client/versions')])
  .then(() =>
    call('POST', `/_matrix/client/v1/appservice/${encodeURIComponent(id)}/ping`, JSON.stringify({ transaction_id: `floor-${Date.now()}` })),
  )
  .then((r) => process.exit(r.status === 200 && JSON.parse(r.text) ? 0 : 1));
