import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { KeyRing } from '../keys/key-ring.js';
import type { RevocationSync } from '../revocation/revocation-sync.js';
import type { RevocationView } from '../revocation/revocation-view.js';
import type { ServiceContext } from '../service/context.js';
import type { LastActivity } from '../service/last-activity.js';
import type { Store } from '../storage/store.js';
import { authenticator } from './plugins/authenticate.js';
import { frameworkError, registerErrorHandling } from './plugins/errors.js';
import { registerRequestLog } from './plugins/request-log.js';
import { activityRoutes } from './routes/activity.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { jwksRoutes } from './routes/jwks.js';
import { meRoutes } from './routes/me.js';
import { notMeRoutes } from './routes/not-me.js';
import { oauthRoutes } from './routes/oauth.js';
import { revocationRoutes } from './routes/revocations.js';
import { sessionRoutes } from './routes/sessions.js';
import { webRoutes } from '../web/routes.js';

export interface AppParts {
  ctx: ServiceContext;
  store: Store;
  keys: KeyRing;
  view: RevocationView;
  activity: LastActivity;
  sync: RevocationSync;
  trustProxy: boolean | number | string[];
  serviceKeys: readonly string[];
  /** Where people reach Gatehouse: the origin browser-mode requests must come from. */
  publicUrl: string;
  logger: FastifyServerOptions['logger'];
}

/** Design §6: 16 KiB is far more than any request of the API needs. */
export const BODY_LIMIT = 16 * 1024;

/** Builds the Fastify app; it never listens (server.ts does, tests use `inject`). */
export async function buildApp(parts: AppParts): Promise<FastifyInstance> {
  const app = Fastify({
    logger: parts.logger,
    // Fastify's two lines per request are replaced by one of ours (plugins/request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    // Fastify accepts a hop count at run time; its types only list the other forms.
    trustProxy: parts.trustProxy as FastifyServerOptions['trustProxy'],
    bodyLimit: BODY_LIMIT,
    // A slow client must not hold a connection (and its memory) for ever.
    requestTimeout: 30_000,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    frameworkErrors: frameworkError,
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: a text/plain body is how cross-site forms smuggle requests past CORS preflight.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('caller', null);

  registerErrorHandling(app);
  registerRequestLog(app);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // Tokens, session lists and account data must not sit in any cache.
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
  });

  const authenticate = authenticator(parts.ctx, parts.view, parts.activity, parts.sync);
  await app.register(authRoutes, { ctx: parts.ctx, authenticate, publicUrl: parts.publicUrl });
  await app.register(meRoutes, { ctx: parts.ctx, authenticate });
  await app.register(sessionRoutes, { ctx: parts.ctx, authenticate });
  await app.register(activityRoutes, { ctx: parts.ctx, authenticate });
  await app.register(jwksRoutes, { keys: parts.keys });
  await app.register(revocationRoutes, { ctx: parts.ctx, view: parts.view, sync: parts.sync, serviceKeys: parts.serviceKeys });
  await app.register(oauthRoutes, { ctx: parts.ctx, serviceKeys: parts.serviceKeys });
  await app.register(notMeRoutes, { ctx: parts.ctx });
  await app.register(healthRoutes, { store: parts.store, sync: parts.sync });
  await app.register(webRoutes);
  return app;
}
