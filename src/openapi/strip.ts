import type { SchemaNode } from './types.js';

/**
 * Removes object members a response schema does not declare (excessive data exposure). Declared
 * means: listed in `properties` or matching `patternProperties` of the schema or of any
 * `allOf`/`anyOf`/`oneOf` branch (branches are united: a member any branch declares is kept), or
 * admitted by `additionalProperties`/`unevaluatedProperties` that are `true` or a schema. A schema
 * that lists no members and does not forbid extras is free-form and kept whole. Members whose
 * schema is `false` (OpenAPI `writeOnly` in responses) are removed. Returns the number removed.
 */
export function stripUndeclared(
  value: unknown,
  schema: SchemaNode,
  resolveRef: (ref: string) => SchemaNode | undefined,
): number {
  return strip(value, [schema], resolveRef);
}

interface Shape {
  readonly properties: Map<string, SchemaNode[]>;
  readonly patterns: { readonly regex: RegExp; readonly schemas: SchemaNode[] }[];
  /** Schemas for members not otherwise declared; `true` keeps them unchecked; `false` strips them. */
  additional: SchemaNode[] | boolean | undefined;
  readonly items: SchemaNode[];
  readonly prefixItems: SchemaNode[][];
  /** Some branch says nothing about members at all (`{}`, `type: object` alone). */
  freeForm: boolean;
}

const shapes = new WeakMap<object, Shape>();
const regexes = new Map<string, RegExp | null>();

function strip(
  value: unknown,
  schemas: readonly SchemaNode[],
  resolveRef: (ref: string) => SchemaNode | undefined,
): number {
  if (typeof value !== 'object' || value === null) return 0;
  const shape = shapeOf(schemas, resolveRef);
  let removed = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const itemSchemas = shape.prefixItems[i] ?? shape.items;
      if (itemSchemas.length > 0) removed += strip(value[i], itemSchemas, resolveRef);
    }
    return removed;
  }
  const record = value as Record<string, unknown>;
  const closed =
    !shape.freeForm && (shape.properties.size > 0 || shape.patterns.length > 0 || shape.additional === false);
  for (const key of Object.keys(record)) {
    const declared = shape.properties.get(key);
    if (declared !== undefined) {
      const open = declared.filter((s) => s !== false);
      if (open.length === 0) {
        delete record[key];
        removed++;
      } else {
        removed += strip(record[key], open, resolveRef);
      }
      continue;
    }
    const pattern = shape.patterns.find((entry) => entry.regex.test(key));
    if (pattern !== undefined) {
      removed += strip(record[key], pattern.schemas, resolveRef);
      continue;
    }
    if (Array.isArray(shape.additional)) {
      removed += strip(record[key], shape.additional, resolveRef);
    } else if (shape.additional === true || !closed) {
      continue;
    } else {
      delete record[key];
      removed++;
    }
  }
  return removed;
}

function shapeOf(schemas: readonly SchemaNode[], resolveRef: (ref: string) => SchemaNode | undefined): Shape {
  const single = schemas.length === 1 ? schemas[0] : undefined;
  if (typeof single === 'object') {
    const cached = shapes.get(single);
    if (cached !== undefined) return cached;
  }
  const shape: Shape = {
    properties: new Map(),
    patterns: [],
    additional: undefined,
    items: [],
    prefixItems: [],
    freeForm: false,
  };
  const seen = new Set<object>();
  for (const schema of schemas) collect(schema, shape, seen, resolveRef);
  if (typeof single === 'object') shapes.set(single, shape);
  return shape;
}

const OBJECT_KEYWORDS = ['properties', 'patternProperties', 'additionalProperties', 'unevaluatedProperties'];
const BRANCHES = ['allOf', 'anyOf', 'oneOf'] as const;

function collect(
  schema: SchemaNode,
  shape: Shape,
  seen: Set<object>,
  resolveRef: (ref: string) => SchemaNode | undefined,
): void {
  if (schema === true) {
    shape.freeForm = true;
    return;
  }
  if (schema === false || seen.has(schema)) return;
  seen.add(schema);
  if (typeof schema.$ref === 'string') {
    const target = resolveRef(schema.$ref);
    if (target !== undefined) collect(target, shape, seen, resolveRef);
  }
  const properties = schema.properties as Record<string, SchemaNode> | undefined;
  if (properties !== undefined) {
    for (const [name, sub] of Object.entries(properties)) {
      const list = shape.properties.get(name);
      if (list === undefined) shape.properties.set(name, [sub]);
      else list.push(sub);
    }
  }
  const patterns = schema.patternProperties as Record<string, SchemaNode> | undefined;
  if (patterns !== undefined) {
    for (const [source, sub] of Object.entries(patterns)) {
      let regex = regexes.get(source);
      if (regex === undefined) {
        try {
          regex = new RegExp(source, 'u');
        } catch {
          regex = null;
        }
        regexes.set(source, regex);
      }
      if (regex !== null) shape.patterns.push({ regex, schemas: [sub] });
    }
  }
  for (const keyword of ['additionalProperties', 'unevaluatedProperties'] as const) {
    const extra = schema[keyword] as SchemaNode | undefined;
    if (extra === undefined || extra === false) {
      if (extra === false && shape.additional === undefined) shape.additional = false;
      continue;
    }
    if (extra === true || Object.keys(extra).length === 0) shape.additional = true;
    else if (shape.additional !== true)
      shape.additional = [...(Array.isArray(shape.additional) ? shape.additional : []), extra];
  }
  const hasBranches = BRANCHES.some((keyword) => Array.isArray(schema[keyword]));
  if (!hasBranches && schema.$ref === undefined && !OBJECT_KEYWORDS.some((keyword) => keyword in schema)) {
    const type = schema.type;
    if (type === undefined || type === 'object' || (Array.isArray(type) && type.includes('object')))
      shape.freeForm = true;
  }
  for (const keyword of BRANCHES) {
    const list = schema[keyword];
    if (Array.isArray(list)) for (const sub of list as SchemaNode[]) collect(sub, shape, seen, resolveRef);
  }
  const items = schema.items as SchemaNode | undefined;
  if (items !== undefined) shape.items.push(items);
  const prefixItems = schema.prefixItems as SchemaNode[] | undefined;
  if (Array.isArray(prefixItems)) {
    prefixItems.forEach((sub, index) => {
      (shape.prefixItems[index] ??= []).push(sub);
    });
  }
}
