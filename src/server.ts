import { runCli } from './cli/main.js';

// `npm start` (node dist/server.js): the same as `gatehouse serve`, one process. The logic
// lives in the CLI's serve command (src/cli/commands/serve.ts), so both stay one thing.
void runCli(['serve']).then((code) => process.exit(code));
