import type { AccessClaims } from '../../src/core/access-token.js';
import { GatehouseError, type ErrorCode } from '../../src/core/errors.js';
import type { Verifier } from '@gatehouse/verify';

export const CLAIMS: AccessClaims = { userId: 'user-ann', sessionId: 'session-laptop', tokenId: 'token-1', issuedAt: 0, expiresAt: 600_000, authTime: 0 };

/**
 * A verifier for testing the Fastify and Express hooks alone: it accepts `Bearer good`, fails
 * like a bug on `Bearer boom`, and otherwise refuses with the code the header names
 * (`Bearer <code>`), or `token_missing` without one.
 */
export const stubVerifier: Pick<Verifier, 'authenticate'> = {
  authenticate: async (header) => {
    if (header === 'Bearer good') return CLAIMS;
    if (header === 'Bearer boom') throw new Error('a bug, not a refusal');
    throw new GatehouseError((header?.slice(7) || 'token_missing') as ErrorCode, 'refused by the stub');
  },
};
