import { randomBytes } from 'node:crypto';
import { GatehouseError } from '../../core/errors.js';
import { UsageError } from '../args.js';
import { command } from '../command.js';
import { configOf, say } from '../io.js';

export const mailTest = command({
  name: 'test',
  summary: 'send a test message now and say what the SMTP server answered',
  usage: 'gatehouse mail test --to ADDRESS',
  description: `Sends one message ("A test message from Gatehouse") to ADDRESS the way the server
sends mail (GATEHOUSE_SMTP_URL, GATEHOUSE_MAIL_FROM, GATEHOUSE_PRODUCT_NAME), but at once
and not through the outbox, and prints the outcome: the SMTP server's answer and where
it went (host, port, TLS), or the .eml file written when GATEHOUSE_SMTP_URL is not set.
It needs no database. A refusal (connection, STARTTLS, login, recipient) exits 1 with
the reason; the SMTP password is never printed. With GATEHOUSE_MAIL=off it exits 1.
Accepted by the server is not yet delivered: check the inbox, and the spam folder.`,
  success: 'the SMTP server accepted the message (or it was written to a file)',
  options: { to: { value: 'ADDRESS', description: 'the address to send it to' } },
  async run(options, io) {
    const to = options.to?.trim();
    if (to === undefined || to === '') throw new UsageError('--to is required: --to ADDRESS');
    const { parseEmail } = await import('../../core/email.js');
    let recipient: string;
    try {
      recipient = parseEmail(to, '/to').address;
    } catch (error) {
      if (error instanceof GatehouseError) throw new UsageError(`--to must be an email address such as ann@example.com; got ${JSON.stringify(to)}`);
      throw error;
    }
    const config = configOf(io);
    const { mail } = config;
    if (mail.kind === 'off') throw new Error('mail is off (GATEHOUSE_MAIL=off): there is nothing to test; unset it and set GATEHOUSE_SMTP_URL to send mail');

    // Loaded here, not at the top: `gatehouse --help` should not wait for nodemailer.
    const { newMail } = await import('../../core/mail.js');
    const { composeMail } = await import('../../mail/compose.js');
    const { openMailTransport } = await import('../../mail/transport.js');
    const { smtpFailure, smtpPlace } = await import('./mail-check.js');
    const now = io.clock.now();
    const queued = newMail('test', now, { recipient, userId: null });
    const message = composeMail(
      { ...queued, recipient, addressProved: false, attempts: 0, claimedUntil: now },
      // The test message carries no link, so any key will do: no database, no secret needed.
      {
        from: config.mailFrom,
        productName: config.productName,
        publicUrl: config.publicUrl,
        tokenKey: randomBytes(32),
        notMeLinks: { key: randomBytes(32), ttlSeconds: config.notMeLinkTtlSeconds, publicUrl: config.publicUrl },
      },
    );
    const transport = openMailTransport(mail);
    if (!transport) throw new Error('unreachable: mail is on');
    try {
      if (mail.kind === 'files') {
        const path = await transport.send(message);
        say(io, `gatehouse: wrote the test message for ${recipient} to ${path}`);
        say(io, 'gatehouse: GATEHOUSE_SMTP_URL is not set, so mail does not leave this machine');
        return 0;
      }
      let answer: string;
      try {
        answer = await transport.send(message);
      } catch (error) {
        throw new Error(`the test message to ${recipient} was not sent through ${smtpPlace(mail)}: ${smtpFailure(error, mail)}`);
      }
      say(io, `gatehouse: sent the test message to ${recipient} through ${smtpPlace(mail)}, from ${config.mailFrom}`);
      say(io, `gatehouse: the server answered: ${answer.replace(/\p{Cc}/gu, ' ').trim()}`);
      return 0;
    } finally {
      transport.close();
    }
  },
});
