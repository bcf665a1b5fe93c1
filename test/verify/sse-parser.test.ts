import { describe, expect, it } from 'vitest';
import { SseParser, type ServerSentEvent } from '../../packages/verify/src/sse-parser.js';

/** Feeds the chunks one by one and collects every event they complete. */
function parse(chunks: string[], parser = new SseParser()): ServerSentEvent[] {
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const STREAM = 'retry: 1000\n\nevent: revocations\nid: 17\ndata: {"revocations":[]}\n\nevent: heartbeat\nid: 18\ndata: {"cursor":"18"}\n\n';
const EXPECTED: ServerSentEvent[] = [
  { event: 'revocations', data: '{"revocations":[]}', lastEventId: '17' },
  { event: 'heartbeat', data: '{"cursor":"18"}', lastEventId: '18' },
];

describe('the SSE parser', () => {
  it('reads the events of a whole stream, with their type and id', () => {
    expect(parse([STREAM])).toEqual(EXPECTED);
  });

  it('gives the same events whatever the chunk boundaries, down to one character at a time', () => {
    expect(parse([...STREAM])).toEqual(EXPECTED);
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(parse([STREAM.slice(0, cut), STREAM.slice(cut)])).toEqual(EXPECTED);
    }
  });

  it('accepts CRLF, CR and LF line endings, mixed, even with a CRLF split between two chunks', () => {
    const crlf = STREAM.replaceAll('\n', '\r\n');
    expect(parse([crlf])).toEqual(EXPECTED);
    expect(parse([...crlf])).toEqual(EXPECTED);
    expect(parse([STREAM.replaceAll('\n', '\r')])).toEqual(EXPECTED);
    expect(parse(['event: heartbeat\r', '\ndata: a\r', '\n\r', '\n'])).toEqual([{ event: 'heartbeat', data: 'a', lastEventId: '' }]);
    // A lone CR ends a line even when the next chunk starts with a new line's text.
    expect(parse(['data: a\r', 'data: b\r\r'])).toEqual([{ event: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('ignores comment lines, and unknown fields', () => {
    expect(parse([': keep-alive\n\n:another\nfoo: bar\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', lastEventId: '' }]);
  });

  it('joins the lines of a multi-line data field with LF, and strips only one leading space', () => {
    expect(parse(['data: first\ndata:second\ndata:  third\ndata\n\n'])).toEqual([{ event: 'message', data: 'first\nsecond\n third\n', lastEventId: '' }]);
  });

  it('keeps the last event id for later events that carry none, and ignores an id holding NUL', () => {
    const events = parse(['id: 5\ndata: a\n\ndata: b\n\nid: 6\0\ndata: c\n\nid\ndata: d\n\n']);
    expect(events.map((e) => e.lastEventId)).toEqual(['5', '5', '5', '']);
  });

  it('dispatches nothing for an event without data, yet keeps its id', () => {
    expect(parse(['event: heartbeat\nid: 9\n\ndata: x\n\n'])).toEqual([{ event: 'message', data: 'x', lastEventId: '9' }]);
  });

  it('keeps the retry time the server asked for, when it is a whole number of milliseconds', () => {
    const parser = new SseParser();
    parse(['retry: 1000\n\n'], parser);
    expect(parser.retry).toBe(1000);
    parse(['retry: soon\n\nretry: 1.5\n\n'], parser);
    expect(parser.retry).toBe(1000);
  });

  it('waits for the blank line: an event is not dispatched until it ends', () => {
    const parser = new SseParser();
    expect(parser.push('event: revocations\ndata: {}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'revocations', data: '{}', lastEventId: '' }]);
  });

  it('skips a byte order mark at the start of the stream', () => {
    expect(parse(['\uFEFFdata: x\n\n'])).toEqual([{ event: 'message', data: 'x', lastEventId: '' }]);
  });

  it('refuses an event larger than its limit, so a stream without line ends cannot exhaust memory', () => {
    const parser = new SseParser(1000);
    expect(() => parser.push('data: ' + 'x'.repeat(2000))).toThrow(/larger than 1000 bytes/);
    const lines = new SseParser(1000);
    expect(() => {
      for (let i = 0; i < 20; i++) lines.push(`data: ${'y'.repeat(100)}\n`);
    }).toThrow(/larger than 1000 bytes/);
  });
});
