// The requests `matrix-devtools ping --id` makes, with node:http and nothing else:
// .well-known/matrix/client and /versions at once, then the stable ping. No checks,
// no explanations: the floor for the same protocol work (http-request.js is one request).
//   node http-discover-ping.js <homeserver-url> <appservice-id> <as_token>
// With --registration, first what `ping --registration` also does: read the file
// and parse it with the `yaml` package as a script would (require('yaml'), no
// bundle, no code cache), taking id and as_token from it. No validation.
//   node http-discover-ping.js <homeserver-url> --registration <file>
'use strict';
const http = require('node:http');
const [base, ...rest] = process.argv.slice(2);
let id;
let token;
if (rest[0] === '--registration') {
  const registration = require('yaml').parse(require('node:fs').readFileSync(rest[1], 'utf8'));
  id = registration.id;
  token = registration.as_token;
} else {
  [id, token] = rest;
}
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
