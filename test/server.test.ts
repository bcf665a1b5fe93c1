import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER } from './helpers/server-process.js';
import { serverProcessTests, twoServerProcessTests } from './server-process-flows.js';

/**
 * Gatehouse as `npm start` runs it, a real server process: every flow on SQLite, the first
 * start and the migrations on PostgreSQL, two processes sharing one SQLite file answering
 * refreshes alike. The restart and two processes on PostgreSQL, and a sign-out between two
 * SQLite processes (test/revocation/two-nodes.process.test.ts runs eight of those), run in the
 * slow suite (test/hostile/processes/).
 */
serverProcessTests('sqlite', ['start', 'restart', 'migrate']);
serverProcessTests('postgres', ['start', 'migrate']);
twoServerProcessTests('sqlite', ['refreshes']);

describe('a configuration mistake', () => {
  it('stops the server at start with one clear line naming the variable', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-server-'));
    try {
      const result = spawnSync(process.execPath, [SERVER], {
        cwd,
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_ACCESS_TOKEN_TTL: 'ten minutes' },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('gatehouse: configuration error: GATEHOUSE_ACCESS_TOKEN_TTL must be a whole number from 1 to 86400; got "ten minutes"\n');
      expect(existsSync(join(cwd, 'data'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('a location database that is not there stops the start the same way, before any database is created', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-server-'));
    try {
      const result = spawnSync(process.execPath, [SERVER], {
        cwd,
        env: { PATH: process.env.PATH ?? '', GATEHOUSE_GEOIP_DATABASE: '/nowhere/GeoLite2-Country.mmdb' },
        encoding: 'utf8',
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toBe('gatehouse: configuration error: GATEHOUSE_GEOIP_DATABASE (/nowhere/GeoLite2-Country.mmdb): no such file\n');
      expect(existsSync(join(cwd, 'data'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('is read from a .env file in the working directory too', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'gatehouse-server-'));
    try {
      spawnSync('sh', ['-c', 'printf "DATABASE_URL=mysql://nope\\n" > .env'], { cwd });
      const result = spawnSync(process.execPath, [SERVER], { cwd, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/^gatehouse: configuration error: DATABASE_URL must be/);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
