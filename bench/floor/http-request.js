// The floor for a one-request Node program: node:http, nothing else.
//   node http-request.js GET|POST <url> <token> [json-body]
'use strict';
const http = require('node:http');
const [method, url, token, body] = process.argv.slice(2);
const req = http.request(url, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
  let text = '';
  res.on('data', (c) => (text += c));
  res.on('end', () => process.exit(res.statusCode === 200 && JSON.parse(text) ? 0 : 1));
});
req.end(body);
