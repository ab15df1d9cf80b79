// Loaded with `node --require` into a CLI process to make it die at one step
// of a store update, as a kill -9 or a power cut would:
//   MATRIX_DEVTOOLS_TEST_CRASH=before-store   after /refresh answered, before the new tokens are written
//   MATRIX_DEVTOOLS_TEST_CRASH=before-rename  between the two writes (temp file written, not yet renamed over the store)
// Lock files are written with writeFile, so only the store's temp file matches.
import * as fs from 'node:fs';

const CRASH_EXIT = 137;
const at = process.env.MATRIX_DEVTOOLS_TEST_CRASH;
const fsp = fs.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
const isStoreTemp = (p: unknown) => String(p).endsWith('.tmp');

if (at === 'before-store') {
  const open = fsp.open.bind(fs.promises);
  fsp.open = (file, ...rest) => (isStoreTemp(file) ? process.exit(CRASH_EXIT) : open(file, ...rest));
} else if (at === 'before-rename') {
  const rename = fsp.rename.bind(fs.promises);
  fsp.rename = (from, ...rest) => (isStoreTemp(from) ? process.exit(CRASH_EXIT) : rename(from, ...rest));
}
