import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { isGatehouseError, type ErrorCode } from '../../core/errors.js';
import { NOT_ME_PATH } from '../../core/not-me-link.js';
import type { ServiceContext } from '../../service/context.js';
import { inspectReport, reportSignIn } from '../../service/report-sign-in.js';
import { clientInfo } from '../client-info.js';
import { PAGE_HEADERS } from '../pages/html.js';
import { confirmationPage, linkErrorPage, reportedPage } from '../pages/not-me-page.js';
import { statusOf } from '../problem.js';
import type { RouteDocs } from '../openapi/route-docs.js';

export interface NotMeRouteOptions {
  ctx: ServiceContext;
}

// The token's own characters (base64url and the two dots), at most as long as core's reader
// admits (64 + 1 + 12 + 1 + 43): anything else is a 400 before any work. A cut-off link still
// passes here and gets the friendlier "not valid" page.
const NotMeParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 121, pattern: '^[A-Za-z0-9_.-]+$' }) }, { additionalProperties: false });

const ReportResponse = Type.Object({ revoked: Type.Boolean(), session_id: Type.String(), change_password: Type.String() });

const LINK_CODES: ReadonlySet<ErrorCode> = new Set(['not_found', 'link_used', 'link_expired']);

const PAGE = { 'text/html': { schema: Type.String() } };

const SHOW_DOCS: RouteDocs = {
  summary: 'The page of a "this wasn\'t me" link',
  description:
    'Describes the sign-in (device, country, time) and offers one button, which posts to the same URL. Opening the link changes nothing: mail scanners fetch every link.',
  tags: ['not-me'],
  pages: ['not_found', 'link_used', 'link_expired'],
  errors: ['unavailable'],
  responses: { 200: { description: 'The confirmation page.', content: PAGE } },
};

const REPORT_DOCS: RouteDocs = {
  summary: 'Report a sign-in and end its session',
  description:
    "Ends the session the link names (if still active) and records the report; a link works once. A browser's form post (`Accept: text/html`) gets pages, other clients JSON and problem+json. The body, if any, is ignored.",
  tags: ['not-me'],
  consumes: ['application/x-www-form-urlencoded'],
  pages: ['not_found', 'link_used', 'link_expired'],
  errors: ['not_found', 'link_used', 'link_expired', 'unavailable'],
  responses: {
    200: {
      description: 'Reported. `change_password` is where to go next.',
      example: { revoked: true, session_id: 'h4Kz9QwErTy1UiOp2AsDfg', change_password: 'https://auth.example.com/' },
      content: PAGE,
    },
  },
};

/**
 * The "this wasn't me" link of new-device notifications (service/report-sign-in.ts).
 *
 * `GET` only shows a page: mail scanners and link previews fetch every link in a mail, and
 * must not sign anyone out. `POST` to the same URL does it. The page's form posts
 * application/x-www-form-urlencoded, which this plugin alone accepts (and ignores: there is
 * nothing in the body to read). No CSRF token is needed: a cross-site form can only post to a
 * URL it knows, and knowing the URL is already all the power the link gives; its holder could
 * press the button anyway. The worst a forger can do is end a session it names, once.
 */
export const notMeRoutes: FastifyPluginAsyncTypebox<NotMeRouteOptions> = async (app, { ctx }) => {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, _body, done) => done(null, null));

  // The account page, where the password is changed: the next thing to do after a report.
  const accountUrl = `${ctx.notMeLinks?.publicUrl ?? ''}/`;
  const path = `${NOT_ME_PATH}/:token`;

  app.get(path, { schema: { params: NotMeParams }, config: { docs: SHOW_DOCS } }, async (request, reply) => {
    try {
      return sendPage(reply, 200, confirmationPage(await inspectReport(ctx, request.params.token)));
    } catch (error) {
      if (isLinkError(error)) return sendPage(reply, statusOf(error.code), linkErrorPage(error.code, accountUrl));
      throw error;
    }
  });

  app.post(path, { schema: { params: NotMeParams, response: { 200: ReportResponse } }, config: { docs: REPORT_DOCS } }, async (request, reply) => {
    const html = wantsPage(request);
    try {
      const report = await reportSignIn(ctx, request.params.token, clientInfo(request, ctx.locator));
      if (html) return sendPage(reply, 200, reportedPage(report, accountUrl));
      return { revoked: report.revoked, session_id: report.sessionId, change_password: accountUrl };
    } catch (error) {
      if (html && isLinkError(error)) return sendPage(reply, statusOf(error.code), linkErrorPage(error.code, accountUrl));
      throw error; // problem+json, with the same code
    }
  });
};

/** A browser's form post asks for HTML; an API client (`*\/*`, JSON) gets JSON. */
function wantsPage(request: FastifyRequest): boolean {
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(request.headers.accept ?? '');
}

function isLinkError(error: unknown): error is { code: ErrorCode } {
  return isGatehouseError(error) && LINK_CODES.has(error.code);
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).headers(PAGE_HEADERS).send(html);
}
