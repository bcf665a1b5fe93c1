import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyInstance } from 'fastify';

interface Answer {
  /** What the log line calls it, as Fastify's own handler does. */
  kind: string;
  response: string;
}

function answer(kind: string, status: number, message: string): Answer {
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status });
  return {
    kind,
    // Fastify's answers, byte for byte, plus `Connection: close`: the socket closes right after.
    response: `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  };
}

const TIMEOUT = answer('timeout', 408, 'Client Timeout');
const HEADER_OVERFLOW = answer('header_overflow', 431, 'Exceeded maximum allowed HTTP header size');
const BAD_REQUEST = answer('error', 400, 'Client Error');

/**
 * Requests Node's parser refuses before Fastify sees them: both Content-Length and
 * Transfer-Encoding, a control character in a header, headers over 16 KiB, a timeout. They get
 * Fastify's answers (400, 431, 408) and the socket is closed, but the log line says only what
 * kind of error it was: Fastify's own handler logs the error with its `rawPacket`, the raw
 * bytes of the request, Authorization, cookies and body included.
 */
export function answerClientError(this: FastifyInstance, error: ConnectionError, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { kind, response } = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? TIMEOUT : error.code === 'HPE_HEADER_OVERFLOW' ? HEADER_OVERFLOW : BAD_REQUEST;
  // `reason` is llhttp's fixed text for the code ("Invalid header value char"), never request bytes.
  const reason = (error as { reason?: unknown }).reason;
  this.log.trace({ code: error.code, ...(typeof reason === 'string' ? { reason } : {}), ip: socket.remoteAddress }, `client ${kind}`);
  // As Node's own handler: no answer after a response already begun on this connection, or the
  // client would read our bytes as the rest of that one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(response);
  socket.destroy(error);
}
