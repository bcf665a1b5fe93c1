import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { DatabaseLocation } from './kysely/connect.js';

/**
 * The files a node keeps on this machine (a SQLite database with its directory, WAL and
 * shared-memory files; the local key secret) that other local users may read or write: each
 * with its path and mode, for a warning at start. Gatehouse creates them private (0700, 0600);
 * an older install, a restored backup or a copy may not be. A database readable by others
 * gives away every session's details, and on an install that kept its keys in the clear, the
 * keys that sign tokens.
 */
export function filesOpenToOthers(database: DatabaseLocation, secretFile: string | undefined): { path: string; mode: string }[] {
  const paths = database.kind === 'sqlite' && database.path !== ':memory:' ? sqliteFiles(database.path) : [];
  if (secretFile !== undefined) paths.push(secretFile);
  const open: { path: string; mode: string }[] = [];
  for (const path of paths) {
    const mode = modeOf(path);
    // Any group or other bit: on a shared machine the group is other people too.
    if (mode !== undefined && (mode & 0o077) !== 0) open.push({ path, mode: (mode & 0o777).toString(8) });
  }
  return open;
}

function sqliteFiles(path: string): string[] {
  const file = resolve(path);
  return [dirname(file), file, `${file}-wal`, `${file}-shm`];
}

function modeOf(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined; // not there (yet): nothing to warn about
  }
}
