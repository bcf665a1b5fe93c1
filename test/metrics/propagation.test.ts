import { describe, expect, it } from 'vitest';
import { OWN_COMMIT_GRACE_MS, PropagationTimer } from '../../src/metrics/propagation.js';
import { RevocationView } from '../../src/revocation/revocation-view.js';
import { testClock } from '../helpers/clock.js';

describe('timing how revocations from elsewhere reach the view', () => {
  function setUp() {
    const clock = testClock();
    const view = new RevocationView(clock, 3_600_000);
    const delays: number[] = [];
    const timer = new PropagationTimer(view, view, clock, (ms) => delays.push(ms));
    return { clock, view, delays, timer };
  }

  it("records how long after its revocation the view learnt another node's sign-out, once the grace has passed", () => {
    const { clock, view, delays, timer } = setUp();
    const revokedAt = clock.now();
    clock.advance(0.25);
    view.revoked([{ id: 'elsewhere', revokedAt }]);
    expect(delays).toEqual([]); // it might still turn out to be this node's own
    clock.advance(OWN_COMMIT_GRACE_MS / 1000);
    timer.flush();
    expect(delays).toEqual([250]);
    timer.flush();
    expect(delays).toEqual([250]); // once
  });

  it("never times this node's own commits, even when its catch-up read them before the commit was announced", () => {
    const { clock, view, delays, timer } = setUp();
    timer.sink.revoked([{ id: 'mine', revokedAt: clock.now() }]);
    view.revoked([{ id: 'raced', revokedAt: clock.now() }]); // the catch-up, woken by our own notice, came first
    timer.sink.revoked([{ id: 'raced', revokedAt: clock.now() }]);
    clock.advance(10);
    timer.flush();
    expect(delays).toEqual([]);
    expect(view.isRevoked('mine') && view.isRevoked('raced')).toBe(true);
  });

  it('reads a revocation stamped by a clock running ahead as no delay, not a negative one', () => {
    const { clock, view, delays, timer } = setUp();
    view.revoked([{ id: 'ahead', revokedAt: clock.now() + 500 }]);
    clock.advance(2);
    timer.flush();
    expect(delays).toEqual([0]);
  });

  it('stops listening when stopped', () => {
    const { clock, view, delays, timer } = setUp();
    timer.stop();
    view.revoked([{ id: 'late', revokedAt: clock.now() }]);
    clock.advance(2);
    timer.flush();
    expect(delays).toEqual([]);
  });
});
