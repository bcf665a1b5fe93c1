import type { FastifySchemaValidationError } from 'fastify';
import type { FieldError } from '../core/errors.js';

/**
 * Schema validation errors → one `{pointer, detail}` per problem a person can act on, with
 * pointers into the request (`/body/email`, `/querystring/scope`), the same style the rules
 * in core/ use. The raw validator output says some things twice (a stray field is both
 * "schema is false" and "must not have additional properties") and splits a union into one
 * error per branch; this folds those into one line each.
 */
export function fieldErrors(issues: FastifySchemaValidationError[], context: string): FieldError[] {
  const at = (path: string) => `/${context}${path}`;
  const out: FieldError[] = [];
  const unions = issues.filter((i) => i.keyword === 'anyOf');
  // A branch's schema path is its union's path + `/anyOf/<n>`.
  const isBranch = (issue: FastifySchemaValidationError) =>
    unions.some(
      (u) =>
        u.instancePath === issue.instancePath &&
        issue.schemaPath.startsWith(`${u.schemaPath}/anyOf/`) &&
        /^\d+$/.test(issue.schemaPath.slice(u.schemaPath.length + 7)),
    );
  for (const issue of issues) {
    const params = (issue.params ?? {}) as Record<string, unknown>;
    if (issue.keyword === 'required') {
      for (const name of (params.requiredProperties as string[] | undefined) ?? [])
        out.push({ pointer: at(`${issue.instancePath}/${name}`), detail: 'is required' });
    } else if (issue.keyword === 'additionalProperties') {
      for (const name of (params.additionalProperties as string[] | undefined) ?? [])
        out.push({ pointer: at(`${issue.instancePath}/${name}`), detail: 'is not an allowed field' });
    } else if (issue.keyword === 'boolean' && issue.schemaPath.endsWith('/additionalProperties')) {
      // Said by the additionalProperties entry.
    } else if (issue.keyword === 'anyOf') {
      out.push({ pointer: at(issue.instancePath), detail: describeUnion(issues.filter(isBranch).filter((b) => b.instancePath === issue.instancePath)) });
    } else if (isBranch(issue)) {
      // One branch of a union, folded into the anyOf entry.
    } else {
      out.push({ pointer: at(issue.instancePath), detail: issue.message ?? 'is not valid' });
    }
  }
  return out;
}

function describeUnion(branches: FastifySchemaValidationError[]): string {
  const constants = branches.map((b) => (b.params as { allowedValue?: unknown } | undefined)?.allowedValue).filter((v) => v !== undefined);
  if (constants.length > 0 && constants.length === branches.length) return `must be one of ${constants.map((c) => JSON.stringify(c)).join(', ')}`;
  const types = branches.map((b) => (b.params as { type?: unknown } | undefined)?.type).filter((t): t is string => typeof t === 'string');
  if (types.length > 0 && types.length === branches.length) return `must be ${types.join(' or ')}`;
  return 'does not match any allowed form';
}
