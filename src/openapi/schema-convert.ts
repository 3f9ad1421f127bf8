import type { SchemaNode } from './types.js';

/**
 * Turns dereferenced OpenAPI schemas into draft 2020-12 schemas Ajv compiles.
 *
 * - OpenAPI 3.0: `nullable: true` adds `"null"` to `type` (and to `enum`), following 3.0.3: without
 *   a `type` in the same schema it has no effect. Boolean `exclusiveMinimum`/`exclusiveMaximum`
 *   become the numeric draft 2020-12 form.
 * - Cycles left by dereferencing (tree-shaped schemas) become `$ref`s into a `$defs` table with an
 *   absolute id (`defsId`) that the caller registers with Ajv.
 * - Direction: in requests `readOnly` properties are refused and dropped from `required`; in
 *   responses `writeOnly` properties are refused (and stripped) and dropped from `required`.
 * - Strict: every schema that lists properties (itself or in a branch), in a value position and
 *   without its own `additionalProperties` or `unevaluatedProperties`, gets
 *   `unevaluatedProperties: false` (`type: object` without properties stays free-form). Value positions are the root,
 *   property values, array items and additional properties; branches of `allOf`/`anyOf`/`oneOf`/
 *   `not`/`if`/`then`/`else` are not, so properties declared by any successful branch count.
 */
export type Dialect = '3.0' | '3.1';
export type Direction = 'request' | 'response';

type Obj = Record<string, unknown>;

const SCHEMA_MAP_KEYWORDS = ['properties', 'patternProperties'] as const;
const VALUE_SCHEMA_KEYWORDS = [
  'additionalProperties',
  'items',
  'contains',
  'unevaluatedProperties',
  'unevaluatedItems',
  'propertyNames',
  'contentSchema',
] as const;
const BRANCH_ARRAY_KEYWORDS = ['allOf', 'anyOf', 'oneOf'] as const;
const BRANCH_SCHEMA_KEYWORDS = ['not', 'if', 'then', 'else'] as const;
const DROPPED_KEYWORDS = new Set([
  '$schema',
  '$id',
  'nullable',
  'example',
  'xml',
  'externalDocs',
  'discriminator',
]);

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface SchemaConverterOptions {
  readonly dialect: Dialect;
  readonly direction: Direction;
  readonly strict: boolean;
  /** Absolute id of the `$defs` holder registered with Ajv, e.g. `urn:portcullis:openapi:1:req`. */
  readonly defsId: string;
}

export class SchemaConverter {
  readonly defs: Record<string, SchemaNode> = {};
  private readonly done = new WeakMap<object, SchemaNode>();
  private readonly wrapped = new WeakMap<object, SchemaNode>();
  private readonly active = new Map<object, { name: string | undefined }>();
  private nextDef = 0;

  constructor(private readonly options: SchemaConverterOptions) {}

  get defsId(): string {
    return this.options.defsId;
  }

  /** Converts a schema at a value position (the root of a body, a parameter, a response). */
  convert(schema: unknown): SchemaNode {
    return this.value(schema);
  }

  /** Looks up a `$ref` this converter produced. */
  resolve(ref: string): SchemaNode | undefined {
    const prefix = this.options.defsId + '#/$defs/';
    return ref.startsWith(prefix) ? this.defs[ref.slice(prefix.length)] : undefined;
  }

  private value(schema: unknown): SchemaNode {
    if (!isObj(schema)) return typeof schema === 'boolean' ? schema : {};
    const inner = this.node(schema);
    // Recursive schemas carry their strictness inside their `$defs` entry (see node()).
    if (typeof inner === 'object' && typeof inner.$ref === 'string') return inner;
    if (!this.options.strict || !declaresProperties(schema, new Set())) return inner;
    if ('additionalProperties' in schema || 'unevaluatedProperties' in schema) return inner;
    let out = this.wrapped.get(schema);
    if (out === undefined) {
      out = typeof inner === 'boolean' ? inner : { ...inner, unevaluatedProperties: false };
      this.wrapped.set(schema, out);
    }
    return out;
  }

  private node(schema: Obj): SchemaNode {
    const finished = this.done.get(schema);
    if (finished !== undefined) return finished;
    const running = this.active.get(schema);
    if (running !== undefined) {
      running.name ??= `s${this.nextDef++}`;
      return { $ref: `${this.options.defsId}#/$defs/${running.name}` };
    }
    const marker: { name: string | undefined } = { name: undefined };
    this.active.set(schema, marker);
    const converted = this.convertKeywords(schema);
    this.active.delete(schema);
    let result: SchemaNode = converted;
    if (marker.name !== undefined) {
      this.defs[marker.name] = this.strictDef(schema, converted);
      result = { $ref: `${this.options.defsId}#/$defs/${marker.name}` };
    }
    this.done.set(schema, result);
    return result;
  }

