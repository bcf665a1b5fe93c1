import { escapeHtml } from '../pages/html.js';
import type { OpenApiDocument } from './document.js';

/**
 * The page at /docs: the OpenAPI document rendered once, on the server, as plain HTML. No
 * script and no inline style (its stylesheet is /docs/style.css), so it works offline and
 * under the devices page's Content-Security-Policy; schemas and examples are shown as the
 * document holds them, folded in <details>.
 */
export function docsPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op: op as unknown as Operation })),
  );
  const sections = document.tags.map((tag) => {
    const ops = operations.filter(({ op }) => op.tags[0] === tag.name);
    return `<section id="tag-${escapeHtml(tag.name)}">
<h2>${escapeHtml(tag.name)}</h2>
${prose(tag.description)}
${ops.map(renderOperation).join('\n')}
</section>`;
  });
  const schemas = Object.entries((document.components.schemas ?? {}) as Record<string, unknown>);
  const title = `${String(document.info.title)} API ${String(document.info.version)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/docs/style.css">
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
${prose(String(document.info.description ?? ''))}
<p>The same as OpenAPI 3.1: <a href="/openapi.json">/openapi.json</a>. Server: <code>${escapeHtml(document.servers[0]?.url ?? '')}</code>.</p>
${authentication(document)}
</header>
<nav aria-label="Operations">
<h2>Operations</h2>
${document.tags
  .map(
    (tag) => `<h3><a href="#tag-${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</a></h3>
<ul>${operations
      .filter(({ op }) => op.tags[0] === tag.name)
      .map(
        ({ path, method, op }) =>
          `<li><a href="#${escapeHtml(op.operationId)}"><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></a> ${escapeHtml(op.summary)}</li>`,
      )
      .join('')}</ul>`,
  )
  .join('\n')}
</nav>
<main>
${sections.join('\n')}
<section id="schemas">
<h2>Schemas</h2>
${schemas.map(([name, schema]) => `<h3 id="schema-${escapeHtml(name)}">${escapeHtml(name)}</h3>\n${json(schema)}`).join('\n')}
</section>
</main>
</body>
</html>
`;
}

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  description?: string;
  security: Record<string, unknown>[];
  parameters: { name: string; in: string; required: boolean; description?: string; schema: unknown }[];
  requestBody?: { required: boolean; description?: string; content: Record<string, Media> };
  responses: Record<string, { description: string; headers?: Record<string, { description: string }>; content?: Record<string, Media> }>;
}

interface Media {
  schema: unknown;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

function renderOperation({ path, method, op }: { path: string; method: string; op: Operation }): string {
  const params = op.parameters.length
    ? `<h4>Parameters</h4>
<table><thead><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr></thead><tbody>
${op.parameters
  .map(
    (p) =>
      `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td>${inlineJson(p.schema)}</td><td>${prose(p.description ?? '')}</td></tr>`,
  )
  .join('\n')}
</tbody></table>`
    : '';
  const body = op.requestBody
    ? `<h4>Request body${op.requestBody.required ? '' : ' (optional)'}</h4>${prose(op.requestBody.description ?? '')}${media(op.requestBody.content)}`
    : '';
  const responses = Object.entries(op.responses)
    .map(
      ([status, response]) => `<div class="response"><h5><span class="status s${status.charAt(0)}">${status}</span> ${prose(response.description, 'span')}</h5>
${Object.entries(response.headers ?? {})
  .map(([name, header]) => `<p>Header <code>${escapeHtml(name)}</code>: ${prose(header.description, 'span')}</p>`)
  .join('')}${media(response.content ?? {})}</div>`,
    )
    .join('\n');
  return `<article id="${escapeHtml(op.operationId)}">
<h3><span class="method">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code></h3>
<p class="summary">${escapeHtml(op.summary)}</p>
${prose(op.description ?? '')}
<p class="auth">${security(op.security)}</p>
${params}${body}
<h4>Responses</h4>
${responses}
</article>`;
}

function security(requirements: Record<string, unknown>[]): string {
  if (requirements.length === 0) return 'No credentials.';
  const names = requirements.map((r) => Object.keys(r)[0]);
  const label = (name: string | undefined) => (name === undefined ? 'none' : (LABELS[name] ?? name).toLowerCase());
  if (names.includes(undefined)) return `Credentials: optional, ${names.filter(Boolean).map(label).join(' or ')}.`;
  return `Credentials: ${names.map(label).join(' or ')}.`;
}

function authentication(document: OpenApiDocument): string {
  const schemes = Object.entries((document.components.securitySchemes ?? {}) as Record<string, { description: string }>);
  return `<dl>${schemes.map(([name, scheme]) => `<dt>${escapeHtml(LABELS[name] ?? name)}</dt><dd>${prose(scheme.description, 'span')}</dd>`).join('')}</dl>`;
}

const LABELS: Readonly<Record<string, string>> = { bearer: 'An access token', serviceKey: 'A service key', metricsToken: 'The metrics token' };

function media(content: Record<string, Media>): string {
  return Object.entries(content)
    .map(([type, m]) => {
      const examples = m.examples
        ? Object.entries(m.examples).map(([name, e]) => `<details><summary>Example: ${escapeHtml(name)}</summary>${json(e.value)}</details>`)
        : m.example !== undefined
          ? [`<details><summary>Example</summary>${typeof m.example === 'string' ? `<pre>${escapeHtml(m.example)}</pre>` : json(m.example)}</details>`]
          : [];
      return `<div class="media"><p><code>${escapeHtml(type)}</code></p><details><summary>Schema</summary>${json(m.schema)}</details>${examples.join('')}</div>`;
    })
    .join('');
}

/** Pretty JSON; `$ref`s link to the schema they name. */
function json(value: unknown): string {
  return `<pre>${linkRefs(escapeHtml(JSON.stringify(value, null, 2)))}</pre>`;
}

function inlineJson(value: unknown): string {
  return `<code>${linkRefs(escapeHtml(JSON.stringify(value)))}</code>`;
}

function linkRefs(escaped: string): string {
  return escaped.replace(/&quot;#\/components\/schemas\/([A-Za-z0-9_]+)&quot;/g, '<a href="#schema-$1">&quot;#/components/schemas/$1&quot;</a>');
}

/** The document's descriptions are plain text with `code` spans and blank-line paragraphs. */
function prose(text: string, element: 'p' | 'span' = 'p'): string {
  if (text === '') return '';
  const html = (part: string) => escapeHtml(part).replace(/`([^`]+)`/g, '<code>$1</code>');
  if (element === 'span') return html(text);
  return text
    .split(/\n\s*\n/)
    .map((paragraph) => `<p>${html(paragraph)}</p>`)
    .join('\n');
}
