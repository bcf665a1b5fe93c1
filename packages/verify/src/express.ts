import type { AccessClaims } from './access-token.js';
import { GatehouseError } from './errors.js';
import { answerFor } from './answer.js';
import { refuseTokenInQuery } from './bearer.js';
import type { Verifier } from './verifier.js';

declare global {
  namespace Express {
    interface Request {
      /** The caller's access-token claims, on routes behind `expressAuth`. */
      gatehouse?: AccessClaims;
    }
  }
}

/** What the middleware uses of Express's request: written here so that nothing of Express is imported. */
export interface ExpressLikeRequest {
  headers: { authorization?: string | undefined };
  query?: unknown;
  gatehouse?: AccessClaims;
}

/** What the middleware uses of Express's response (Node's own ServerResponse API). */
export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(body: string): unknown;
}

export type ExpressAuthMiddleware = (request: ExpressLikeRequest, response: ExpressLikeResponse, next: (error?: unknown) => void) => Promise<void>;

/**
 * Express middleware (4 or 5), for the whole app (`app.use(expressAuth(verifier))`) or one route:
 * sets `req.gatehouse`, or answers with Gatehouse's own problem+json error. Anything but a
 * GatehouseError goes to `next(error)`.
 */
export function expressAuth(verifier: Pick<Verifier, 'authenticate'>): ExpressAuthMiddleware {
  return async function gatehouseAuth(request, response, next) {
    let claims: AccessClaims;
    try {
      refuseTokenInQuery(request.query);
      claims = await verifier.authenticate(request.headers.authorization);
    } catch (error) {
      if (!(error instanceof GatehouseError)) return next(error);
      const answer = answerFor(error);
      response.statusCode = answer.status;
      for (const [name, value] of Object.entries(answer.headers)) response.setHeader(name, value);
      response.end(JSON.stringify(answer.body));
      return;
    }
    request.gatehouse = claims;
    next();
  };
}