  private convertKeywords(schema: Obj): Obj {
    const out: Obj = {};
    for (const [key, value] of Object.entries(schema)) {
      if (DROPPED_KEYWORDS.has(key) || key.startsWith('x-')) continue;
      out[key] = value;
    }
    if (this.options.dialect === '3.0') convert30Keywords(schema, out);

    for (const keyword of SCHEMA_MAP_KEYWORDS) {
      const map = schema[keyword];
      if (!isObj(map)) continue;
      const converted: Obj = {};
      for (const [name, sub] of Object.entries(map)) converted[name] = this.property(sub);
      out[keyword] = converted;
    }
    if (isObj(schema.dependentSchemas)) {
      const converted: Obj = {};
      for (const [name, sub] of Object.entries(schema.dependentSchemas))
        converted[name] = this.node(asObj(sub));
      out.dependentSchemas = converted;
    }
    for (const keyword of VALUE_SCHEMA_KEYWORDS) {
      const sub = schema[keyword];
      if (isObj(sub) || typeof sub === 'boolean') out[keyword] = this.value(sub);
    }
    if (Array.isArray(schema.prefixItems)) out.prefixItems = schema.prefixItems.map((sub) => this.value(sub));
    for (const keyword of BRANCH_ARRAY_KEYWORDS) {
      const list = schema[keyword];
      if (Array.isArray(list)) out[keyword] = list.map((sub) => (isObj(sub) ? this.node(sub) : sub));
    }
    for (const keyword of BRANCH_SCHEMA_KEYWORDS) {
      const sub = schema[keyword];
      if (isObj(sub)) out[keyword] = this.node(sub);
    }
    if (Array.isArray(schema.required)) {
      const hidden = this.hiddenProperties(schema);
      if (hidden.size > 0) out.required = schema.required.filter((name) => !hidden.has(name as string));
    }
    return out;
  }

  /**
   * Ajv cannot track evaluated properties through a recursive `$ref`, so a recursive object
   * schema is made strict in its own definition (also where it is used as an `allOf` branch).
   */
  private strictDef(schema: Obj, converted: Obj): Obj {
    if (!this.options.strict || !declaresProperties(schema, new Set())) return converted;
    if ('additionalProperties' in schema || 'unevaluatedProperties' in schema) return converted;
    return { ...converted, unevaluatedProperties: false };
  }

  /** A property schema; `readOnly` in requests and `writeOnly` in responses become `false`. */
  private property(sub: unknown): SchemaNode {
    if (isObj(sub) && this.isHidden(sub)) return false;
    return this.value(sub);
  }

  private isHidden(sub: Obj): boolean {
    return this.options.direction === 'request' ? sub.readOnly === true : sub.writeOnly === true;
  }

  private hiddenProperties(schema: Obj): Set<string> {
    const hidden = new Set<string>();
    if (isObj(schema.properties)) {
      for (const [name, sub] of Object.entries(schema.properties))
        if (isObj(sub) && this.isHidden(sub)) hidden.add(name);
    }
    return hidden;
  }
}

function asObj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

function convert30Keywords(schema: Obj, out: Obj): void {
  if (schema.nullable === true && schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? [...(schema.type as unknown[])] : [schema.type];
    if (!types.includes('null')) types.push('null');
    out.type = types;
    if (Array.isArray(schema.enum) && !schema.enum.includes(null))
      out.enum = [...(schema.enum as unknown[]), null];
  }
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    const value = schema[flag];
    if (typeof value !== 'boolean') continue;
    delete out[flag];
    if (value && typeof schema[bound] === 'number') {
      out[flag] = schema[bound];
      delete out[bound];
    }
  }
}

/**
 * True when a schema lists object members (`properties`/`patternProperties`), itself or in an
 * `allOf`/`anyOf`/`oneOf` branch. `type: object` alone is a free-form object and stays open.
 */
export function declaresProperties(schema: unknown, seen: Set<object>): boolean {
  if (!isObj(schema) || seen.has(schema)) return false;
  seen.add(schema);
  if (isObj(schema.properties) || isObj(schema.patternProperties)) return true;
  for (const keyword of BRANCH_ARRAY_KEYWORDS) {
    const list = schema[keyword];
    if (Array.isArray(list) && list.some((sub) => declaresProperties(sub, seen))) return true;
  }
  return false;
}
