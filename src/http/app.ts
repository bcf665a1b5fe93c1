import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import type { KeyRing } from '../keys/key-ring.js';
import type { GatehouseMetrics } from '../metrics/gatehouse-metrics.js';
import { registerRequestMetrics } from '../metrics/request-metrics.js';
import type { RevocationSync } from '../revocation/revocation-sync.js';
import type { RevocationView } from '../revocation/revocation-view.js';
import type { ServiceContext } from '../service/context.js';
import type { LastActivity } from '../service/last-activity.js';
import type { Store } from '../storage/store.js';
import { answerClientError } from './client-errors.js';
import { collectRoutes } from './openapi/collect-routes.js';
import { authenticator } from './plugins/authenticate.js';
import { frameworkError, registerErrorHandling } from './plugins/errors.js';
import { registerRequestLog } from './plugins/request-log.js';
import { activityRoutes } from './routes/activity.js';
import { adminRoutes } from './routes/admin.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { jwksRoutes } from './routes/jwks.js';
import { meRoutes } from './routes/me.js';
import { metricsRoutes } from './routes/metrics.js';
import { notMeRoutes } from './routes/not-me.js';
import { oauthRoutes } from './routes/oauth.js';
import { emailRoutes } from './routes/email.js';
import { openApiRoutes } from './routes/openapi.js';
import { passwordResetRoutes } from './routes/password-reset.js';
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
  metrics: GatehouseMetrics;
  /** GATEHOUSE_METRICS_TOKEN: what /metrics requires; undefined: it is open. */
  metricsToken: string | undefined;
  /** Where people reach Gatehouse: the origin browser-mode requests must come from. */
  publicUrl: string;
  logger: FastifyServerOptions['logger'];
  /** True once the node is shutting down (gatehouse.ts): answers end their connection, /readyz fails. */
  closing: () => boolean;
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
    // A request read while the node shuts down is answered like any other (with `Connection:
    // close`), not with a 503 its client cannot tell from a failure: connection-drain.ts decides
    // which connections still get to send one.
    return503OnClosing: false,
    frameworkErrors: frameworkError,
    // Requests the HTTP parser refuses: answered as Fastify does, logged without their bytes.
    clientErrorHandler: answerClientError,
  });
  app.setValidatorCompiler(TypeBoxValidatorCompiler);
  // JSON only: a text/plain body is how cross-site forms smuggle requests past CORS preflight.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('caller', null);

  // Before any route, so the OpenAPI document sees every one of them.
  const routes = collectRoutes(app);
  registerErrorHandling(app);
  registerRequestLog(app);
  registerRequestMetrics(app, parts.metrics);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    // Tokens, session lists and account data must not sit in any cache.
    if (request.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    // Shutting down: the client's next request goes to a new connection, so to another node.
    if (parts.closing()) reply.header('connection', 'close');
  });

  const authenticate = authenticator(parts.ctx, parts.view, parts.activity, parts.sync);
  await app.register(authRoutes, { ctx: parts.ctx, authenticate, publicUrl: parts.publicUrl });
  if (parts.ctx.mail) {
    await app.register(passwordResetRoutes, { ctx: parts.ctx });
    await app.register(emailRoutes, { ctx: parts.ctx, authenticate });
  }
  await app.register(meRoutes, { ctx: parts.ctx, authenticate });
  await app.register(sessionRoutes, { ctx: parts.ctx, authenticate });
  await app.register(activityRoutes, { ctx: parts.ctx, authenticate });
  await app.register(adminRoutes, { ctx: parts.ctx, authenticate });
  await app.register(jwksRoutes, { keys: parts.keys });
  await app.register(revocationRoutes, { ctx: parts.ctx, view: parts.view, sync: parts.sync, serviceKeys: parts.serviceKeys });
  await app.register(oauthRoutes, { ctx: parts.ctx, serviceKeys: parts.serviceKeys });
  await app.register(notMeRoutes, { ctx: parts.ctx });
  await app.register(healthRoutes, { store: parts.store, sync: parts.sync, keys: parts.keys, closing: parts.closing });
  await app.register(metricsRoutes, { metrics: parts.metrics, token: parts.metricsToken });
  // The page offers "Forgot password?" only where a reset mail can be sent.
  await app.register(webRoutes, { mail: parts.ctx.mail !== undefined });
  await app.register(openApiRoutes, { routes, publicUrl: parts.publicUrl });
  return app;
}
