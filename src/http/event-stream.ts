import type { ServerResponse } from 'node:http';

/** A reader this far behind is not reading: drop it rather than buffer without end. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export interface EventStream {
  send(event: string, id: string, data: unknown): void;
  end(): void;
}

/**
 * A server-sent-events response (text/event-stream) on a raw response the route has taken
 * over (`reply.hijack()`): Fastify's hooks no longer run for it, so its headers are set here.
 */
export function openEventStream(raw: ServerResponse, retryMs: number): EventStream {
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // Reverse proxies (nginx) would otherwise hold events back to fill a buffer.
    'x-accel-buffering': 'no',
    connection: 'keep-alive',
  });
  raw.write(`retry: ${retryMs}\n\n`);
  const write = (chunk: string) => {
    if (raw.destroyed || raw.writableEnded) return;
    if (raw.writableLength > MAX_BUFFERED_BYTES) {
      raw.destroy();
      return;
    }
    raw.write(chunk);
  };
  return {
    // JSON.stringify never emits a raw line break, so one `data:` line always holds the event.
    send: (event, id, data) => write(`event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`),
    end: () => raw.end(),
  };
}
