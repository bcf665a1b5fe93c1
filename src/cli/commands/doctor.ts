import { ConfigError, type Config } from '../../config.js';
import { localSecretPath } from '../../keys/local-secret.js';
import { command } from '../command.js';
import { configOf, say, type CliIo } from '../io.js';
import type { Check } from './doctor-checks.js';

export const doctor = command({
  name: 'doctor',
  summary: 'check the configuration, database, signing keys, clock and mail',
  usage: 'gatehouse doctor',
  description: `Checks what a node needs, one line per check (ok, warn or fail), and changes
nothing:
  config    the environment (and .env) loads, as the server would read it
  database  DATABASE_URL answers (a SQLite file that does not exist is not created)
  schema    every migration is applied (it says which are pending; it does not migrate)
  keys      a signing key exists and signs, every key opens with GATEHOUSE_SECRET (or,
            where it is not set, the local secret beside the database), and every key is
            sealed (a plain key fails when NODE_ENV=production)
  clock     within GATEHOUSE_CLOCK_TOLERANCE of the PostgreSQL server's clock, and on
            either database not behind times the database already holds
  mail      the SMTP server at GATEHOUSE_SMTP_URL answers, with STARTTLS as its
            ?starttls= asks and the login accepted (within 10 s; nothing is sent: use
            gatehouse mail test for that); a warning for .eml files, which do not leave
            this machine; ok when GATEHOUSE_MAIL=off
A warning is worth reading but does not stop a server from working.`,
  success: 'no check failed (warnings allowed)',
  options: {},
  async run(_options, io) {
    const checks: Check[] = [];
    let config: Readonly<Config>;
    try {
      config = configOf(io);
      checks.push(configCheck(config, io.cwd));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      checks.push({ name: 'config', status: 'fail', detail: error.message });
      return report(checks, io);
    }
    // Loaded here, not at the top: `gatehouse --help` should not wait for the database drivers or nodemailer.
    const { databaseChecks } = await import('./doctor-checks.js');
    checks.push(...(await databaseChecks(config, io)));
    const { mailCheck } = await import('./mail-check.js');
    checks.push(await mailCheck(config));
    return report(checks, io);
  },
});

function configCheck(config: Readonly<Config>, cwd: string): Check {
  const where = config.production ? 'NODE_ENV=production' : 'not production (NODE_ENV is not "production")';
  if (config.secret === undefined) {
    return {
      name: 'config',
      status: 'ok',
      detail: `loads; ${where}; GATEHOUSE_SECRET is not set: keys are sealed with the local secret in ${localSecretPath(config.database, cwd)}`,
    };
  }
  return { name: 'config', status: 'ok', detail: `loads; ${where}` };
}

function report(checks: Check[], io: CliIo): number {
  for (const check of checks) say(io, `${check.status.padEnd(5)}${check.name.padEnd(10)}${check.detail}`);
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
