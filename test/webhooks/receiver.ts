import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  id: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered; 0 while it has not (yet). */
  status: number;
}

/** How the receiver answers one request: a status, or a promise of one (an answer held back). */
export type Answer = (webhook: ReceivedWebhook, received: ReceivedWebhook[]) => number | Promise<number>;

/**
 * A real HTTP webhook receiver on 127.0.0.1 for the tests: it records every request as it
 * came (raw body, headers) and answers as the test says. A receiver deduplicates on
 * `webhook-id`; this one counts instead, so a test can report every duplicate.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** The most requests for one webhook-id that were ever in flight at once. */
  maxConcurrentPerId = 0;
  #inFlight = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    public answer: Answer,
  ) {}

  static async start(answer: Answer = () => 204, port = 0): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server, answer);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const webhook: ReceivedWebhook = {
          id: String(request.headers['webhook-id']),
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          status: 0,
        };
        receiver.received.push(webhook);
        const inFlight = (receiver.#inFlight.get(webhook.id) ?? 0) + 1;
        receiver.#inFlight.set(webhook.id, inFlight);
        receiver.maxConcurrentPerId = Math.max(receiver.maxConcurrentPerId, inFlight);
        void Promise.resolve(receiver.answer(webhook, receiver.received)).then((status) => {
          receiver.#inFlight.set(webhook.id, (receiver.#inFlight.get(webhook.id) ?? 1) - 1);
          webhook.status = status;
          response.writeHead(status).end();
        });
      });
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/gatehouse?token=receiver-token`;
  }

  /** How many 2xx answers each webhook-id got. */
  acknowledged(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const w of this.received) if (w.status >= 200 && w.status < 300) counts.set(w.id, (counts.get(w.id) ?? 0) + 1);
    return counts;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A promise the test resolves when it likes: an answer held back until then. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
