import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * How long a kept-alive connection with no request in flight when shutdown begins may still
 * send one (it is answered, with `Connection: close`) before it is closed. A client that sent
 * its next request just as the shutdown began has it in the socket, not yet read: closing such
 * a connection at once would reset a request the client rightly thinks it sent.
 */
export const IDLE_CONNECTION_GRACE_MS = 1000;
const CHECK_INTERVAL_MS = 10;

export interface DrainOptions {
  idleGraceMs?: number;
  /**
   * How long after `stopAccepting` the connections still open may take to finish their
   * requests; then they are destroyed, whatever they are doing. Without it they are waited for.
   */
  deadlineMs?: number;
  /** Told how many connections the deadline destroyed (none: not called). */
  onDeadline?: (open: number) => void;
}

export interface ConnectionDrain {
  /**
   * Stops accepting connections (new ones are refused from now on) and resolves once no
   * connection is left without a request in flight, or after the idle grace; connections still
   * idle then are closed. Connections still open at the deadline are destroyed. Safe to call
   * more than once.
   */
  stopAccepting(): Promise<void>;
  /** Resolves once every connection has closed; at once if `stopAccepting` was never called or the server never listened. */
  closed(): Promise<void>;
}

/**
 * Counts the requests in flight on each connection of `server`, from its start, so a shutdown
 * can tell the connections that wait for an answer from the idle ones. Answers themselves must
 * carry `Connection: close` once the shutdown begins (app.ts), so each connection ends right
 * after its last answer instead of lingering until the keep-alive timeout.
 */
export function trackConnections(server: Server, options: DrainOptions = {}): ConnectionDrain {
  const { idleGraceMs = IDLE_CONNECTION_GRACE_MS, deadlineMs, onDeadline } = options;
  const inFlight = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const count = inFlight.get(socket);
      if (count !== undefined) inFlight.set(socket, count - 1);
    });
  });
  const anyIdle = () => [...inFlight.values()].some((count) => count === 0);

  let stopped: Promise<void> | undefined;
  let allClosed: Promise<void> = Promise.resolve();
  return {
    stopAccepting() {
      if (stopped) return stopped;
      if (!server.listening) {
        stopped = Promise.resolve();
        return stopped;
      }
      let graceOver!: () => void;
      stopped = new Promise((resolve) => {
        graceOver = resolve;
      });
      allClosed = new Promise((resolve) => {
        let waiting = true;
        const grace = setTimeout(() => {
          waiting = false;
        }, idleGraceMs);
        // After the grace, idle connections are closed at every tick: an answer given without
        // `Connection: close` (a server-sent-events stream that was ended) must not keep the
        // process waiting for the keep-alive timeout. Node's own notion of idle is used, so
        // a request that has started to arrive is never cut.
        const tick = setInterval(() => {
          if (waiting && anyIdle()) return;
          waiting = false;
          graceOver();
          server.closeIdleConnections();
        }, CHECK_INTERVAL_MS);
        // A client can keep a request in flight for as long as it likes (a body sent a byte a
        // second lasts until Fastify's requestTimeout): without a limit, it would hold the stop
        // until the process's timeout kills it, before the pending writes and the database close.
        const deadline =
          deadlineMs === undefined
            ? undefined
            : setTimeout(() => {
                waiting = false;
                graceOver();
                if (inFlight.size > 0) onDeadline?.(inFlight.size);
                server.closeAllConnections();
              }, deadlineMs);
        // net.Server's close, not http.Server's: that one also closes every idle connection at
        // once, resetting requests already sent on them but not yet read. The callback runs
        // once the last connection has closed.
        NetServer.prototype.close.call(server, () => {
          clearTimeout(grace);
          clearTimeout(deadline);
          clearInterval(tick);
          graceOver();
          resolve();
        });
      });
      return stopped;
    },
    closed: () => allClosed,
  };
}
