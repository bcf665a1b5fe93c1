import { EventEmitter } from 'node:events';
import type { Cluster, Worker } from 'node:cluster';
import { describe, expect, it } from 'vitest';
import type { RevokedSession } from '../../src/core/records.js';
import { receiveRevocations, relayBetweenWorkers, sendRevocations, type WorkerChannel } from '../../src/revocation/cluster-relay.js';
import { RevocationView } from '../../src/revocation/revocation-view.js';
import { testClock } from '../helpers/clock.js';

/** A worker's IPC channel whose messages land in `sent` (the real one is tested in test/cli). */
function channel(connected = true) {
  const sent: unknown[] = [];
  const emitter = new EventEmitter() as WorkerChannel & { sent: unknown[] };
  Object.assign(emitter, { connected, sent, send: (message: unknown) => (sent.push(message), true) });
  return emitter;
}

function worker(id: number) {
  const received: unknown[] = [];
  return { id, received, isConnected: () => true, send: (message: unknown) => (received.push(message), true) } as unknown as Worker & { received: unknown[] };
}

const session: RevokedSession = { id: 'session-1', revokedAt: 1 };

describe('the relay between workers', () => {
  it('sends a worker’s revocations to the primary, and drops them quietly when the channel is gone', () => {
    const open = channel();
    sendRevocations(open)([session]);
    expect(open.sent).toEqual([{ kind: 'gatehouse:revoked', sessions: [session] }]);
    const closed = channel(false);
    expect(() => sendRevocations(closed)([session])).not.toThrow();
    expect(closed.sent).toEqual([]);
  });

  it('has the primary pass them to every other worker, not back to the sender', () => {
    const workers = [worker(1), worker(2), worker(3)];
    const cluster = Object.assign(new EventEmitter(), { workers: Object.fromEntries(workers.map((w) => [w.id, w])) }) as unknown as Cluster;
    const stop = relayBetweenWorkers(cluster);
    const message = { kind: 'gatehouse:revoked', sessions: [session] };
    cluster.emit('message', workers[0], message);
    cluster.emit('message', workers[0], { kind: 'something else' });
    expect(workers.map((w) => w.received.length)).toEqual([0, 1, 1]);
    stop();
    cluster.emit('message', workers[1], message);
    expect(workers.map((w) => w.received.length)).toEqual([0, 1, 1]);
  });

  it('puts a sibling’s revocations into the worker’s view, ignoring other messages', () => {
    const view = new RevocationView(testClock(), 660_000);
    const ipc = channel();
    receiveRevocations(view, ipc);
    ipc.emit('message', { kind: 'unrelated', sessions: [{ id: 'other', revokedAt: 1 }] });
    ipc.emit('message', { kind: 'gatehouse:revoked', sessions: [session] });
    expect(view.isRevoked('other')).toBe(false);
    expect(view.isRevoked('session-1')).toBe(true);
  });
});
