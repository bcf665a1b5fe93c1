import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runGatehouse, spawnGatehouse } from '../helpers/cli.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';

/**
 * `gatehouse mail test`, run in-process (runCli, with its own environment and directory) against
 * a real SMTP server on loopback, with no database anywhere: what an operator sees when
 * checking that mail leaves, and that it never shows the SMTP password. One run spawns the real
 * binary, for the templates and nodemailer as dist/ finds them.
 */

const SMTP_USER = 'gatehouse';
const SMTP_PASSWORD = 'the smtp p@ssword/of this relay';

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'gatehouse-cli-mail-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const mailTest = (to: string, env: Record<string, string> = {}) => runGatehouse(['mail', 'test', '--to', to], { cwd, env });
const withCredentials = (smtp: TestSmtpServer, password: string) => `smtp://${SMTP_USER}:${encodeURIComponent(password)}@127.0.0.1:${smtp.port}?starttls=off`;

describe('gatehouse mail test, through a real SMTP server', () => {
  let smtp: TestSmtpServer;
  beforeEach(async () => {
    smtp = await startSmtpServer({ credentials: { user: SMTP_USER, pass: SMTP_PASSWORD } });
  });
  afterEach(() => smtp.close());

  it('sends the test message at once, and prints where it went and what the server answered', async () => {
    const run = await mailTest('Ann@Example.com', {
      GATEHOUSE_SMTP_URL: withCredentials(smtp, SMTP_PASSWORD),
      GATEHOUSE_PUBLIC_URL: 'https://auth.example.com',
    });
    expect(run.code, run.stderr).toBe(0);
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['Ann@example.com']);
    expect(mail!.from).toBe('no-reply@auth.example.com');
    expect(mail!.parsed.subject).toBe('A test message from Gatehouse');
    expect(mail!.parsed.text).toContain('https://auth.example.com');
    expect(run.stdout).toContain(`through 127.0.0.1:${smtp.port} (no TLS)`);
    expect(run.stdout).toMatch(/^gatehouse: the server answered: 250 \S.*$/m);
    expect(run.stdout + run.stderr).not.toContain('p@ssword');
  });

  it('fails with exit code 1 and the server’s refusal when the login is refused, never printing the password', async () => {
    const wrong = 'a wrong p@ss/word';
    const run = await mailTest('ann@example.com', { GATEHOUSE_SMTP_URL: withCredentials(smtp, wrong) });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(`^gatehouse: the test message to ann@example.com was not sent through 127\\.0\\.0\\.1:${smtp.port} \\(no TLS\\): EAUTH 535 .+\\n$`),
    );
    for (const spelling of [wrong, encodeURIComponent(wrong), 'p@ss', 'p%40ss']) expect(run.stderr).not.toContain(spelling);
    expect(smtp.received).toEqual([]);
  });
});

describe('gatehouse mail test, without SMTP', () => {
  it('writes the message to an .eml file under ./data/mail when GATEHOUSE_SMTP_URL is not set, and prints its path', async () => {
    const run = await mailTest('ann@example.com');
    expect(run.code, run.stderr).toBe(0);
    const dir = join(cwd, 'data', 'mail');
    const [file] = readdirSync(dir);
    expect(file).toMatch(/\.eml$/);
    expect(run.stdout).toContain(`to ${join(dir, file!)}\n`);
    expect(run.stdout).toContain('mail does not leave this machine');
    expect(readFileSync(join(dir, file!), 'utf8')).toContain('Subject: A test message from Gatehouse');
    // Private to the operator, as every message file is.
    expect(statSync(join(dir, file!)).mode & 0o777).toBe(0o600);
  });

  it('fails with exit code 1 and says so when mail is off', async () => {
    const run = await mailTest('ann@example.com', { GATEHOUSE_MAIL: 'off' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('gatehouse: mail is off (GATEHOUSE_MAIL=off): there is nothing to test; unset it and set GATEHOUSE_SMTP_URL to send mail\n');
  });

  it('fails with exit code 1 when nothing listens at GATEHOUSE_SMTP_URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const run = await mailTest('ann@example.com', { GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${port}?starttls=off` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ECONNREFUSED/);
  });

  it.each([
    [['mail', 'test'], 'gatehouse: --to is required: --to ADDRESS (see: gatehouse mail test --help)'],
    [['mail', 'test', '--to', 'ann'], 'gatehouse: --to must be an email address such as ann@example.com; got "ann" (see: gatehouse mail test --help)'],
    [['mail', 'test', '--to', 'ann@example.com\u200b'], expect.stringMatching(/^gatehouse: --to must be an email address/)],
    [['mail'], 'gatehouse: mail needs a command: test (see: gatehouse mail --help)'],
  ])('refuses `gatehouse %j` as wrong usage (exit code 2), sending nothing', async (args, line) => {
    const run = await runGatehouse(args, { cwd, env: {} });
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd()).toEqual(line);
    expect(() => readdirSync(join(cwd, 'data'))).toThrow();
  });
});

describe('gatehouse mail test, as the real binary', () => {
  let smtp: TestSmtpServer;
  afterAll(() => smtp?.close());

  it('sends the message and exits 0', async () => {
    smtp = await startSmtpServer();
    const run = await spawnGatehouse(['mail', 'test', '--to', 'ann@example.com'], { cwd, env: { GATEHOUSE_SMTP_URL: smtp.url } });
    expect(run.code, run.stderr).toBe(0);
    expect((await smtp.waitFor(1))[0]!.parsed.subject).toBe('A test message from Gatehouse');
    expect(run.stdout).toMatch(/^gatehouse: the server answered: 250 /m);
  });
});
