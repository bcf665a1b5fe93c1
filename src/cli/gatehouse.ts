#!/usr/bin/env node
import { runCli } from './main.js';

// The package's `bin`. Exiting outright once a command is done, as `npm start` always has: a
// server that has closed its database and sockets has nothing left to wait for, and a handle
// some library left open must not keep a stopped server alive.
void runCli(process.argv.slice(2)).then((code) => process.exit(code));
