import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The verifier package's build (npm run build makes it before the server's). */
const DIST = resolve('packages/verify/dist');
const ENTRY = resolve(DIST, 'index.js');

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

describe('@gatehouse/verify', () => {
  it('imports nothing at run time but jose and Node built-ins', () => {
    const { bare } = importGraph(ENTRY);
    expect([...bare].filter((specifier) => specifier !== 'jose' && !specifier.startsWith('node:'))).toEqual([]);
    expect(bare).toContain('jose');
  });

  it('declares jose as its only dependency, and no install script', () => {
    const manifest = JSON.parse(readFileSync(resolve('packages/verify/package.json'), 'utf8'));
    expect(Object.keys(manifest.dependencies)).toEqual(['jose']);
    expect(manifest.peerDependencies ?? {}).toEqual({});
    expect(manifest.optionalDependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.scripts).filter((name) => /install|prepare/.test(name))).toEqual([]);
  });

  it('loads only its own files: nothing of the server', () => {
    const { files } = importGraph(ENTRY);
    expect([...files].filter((file) => relative(DIST, file).startsWith('..'))).toEqual([]);
    expect([...files].map((file) => relative(DIST, file))).toContain('problem.js');
  });

  it("is what the server's `gatehouse/verify` gives, re-exported whole", () => {
    const { files, bare } = importGraph(resolve('dist/verify/index.js'));
    expect([...files].map((file) => relative('dist', file))).toEqual(['verify/index.js']);
    expect([...bare]).toEqual(['@gatehouse/verify']);
  });

  it('is found by the import walk even when imports are spread over lines or dynamic', () => {
    // Guards the regex above: a missed form would let a server import slip through unseen.
    const sample = `import { a,\n  b } from './x.js';\nexport * from "../y.js";\nimport './side.js';\nconst m = await import ( 'node:fs' );`;
    expect([...sample.matchAll(SPECIFIER)].map((m) => m[1])).toEqual(['./x.js', '../y.js', './side.js', 'node:fs']);
  });
});
