/**
 * `gatehouse/verify`, kept working for services that import it from the server's package: the
 * verifier is its own package now, `@gatehouse/verify` (packages/verify/), which needs jose only.
 */
export * from '@gatehouse/verify';
