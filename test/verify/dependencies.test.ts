import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = resolve('dist');
const ENTRY = resolve(DIST, 'verify/index.js');

/** The files of the server a resource server may load: pure data and rules, no I/O. */
const SHARED = ['core/access-token.js', 'core/verified-token-cache.js', 'core/errors.js', 'core/random.js', 'http/problem.js'];

// Static imports and re-exports (`from '…'`), side-effect imports (`import '…'`) and dynamic ones (`import('…')`).
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Every built file reachable from `entry` through relative imports, and every other specifier met. */
function importGraph(entry: string): { files: Set<string>; bare: Set<string> } {
  const files = new Set<string>();
  const bare = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (files.has(file)) continue;
    files.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (specifier!.startsWith('.')) queue.push(resolve(dirname(file), specifier!));
      else bare.add(specifier!);
    }
  }
  return { files, bare };
}

describe('gatehouse/verify', () => {
  it('imports nothing at run time but jose and Node built-ins', () => {
    const { bare } = importGraph(ENTRY);
    expect([...bare].filter((specifier) => specifier !== 'jose' && !specifier.startsWith('node:'))).toEqual([]);
    expect(bare).toContain('jose');
  });

  it('loads no server code: only its own files and the pure shared ones', () => {
    const { files } = importGraph(ENTRY);
    const outside = [...files].map((file) => relative(DIST, file)).filter((file) => !file.startsWith('verify/') && !SHARED.includes(file));
    expect(outside).toEqual([]);
    expect([...files].map((file) => relative(DIST, file))).toContain('http/problem.js');
  });

  it('is found by the import walk even when imports are spread over lines or dynamic', () => {
    // Guards the regex above: a missed form would let a server import slip through unseen.
    const sample = `import { a,\n  b } from './x.js';\nexport * from "../y.js";\nimport './side.js';\nconst m = await import ( 'node:fs' );`;
    expect([...sample.matchAll(SPECIFIER)].map((m) => m[1])).toEqual(['./x.js', '../y.js', './side.js', 'node:fs']);
  });
});
