// The last step of `npm run build`: tsc compiles src/ into dist/ and copies nothing else, so every
// other file under src/ (the devices page, the password list and its licence) is copied here
// to the same place in dist/, where the built server reads it: dist/ runs without src/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

let copied = 0;
for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  // TypeScript (.d.ts included) is tsc's business: compiled, or type information only; a
  // tsconfig.json (the browser modules' type check) is for the checker, not the server.
  if (!entry.isFile() || entry.name.endsWith('.ts') || entry.name === 'tsconfig.json') continue;
  const from = join(entry.parentPath, entry.name);
  const to = join(dist, relative(src, from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  copied++;
}
if (copied === 0) throw new Error(`No data files found under ${src}.`);
