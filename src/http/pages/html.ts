import { createHash } from 'node:crypto';

/**
 * The few server-rendered pages Gatehouse serves (links people open from a mail). Text from the
 * database goes through `escapeHtml`: a user agent is whatever the client chose to send.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

// The one style block of every page, allowed by its hash: no 'unsafe-inline', no stylesheet
// request (which would need a route, and a place for the link token to leak from).
const STYLE =
  'body{font:1rem/1.5 system-ui,sans-serif;margin:0;padding:1.5rem;color:#1a1a1a;background:#fff}' +
  'main{max-width:32rem;margin:0 auto}h1{font-size:1.4rem;line-height:1.3}' +
  '.sign-in{font-weight:600}button{font:inherit;font-weight:600;padding:.75rem 1.25rem;border:0;border-radius:.4rem;background:#b3261e;color:#fff;cursor:pointer}' +
  'button:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}a{color:#0b57d0}small{color:#555}';

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * Headers for every page. The URL is a credential, so no Referer may carry it anywhere
 * (`no-referrer`), and no cache may keep it. Framing is refused so no other site can overlay
 * the button (clickjacking); forms may only post back to Gatehouse; no script runs at all.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** A whole document; `body` must already be escaped HTML. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)} · Gatehouse</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
