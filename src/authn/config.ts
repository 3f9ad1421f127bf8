import type { JSONSchemaType } from '../pipeline/json-schema.js';
import { IDENTITY_FIELD_PATTERN } from './identity-headers.js';
import type { BruteForceSettings } from './brute-force.js';

/** `routes[i].authentication` */
export interface RouteAuthenticationConfig {
  readonly anyOf?: readonly string[];
  readonly allOf?: readonly string[];
  readonly apiKeyInQuery?: boolean;
  readonly forwardHeaders?: Readonly<Record<string, string>>;
  readonly forwardCredential?: boolean;
}

/** `authn.apiKey` */
export interface ApiKeySettings {
  readonly header: string;
  readonly queryParam: string;
  readonly prefix: string;
  readonly cacheSize: number;
  readonly lastUsedFlushSec: number;
}

export const DEFAULT_API_KEY_SETTINGS: ApiKeySettings = {
  header: 'x-api-key',
  queryParam: 'api_key',
  prefix: 'pcs',
  cacheSize: 10_000,
  lastUsedFlushSec: 5,
};

/** `authn` top-level section (method-specific sub-sections are typed by their factories). */
export interface AuthnGlobalConfig {
  readonly realm?: string;
  readonly apiKey?: Partial<ApiKeySettings>;
  readonly bruteForce?: Partial<BruteForceSettings> & { readonly enabled?: boolean };
  readonly [section: string]: unknown;
}

const METHOD_PATTERN = '^[a-z_]+(:[A-Za-z0-9_.-]+)?$';
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$";

const methodList: JSONSchemaType = {
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: { type: 'string', pattern: METHOD_PATTERN },
  description: 'Authentication methods: `api_key`, `jwt:<issuer>`, `introspection:<server>`, `mtls`.',
};

export const ROUTE_AUTHENTICATION_SCHEMA: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'Who may call this route. Exactly one of `anyOf` (first method whose credential is present decides) or `allOf` (every method must succeed). Routes without this section must say `public: true`.',
  properties: {
    anyOf: methodList,
    allOf: methodList,
    apiKeyInQuery: {
      type: 'boolean',
      default: false,
      description:
        'Also accept the API key from the query string (`authn.apiKey.queryParam`); it is stripped before forwarding and never logged. Off by default: a key in the query is refused.',
    },
    forwardHeaders: {
      type: 'object',
      description:
        'Upstream header name -> identity field (`consumerId`, `subject`, `method`, `credentialId`, `roles`, `scopes`, `tenant`, `issuer`, `attributes.<name>`). Incoming copies of these headers are always removed. Default: x-consumer-id and x-consumer-subject.',
      propertyNames: { pattern: HEADER_NAME_PATTERN },
      additionalProperties: { type: 'string', pattern: IDENTITY_FIELD_PATTERN },
    },
    forwardCredential: {
      type: 'boolean',
      default: false,
      description:
        'Forward the consumed credential header (Authorization, x-api-key) upstream. Off by default.',
    },
  },
};

export const API_KEY_SETTINGS_SCHEMA: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description: 'Where API keys are read from and how new keys look.',
  properties: {
    header: {
      type: 'string',
      pattern: HEADER_NAME_PATTERN,
      default: 'x-api-key',
      description: 'Request header carrying the key.',
    },
    queryParam: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      default: 'api_key',
      description: 'Query parameter carrying the key on routes with `apiKeyInQuery: true`.',
    },
    prefix: {
      type: 'string',
      pattern: '^[a-z][a-z0-9]{1,15}$',
      default: 'pcs',
      description: 'Recognisable prefix of generated keys (for secret scanners).',
    },
    cacheSize: {
      type: 'integer',
      minimum: 1,
      maximum: 10_000_000,
      default: 10_000,
      description: 'Key records kept in memory per process (LRU); invalidated by the store change feed.',
    },
    lastUsedFlushSec: {
      type: 'number',
      minimum: 0.1,
      maximum: 3600,
      default: 5,
      description: 'How often last-used times are written to the store, in one batch.',
    },
  },
};

export const BRUTE_FORCE_SCHEMA: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'Failed authentications counted per client address and per API-key look-up id: answers slow down past half of `maxFailures`, and the subject is blocked (429 auth_blocked) at `maxFailures`.',
  properties: {
    enabled: { type: 'boolean', default: true },
    maxFailures: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10 },
    windowSec: { type: 'number', exclusiveMinimum: 0, maximum: 86_400, default: 60 },
    blockSec: { type: 'number', minimum: 0, maximum: 86_400, default: 300 },
    delayMs: { type: 'integer', minimum: 0, maximum: 10_000, default: 250 },
  },
};
