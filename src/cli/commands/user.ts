import type { CommandGroup } from '../command.js';
import { userCreate } from './user-create.js';
import { userDisable } from './user-disable.js';
import { userEnable } from './user-enable.js';
import { userSetRole } from './user-set-role.js';

export const user: CommandGroup = {
  name: 'user',
  summary: 'create accounts, set roles, disable and enable them',
  description: `Accounts, by email, on the database at DATABASE_URL (default: SQLite at
./data/gatehouse.db), with or without a server running on it. Each change is in the
account's history with cli as the actor; sessions it ends reach running servers within
about a second.`,
  subcommands: [userCreate, userSetRole, userDisable, userEnable],
};
