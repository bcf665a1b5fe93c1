import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccessClaims } from './access-token.js';
import { GatehouseError } from './errors.js';
import { answerFor } from './answer.js';
import { refuseTokenInQuery } from './bearer.js';
import type { Verifier } from './verifier.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's access-token claims, on routes behind `fastifyAuth`. */
    gatehouse?: AccessClaims;
  }
}

export type FastifyAuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/**
 * An `onRequest` hook, for the whole app (`app.addHook('onRequest', fastifyAuth(verifier))`) or
 * one route (`{ onRequest: fastifyAuth(verifier) }`): sets `request.gatehouse`, or answers with
 * Gatehouse's own problem+json error. Anything but a GatehouseError is left to the app's error
 * handler.
 */
export function fastifyAuth(verifier: Pick<Verifier, 'authenticate'>): FastifyAuthHook {
  return async function gatehouseAuth(request, reply) {
    try {
      refuseTokenInQuery(request.query);
      request.gatehouse = await verifier.authenticate(request.headers.authorization);
      return undefined;
    } catch (error) {
      if (!(error instanceof GatehouseError)) throw error;
      const answer = answerFor(error);
      // The JSON.stringify serializer, as Gatehouse uses: a route's response schema for the
      // status must not reshape the problem, nor Fastify add a charset Gatehouse does not send.
      return reply.code(answer.status).headers(answer.headers).serializer(JSON.stringify).send(answer.body);
    }
  };
}
