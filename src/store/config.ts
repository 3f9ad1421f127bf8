import type { JSONSchemaType } from '../pipeline/json-schema.js';

/** JSON Schema of the top-level `store:` section. */
export const storeConfigSchema: JSONSchemaType = {
  description: 'Where consumers, credentials, OAuth clients, encrypted secrets and quotas are kept.',
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: {
          const: 'sqlite',
          description: 'Embedded SQLite file (WAL); the default. Several processes may share it.',
        },
        path: {
          type: 'string',
          minLength: 1,
          description:
            'Database file, relative to the config file directory. Default ./.portcullis/portcullis.db.',
        },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'url'],
      properties: {
        type: { const: 'postgres', description: 'PostgreSQL, shared by several gateway nodes.' },
        url: {
          type: 'string',
          pattern: '^postgres(ql)?://',
          description:
            'Connection URL, e.g. postgres://portcullis@db.internal/portcullis (use ${env:...} for a password).',
        },
        poolSize: {
          type: 'integer',
          minimum: 1,
          maximum: 200,
          description: 'Maximum pool connections. Default 10.',
        },
      },
    },
  ],
};

export const DEFAULT_SQLITE_PATH = './.portcullis/portcullis.db';
