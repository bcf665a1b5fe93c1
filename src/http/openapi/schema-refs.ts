import * as shared from '../schemas.js';
import type { JsonSchema } from './route-docs.js';

/**
 * The shared schemas of ../schemas.ts become named components, by their export name, and are
 * referred to wherever a route uses them (found by identity: TypeBox keeps the very object a
 * schema was built from). A new export there is named without a list to keep up to date.
 */
const NAMES: ReadonlyMap<unknown, string> = new Map(
  Object.entries(shared)
    .filter(([, value]) => typeof value === 'object' && value !== null)
    .map(([name, value]) => [value, name]),
);

/** The export name of a shared schema, if it is one. */
export function schemaName(schema: unknown): string | undefined {
  return NAMES.get(schema);
}

export class SchemaRefs {
  /** The components referred to so far, each defined once. */
  readonly components: Record<string, JsonSchema> = {};

  /**
   * The schema as plain JSON (TypeBox's symbol-keyed markers dropped), every shared schema in
   * it, itself included, replaced by a `$ref` to its component.
   */
  toJson(schema: unknown): JsonSchema {
    return this.convert(schema) as JsonSchema;
  }

  /** As `toJson`, but the top level is spelt out even when it is a shared schema. */
  inline(schema: unknown): JsonSchema {
    return this.plain(schema) as JsonSchema;
  }

  private convert(node: unknown): unknown {
    const name = NAMES.get(node);
    if (name === undefined) return this.plain(node);
    if (!(name in this.components)) {
      this.components[name] = {}; // reserved first, so a schema that contains itself terminates
      this.components[name] = this.plain(node) as JsonSchema;
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private plain(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.convert(item));
    if (typeof node !== 'object' || node === null) return node;
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, this.convert(value)]));
  }
}
