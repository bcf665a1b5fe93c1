import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../src/config.js';
import { createGatehouse, type Gatehouse } from '../../../src/gatehouse.js';
import { openStore, type KyselyStore } from '../../../src/storage/kysely/kysely-store.js';
import { testConfig } from '../../helpers/app.js';
import { testClock, type TestClock } from '../../helpers/clock.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../../helpers/databases.js';
import { instantHasher } from '../../helpers/hashers.js';

export interface Node {
  name: string;
  /** Where requests to this node go (test/hostile/helpers/ask.ts). */
  app: FastifyInstance;
  gatehouse: Gatehouse;
}

export interface Nodes {
  nodes: Node[];
  /** The node for the i-th request of a burst: the burst is spread over every node. */
  at(i: number): Node;
  clock: TestClock;
  config: Config;
  database: TestDatabase;
  /** A store of the test's own on the same database, to look at what the nodes wrote. */
  inspect: KyselyStore;
  /** Every node reads the revocations committed so far: "after the dust settles". */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How many nodes of one process can share a database. PostgreSQL: two, each with its own pool,
 * revocation view and LISTEN connection, as on two machines. SQLite: one, because two
 * connections to one file in one process wait for each other's write lock synchronously, on
 * the one thread that would have to release it (storage/kysely/sqlite-sync.ts); separate
 * processes on one SQLite file are test/hostile/races/two-processes.test.ts.
 */
export function nodeCount(kind: DatabaseKind): number {
  return kind === 'postgres' ? 2 : 1;
}

/**
 * Gatehouse nodes on one new database, sharing one test clock and the instant hasher (races
 * need hundreds of sign-ins; argon2 is not what they are about). Requests reach them through
 * inject: real processes over real sockets are test/hostile/races/two-processes.test.ts.
 */
export async function startNodes(kind: DatabaseKind, overrides: Partial<Config> = {}): Promise<Nodes> {
  const database = await createTestDatabase(kind);
  // Every racing account is registered from the one address inject uses: races are not what
  // the registration limit is about (test/http/routes/registration-limits.test.ts is).
  const config = testConfig({ database: database.location, registrationIpMax: 0, ...overrides });
  const clock = testClock();
  const nodes: Node[] = [];
  let inspect: KyselyStore | undefined;
  const close = async () => {
    for (const node of nodes) await node.gatehouse.close();
    await inspect?.close();
    await database.drop();
  };
  try {
    // One after the other: the first migrates the schema and creates the signing key.
    for (let i = 0; i < nodeCount(kind); i++) {
      const gatehouse = await createGatehouse(config, { clock, hasher: instantHasher(), logger: false });
      nodes.push({ name: String.fromCharCode(65 + i), app: gatehouse.app, gatehouse });
    }
    inspect = await openStore(database.location);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    nodes,
    at: (i) => nodes[i % nodes.length]!,
    clock,
    config,
    database,
    inspect,
    settle: async () => {
      await Promise.all(nodes.map((node) => node.gatehouse.sync.catchUp()));
    },
    close,
  };
}
