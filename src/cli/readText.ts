// Reading a file on a CLI command's path (the session store, a registration):
// callback fs, promisified. Loading `fs.promises` costs a CLI run about 2.5 ms
// here (it brings readline and the file watchers with it).
import { readFile } from 'node:fs';
import { promisify } from 'node:util';

export const readText = (file: string): Promise<string> => promisify(readFile)(file, 'utf8');
