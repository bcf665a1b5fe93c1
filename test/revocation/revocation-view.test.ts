import { describe, expect, it } from 'vitest';
import { RevocationView } from '../../src/revocation/revocation-view.js';
import { testClock } from '../helpers/clock.js';

describe('the revocation view', () => {
  it('knows a session the moment it is told of its revocation', () => {
    const view = new RevocationView(testClock(), 660_000);
    expect(view.isRevoked('s1')).toBe(false);
    view.revoked([{ id: 's1', revokedAt: Date.now() }]);
    expect(view.isRevoked('s1')).toBe(true);
  });

  it('forgets a revocation only once every token of that session has expired', () => {
    const clock = testClock();
    const view = new RevocationView(clock, 660_000);
    view.revoked([{ id: 'old', revokedAt: clock.now() }]);
    clock.advance(600);
    view.revoked([{ id: 'new', revokedAt: clock.now() }]);
    clock.advance(60);
    expect(view.prune()).toBe(0);
    clock.advance(1);
    expect(view.prune()).toBe(1);
    expect(view.isRevoked('old')).toBe(false);
    expect(view.isRevoked('new')).toBe(true);
    expect(view.size).toBe(1);
  });

  it('loads from the database everything revoked since its horizon', () => {
    const clock = testClock();
    const view = new RevocationView(clock, 660_000);
    expect(view.horizon()).toBe(clock.now() - 660_000);
  });
});

describe('listening to the revocation view', () => {
  it('hears each revocation once, the first time the view learns it, until it stops listening', () => {
    const view = new RevocationView(testClock(), 660_000);
    const heard: string[][] = [];
    const stop = view.subscribe((added) => heard.push(added.map((s) => s.id)));
    view.revoked([{ id: 'a', revokedAt: 1 }]);
    view.revoked([
      { id: 'a', revokedAt: 1 },
      { id: 'b', revokedAt: 2 },
    ]);
    view.revoked([{ id: 'b', revokedAt: 2 }]);
    stop();
    view.revoked([{ id: 'c', revokedAt: 3 }]);
    expect(heard).toEqual([['a'], ['b']]);
  });
});
