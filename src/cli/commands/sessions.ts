import type { CommandGroup } from '../command.js';
import { sessionsList } from './sessions-list.js';
import { sessionsRevoke } from './sessions-revoke.js';

export const sessions: CommandGroup = {
  name: 'sessions',
  summary: "list an account's sessions, sign them out",
  description: `An account's sessions, by its email, on the database at DATABASE_URL (default: SQLite
at ./data/gatehouse.db), with or without a server running on it.`,
  subcommands: [sessionsList, sessionsRevoke],
};
