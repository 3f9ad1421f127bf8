import type { ValidateFunction } from 'ajv';
import type { PathMatcher } from './path-matcher.js';

export type ParameterLocation = 'path' | 'query' | 'header' | 'cookie';
export type ParameterStyle =
  'form' | 'simple' | 'label' | 'matrix' | 'spaceDelimited' | 'pipeDelimited' | 'deepObject';

/** The broad shape a parameter deserialises to, taken from its schema's `type`. */
export type ParameterShape = 'primitive' | 'array' | 'object';

/** One declared parameter, with its compiled validator (type coercion on). */
export interface CompiledParameter {
  readonly name: string;
  readonly in: ParameterLocation;
  readonly required: boolean;
  readonly style: ParameterStyle;
  readonly explode: boolean;
  readonly shape: ParameterShape;
  /** Property names of an object-shaped parameter (form/explode spreads them over the query). */
  readonly propertyNames: readonly string[];
  /** Set when the parameter is declared with `content` (e.g. JSON in a query string). */
  readonly contentType: string | undefined;
  /** The converted (draft 2020-12) schema, for tools; undefined when none is declared. */
  readonly schema: SchemaNode | undefined;
}

export interface CompiledMediaType {
  /** Media range as declared (`application/json`, `image/*`, ...), lower case. */
  readonly mediaRange: string;
  readonly schema: SchemaNode | undefined;
  /** Strict (request) or plain validator; undefined when the media type has no schema. */
  readonly validate: ValidateFunction | undefined;
  /** For form bodies: a validator compiled with type coercion (values arrive as strings). */
  readonly validateCoercing: ValidateFunction | undefined;
  /** Multipart: allowed part media ranges by field name, from `encoding.<name>.contentType`. */
  readonly partContentTypes: ReadonlyMap<string, readonly string[]>;
}

export interface CompiledRequestBody {
  readonly required: boolean;
  readonly content: readonly CompiledMediaType[];
}

export interface CompiledResponse {
  /** `200`, `2XX` or `default`. */
  readonly status: string;
  readonly content: readonly CompiledMediaType[];
}

/** A security requirement: scheme name -> required scopes (all schemes in one object must pass). */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

export interface CompiledOperation {
  readonly operationId: string | undefined;
  /** Upper case. */
  readonly method: string;
  /** As declared in the document, e.g. `/pets/{petId}`. */
  readonly pathTemplate: string;
  readonly tags: readonly string[];
  readonly summary: string | undefined;
  /** Parameters (path-level merged with operation-level) by location. */
  readonly parameters: Readonly<Record<ParameterLocation, readonly CompiledParameter[]>>;
  /**
   * One validator per location over an object of deserialised values keyed by parameter name
   * (header names lower case); coerces strings to the declared types in place.
   */
  readonly parameterValidators: Readonly<Record<ParameterLocation, ValidateFunction | undefined>>;
  /**
   * Effective security: the operation's `security`, else the document's global `security`.
   * `[]` means explicitly public; `[{}]` also allows anonymous access.
   */
  readonly security: readonly SecurityRequirement[];
  /** True when the operation declares `x-portcullis-privileged: true`. */
  readonly privileged: boolean;
  readonly deprecated: boolean;
  readonly requestBody: CompiledRequestBody | undefined;
  readonly responses: readonly CompiledResponse[];
  /** The raw (dereferenced) operation object, for tools that need vendor extensions. */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** An OpenAPI document loaded, validated, dereferenced and compiled at config load. */
export interface CompiledApi {
  /** Absolute path of the document. */
  readonly file: string;
  /** `3.0.x` or `3.1.x`. */
  readonly openapi: string;
  readonly title: string;
  readonly version: string;
  readonly operations: readonly CompiledOperation[];
  readonly operationsById: ReadonlyMap<string, CompiledOperation>;
  /** `components.securitySchemes` (dereferenced). */
  readonly securitySchemes: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The document's global `security` (empty when absent). */
  readonly globalSecurity: readonly SecurityRequirement[];
  /** Path of the first `servers[].url` (e.g. `/v1`), `''` when none. */
  readonly serverBasePath: string;
  readonly matcher: PathMatcher<OperationsByMethod>;
  /** The dereferenced document. */
  readonly document: Readonly<Record<string, unknown>>;
  /** Resolves a `$ref` produced by schema conversion (recursive schemas), for walkers. */
  resolveRef(ref: string): SchemaNode | undefined;
}

export type OperationsByMethod = ReadonlyMap<string, CompiledOperation>;

/** A converted JSON Schema node (draft 2020-12) as plain data. */
export type SchemaNode = { readonly [key: string]: unknown } | boolean;
