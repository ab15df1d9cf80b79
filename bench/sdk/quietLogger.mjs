// matrix-js-sdk's logger interface, silent: the comparison scripts measure the SDK, not its console output.
export const quietLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  trace() {},
  getChild() {
    return this;
  },
};
