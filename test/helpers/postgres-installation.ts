import type pg from 'pg';

const DAY = 86_400_000;

/**
 * The rows of an installation running at `now`, in the proportions of issue 16's (three sessions
 * and ten history events a user) if not its number: 2,000 users, as 200 or 20,000 give the same
 * plans. Of the sessions, a fifth were revoked in the last 60 days and a tenth ran out a month ago
 * (their expiry recorded), the rest are live. The history spans 430 days, so the workload's own,
 * 400 days old by its end, lies among it; the outbox holds the last six days' deliveries (a
 * fiftieth given up, a hundredth pending), the mail outbox a week of messages alike, and the
 * emailed links ten days' worth. Nothing else is past its retention.
 */
export async function fillInstallation(client: pg.Client, now: number): Promise<void> {
  const users = 2_000;
  await client.query(
    `insert into users (id, email, email_key, password_hash, role, created_at, updated_at, password_changed_at)
     select 'bulk-' || i, 'bulk-' || i || '@example.com', 'bulk-' || i || '@example.com', 'x', 'user', $1::bigint, $1::bigint, $1::bigint
       from generate_series(1, $2::int) i`,
    [now - 400 * DAY, users],
  );
  await client.query(
    `insert into sessions (id, user_id, created_at, authenticated_at, last_active_at, idle_expires_at, expires_at, revoked_at, revoked_reason,
                           ip, user_agent, device_type, device_label, refresh_hash, refresh_key, refresh_generation, expiry_recorded_at)
     select 'bulk-' || i, 'bulk-' || (i % $2::int + 1), t, t, t, t + 14 * $3::bigint, t + 90 * $3::bigint,
            case when i % 5 = 0 then $1::bigint - i % 60 * $3::bigint end, case when i % 5 = 0 then 'signed_out' end,
            '198.51.100.7', 'bulk', 'desktop', 'bulk', md5(i::text), md5(i::text), 0,
            case when i % 10 = 1 then t + 14 * $3::bigint end
       from generate_series(1, 3 * $2::int) i,
            lateral (select case when i % 10 = 1 then $1::bigint - 30 * $3::bigint else $1::bigint - i % 3600 * 1000 end as t) s`,
    [now, users, DAY],
  );
  await client.query(
    `insert into events (id, user_id, type, at, detail)
     select 'bulk-' || i, case when i % 100 <> 0 then 'bulk-' || (i % $2::int + 1) end, 'signed_in',
            case when i % 100 <> 0 then $1::bigint - i * 2591 % (430 * $3::bigint) else $1::bigint - i % $3::bigint end, '{}'
       from generate_series(1, 10 * $2::int) i`,
    [now, users, DAY],
  );
  await client.query(
    `insert into webhook_deliveries (event_id, type, created_at, attempts, next_attempt_at, delivered_at, gave_up_at)
     select id, 'new_device', at, 1, case when n % 100 = 0 then $1::bigint + 60000 else at end,
            case when n % 100 <> 0 and n % 50 <> 1 then at + 1000 end, case when n % 50 = 1 then at + 3600000 end
       from (select id, at, row_number() over (order by id) as n from events where id like 'bulk-%' and at > $1::bigint - 6 * $2::bigint) e`,
    [now, DAY],
  );
  // A week of mail, two messages a user, settled as the webhook outbox's are; and a reset or
  // verification link per user over the last ten days, most of them used, voided or expired.
  await client.query(
    `insert into mail_outbox (id, kind, recipient, user_id, data, created_at, attempts, next_attempt_at, sent_at, gave_up_at)
     select 'bulk-' || i, 'password_reset', 'bulk-' || (i % $2::int + 1) || '@example.com', 'bulk-' || (i % $2::int + 1), '{}', t, 1,
            case when i % 100 = 0 then $1::bigint + 60000 else t end,
            case when i % 100 <> 0 and i % 50 <> 1 then t + 1000 end, case when i % 50 = 1 then t + 3600000 end
       from generate_series(1, 2 * $2::int) i, lateral (select $1::bigint - i * 2591 % (7 * $3::bigint) as t) s`,
    [now, users, DAY],
  );
  await client.query(
    `insert into account_tokens (id, user_id, purpose, email, created_at, expires_at, used_at, voided_at)
     select 'bulk-' || i, 'bulk-' || i, case when i % 2 = 0 then 'password_reset' else 'email_verification' end, 'bulk-' || i || '@example.com',
            t, t + 1800000, case when i % 3 = 0 then t + 60000 end, case when i % 3 = 1 then t + 120000 end
       from generate_series(1, $2::int) i, lateral (select $1::bigint - i * 2591 % (10 * $3::bigint) as t) s`,
    [now, users, DAY],
  );
}
