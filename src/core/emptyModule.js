// Stand-in for `whatwg-url` in the bundle (see esbuild.js): node-fetch only
// reaches for it when Node's own URL is missing, which never happens on Node.
module.exports = {};
