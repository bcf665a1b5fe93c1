// The cache of verified tokens is the verifier package's (packages/verify/src/verified-token-cache.ts):
// Gatehouse's authentication and every resource server use the same one.
export { DEFAULT_CACHE_CAPACITY, VerifiedTokenCache, type VerifiedToken } from '@gatehouse/verify/verified-token-cache';
