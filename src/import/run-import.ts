import { deviceKey, newEvent } from '../core/activity.js';
import { SECOND } from '../core/clock.js';
import type { Locator } from '../geo/locator.js';
import { isBcryptHash } from '../passwords/bcrypt.js';
import type { ImportedSession, ImportStore } from '../storage/ports/imports.js';
import type { UserStore } from '../storage/ports/users.js';
import { blacklistedTokenIds } from './blacklist.js';
import { duplicateEmailKeys } from './duplicate-emails.js';
import { checkLogins, checkUser, clientOf, emailOf, newUserFrom, passwordHashProblem, sessionFrom, type ImportPolicy, type UserSkipReason } from './plan.js';
import { emptyReport, skipSessions, skipUser, type ImportReport } from './report.js';
import type { SourceDevice, SourceLogin, SourceReader, SourceUser } from './source-reader.js';

export interface ImportRun {
  reader: SourceReader;
  /** The Gatehouse database; a dry run only reads it. */
  store: ImportStore & Pick<UserStore, 'findUserById'>;
  /** The source's name (`--source`): what `imported_rows` files its rows under. */
  source: string;
  dryRun: boolean;
  /** `--emails-verified`: the old app proved its addresses, so the accounts come verified (by default they do not). */
  emailsVerified?: boolean;
  policy: ImportPolicy;
  locator: Locator;
  now: number;
  /** Told of each user done. */
  onUser?: () => void;
  /** Users read per page. */
  batchSize?: number;
}

/** Who `actor` names on the `account_imported` event: no person, the command line (as `gatehouse user …` does). */
const ACTOR = 'cli';

/**
 * Brings the source's users and their live logins into Gatehouse, one user per transaction
 * (with its sessions), page by page. A dry run makes every decision the real run would, against
 * the same data, and writes nothing. Safe to run again: rows imported before are found in
 * `imported_rows` and left alone, so a rerun brings only what is new.
 */
export async function runImport(run: ImportRun): Promise<ImportReport> {
  const { reader, store, source, policy, now } = run;
  const { layout } = reader;
  const size = run.batchSize ?? 500;
  const report = emptyReport(source, run.dryRun, {
    [layout.users.name]: layout.users.mapping,
    [layout.logins.name]: layout.logins.mapping,
    [layout.blacklist.name]: layout.blacklist.mapping,
  });
  const duplicates = await duplicateEmailKeys(() => reader.emails(size));
  // Only a login younger than the session lifetime can become a session, and a token is
  // blacklisted after its login began: older blacklist rows cannot matter, and are not read.
  const createdAfter = new Date(now - policy.maxAgeSeconds * SECOND);
  const activeAfter = new Date(now - policy.idleTtlSeconds * SECOND);
  const blacklisted = new Set<string>();
  for await (const tokens of reader.blacklist(createdAfter, size)) {
    for (const token of tokens) for (const id of blacklistedTokenIds(token)) blacklisted.add(id);
  }

  for await (const users of reader.users(size)) {
    const keys = users.map((u) => u.key);
    const importedUsers = await store.findImportedRows(
      source,
      layout.users.name,
      users.map((u) => u.id),
    );
    const taken = await store.findTakenEmailKeys(users.flatMap((u) => emailOf(u)?.key ?? []));
    const logins = await reader.logins(keys, createdAfter, activeAfter);
    report.sessions.skipped.revoked += logins.revoked;
    report.sessions.skipped.expired += logins.expired;
    const importedLogins = await store.findImportedRows(
      source,
      layout.logins.name,
      logins.candidates.map((l) => l.id),
    );
    const loginsOf = groupBy(logins.candidates, (l) => l.userId);
    const devicesOf = groupBy(await reader.devices(keys, createdAfter), (d) => d.userId);

    for (const user of users) {
      const candidates = loginsOf.get(user.id) ?? [];
      const fresh = candidates.filter((l) => !importedLogins.has(l.id));
      report.sessions.alreadyImported += candidates.length - fresh.length;
      const verdicts = checkLogins(fresh, policy, now, blacklisted);
      skipSessions(report, verdicts.skipped);
      const context = { run, report, logins: verdicts.sessions, devices: devicesOf.get(user.id) ?? [] };
      const existing = importedUsers.get(user.id);
      if (existing !== undefined) await updateUser(context, user, existing);
      else await importUser(context, user, duplicates, taken);
      run.onUser?.();
    }
  }
  return report;
}

interface UserContext {
  run: ImportRun;
  report: ImportReport;
  /** The user's logins that are to become sessions. */
  logins: SourceLogin[];
  devices: SourceDevice[];
}

