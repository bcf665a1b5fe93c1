/**
 * How long requests in flight get to finish after SIGTERM before a server process exits anyway.
 * Its own file so the `serve --workers` primary, which waits a little longer than its workers,
 * can know it without loading the server.
 */
export const SHUTDOWN_GRACE_MS = 10_000;
