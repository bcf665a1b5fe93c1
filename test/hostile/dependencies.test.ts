import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';

interface LockEntry {
  version?: string;
  /** The real name of an aliased package (`"foo": "npm:jsonwebtoken@9"` installs jsonwebtoken as node_modules/foo). */
  name?: string;
}

interface Lock {
  lockfileVersion?: number;
  packages?: Record<string, LockEntry>;
}

/**
 * Packages that must not be installed, at any depth. jsonwebtoken and fast-jwt are second JWT
 * implementations beside jose: each is one more parser of hostile tokens, with its own history
 * of algorithm confusion (jsonwebtoken's CVE-2022-23539/23540/23541), and nothing in Gatehouse
 * needs them. ua-parser-js 2 is AGPL-3.0, which this MIT package cannot ship.
 */
const FORBIDDEN: { name: string; forbids(version: string): boolean; why: string }[] = [
  { name: 'jsonwebtoken', forbids: () => true, why: 'a second JWT implementation; Gatehouse uses jose only' },
  { name: 'fast-jwt', forbids: () => true, why: 'a second JWT implementation; Gatehouse uses jose only' },
  { name: 'ua-parser-js', forbids: (version) => Number.parseInt(version, 10) >= 2, why: 'version 2 and later are AGPL-3.0' },
];

/** Every forbidden package among the lock's `packages` entries, at any depth, with where it is installed. */
function forbiddenIn(lock: Lock): string[] {
  const found: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (path === '') continue; // the project itself
    const installedAs = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    for (const rule of FORBIDDEN) {
      if ((installedAs === rule.name || entry.name === rule.name) && rule.forbids(entry.version ?? '')) {
        found.push(`${rule.name}@${entry.version ?? '?'} at ${path}: ${rule.why}`);
      }
    }
  }
  return found;
}

describe('the installed dependency tree', () => {
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as Lock;

  it('holds no jsonwebtoken, no fast-jwt and no ua-parser-js 2 or later, at any depth of package-lock.json', () => {
    // lockfileVersion 1 has no `packages`: reading it would find nothing and prove nothing.
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    expect(Object.keys(lock.packages ?? {}).length).toBeGreaterThan(100);
    expect(forbiddenIn(lock)).toEqual([]);
    // The check sees the tree: the ua-parser-js Gatehouse does use is there, and below 2.
    expect(lock.packages?.['node_modules/ua-parser-js']?.version).toMatch(/^1\./);
  });

  it('would catch each of them: directly, nested, aliased, and ua-parser-js from 2.0.0 (pre-releases too)', () => {
    const planted: Lock = {
      lockfileVersion: 3,
      packages: {
        '': { version: '0.1.0' },
        'node_modules/jsonwebtoken': { version: '9.0.2' },
        'node_modules/some-sdk/node_modules/fast-jwt': { version: '5.0.0' },
        'node_modules/@scope/tool/node_modules/ua-parser-js': { version: '2.0.0-beta.1' },
        'node_modules/jwt-alias': { name: 'jsonwebtoken', version: '8.5.1' },
        'node_modules/ua-parser-js': { version: '1.0.41' },
        'node_modules/other/node_modules/ua-parser-js': { version: '2.0.3' },
      },
    };
    expect(forbiddenIn(planted)).toEqual([
      'jsonwebtoken@9.0.2 at node_modules/jsonwebtoken: a second JWT implementation; Gatehouse uses jose only',
      'fast-jwt@5.0.0 at node_modules/some-sdk/node_modules/fast-jwt: a second JWT implementation; Gatehouse uses jose only',
      'ua-parser-js@2.0.0-beta.1 at node_modules/@scope/tool/node_modules/ua-parser-js: version 2 and later are AGPL-3.0',
      'jsonwebtoken@8.5.1 at node_modules/jwt-alias: a second JWT implementation; Gatehouse uses jose only',
      'ua-parser-js@2.0.3 at node_modules/other/node_modules/ua-parser-js: version 2 and later are AGPL-3.0',
    ]);
  });
});

/**
 * .ci/audit against a stand-in registry on loopback (npm_config_registry), so each outcome is
 * checked without depending on the real registry's advisories or reachability.
 */
describe('.ci/audit', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
  });

  /** A registry whose bulk advisory endpoint answers `status` with one advisory of `severity` for ua-parser-js. */
  async function registry(status: number, severity?: string): Promise<string> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (!request.url?.includes('/-/npm/v1/security/advisories/bulk')) return response.writeHead(404).end('{}');
        const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
        const asked = JSON.parse(body.toString('utf8')) as Record<string, string[]>;
        const advisories =
          severity && asked['ua-parser-js']
            ? {
                'ua-parser-js': [
                  {
                    id: 1,
                    url: 'https://advisories.invalid/1',
                    title: 'a planted advisory',
                    severity,
                    vulnerable_versions: '<2.0.0',
                    cwe: [],
                    cvss: { score: 0, vectorString: null },
                  },
                ],
              }
            : {};
        response.writeHead(status, { 'content-type': 'application/json' }).end(status === 200 ? JSON.stringify(advisories) : '');
      });
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  /**
   * Runs the script with its own npm cache: npm caches advisories it has judged, and the planted
   * ones must neither leak between runs nor stay in the user's cache.
   */
  async function audit(registryUrl: string): Promise<{ code: number; output: string }> {
    const cache = mkdtempSync(join(tmpdir(), 'gatehouse-audit-cache-'));
    try {
      const { stdout } = await promisify(execFile)('bash', ['.ci/audit'], {
        env: { ...process.env, npm_config_registry: registryUrl, npm_config_cache: cache },
      });
      return { code: 0, output: stdout.trim() };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string };
      return { code: failed.code ?? -1, output: failed.stdout?.trim() ?? '' };
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  }

  it('fails on a high advisory, warns without failing on a moderate one, and skips when the audit endpoint does not answer', async () => {
    const [high, moderate, none, refused] = await Promise.all([
      registry(200, 'high').then(audit),
      registry(200, 'moderate').then(audit),
      registry(200).then(audit),
      registry(405).then(audit),
    ]);
    expect(high).toEqual({ code: 1, output: expect.stringMatching(/^npm audit: FAILED, 0 critical and 1 high advisories .*ua-parser-js \(high\)/) });
    expect(moderate).toEqual({ code: 0, output: expect.stringMatching(/^npm audit: passed with warnings, 1 moderate and 0 low .*ua-parser-js \(moderate\)/) });
    expect(none).toEqual({ code: 0, output: expect.stringMatching(/^npm audit: passed, no advisories in \d+ production dependencies$/) });
    expect(refused).toEqual({ code: 0, output: expect.stringMatching(/^npm audit: skipped, the registry did not answer the audit: 405 Method Not Allowed/) });
  });
});
