import type { Cluster, Worker } from 'node:cluster';
import type { EventEmitter } from 'node:events';
import type { RevokedSession } from '../core/records.js';
import type { RevocationSink } from './revocation-view.js';

/*
 * Sign-outs between the worker processes of `gatehouse serve --workers N`. The workers share one
 * database, so each one's one-second catch-up query brings it every sibling's revocations
 * anyway; but behind one port the next request lands on any worker, and until that query runs
 * a sibling would accept a token whose user has just signed out. So each worker tells the
 * primary of every revocation it commits (after its own view has it, before the request
 * answers), and the primary passes it on at once to every other worker, which puts it in its
 * view. The messages carry session ids and revocation times, never a token.
 *
 * A lost message (a worker restarting, a channel closing) costs only time: the catch-up query
 * stays the source of truth, and the staleness bound holds whatever happens here.
 */

const KIND = 'gatehouse:revoked';

interface RevokedMessage {
  kind: typeof KIND;
  sessions: RevokedSession[];
}

function isRevokedMessage(message: unknown): message is RevokedMessage {
  const m = message as Partial<RevokedMessage> | null;
  return typeof m === 'object' && m !== null && m.kind === KIND && Array.isArray(m.sessions);
}

/** The IPC end of a worker: `process` in a forked worker. */
export type WorkerChannel = Pick<NodeJS.Process, 'send' | 'connected'> & EventEmitter;

/**
 * Worker side, outgoing: the `onRevoked` to give createGatehouse. It never throws: the
 * revocation is committed already, and the caller's answer must not depend on the relay.
 */
export function sendRevocations(channel: WorkerChannel = process): (sessions: RevokedSession[]) => void {
  return (sessions) => {
    if (!channel.send || !channel.connected) return;
    const message: RevokedMessage = { kind: KIND, sessions };
    // With a callback, a closed channel is reported there rather than thrown or emitted.
    channel.send(message, undefined, undefined, () => {});
  };
}

/**
 * Worker side, incoming: puts the revocations siblings committed into this worker's view.
 * Straight into the view, not through `onRevoked`, so they are not sent back out again.
 * Returns the function that stops it.
 */
export function receiveRevocations(view: RevocationSink, channel: WorkerChannel = process): () => void {
  const listener = (message: unknown) => {
    if (isRevokedMessage(message)) view.revoked(message.sessions);
  };
  channel.on('message', listener);
  return () => channel.off('message', listener);
}

/**
 * Primary side: passes each worker's revocations on to every other worker that is still
 * connected. Returns the function that stops it.
 */
export function relayBetweenWorkers(cluster: Cluster): () => void {
  const listener = (from: Worker, message: unknown) => {
    if (!isRevokedMessage(message)) return;
    for (const worker of Object.values(cluster.workers ?? {})) {
      if (!worker || worker === from || !worker.isConnected()) continue;
      worker.send(message, () => {});
    }
  };
  cluster.on('message', listener);
  return () => cluster.off('message', listener);
}
