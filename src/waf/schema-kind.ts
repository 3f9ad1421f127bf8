/**
 * Reads a (dereferenced) JSON Schema the way the injection stage needs it: is a field free text
 * (inspect it), constrained by the schema (enum, const, format, pattern, numeric or boolean type:
 * request validation already checks it, skip it), or a URL (check it for SSRF)?
 */
export type FieldKind = 'free' | 'constrained' | 'url';

type Schema = { readonly [key: string]: unknown };

const URL_FORMATS = new Set(['uri', 'url', 'iri', 'uri-reference', 'iri-reference', 'uri-template']);
const NON_STRING_TYPES = new Set(['number', 'integer', 'boolean', 'null']);

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function branches(schema: Schema): readonly Schema[] | undefined {
  const list = (schema.anyOf ?? schema.oneOf) as unknown;
  return Array.isArray(list) ? list.filter(isSchema) : undefined;
}

export function schemaKind(schema: unknown): FieldKind {
  if (!isSchema(schema)) return 'free';
  const alternatives = branches(schema);
  if (alternatives !== undefined && alternatives.length > 0) {
    const kinds = alternatives.map(schemaKind);
    if (kinds.includes('free')) return 'free';
    return kinds.includes('url') ? 'url' : 'constrained';
  }
  if (Array.isArray(schema.allOf)) {
    const kinds = schema.allOf.map(schemaKind);
    if (kinds.includes('url')) return 'url';
    if (kinds.includes('constrained')) return 'constrained';
  }
  if (typeof schema.format === 'string' && URL_FORMATS.has(schema.format)) return 'url';
  if (schema.enum !== undefined || schema.const !== undefined) return 'constrained';
  if (typeof schema.format === 'string' || typeof schema.pattern === 'string') return 'constrained';
  const type = schema.type;
  if (typeof type === 'string' && NON_STRING_TYPES.has(type)) return 'constrained';
  if (
    Array.isArray(type) &&
    type.length > 0 &&
    type.every((t) => typeof t === 'string' && NON_STRING_TYPES.has(t))
  )
    return 'constrained';
  return 'free';
}

/** The sub-schema for an object property or array item, or undefined when the schema says nothing. */
export function childSchema(schema: unknown, key: string | number): unknown {
  if (!isSchema(schema)) return undefined;
  if (typeof key === 'number') {
    if (Array.isArray(schema.prefixItems) && key < schema.prefixItems.length) return schema.prefixItems[key];
    return isSchema(schema.items) ? schema.items : undefined;
  }
  if (isSchema(schema.properties) && Object.hasOwn(schema.properties, key)) return schema.properties[key];
  if (isSchema(schema.additionalProperties)) return schema.additionalProperties;
  for (const list of [schema.allOf, schema.anyOf, schema.oneOf]) {
    if (!Array.isArray(list)) continue;
    for (const branch of list) {
      const found = childSchema(branch, key);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * A schema read once for the walk over request bodies: its kind and, per declared property, the
 * node of its sub-schema. Built lazily and kept per schema object (schemas live as long as their
 * compiled config); the per-property map is bounded by the schema, never by client keys.
 */
export class SchemaNode {
  readonly kind: FieldKind;
  private readonly schema: Schema;
  /** Declared properties (the schema's own `properties` keys), built on first use. */
  private propertyNodes: Map<string, SchemaNode | undefined> | undefined;
  /** The node of `items` when there are no `prefixItems` (null: not computed yet). */
  private itemsNode: SchemaNode | undefined | null = null;

  private constructor(schema: Schema) {
    this.schema = schema;
    this.kind = schemaKind(schema);
  }

  /** The node for a schema, or undefined when the schema says nothing (not an object). */
  static of(schema: unknown): SchemaNode | undefined {
    if (!isSchema(schema)) return undefined;
    let node = nodes.get(schema);
    if (node === undefined) {
      node = new SchemaNode(schema);
      nodes.set(schema, node);
    }
    return node;
  }

  /** Same answer as `childSchema(schema, key)`, as a node. */
  child(key: string | number): SchemaNode | undefined {
    const schema = this.schema;
    if (typeof key === 'number') {
      if (Array.isArray(schema.prefixItems)) return SchemaNode.of(childSchema(schema, key));
      if (this.itemsNode === null) this.itemsNode = SchemaNode.of(childSchema(schema, key));
      return this.itemsNode;
    }
    this.propertyNodes ??= declaredProperties(schema);
    const node = this.propertyNodes.get(key);
    if (node !== undefined || this.propertyNodes.has(key)) return node;
    return SchemaNode.of(childSchema(schema, key));
  }
}

const nodes = new WeakMap<Schema, SchemaNode>();

/** The nodes of a schema's declared properties: one look-up per member on the walk. */
function declaredProperties(schema: Schema): Map<string, SchemaNode | undefined> {
  const out = new Map<string, SchemaNode | undefined>();
  const properties = schema.properties;
  if (isSchema(properties))
    for (const key of Object.keys(properties)) out.set(key, SchemaNode.of(properties[key]));
  return out;
}
