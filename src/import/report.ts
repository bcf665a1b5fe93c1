import { SESSION_SKIP_REASONS, USER_SKIP_REASONS, type SessionSkipReason, type UserSkipReason } from './plan.js';

/**
 * What an import did, or (dry run) would do: the same counts either way, so a dry run is a
 * preview of the real run against the same data. Printed on stdout, as text or `--json`.
 */
export interface ImportReport {
  source: string;
  dryRun: boolean;
  /** Which source table and column each part was read from. */
  columns: Record<string, Record<string, string>>;
  users: {
    imported: number;
    /** Imported by an earlier run: left as they are (but for a password changed in the source since). */
    alreadyImported: number;
    /** Already imported, whose hash changed in the source and was still the imported one here. */
    passwordsUpdated: number;
    skipped: Record<UserSkipReason, number>;
  };
  sessions: {
    imported: number;
    alreadyImported: number;
    skipped: Record<SessionSkipReason, number>;
  };
  /** The source ids of the users skipped, with why (the first MAX_LISTED; `--json` only). */
  skippedUsers: Array<{ sourceId: string; reason: UserSkipReason }>;
  skippedUsersTruncated: boolean;
}

const MAX_LISTED = 10_000;

export function emptyReport(source: string, dryRun: boolean, columns: ImportReport['columns']): ImportReport {
  return {
    source,
    dryRun,
    columns,
    users: { imported: 0, alreadyImported: 0, passwordsUpdated: 0, skipped: zeros(USER_SKIP_REASONS) },
    sessions: { imported: 0, alreadyImported: 0, skipped: zeros(SESSION_SKIP_REASONS) },
    skippedUsers: [],
    skippedUsersTruncated: false,
  };
}

export function skipUser(report: ImportReport, sourceId: string, reason: UserSkipReason): void {
  report.users.skipped[reason]++;
  if (report.skippedUsers.length < MAX_LISTED) report.skippedUsers.push({ sourceId, reason });
  else report.skippedUsersTruncated = true;
}

export function skipSessions(report: ImportReport, skipped: Partial<Record<SessionSkipReason, number>>): void {
  for (const [reason, n] of Object.entries(skipped) as Array<[SessionSkipReason, number]>) report.sessions.skipped[reason] += n;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** For people: a few lines, the reasons in words, only those that occurred. */
export function reportText(report: ImportReport): string {
  const verb = report.dryRun ? 'to import' : 'imported';
  const reasons = (counts: Record<string, number>) =>
    Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([reason, n]) => `${n} ${reason.replaceAll('_', ' ')}`)
      .join(', ');
  const { users, sessions } = report;
  const lines = [
    `gatehouse import from ${report.source}${report.dryRun ? ' (dry run: nothing was written)' : ''}`,
    `users:    ${users.imported} ${verb}, ${users.alreadyImported} already imported, ${sum(users.skipped)} skipped`,
  ];
  if (sum(users.skipped) > 0) lines.push(`  skipped: ${reasons(users.skipped)}`);
  if (users.passwordsUpdated > 0)
    lines.push(`  ${users.passwordsUpdated} already imported ${report.dryRun ? 'would get' : 'got'} the password hash changed in the source since`);
  lines.push(`sessions: ${sessions.imported} ${verb}, ${sessions.alreadyImported} already imported, ${sum(sessions.skipped)} skipped`);
  if (sum(sessions.skipped) > 0) lines.push(`  skipped: ${reasons(sessions.skipped)}`);
  if (report.skippedUsers.length > 0) lines.push('The skipped users are listed by source id with --json.');
  return `${lines.join('\n')}\n`;
}

/** For scripts: snake_case, every reason present (zero or not), so a script can read any count. */
export function reportJson(report: ImportReport): string {
  return `${JSON.stringify(
    {
      source: report.source,
      dry_run: report.dryRun,
      columns: report.columns,
      users: {
        imported: report.users.imported,
        already_imported: report.users.alreadyImported,
        passwords_updated: report.users.passwordsUpdated,
        skipped: report.users.skipped,
      },
      sessions: { imported: report.sessions.imported, already_imported: report.sessions.alreadyImported, skipped: report.sessions.skipped },
      skipped_users: report.skippedUsers.map((u) => ({ source_id: u.sourceId, reason: u.reason })),
      skipped_users_truncated: report.skippedUsersTruncated,
    },
    null,
    2,
  )}\n`;
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}
