import type { JSONSchemaType } from '../pipeline/json-schema.js';
import type { JsonLimits } from '../json/limits.js';
import { DEFAULT_JSON_LIMITS } from '../json/limits.js';

export type ResponseMode = 'off' | 'report' | 'strip' | 'block';

/** `routes[i].openapi` as written in the config. */
export interface OpenApiRouteConfigInput {
  readonly spec: string;
  readonly strict?: boolean;
  readonly basePath?: string;
  readonly validateRequests?: boolean;
  readonly responses?: {
    readonly mode?: ResponseMode;
    readonly blockUndeclaredStatus?: boolean;
    readonly blockUndeclaredContentType?: boolean;
    readonly replaceUpstream5xx?: boolean;
    readonly maxBodyBytes?: number;
  };
  readonly limits?: Partial<Omit<JsonLimits, 'multipart'>> & {
    readonly multipart?: { readonly maxParts?: number; readonly maxPartBytes?: number };
  };
}

/** The same with every default applied. */
export interface OpenApiRouteConfig {
  readonly spec: string;
  readonly strict: boolean;
  /** `''`, a fixed prefix such as `/api/v1`, or `servers` to take the path of the first server URL. */
  readonly basePath: string;
  readonly validateRequests: boolean;
  readonly responses: {
    readonly mode: ResponseMode;
    readonly blockUndeclaredStatus: boolean;
    readonly blockUndeclaredContentType: boolean;
    readonly replaceUpstream5xx: boolean;
    readonly maxBodyBytes: number;
  };
  readonly limits: JsonLimits;
}

export const DEFAULT_RESPONSE_MAX_BODY_BYTES = 10 * 1024 * 1024;

export function resolveOpenApiRouteConfig(input: OpenApiRouteConfigInput): OpenApiRouteConfig {
  const limits = input.limits ?? {};
  return {
    spec: input.spec,
    strict: input.strict ?? true,
    basePath: input.basePath ?? '',
    validateRequests: input.validateRequests ?? true,
    responses: {
      mode: input.responses?.mode ?? 'off',
      blockUndeclaredStatus: input.responses?.blockUndeclaredStatus ?? false,
      blockUndeclaredContentType: input.responses?.blockUndeclaredContentType ?? false,
      replaceUpstream5xx: input.responses?.replaceUpstream5xx ?? true,
      maxBodyBytes: input.responses?.maxBodyBytes ?? DEFAULT_RESPONSE_MAX_BODY_BYTES,
    },
    limits: {
      maxBodyBytes: limits.maxBodyBytes ?? DEFAULT_JSON_LIMITS.maxBodyBytes,
      maxDepth: limits.maxDepth ?? DEFAULT_JSON_LIMITS.maxDepth,
      maxArrayLength: limits.maxArrayLength ?? DEFAULT_JSON_LIMITS.maxArrayLength,
      maxStringLength: limits.maxStringLength ?? DEFAULT_JSON_LIMITS.maxStringLength,
      maxObjectKeys: limits.maxObjectKeys ?? DEFAULT_JSON_LIMITS.maxObjectKeys,
      unsafeNumbers: limits.unsafeNumbers ?? DEFAULT_JSON_LIMITS.unsafeNumbers,
      multipart: {
        maxParts: limits.multipart?.maxParts ?? DEFAULT_JSON_LIMITS.multipart.maxParts,
        maxPartBytes: limits.multipart?.maxPartBytes ?? DEFAULT_JSON_LIMITS.multipart.maxPartBytes,
      },
    },
  };
}

const positiveInt = (description: string): JSONSchemaType => ({ type: 'integer', minimum: 1, description });

/** JSON Schema of `routes[i].openapi`. */
export const OPENAPI_ROUTE_SCHEMA: JSONSchemaType = {
  type: 'object',
  description: 'Enforce an OpenAPI 3.0/3.1 document on this route (see docs/openapi.md).',
  additionalProperties: false,
  required: ['spec'],
  properties: {
    spec: {
      type: 'string',
      minLength: 1,
      description: 'Path of the OpenAPI document (YAML or JSON), relative to the config file.',
    },
    strict: {
      type: 'boolean',
      description:
        'Refuse undeclared paths (404), methods (405), query parameters and body properties. Default true.',
    },
    basePath: {
      type: 'string',
      pattern: '^(|servers|/.*)$',
      description:
        'Prefix of the request path that the document paths are relative to, or "servers" to use the path of the first server URL. Default "".',
    },
    validateRequests: { type: 'boolean', description: 'Validate parameters and bodies. Default true.' },
    responses: {
      type: 'object',
      additionalProperties: false,
      description: 'Response contract enforcement.',
      properties: {
        mode: {
          enum: ['off', 'report', 'strip', 'block'],
          description:
            'off (default); report (log and count violations); strip (remove undeclared properties, report the rest); block (502 on any violation).',
        },
        blockUndeclaredStatus: {
          type: 'boolean',
          description: 'Answer 502 for status codes the operation does not declare.',
        },
        blockUndeclaredContentType: {
          type: 'boolean',
          description: 'Answer 502 for response media types the operation does not declare.',
        },
        replaceUpstream5xx: {
          type: 'boolean',
          description: 'Replace upstream 5xx bodies with problem+json. Default true.',
        },
        maxBodyBytes: positiveInt('Largest response body read for validation. Default 10 MiB.'),
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      description: 'Request body hardening limits.',
      properties: {
        maxBodyBytes: positiveInt('Largest request body read for validation. Default 1 MiB.'),
        maxDepth: positiveInt('Deepest JSON nesting. Default 32.'),
        maxArrayLength: positiveInt('Most elements in one JSON array. Default 10000.'),
        maxStringLength: positiveInt(
          'Longest JSON string or key, in characters of the raw text. Default 100000.',
        ),
        maxObjectKeys: positiveInt('Most members in one JSON object. Default 1000.'),
        unsafeNumbers: {
          enum: ['reject', 'allow'],
          description:
            'Integers beyond ±(2^53-1): reject (default) or allow (validated as the nearest double; the upstream still receives the exact digits).',
        },
        multipart: {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxParts: positiveInt('Most parts in a multipart body. Default 20.'),
            maxPartBytes: positiveInt('Largest single part. Default 10 MiB.'),
          },
        },
      },
    },
  },
};
