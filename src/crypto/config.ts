import type { JSONSchemaType } from '../pipeline/json-schema.js';

/** Where one version of the key-encryption key (KEK) comes from. */
export interface KekConfig {
  /** Version number recorded beside every data key it wraps. Default 1. */
  readonly version?: number;
  readonly provider: 'file' | 'env' | 'command';
  /** `file`: path of a file holding 32 random bytes, base64 (mode 0600). */
  readonly path?: string;
  /** `env`: name of the environment variable holding the base64 key. */
  readonly env?: string;
  /** `command`: program and arguments (no shell) that print the base64 key on stdout. */
  readonly command?: readonly string[];
  /** `command`: time limit in milliseconds. Default 10000. */
  readonly timeoutMs?: number;
}

/** The `secrets:` top-level config section. */
export interface SecretsConfig {
  /** The current KEK: wraps every new data key. */
  readonly kek?: KekConfig;
  /** Older KEK versions still able to unwrap data keys until `portcullis secrets rotate` re-wraps them. */
  readonly previous?: readonly KekConfig[];
}

export const DEFAULT_KEK_PATH = './.portcullis/kek.key';
export const DEFAULT_KEK_ENV = 'PORTCULLIS_KEK';

export const DEFAULT_KEK: KekConfig = { version: 1, provider: 'file', path: DEFAULT_KEK_PATH };

const kekSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  required: ['provider'],
  properties: {
    version: {
      type: 'integer',
      minimum: 1,
      description: 'KEK version recorded with each wrapped data key. Default 1.',
    },
    provider: {
      enum: ['file', 'env', 'command'],
      description:
        'file: a file with 32 random bytes, base64, mode 0600. env: an environment variable. command: a program printing the key (vault, KMS CLI).',
    },
    path: {
      type: 'string',
      minLength: 1,
      description: 'file provider: key file, relative to the config directory.',
    },
    env: {
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      description: 'env provider: variable name. Default PORTCULLIS_KEK.',
    },
    command: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description:
        'command provider: program and arguments (run without a shell); prints the base64 key on stdout.',
    },
    timeoutMs: {
      type: 'integer',
      minimum: 100,
      maximum: 120000,
      description: 'command provider: time limit. Default 10000.',
    },
  },
  allOf: [
    {
      if: { properties: { provider: { const: 'file' } } },
      then: { not: { anyOf: [{ required: ['env'] }, { required: ['command'] }] } },
    },
    {
      if: { properties: { provider: { const: 'env' } } },
      then: { not: { anyOf: [{ required: ['path'] }, { required: ['command'] }] } },
    },
    {
      if: { properties: { provider: { const: 'command' } } },
      then: { required: ['command'], not: { anyOf: [{ required: ['path'] }, { required: ['env'] }] } },
    },
  ],
};

/** JSON Schema of the top-level `secrets:` section. */
export const secretsConfigSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'The keyring that encrypts stored secrets and signing keys (envelope encryption, AES-256-GCM).',
  properties: {
    kek: {
      ...kekSchema,
      description: 'The current key-encryption key. Default: file ./.portcullis/kek.key, version 1.',
    },
    previous: {
      type: 'array',
      items: kekSchema,
      description: 'Older KEK versions, kept until `portcullis secrets rotate` reports them unused.',
    },
  },
};
