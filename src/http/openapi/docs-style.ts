import { readFileSync } from 'node:fs';

/**
 * The stylesheet of /docs, served from /docs/style.css: the page's CSP allows styles from
 * Gatehouse's own origin only. A plain file beside this module (the build copies it into dist/),
 * read once, when this module loads.
 */
export const DOCS_STYLE = readFileSync(new URL('./docs.css', import.meta.url), 'utf8');
