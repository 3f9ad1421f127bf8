import type { JSONSchemaType } from '../pipeline/json-schema.js';

export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

interface RedisCommon {
  readonly type: 'redis';
  /** Prefix of every key and event channel (default `portcullis:`). */
  readonly keyPrefix?: string;
  /** A command not answered in this time counts as a store failure (default 250 ms). */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  readonly username?: string;
  readonly password?: string;
  readonly tls?: boolean;
  /** Nodes sharing this Redis; a fail-open fallback admits `limit / expectedNodes` locally. */
  readonly expectedNodes?: number;
  /** Default `onStoreError` for limits that do not set one (default `fail-closed`). */
  readonly onStoreError?: StoreErrorPolicy;
}

export type StoreErrorPolicy = 'fail-open' | 'fail-closed';

export type CountersConfig =
  | { readonly type: 'memory'; readonly maxKeys?: number }
  | (RedisCommon & { readonly url: string })
  | (RedisCommon & { readonly cluster: readonly (string | RedisNodeAddress)[] })
  | (RedisCommon & {
      readonly sentinel: {
        readonly name: string;
        readonly sentinels: readonly RedisNodeAddress[];
        readonly password?: string;
      };
    });

const node = {
  type: 'object',
  additionalProperties: false,
  required: ['host', 'port'],
  properties: {
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
  },
} as const;

const redisCommon = {
  type: { const: 'redis' },
  keyPrefix: {
    type: 'string',
    description: 'Prefix of every key and event channel (default `portcullis:`).',
  },
  commandTimeoutMs: {
    type: 'integer',
    minimum: 10,
    description: 'A Redis command not answered in this time counts as a store failure (default 250).',
  },
  connectTimeoutMs: { type: 'integer', minimum: 10, description: 'Connect timeout (default 2000).' },
  username: { type: 'string' },
  password: { type: 'string', description: 'Use `${secret:...}` or `${env:...}`; never logged.' },
  tls: { type: 'boolean', description: 'Connect with TLS (also implied by a `rediss://` URL).' },
  expectedNodes: {
    type: 'integer',
    minimum: 1,
    description:
      'Gateway nodes sharing this Redis; a fail-open fallback admits limit / expectedNodes locally.',
  },
  onStoreError: {
    enum: ['fail-open', 'fail-closed'],
    description: 'Default policy for limits that set none when Redis cannot answer (default fail-closed).',
  },
} as const;

export const countersConfigSchema: JSONSchemaType = {
  description:
    'Where rate-limit, throttle and quota counters live: `memory` (one process, the default) or `redis` (shared by every node).',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { const: 'memory' },
        maxKeys: {
          type: 'integer',
          minimum: 1,
          description: 'Most counters kept (LRU beyond it); default 100000.',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'url'],
      properties: {
        ...redisCommon,
        url: { type: 'string', pattern: '^rediss?://', description: 'redis:// or rediss:// URL.' },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'cluster'],
      properties: {
        ...redisCommon,
        cluster: {
          type: 'array',
          minItems: 1,
          description: 'Redis Cluster seed nodes (`host:port` strings or objects).',
          items: { oneOf: [{ type: 'string', minLength: 1 }, node] },
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'sentinel'],
      properties: {
        ...redisCommon,
        sentinel: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'sentinels'],
          properties: {
            name: { type: 'string', minLength: 1, description: 'Master group name.' },
            sentinels: { type: 'array', minItems: 1, items: node },
            password: { type: 'string' },
          },
        },
      },
    },
  ],
};