async function importUser({ run, report, logins, devices }: UserContext, user: SourceUser, duplicates: Set<string>, taken: Set<string>): Promise<void> {
  const checked = checkUser(user, duplicates, taken);
  if ('skip' in checked) {
    skipUser(report, user.id, checked.skip);
    report.sessions.skipped.user_skipped += logins.length;
    return;
  }
  const { layout } = run.reader;
  const account = {
    ...newUserFrom({ ...user, passwordHash: user.passwordHash as string }, checked.email, run.now),
    emailVerifiedAt: run.emailsVerified ? run.now : null,
  };
  const sessions = importedSessions(run, logins, account.id);
  if (run.dryRun) {
    report.users.imported++;
    report.sessions.imported += sessions.length;
    return;
  }
  const outcome = await run.store.importUser({
    source: run.source,
    userTable: layout.users.name,
    sessionTable: layout.logins.name,
    sourceId: user.id,
    user: account,
    sessions,
    devices: knownDevices(devices, run.locator),
    events: [
      newEvent(
        'account_imported',
        run.now,
        { userId: account.id, actor: ACTOR, detail: { source: run.source, source_id: user.id, sessions: sessions.length } },
        false,
      ),
    ],
    at: run.now,
  });
  // The other two outcomes are races with another writer since this page was read: an account
  // registered with the email, or another import run that got there first.
  if (outcome === 'imported') {
    report.users.imported++;
    report.sessions.imported += sessions.length;
  } else if (outcome === 'email_taken') {
    skipUser(report, user.id, 'email_taken');
    report.sessions.skipped.user_skipped += sessions.length;
  } else {
    report.users.alreadyImported++;
    report.sessions.alreadyImported += sessions.length;
  }
}

/**
 * A user an earlier run imported: its logins since, and a password changed in the source since
 * (which the owner must not find the old one still opens here), as long as they have not
 * signed in here yet. Nothing else of the account is touched: it is Gatehouse's now.
 */
async function updateUser({ run, report, logins, devices }: UserContext, user: SourceUser, userId: string): Promise<void> {
  const skip = (reason: UserSkipReason) => {
    skipUser(report, user.id, reason);
    report.sessions.skipped.user_skipped += logins.length;
  };
  // Deleted in the source since: it gets nothing more, as a first import would give it nothing.
  // Its account here stays as it is (Gatehouse's to disable); the report lists it.
  if (user.deleted) return skip('deleted_in_source');
  const account = await run.store.findUserById(userId);
  if (!account) {
    // Deleted here since: it stays deleted.
    report.users.alreadyImported++;
    report.sessions.skipped.user_skipped += logins.length;
    return;
  }
  // Still the bcrypt hash an earlier run imported (its owner has not signed in here since), and
  // another in the source now: held to the first import's rule, or a hash sign-in would not
  // verify (or one that ties up a worker for hours per attempt) would come in this way. One that
  // fails it is not taken: the user is skipped, the hash imported before stays.
  const changed = isBcryptHash(account.passwordHash) && user.passwordHash !== account.passwordHash;
  const problem = changed ? passwordHashProblem(user.passwordHash) : undefined;
  if (problem) return skip(problem);
  report.users.alreadyImported++;
  const sessions = importedSessions(run, logins, userId);
  if (sessions.length === 0 && !changed) return;
  if (run.dryRun) {
    report.sessions.imported += sessions.length;
    if (changed) report.users.passwordsUpdated++;
    return;
  }
  const result = await run.store.updateImportedUser({
    source: run.source,
    sessionTable: run.reader.layout.logins.name,
    userId,
    sessions,
    devices: knownDevices(devices, run.locator),
    ...(changed ? { passwordHash: { imported: account.passwordHash, current: user.passwordHash as string } } : {}),
    at: run.now,
  });
  if (!result) {
    report.sessions.skipped.user_skipped += sessions.length;
    return;
  }
  report.sessions.imported += result.sessions;
  report.sessions.alreadyImported += sessions.length - result.sessions;
  if (result.passwordReplaced) report.users.passwordsUpdated++;
}

function importedSessions(run: ImportRun, logins: SourceLogin[], userId: string): ImportedSession[] {
  return logins.map((login) => ({ sourceId: login.id, session: sessionFrom(login, userId, run.policy, run.now, run.locator) }));
}

/** The user's devices in the old app as core device keys, each with the last time it was used. */
function knownDevices(devices: SourceDevice[], locator: Locator): Array<{ key: string; at: number }> {
  const latest = new Map<string, number>();
  for (const device of devices) {
    const key = deviceKey(clientOf(device.userAgent, device.ip, locator));
    latest.set(key, Math.max(latest.get(key) ?? 0, device.at.getTime()));
  }
  return [...latest].map(([key, at]) => ({ key, at }));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(item);
  }
  return groups;
}
