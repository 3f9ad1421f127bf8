import type { JSONSchemaType } from '../pipeline/json-schema.js';

const selector: JSONSchemaType = {
  type: 'string',
  minLength: 1,
  description:
    'An operation: "*", an OpenAPI operationId, or "METHOD /path/{param}" (METHOD may be "*"; a path may end in "/**").',
};
const selectors = (description: string): JSONSchemaType => ({
  description,
  oneOf: [selector, { type: 'array', minItems: 1, items: selector }],
});
const stringList = (description: string): JSONSchemaType => ({
  type: 'array',
  items: { type: 'string', minLength: 1 },
  description,
});
const propertyLists = (description: string): JSONSchemaType => ({
  type: 'object',
  description,
  additionalProperties: {
    oneOf: [{ const: '*' }, stringList('Property paths ("name", "address.city").')],
  },
});

const role: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  properties: {
    inherits: stringList('Roles whose permissions this role also has.'),
    permissions: {
      type: 'array',
      items: selector,
      description: 'Operations this role may call: "*", operationIds, or "METHOD /path/{param}".',
    },
  },
};

/** JSON Schema of the top-level `roles` section (shared by every route). */
export const ROLES_SCHEMA: JSONSchemaType = {
  type: 'object',
  description: 'Roles shared by every route: name -> { inherits, permissions } (see docs/authorization.md).',
  additionalProperties: role,
};

/** JSON Schema of `routes[i].authorization`. */
export const AUTHORIZATION_SCHEMA: JSONSchemaType = {
  type: 'object',
  additionalProperties: false,
  description:
    'Who may call what on this route (see docs/authorization.md). Required unless the route is public.',
  properties: {
    roles: {
      type: 'object',
      additionalProperties: role,
      description: 'Roles of this route; a name also defined in the top-level roles replaces it here.',
    },
    rbac: { type: 'boolean', description: 'Check role permissions. Default true when any role is defined.' },
    rolesFrom: {
      type: 'object',
      additionalProperties: false,
      required: ['claim'],
      description:
        'Also take roles from these identity attribute (claim) paths, besides the roles authentication set.',
      properties: {
        claim: {
          oneOf: [{ type: 'string', minLength: 1 }, stringList('Dotted claim paths.')],
          description: 'Dotted claim path(s), e.g. realm_access.roles.',
        },
      },
    },
    scopes: {
      description:
        '"openapi" (the default with an OpenAPI document) enforces each operation\'s security scopes; false skips them; or a map selector -> required scopes.',
      oneOf: [
        { const: 'openapi' },
        { const: false },
        { type: 'object', additionalProperties: stringList('Scopes all required.') },
      ],
    },
    privileged: {
      type: 'array',
      items: selector,
      description:
        'Operations that only an explicit permission (or "*") grants; also x-portcullis-privileged in OpenAPI.',
    },
    methodOverride: {
      type: 'boolean',
      description:
        'Honour X-HTTP-Method-Override / X-HTTP-Method / X-Method-Override / _method on POST. Default false (stripped).',
    },
    ownership: {
      type: 'array',
      description: 'Object-level rules binding request values to the caller.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['operation', 'param'],
        properties: {
          operation: selectors('Operation(s) the rule guards.'),
          param: {
            type: 'string',
            description: 'path.<name>, query.<name>, header.<name> or body./json/pointer.',
          },
          equals: {
            type: 'string',
            description:
              'identity.subject | identity.tenant | identity.consumerId | identity.attributes.<path>',
          },
          in: {
            type: 'string',
            description: 'An identity list (e.g. identity.attributes.tenants) the value must be in.',
          },
          optional: { type: 'boolean', description: 'Allow requests without the value. Default false.' },
          exemptRoles: stringList('Roles that skip this rule.'),
        },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'External decision endpoint with the OPA data API shape; fails closed.',
      properties: {
        url: {
          type: 'string',
          pattern: '^https?://',
          description: 'e.g. http://127.0.0.1:8181/v1/data/portcullis/allow',
        },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 60000, description: 'Default 200.' },
        cacheTtlMs: {
          type: 'integer',
          minimum: 0,
          description: 'Cache clear answers this long; 0 disables. Default 5000.',
        },
        cacheSize: { type: 'integer', minimum: 1, description: 'Most cached decisions. Default 10000.' },
        operations: {
          type: 'array',
          items: selector,
          description: 'Operations that ask the policy. Default all.',
        },
        includeBody: {
          type: 'boolean',
          description: 'Send the parsed JSON request body as input.body. Default false.',
        },
        headers: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Extra request headers.',
        },
      },
    },
    properties: {
      type: 'array',
      description: 'Property-level rules: per role, the body properties it may write and read.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          operation: selectors('Operation(s); default "*".'),
          write: propertyLists('Role -> request body properties it may send ("*" for all).'),
          read: propertyLists('Role -> response body properties it may receive ("*" for all).'),
        },
      },
    },
    conditions: {
      type: 'object',
      additionalProperties: false,
      description: 'Request conditions checked before roles.',
      properties: {
        ipAllow: stringList('Client address must be in one of these CIDRs (IPv4/IPv6).'),
        ipDeny: stringList('Client address must not be in any of these CIDRs.'),
        requireMtls: { type: 'boolean', description: 'Require a verified client certificate.' },
        timeWindows: {
          type: 'array',
          minItems: 1,
          description: 'The route may be used only inside one of these windows.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'to'],
            properties: {
              days: { type: 'array', items: { enum: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] } },
              from: { type: 'string', description: 'HH:MM' },
              to: {
                type: 'string',
                description: 'HH:MM (exclusive; may be before from for overnight windows)',
              },
              tz: { type: 'string', description: 'IANA time zone. Default UTC.' },
            },
          },
        },
      },
    },
    enumeration: {
      description: 'ID-enumeration detection (on by default in report mode); false disables.',
      oneOf: [
        { const: false },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            maxDistinctIds: {
              type: 'integer',
              minimum: 1,
              description: 'Distinct object ids refused (403/404) per window. Default 20.',
            },
            windowSec: { type: 'integer', minimum: 1, description: 'Default 60.' },
            action: {
              enum: ['report', 'throttle'],
              description: 'report (audit only, default) or throttle (429).',
            },
          },
        },
      ],
    },
    maxBodyBytes: {
      type: 'integer',
      minimum: 1,
      description: 'Largest JSON request body read for body rules. Default 1 MiB.',
    },
    maxResponseBytes: {
      type: 'integer',
      minimum: 1,
      description: 'Largest JSON response read for filtering. Default 10 MiB.',
    },
  },
};
