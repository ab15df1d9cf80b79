// A TCP proxy on loopback that holds every chunk `oneWayMs` in each direction:
// a server that far away, without tc/netem (not on these machines). Started
// before the server it fronts, so that the server can name the proxy as its
// public base URL (.well-known), as a real homeserver names itself.
'use strict';
const net = require('node:net');

/** Resolves { url, to(serverUrl), stop() }; connections made before `to` are refused. */
async function slowLink(oneWayMs) {
  let target;
  const sockets = new Set();
  const server = net.createServer((client) => {
    if (!target) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    const hold = (from, to) => {
      sockets.add(from);
      from.on('close', () => sockets.delete(from));
      from.on('data', (chunk) => setTimeout(() => to.write(chunk), oneWayMs));
      from.on('end', () => setTimeout(() => to.end(), oneWayMs));
      from.on('error', () => to.destroy());
    };
    hold(client, upstream);
    hold(upstream, client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    to: (serverUrl) => {
      target = new URL(serverUrl);
    },
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

module.exports = { slowLink };
