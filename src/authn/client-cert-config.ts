import type { JSONSchemaType } from '../pipeline/json-schema.js';

/** One certificate → identity mapping entry. Exactly one of the match keys. */
export interface ClientCertMappingConfig {
  /** SHA-256 fingerprint, hex with or without colons. */
  readonly fingerprint?: string;
  /** Subject common name. */
  readonly subjectCN?: string;
  /** Full subject DN as `CN=svc,O=Acme` (attribute order as in the certificate). */
  readonly subject?: string;
  /** A subjectAltName entry, e.g. `DNS:svc.internal` or `URI:spiffe://acme/svc`. */
  readonly san?: string;
  /** Credential-store consumer by id: its name, roles, tenant and attributes join the identity. */
  readonly consumerId?: string;
  /** Credential-store consumer by name (instead of `consumerId`). */
  readonly consumer?: string;
  /** Identity subject (default: the certificate value chosen by `subjectFrom`). */
  readonly name?: string;
  readonly roles?: readonly string[];
  readonly scopes?: readonly string[];
  readonly tenant?: string;
}

/** `authn.mtls` */
export interface ClientCertConfig {
  /** What becomes the identity subject when no mapping names one (default `subjectCN`). */
  readonly subjectFrom?: 'subjectCN' | 'subject' | 'san' | 'fingerprint';
  /** Refuse certificates the listener could not verify (default true). */
  readonly requireTrusted?: boolean;
  /** PEM file of CAs this method accepts (narrower than the listener's `clientAuth.ca`). */
  readonly ca?: string;
  /** PEM or DER CRL file, issued by one of `ca`. */
  readonly crl?: string;
  /** Refuse certificates that match no entry of `consumers` (default false). */
  readonly requireMapping?: boolean;
  readonly consumers?: readonly ClientCertMappingConfig[];
}

const mappingSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description: 'Maps a certificate (by fingerprint, subject CN, subject DN or SAN) to an identity.',
  oneOf: [
    { required: ['fingerprint'] },
    { required: ['subjectCN'] },
    { required: ['subject'] },
    { required: ['san'] },
  ],
  properties: {
    fingerprint: {
      type: 'string',
      pattern: '^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$',
      description: 'SHA-256 fingerprint (hex).',
    },
    subjectCN: { type: 'string', minLength: 1, description: 'Subject common name.' },
    subject: { type: 'string', minLength: 1, description: 'Subject DN, e.g. `CN=svc,O=Acme`.' },
    san: {
      type: 'string',
      pattern: '^(DNS|URI|email|IP Address):',
      description: 'A SAN entry, e.g. `DNS:svc.internal`.',
    },
    consumerId: {
      type: 'string',
      minLength: 1,
      description: 'Credential-store consumer id: a missing or disabled consumer refuses the certificate.',
    },
    consumer: {
      type: 'string',
      minLength: 1,
      description: 'Credential-store consumer name (instead of `consumerId`).',
    },
    name: { type: 'string', minLength: 1, description: 'Identity subject.' },
    roles: { type: 'array', items: { type: 'string' } },
    scopes: { type: 'array', items: { type: 'string' } },
    tenant: { type: 'string' },
  },
};

/** JSON-Schema fragment of `authn.mtls`. */
export const clientCertSectionSchema: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'Client-certificate authentication (`mtls` method). The listener asks for the certificate (`tls.clientAuth`); this maps it to an identity.',
  properties: {
    subjectFrom: {
      enum: ['subjectCN', 'subject', 'san', 'fingerprint'],
      description: 'Certificate value used as the identity subject (default subjectCN).',
    },
    requireTrusted: {
      type: 'boolean',
      description: 'Refuse certificates the listener did not verify against its CAs (default true).',
    },
    ca: {
      type: 'string',
      minLength: 1,
      description: 'PEM file: only certificates issued by these CAs are accepted.',
    },
    crl: {
      type: 'string',
      minLength: 1,
      description: 'CRL file (PEM or DER) signed by one of `ca`; revoked serials are refused.',
    },
    requireMapping: {
      type: 'boolean',
      description: 'Refuse certificates matching no `consumers` entry (default false).',
    },
    consumers: {
      type: 'array',
      items: mappingSchema,
      description: 'Certificate to identity mappings; first match wins.',
    },
  },
};
