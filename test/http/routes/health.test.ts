import { afterEach, describe, expect, it } from 'vitest';
import { READY_DATABASE_TIMEOUT_MS } from '../../../src/http/routes/health.js';
import { expectProblem, startTestGatehouse, type TestGatehouse } from '../../helpers/app.js';

describe('liveness and readiness', () => {
  let t: TestGatehouse;
  afterEach(() => t.close().catch(() => {}));

  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('is ready when the database answers, the revocation view is fresh and a signing key is loaded', async () => {
    t = await startTestGatehouse('sqlite');
    const ready = await get('/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', revocation_view: { fresh: true, confirmed_ms_ago: 0 } });
  });

  it('stays alive through a database outage, so a healthy process is not restarted for it', async () => {
    t = await startTestGatehouse('sqlite');
    await t.gatehouse.store.close();
    expect((await get('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz');
    expectProblem(ready, 503, 'unavailable');
    expect(ready.json().detail).toBe('Not ready: the database is not reachable.');
  });

  it('gives up on a database that does not answer, within its bound, rather than hang the probe', async () => {
    t = await startTestGatehouse('sqlite');
    t.gatehouse.store.ping = () => new Promise<void>(() => {}); // a silent network: no answer, no error
    const started = performance.now();
    const ready = await get('/readyz');
    const waited = performance.now() - started;
    expectProblem(ready, 503, 'unavailable');
    expect(ready.json().detail).toBe(`Not ready: the database did not answer within ${READY_DATABASE_TIMEOUT_MS} ms.`);
    expect(waited).toBeGreaterThanOrEqual(READY_DATABASE_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(READY_DATABASE_TIMEOUT_MS + 3000);
  });

  it('is not ready while the revocation view is unconfirmed past its staleness bound, and says for how long', async () => {
    t = await startTestGatehouse('sqlite');
    t.gatehouse.sync.stop();
    t.clock.advance(6);
    const ready = await get('/readyz');
    expectProblem(ready, 503, 'unavailable');
    expect(ready.json().detail).toBe('Not ready: the revocation view was last confirmed 6000 ms ago.');
    await t.gatehouse.sync.catchUp();
    expect((await get('/readyz')).statusCode).toBe(200);
  });

  it('is not ready without a signing key it can sign with, and names every check that failed', async () => {
    t = await startTestGatehouse('sqlite');
    t.gatehouse.keys.signingKey = () => {
      throw new Error('no active key');
    };
    t.gatehouse.sync.stop();
    t.clock.advance(10);
    const ready = await get('/readyz');
    expectProblem(ready, 503, 'unavailable');
    expect(ready.json().detail).toBe('Not ready: the revocation view was last confirmed 10000 ms ago; no signing key is loaded.');
  });
});
