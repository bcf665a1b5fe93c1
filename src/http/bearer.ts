/**
 * The Authorization header and the URL, read as @gatehouse/verify reads them: one rule for
 * Gatehouse's routes, its service and metrics checks, and the resource servers that verify its
 * tokens, so a header one accepts the others accept too.
 */
export { bearerToken, hasTokenInQuery, readBearer, refuseTokenInQuery } from '@gatehouse/verify/bearer';
