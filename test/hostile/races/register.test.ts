import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD } from '../../helpers/app.js';
import { DATABASES } from '../../helpers/databases.js';
import { ask, expectRefusal, outcome, repeatInLanes, signInAt } from '../helpers/ask.js';
import { startNodes, type Nodes } from '../helpers/in-process-nodes.js';

/**
 * Issue 8, races: sign-ups of one email sent at the same moment, spread over the nodes and
 * spelt every way that names the same account (case, surrounding spaces, composed and
 * decomposed accents). 50 rounds of 5 per database, 4 rounds in flight at once: a unique index
 * decides, so one lost race would show as a second account, a 500, or an event of an account
 * that never was.
 */
const REPEATS = 50;
/** Rounds in flight at once (each on its own email). */
const LANES = 4;

/** Five spellings of one account's email, the composed and decomposed "é" among them. */
function spellings(n: number): string[] {
  const composed = `ren\u00e9.${n}@example.com`;
  const decomposed = `rene\u0301.${n}@example.com`;
  return [composed, decomposed, ` ${composed} `, composed.toUpperCase(), `Ren\u00e9.${n}@Example.COM`];
}

describe.each(DATABASES)('sign-ups of one email at the same moment on %s', (kind) => {
  let t: Nodes;
  beforeAll(async () => {
    t = await startNodes(kind);
  });
  afterAll(() => t?.close());

  it(`let exactly one of five win, ${REPEATS} times over, and leave no trace of the others`, async () => {
    const winners: Array<{ n: number; id: string }> = [];
    await repeatInLanes(REPEATS, LANES, async (n) => {
      const emails = spellings(n);
      const answers = await Promise.all(emails.map((email, i) => ask(t.at(i + n).app, 'POST', '/v1/auth/register', { body: { email, password: PASSWORD } })));
      const won = answers.filter((answer) => answer.status === 201);
      expect(won.map(outcome), answers.map(outcome).join(', ')).toEqual(['201']);
      for (const answer of answers) if (answer !== won[0]) expectRefusal(answer, 409, 'email_taken');
      winners.push({ n, id: won[0]!.body.user.id });
    });

    // One account per email, each with its one creation event and its one known device, and
    // nothing written for the accounts that lost.
    const db = t.inspect.db;
    const users = await db.selectFrom('users').select(['id', 'email_key']).execute();
    expect(users.map((u) => u.id).sort()).toEqual(winners.map((w) => w.id).sort());
    expect(new Set(users.map((u) => u.email_key)).size).toBe(REPEATS);
    const perUser = await db
      .selectFrom('events')
      .select(['user_id', 'type', sql<number>`count(*)`.as('n')])
      .groupBy(['user_id', 'type'])
      .execute();
    expect(perUser.filter((row) => row.type !== 'account_created' || Number(row.n) !== 1)).toEqual([]);
    expect(perUser).toHaveLength(REPEATS);
    const devices = await db.selectFrom('known_devices').select('user_id').execute();
    expect(devices.map((d) => d.user_id).sort()).toEqual(winners.map((w) => w.id).sort());

    // Each account is the one that answered 201: its password signs it in, whatever the spelling.
    await repeatInLanes(REPEATS, LANES, async (i) => {
      const winner = winners[i]!;
      const signedIn = await signInAt(t.at(i).app, spellings(winner.n)[(i + 2) % 5]!);
      expect(signedIn.userId).toBe(winner.id);
    });
  });
});
