// Makes the screenshots `npm run screenshots` saved smaller, with pngquant
// (palette PNGs; a UI screenshot has few colours, and at quality 85-98 the
// result looks the same): Chromium writes full-colour PNGs, and five of them
// ship in the .vsix as the walkthrough's pictures (about 0.6 MB before, 0.2 MB
// after). pngquant is a system tool (apt-get install pngquant, brew install
// pngquant), not a dependency: without it the files stay as they are.
//   node scripts/vscode/optimize-screenshots.mjs [dir]   (default media/screenshots)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.resolve(process.argv[2] ?? path.join(root, 'media', 'screenshots'));

const version = spawnSync('pngquant', ['--version'], { encoding: 'utf8' });
if (version.status !== 0) {
  console.log('optimize-screenshots: pngquant is not installed (apt-get install pngquant); the screenshots stay as Chromium wrote them.');
  process.exit(0);
}
let before = 0;
let after = 0;
for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.png'))) {
  const file = path.join(dir, name);
  const size = fs.statSync(file).size;
  before += size;
  // Already a palette PNG (IHDR colour type 3): quantising it again would only lose more.
  if (fs.readFileSync(file).readUInt8(25) === 3) {
    after += size;
    continue;
  }
  // --skip-if-larger: pngquant keeps the file when its result would not be smaller (exit code 98/99 then).
  const run = spawnSync('pngquant', [
    '--quality=85-98',
    '--speed',
    '1',
    '--skip-if-larger',
    '--strip',
    '--force',
    '--output',
    file,
    '--',
    file,
  ]);
  if (run.status !== 0 && run.status !== 98 && run.status !== 99) {
    throw new Error(`pngquant ${name}: exit ${run.status}: ${run.stderr}`);
  }
  after += fs.statSync(file).size;
}
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`optimize-screenshots: ${path.relative(root, dir) || dir}: ${kb(before)} → ${kb(after)} (pngquant ${version.stdout.trim()})`);
