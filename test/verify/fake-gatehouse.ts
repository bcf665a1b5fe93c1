import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { signAccessToken, type AccessTokenKeys } from '../../src/core/access-token.js';

export const SERVICE_KEY = 'k'.repeat(24) + 'service-key-of-a-test';
export const ISSUER = 'https://id.example.test';
export const AUDIENCE = 'gatehouse';

interface Key {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export interface FeedRequest {
  authorization: string | undefined;
  accept: string | undefined;
  lastEventId: string | undefined;
}

export interface TokenOptions {
  sessionId?: string;
  kid?: string;
  ttlSeconds?: number;
  /** When the token was issued, epoch ms (default now). */
  at?: number;
  issuer?: string;
}

/**
 * A stand-in for Gatehouse serving what gatehouse/verify reads, and nothing else: the JWKS and
 * the revocation feed as SSE, driven by hand so a test can stop heartbeats, drop streams, lie
 * about staleness or refuse the service key.
 */
export class FakeGatehouse {
  readonly keys: Key[] = [];
  readonly jwksRequests: number[] = [];
  readonly feedRequests: FeedRequest[] = [];
  /** Answer the feed with this status and a problem body instead of a stream. */
  feedStatus = 200;
  jwksStatus = 200;
  /** The staleness_ms every message reports. */
  stalenessMs = 0;
  retentionSeconds = 665;
  accessTokenTtl = 600;
  private readonly revoked: { session_id: string; revoked_at: string; cursor: number }[] = [];
  private readonly streams = new Set<ServerResponse>();
  private cursor = 100;
  private heartbeat: NodeJS.Timeout | undefined;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeGatehouse> {
    let fake: FakeGatehouse | undefined;
    const server = createServer((request, response) => fake?.handle(request, response));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake = new FakeGatehouse(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    await fake.addKey();
    return fake;
  }

  get jwksUrl(): string {
    return `${this.url}/.well-known/jwks.json`;
  }

  get feedUrl(): string {
    return `${this.url}/v1/revocations`;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  async addKey(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    this.keys.push({ kid, privateKey, publicKey, jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' } });
    return kid;
  }

  retireKey(kid: string): void {
    this.keys.splice(
      this.keys.findIndex((k) => k.kid === kid),
      1,
    );
  }

  /** An access token as Gatehouse signs it (with the first key unless `kid` says another). */
  async token(options: TokenOptions = {}): Promise<string> {
    const key = options.kid ? this.keys.find((k) => k.kid === options.kid) : this.keys[0];
    if (!key) throw new Error('no such key');
    const keys: AccessTokenKeys = {
      signingKey: () => ({ kid: key.kid, key: key.privateKey }),
      verificationKey: async () => key.publicKey,
      hasKey: () => true,
    };
    const settings = { issuer: options.issuer ?? ISSUER, audience: AUDIENCE, ttlSeconds: options.ttlSeconds ?? this.accessTokenTtl, clockToleranceSeconds: 5 };
    const at = options.at ?? Date.now();
    const subject = { userId: 'user-ann', sessionId: options.sessionId ?? 'session-laptop', authTime: at - 1000 };
    return (await signAccessToken(keys, settings, subject, at)).token;
  }

  /** Records a sign-out and streams it to every open stream at once. */
  revoke(sessionId: string, at = Date.now()): void {
    const entry = { session_id: sessionId, revoked_at: new Date(at).toISOString(), cursor: ++this.cursor };
    this.revoked.push(entry);
    for (const stream of this.streams) this.write(stream, 'revocations', this.message([entry]));
  }

  /** Sends a heartbeat on every stream every `ms` until stopped (0 stops them). */
  heartbeats(ms: number): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (ms > 0) this.heartbeat = setInterval(() => this.beat(), ms);
  }

  beat(): void {
    for (const stream of this.streams) this.write(stream, 'heartbeat', { cursor: String(this.cursor), staleness_ms: this.stalenessMs });
  }

  /** Writes raw text on every open stream (for malformed messages). */
  writeRaw(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  /** Cuts every open stream, as a crash or a restart would. */
  dropStreams(): void {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }

  async close(): Promise<void> {
    this.heartbeats(0);
    this.dropStreams();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.url === '/.well-known/jwks.json') {
      this.jwksRequests.push(Date.now());
      if (this.jwksStatus !== 200) return void response.writeHead(this.jwksStatus).end();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
      return;
    }
    if (request.url?.startsWith('/v1/revocations')) {
      const lastEventId = request.headers['last-event-id'] as string | undefined;
      this.feedRequests.push({ authorization: request.headers.authorization, accept: request.headers.accept, lastEventId });
      if (request.headers.authorization !== `Bearer ${SERVICE_KEY}` || this.feedStatus !== 200) {
        const status = this.feedStatus === 200 ? 401 : this.feedStatus;
        const code = status === 401 ? 'token_invalid' : status === 400 ? 'validation_failed' : 'unavailable';
        response.writeHead(status, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ status, code }));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      response.write('retry: 1000\n\n');
      const since = lastEventId === undefined ? 0 : Number(lastEventId);
      this.write(response, 'revocations', this.message(this.revoked.filter((r) => r.cursor > since)));
      this.streams.add(response);
      response.on('close', () => this.streams.delete(response));
      return;
    }
    response.writeHead(404).end();
  }

  private message(entries: { session_id: string; revoked_at: string }[]) {
    return {
      revocations: entries.map(({ session_id, revoked_at }) => ({ session_id, revoked_at })),
      cursor: String(this.cursor),
      access_token_ttl: this.accessTokenTtl,
      clock_tolerance: 5,
      retention_seconds: this.retentionSeconds,
      staleness_ms: this.stalenessMs,
    };
  }

  private write(stream: ServerResponse, event: string, data: unknown): void {
    stream.write(`event: ${event}\nid: ${this.cursor}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
