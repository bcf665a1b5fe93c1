import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's Chromium, the one browser the browser tests drive (playwright-core never downloads one). */
export const CHROMIUM = '/usr/bin/chromium';

/** Serialises installs across test files running in parallel (the kernel drops the lock if a process dies). */
const LOCK = '/tmp/gatehouse-chromium-install.lock';
const INSTALL_TIMEOUT_MS = 5 * 60_000;

export type ChromiumAvailability = { executablePath: string; skipReason?: undefined } | { executablePath?: undefined; skipReason: string };

let pending: Promise<ChromiumAvailability> | undefined;

/**
 * Debian's Chromium, installed with apt-get if it is missing and this process may install it.
 * Resolves with the executable, or with why the browser tests cannot run here. In CI (CI=true)
 * a failed install throws, so a broken set-up fails the run instead of skipping its browser
 * tests; only a machine without apt-get at all skips there too.
 */
export function ensureChromium(): Promise<ChromiumAvailability> {
  pending ??= findOrInstall();
  return pending;
}

async function findOrInstall(): Promise<ChromiumAvailability> {
  if (executable(CHROMIUM)) return { executablePath: CHROMIUM };
  if (!executable('/usr/bin/apt-get')) {
    return { skipReason: `${CHROMIUM} is missing and apt-get is not available: install Chromium to run the browser tests` };
  }
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  const refuse = (reason: string): ChromiumAvailability => {
    if (ci) throw new Error(`Chromium is needed for the browser tests and could not be installed: ${reason}`);
    return { skipReason: reason };
  };
  if (process.getuid?.() !== 0) return refuse(`${CHROMIUM} is missing and only root can install it: run \`apt-get install chromium\``);
  if (!executable('/usr/bin/flock')) return refuse('flock (util-linux) is missing, so Chromium cannot be installed safely');

  const started = performance.now();
  try {
    // One shell under an exclusive lock: a second test file waits, then finds Chromium there.
    // apt-get update runs only when the package lists do not know Chromium, or are too old to
    // fetch it (a mirror drops superseded versions).
    const script = `
      set -e
      [ -x ${CHROMIUM} ] && exit 0
      export DEBIAN_FRONTEND=noninteractive
      install() { apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 chromium; }
      if apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        install || { apt-get update -q && install; }
      else
        apt-get update -q && install
      fi`;
    await run('/usr/bin/flock', [LOCK, '/bin/sh', '-c', script], { timeout: INSTALL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const { stderr, killed } = error as { stderr?: string; killed?: boolean };
    const why = killed ? `apt-get did not finish within ${INSTALL_TIMEOUT_MS / 1000} s` : (stderr ?? String(error)).trim().split('\n').slice(-3).join(' | ');
    return refuse(`apt-get install chromium failed: ${why}`);
  }
  if (!executable(CHROMIUM)) return refuse(`apt-get install chromium succeeded but ${CHROMIUM} is still missing`);
  console.log(`Installed Debian's Chromium for the browser tests in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return { executablePath: CHROMIUM };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
