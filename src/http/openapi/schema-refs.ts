import type { JsonSchema } from './route-docs.js';

/** Component names are used bare in `$ref`s and in the page's anchors (docs-page.ts). */
const COMPONENT_NAME = /^[A-Za-z0-9_]+$/;

/**
 * The name a shared schema has in the document: its `$id` (../schemas.ts), written out there
 * so that renaming a TypeScript variable cannot change the public API.
 */
export function schemaName(schema: unknown): string | undefined {
  const id = typeof schema === 'object' && schema !== null ? (schema as { $id?: unknown }).$id : undefined;
  return typeof id === 'string' ? id : undefined;
}

export class SchemaRefs {
  /** The components referred to so far, each defined once. */
  readonly components: Record<string, JsonSchema> = {};
  /** Which schema each component was made from: two schemas may not share a name. */
  private readonly sources = new Map<string, unknown>();

  /**
   * The schema as plain JSON (TypeBox's symbol-keyed markers and the `$id`s dropped), every
   * named schema in it, itself included, replaced by a `$ref` to its component.
   */
  toJson(schema: unknown): JsonSchema {
    return this.convert(schema) as JsonSchema;
  }

  /** As `toJson`, but the top level is spelt out even when it is a named schema. */
  inline(schema: unknown): JsonSchema {
    return this.plain(schema) as JsonSchema;
  }

  private convert(node: unknown): unknown {
    const name = schemaName(node);
    if (name === undefined) return this.plain(node);
    const source = this.sources.get(name);
    if (source === undefined) {
      if (!COMPONENT_NAME.test(name)) throw new Error(`The schema $id "${name}" cannot name an OpenAPI component: use letters, digits and _ only.`);
      this.sources.set(name, node);
      this.components[name] = {}; // reserved first, so a schema that contains itself terminates
      this.components[name] = this.plain(node) as JsonSchema;
    } else if (source !== node) {
      throw new Error(`Two different schemas have the $id "${name}": each component needs its own name.`);
    }
    return { $ref: `#/components/schemas/${name}` };
  }

  private plain(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.convert(item));
    if (typeof node !== 'object' || node === null) return node;
    // The `$id` became the component's name; left in, it would also change how `$ref`s resolve.
    return Object.fromEntries(Object.entries(node).flatMap(([key, value]) => (key === '$id' && typeof value === 'string' ? [] : [[key, this.convert(value)]])));
  }
}
