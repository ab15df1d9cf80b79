// Stand-in for `whatwg-url` and `encoding` in the bundle (see esbuild.js):
// node-fetch only reaches for whatwg-url when Node's own URL is missing, which
// never happens on Node, and for encoding only in textConverted(), never called.
module.exports = {};
