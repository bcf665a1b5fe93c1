import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message as the SMTP server received it: the envelope, and the message parsed by mailparser. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw bytes as they came over SMTP. */
  raw: Buffer;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  /** GATEHOUSE_SMTP_URL for this server (no TLS on loopback: `?starttls=off`). */
  url: string;
  received: ReceivedMail[];
  /** From now on, refuse every message with `code` (by default 451, a temporary error; 550 is for good), or accept them again. */
  refuse(refusing: boolean, code?: number): void;
  /** Resolves once `count` messages in all have been received, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /**
   * The `nth` (1-based) message received whose text part has a link starting with `prefix`,
   * once it has come: what a test wants among the other mail an account gets (its
   * verification link, new-device alerts), whatever order they come in.
   */
  waitForLink(prefix: string, nth?: number, timeoutMs?: number): Promise<{ mail: ReceivedMail; link: string; token: string }>;
  /** How many messages received so far have a link starting with `prefix`. */
  countLinks(prefix: string): number;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package, which mail systems nobody here
 * wrote are built on), holding what it receives in memory. With `credentials`, it requires
 * AUTH with them.
 */
export async function startSmtpServer(options: { credentials?: { user: string; pass: string } } = {}): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  let refusing = false;
  let refusal = 451;
  const server = new SMTPServer({
    hideSTARTTLS: true,
    authOptional: options.credentials === undefined,
    // The plain AUTH methods need TLS unless this says otherwise: loopback only, in tests.
    allowInsecureAuth: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const ok = auth.username === options.credentials?.user && auth.password === options.credentials?.pass;
      callback(ok ? null : new Error('Invalid username or password'), ok ? { user: auth.username } : undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (refusing) {
          const error = new Error(refusal >= 500 ? 'No such mailbox' : 'Try again later') as Error & { responseCode: number };
          error.responseCode = refusal;
          return callback(error);
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw)
          .then((parsed) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw,
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          })
          .catch((error: Error) => callback(error));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  const auth = options.credentials ? `${encodeURIComponent(options.credentials.user)}:${encodeURIComponent(options.credentials.pass)}@` : '';
  return {
    port,
    url: `smtp://${auth}127.0.0.1:${port}?starttls=off`,
    received,
    refuse: (value, code = 451) => {
      refusing = value;
      refusal = code;
    },
    waitFor(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          cleanup();
          resolve(received.slice(0, count));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`expected ${count} messages within ${timeoutMs} ms; received ${received.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async waitForLink(prefix, nth = 1, timeoutMs = 10_000) {
      const matching = () => received.filter((m) => (m.parsed.text ?? '').includes(prefix));
      for (const deadline = performance.now() + timeoutMs; matching().length < nth; ) {
        if (performance.now() > deadline) throw new Error(`expected ${nth} messages with a link to ${prefix}; received ${matching().length}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 50);
          waiters.add(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const mail = matching()[nth - 1]!;
      const link = linkIn(mail, prefix);
      return { mail, link, token: new URL(link).hash.replace(/^#token=/, '') };
    },
    countLinks: (prefix) => received.filter((m) => (m.parsed.text ?? '').includes(prefix)).length,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text part that starts with `prefix`. */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const text = mail.parsed.text ?? '';
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${escaped}\\S*`).exec(text);
  if (!match) throw new Error(`no link starting with ${prefix} in: ${text}`);
  return match[0];
}
