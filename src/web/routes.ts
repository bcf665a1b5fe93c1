import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { GatehouseError } from '../core/errors.js';
import type { RouteDocs } from '../http/openapi/route-docs.js';
import { EMAIL_CHANGE_CANCEL_PAGE, EMAIL_CHANGE_PAGE, RESET_PAGE, VERIFY_PAGE } from '../mail/compose.js';
import { setSecurityHeaders } from './security-headers.js';

export interface WebRouteOptions {
  /** The directory of the page's files; by default `PUBLIC_DIR`. */
  publicDir?: string;
  /** Email is on (GATEHOUSE_MAIL is not `off`): the page offers password reset and the address's links. */
  mail?: boolean;
}

/**
 * Where the page's files are: beside this module, in src/web/public/ for the TypeScript sources
 * (the tests) and in dist/web/public/ for the built server, where the build copies them
 * (scripts/copy-data-files.js): the built server needs nothing from src/.
 */
export const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The devices page: `GET /` is the HTML shell (also at the paths emailed links lead to:
 * `LINK_PAGES`), `GET /assets/<name>` its scripts, styles and icons. The files are read once at start
 * into an allow-list keyed by file name, and a request only ever looks a name up in it: no part
 * of a URL is joined onto a filesystem path, so `..`, encoded slashes and the like find nothing.
 * Files of other kinds (a `.d.ts` beside a script) are never served.
 *
 * Every answer revalidates (`no-cache` with an ETag): the names carry no content hash, and a
 * page half old, half new after an upgrade would be worse than a 304 per file.
 */
export const webRoutes: FastifyPluginAsync<WebRouteOptions> = async (app, options) => {
  const dir = options.publicDir ?? PUBLIC_DIR;
  const assets = existsSync(dir) ? loadAssets(dir) : new Map<string, Asset>();
  const shell = assets.get('index.html');
  if (!shell) throw new Error(`The devices page's files are missing from ${dir} (npm run build copies them into dist/).`);
  assets.delete('index.html');
  const index = options.mail === true ? shell : withMailOff(shell);

  app.addHook('onSend', async (request, reply) => setSecurityHeaders(request, reply));

  app.get('/', { config: { docs: PAGE_DOCS } }, async (request, reply) => sendAsset(request, reply, index));
  for (const [path, docs] of LINK_PAGES) app.get(path, { config: { docs } }, async (request, reply) => sendAsset(request, reply, index));
  app.get<{ Params: { file: string } }>('/assets/:file', { config: { docs: ASSET_DOCS } }, async (request, reply) => {
    const asset = assets.get(request.params.file);
    if (!asset) throw new GatehouseError('not_found', 'There is no such file.');
    return sendAsset(request, reply, asset);
  });
};

// In the API document so that it lists every route the server answers; these are for browsers.
const NOT_MODIFIED = { description: 'Not Modified: `If-None-Match` named the current ETag.' };
const ETAG = { ETag: "The content's hash; send it back as `If-None-Match`.", 'Cache-Control': '`no-cache`: revalidate every time.' };

const PAGE_DOCS: RouteDocs = {
  summary: 'The devices page',
  description: 'Where people sign in and see and end their sessions and login history. It uses the API in browser mode.',
  tags: ['web'],
  responses: { 200: { description: 'The page.', headers: ETAG, content: { 'text/html': { schema: { type: 'string' } } } }, 304: NOT_MODIFIED },
};

/**
 * A page that an emailed link opens, with its token in the fragment (which browsers never
 * send): the same page as `/`, and opening it changes nothing until the person presses its
 * button (mail scanners open links too).
 */
function linkPageDocs(summary: string, description: string): RouteDocs {
  return {
    summary,
    description: `The same page as \`/\`. ${description} The token stays in the fragment, which browsers never send, and opening the link changes nothing until the person submits.`,
    tags: ['web'],
    responses: PAGE_DOCS.responses,
  };
}

/** Every path besides `/` that serves the page, each where one kind of emailed link leads. */
const LINK_PAGES: readonly (readonly [string, RouteDocs])[] = [
  [
    RESET_PAGE,
    linkPageDocs(
      'The devices page, where reset links lead',
      'A reset link (`/reset-password#token=…`) opens it on "Choose a new password"; without a token it asks for a link.',
    ),
  ],
  [
    VERIFY_PAGE,
    linkPageDocs('The devices page, where verification links lead', 'A verification link (`/verify-email#token=…`) opens it on "Confirm your address".'),
  ],
  [
    EMAIL_CHANGE_PAGE,
    linkPageDocs(
      'The devices page, where the new address confirms a change',
      'The link mailed to the new address (`/confirm-email-change#token=…`) opens it on "Confirm your new address".',
    ),
  ],
  [
    EMAIL_CHANGE_CANCEL_PAGE,
    linkPageDocs(
      'The devices page, where the old address cancels a change',
      'The link mailed to the old address (`/cancel-email-change#token=…`) opens it on "Cancel the email change", which keeps the old address and signs out every device.',
    ),
  ],
];

const ASSET_DOCS: RouteDocs = {
  summary: 'A script, stylesheet or icon of the devices page',
  tags: ['web'],
  errors: ['not_found'],
  responses: {
    200: {
      description: 'The file, typed by its extension.',
      headers: ETAG,
      content: Object.fromEntries(
        Object.values(TYPES)
          .map((type) => type.split(';')[0] as string)
          .filter((type) => type !== 'text/html')
          .map((type) => [type, { schema: { type: 'string' } }]),
      ),
    },
    304: NOT_MODIFIED,
  },
};

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const type = TYPES[extname(entry.name)];
    if (!entry.isFile() || !type) continue;
    const body = readFileSync(join(dir, entry.name));
    assets.set(entry.name, { body, type, etag: etagOf(body) });
  }
  return assets;
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

/**
 * The shell marked `<body data-mail="off">`: without mail the page hides "Forgot password?" and
 * everything about the address (its confirmation, its change), whose requests would only find 404. Its own ETag, so a browser's copy from before mail was
 * turned off is not kept.
 */
function withMailOff(shell: Asset): Asset {
  const html = shell.body.toString('utf8');
  if (!html.includes('<body>')) throw new Error("The devices page's index.html has no plain <body> tag to mark with data-mail.");
  const body = Buffer.from(html.replace('<body>', '<body data-mail="off">'));
  return { ...shell, body, etag: etagOf(body) };
}

function sendAsset(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply.header('cache-control', 'no-cache').header('etag', asset.etag);
  if (matches(request.headers['if-none-match'], asset.etag)) return reply.code(304).send();
  return reply.type(asset.type).send(asset.body);
}

/** RFC 9110 13.1.2: a weak comparison of any listed tag. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
