/** One dispatched server-sent event (HTML Living Standard, "Server-sent events", §9.2.6). */
export interface ServerSentEvent {
  /** `message` when the event named no type. */
  event: string;
  data: string;
  /** The last event ID buffer at dispatch: it persists across events until an `id:` changes it. */
  lastEventId: string;
}

/** Far above any real message of the revocation feed; a stream that exceeds it is broken or hostile. */
export const DEFAULT_MAX_EVENT_BYTES = 16 * 1024 * 1024;

/**
 * An incremental parser of a `text/event-stream` body: feed it text in chunks of any size (a
 * chunk may end in the middle of a line, or between the CR and LF of one line ending) and it
 * returns the events each chunk completes. Lines end in CRLF, LF or CR; comments start with
 * `:`; `data:` lines join with LF; an event without data is not dispatched.
 */
export class SseParser {
  private buffer = '';
  /** The previous chunk ended in CR: an LF at the start of the next one ends nothing more. */
  private skipLeadingLf = false;
  private first = true;
  private eventType = '';
  private data: string[] = [];
  private dataLength = 0;
  private lastEventId = '';
  /** The reconnection time in ms the server last asked for with `retry:`, if it did. */
  retry: number | undefined;

  constructor(private readonly maxEventBytes = DEFAULT_MAX_EVENT_BYTES) {}

  push(chunk: string): ServerSentEvent[] {
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    if (this.skipLeadingLf && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.skipLeadingLf = false;
    // What was kept from the last chunk holds no line ending: scan only what is new.
    let i = this.buffer.length;
    this.buffer += chunk;
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      const event = this.line(this.buffer.slice(start, i));
      if (event) events.push(event);
      if (c === 0x0d) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 0x0a) i++;
        } else {
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
    // Without a limit, a server that never ends a line (or an event) would grow this without bound.
    if (this.buffer.length + this.dataLength > this.maxEventBytes) {
      throw new Error(`an event of the stream is larger than ${this.maxEventBytes} bytes`);
    }
    return events;
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        this.dataLength += value.length + 1;
        break;
      case 'id':
        // The standard ignores an id with NUL in it, so no server can plant one in the cursor.
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break; // unknown fields are ignored, as the standard says
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event: ServerSentEvent | undefined =
      this.data.length === 0
        ? undefined
        : {
            event: this.eventType === '' ? 'message' : this.eventType,
            data: this.data.join('\n'),
            lastEventId: this.lastEventId,
          };
    this.eventType = '';
    this.data = [];
    this.dataLength = 0;
    return event;
  }
}
