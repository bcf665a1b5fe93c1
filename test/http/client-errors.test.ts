import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionError, FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerClientError } from '../../src/http/client-errors.js';
import { startServer, type RunningServer } from '../helpers/server-process.js';

// Fresh each run, so a hit in the log can only have come from these requests.
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const ACCESS_TOKEN = `at-${randomBytes(24).toString('base64url')}`;
const REFRESH_TOKEN = `rt-${randomBytes(24).toString('base64url')}`;
const BODY = JSON.stringify({ email: 'olga@example.com', password: PASSWORD });
const SECRET_HEADERS = `Authorization: Bearer ${ACCESS_TOKEN}\r\nCookie: gatehouse_refresh=${REFRESH_TOKEN}\r\n`;

const chunked = `${BODY.length.toString(16)}\r\n${BODY}\r\n0\r\n\r\n`;

/** Each carries the password in its body, a Bearer token and a refresh cookie. */
const REQUESTS = {
  framedTwice:
    `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n${SECRET_HEADERS}Content-Type: application/json\r\n` +
    `Content-Length: ${chunked.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}`,
  controlCharacter:
    `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n${SECRET_HEADERS}Content-Type: application/json\r\n` +
    `Content-Length: ${BODY.length}\r\nX-Note: one\x01two\r\n\r\n${BODY}`,
  headersTooLarge:
    `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n${SECRET_HEADERS}Content-Type: application/json\r\n` +
    `Content-Length: ${BODY.length}\r\nX-Padding: ${'a'.repeat(17 * 1024)}\r\n\r\n${BODY}`,
  wellFormed:
    `POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\n${SECRET_HEADERS}Content-Type: application/json\r\n` +
    `Content-Length: ${BODY.length}\r\nConnection: close\r\n\r\n${BODY}`,
};

/** Writes `bytes` on a new connection and resolves with everything read until the server closes it. */
async function sendRaw(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  // A reset after the answer is the server closing the connection, as it should.
  socket.on('error', () => {});
  socket.setTimeout(10_000, () => socket.destroy());
  await once(socket, 'connect');
  socket.write(bytes);
  await once(socket, 'close');
  return received;
}

/** The log as text to search, with any logged Buffer (pino writes its bytes as numbers) spelled out. */
function readable(lines: string[]): string {
  return lines
    .join('\n')
    .replace(/\{"type":"Buffer","data":\[([\d,]*)\]\}/g, (_buffer, bytes: string) => Buffer.from(bytes ? bytes.split(',').map(Number) : []).toString('latin1'));
}

function parsed(lines: string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

describe('malformed requests to the server process at LOG_LEVEL=trace', () => {
  let cwd: string;
  let server: RunningServer;
  const answers: Record<keyof typeof REQUESTS, string> = { framedTwice: '', controlCharacter: '', headersTooLarge: '', wellFormed: '' };

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'gatehouse-client-errors-'));
    server = await startServer(cwd, { LOG_LEVEL: 'trace' });
    for (const name of Object.keys(REQUESTS) as (keyof typeof REQUESTS)[]) answers[name] = await sendRaw(server.url, REQUESTS[name]);
    // Stopped, and its output read to the end, before the log is searched.
    const closed = once(server.child, 'close');
    await server.stop();
    await closed;
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('are still answered as Fastify answers them: 400, 400 and 431', () => {
    expect(answers.framedTwice).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answers.controlCharacter).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answers.headersTooLarge).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answers.framedTwice).toContain('{"error":"Bad Request","message":"Client Error","statusCode":400}');
    expect(answers.wellFormed).toMatch(/^HTTP\/1\.1 401 /);
  });

  it('leave no password, Bearer token or refresh cookie in the log', () => {
    const text = readable(server.logs);
    const secrets = { password: PASSWORD, 'Bearer token': ACCESS_TOKEN, 'refresh cookie': REFRESH_TOKEN };
    const leaked = Object.entries(secrets).filter(([, secret]) => text.includes(secret));
    expect(leaked.map(([name]) => name)).toEqual([]);
  });

  it('leave a line saying which kind of client error each was', () => {
    const clientErrors = parsed(server.logs)
      .filter((line) => typeof line.msg === 'string' && line.msg.startsWith('client '))
      .map((line) => ({ msg: line.msg, code: line.code }));
    expect(clientErrors).toEqual([
      { msg: 'client error', code: 'HPE_INVALID_TRANSFER_ENCODING' },
      { msg: 'client error', code: 'HPE_INVALID_HEADER_TOKEN' },
      { msg: 'client header_overflow', code: 'HPE_HEADER_OVERFLOW' },
    ]);
  });

  it('log the well-formed request as one line without its headers or body', () => {
    const requests = parsed(server.logs).filter((line) => line.msg === 'request');
    expect(requests).toEqual([expect.objectContaining({ method: 'POST', path: '/v1/auth/login', status: 401 })]);
  });
});

describe('the answer to a request the HTTP parser refuses', () => {
  /** Runs the handler on a stand-in socket: what it wrote, whether it closed the socket, what it logged. */
  function refuse(code: string, socket: { response?: { headersSent: boolean } } = {}) {
    const written: string[] = [];
    const logged: unknown[] = [];
    let closed = false;
    const fake = {
      destroyed: false,
      writable: true,
      remoteAddress: '203.0.113.7',
      _httpMessage: socket.response,
      write: (data: string) => written.push(data),
      destroy: () => (closed = true),
    };
    const error = Object.assign(new Error('Parse Error'), { code, rawPacket: Buffer.from('Authorization: Bearer secret') });
    const app = { log: { trace: (fields: unknown, msg: string) => logged.push({ ...(fields as object), msg }) } };
    answerClientError.call(app as unknown as FastifyInstance, error as unknown as ConnectionError, fake as unknown as Socket);
    return { written: written.join(''), closed, logged };
  }

  it('answers a timeout with 408 and oversized headers with 431, as Fastify does, and closes the connection', () => {
    expect(refuse('ERR_HTTP_REQUEST_TIMEOUT')).toMatchObject({ written: expect.stringMatching(/^HTTP\/1\.1 408 Request Timeout\r\n/), closed: true });
    expect(refuse('HPE_HEADER_OVERFLOW').written).toContain(
      '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}',
    );
  });

  it('logs the kind of error and its code, never the packet', () => {
    const { logged } = refuse('HPE_INVALID_METHOD');
    expect(logged).toEqual([{ code: 'HPE_INVALID_METHOD', ip: '203.0.113.7', msg: 'client error' }]);
  });

  it('writes nothing into a response already begun on the connection, and still closes it', () => {
    expect(refuse('ERR_HTTP_REQUEST_TIMEOUT', { response: { headersSent: true } })).toMatchObject({ written: '', closed: true });
  });

  it('leaves a reset connection alone', () => {
    expect(refuse('ECONNRESET')).toEqual({ written: '', closed: false, logged: [] });
  });
});
