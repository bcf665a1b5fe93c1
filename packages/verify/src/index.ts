/**
 * @gatehouse/verify: Gatehouse access tokens checked inside another Node service, with sign-outs
 * taking effect there too. It imports jose and Node's built-ins only, never server code
 * (test/verify/dependencies.test.ts holds it to that); Gatehouse imports its token rules from here.
 */
export { createVerifier, type Verifier, type VerifierStatus } from './verifier.js';
export type { VerifierClock, VerifierOptions } from './options.js';
export { fastifyAuth, type FastifyAuthHook } from './fastify.js';
export { expressAuth, type ExpressAuthMiddleware, type ExpressLikeRequest, type ExpressLikeResponse } from './express.js';
export { answerFor, type Answer } from './answer.js';
export { GatehouseError, isGatehouseError, type ErrorCode } from './errors.js';
export type { AccessClaims } from './access-token.js';
export type { Problem } from './problem.js';
