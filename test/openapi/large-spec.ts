/**
 * Generates a large real-world-like OpenAPI 3.0 document: `resources` resources, each with
 * list/create/get/replace/patch/delete operations (six per resource), shared component schemas
 * with nesting, allOf composition, enums, formats, nullable members, and paging parameters.
 */
export function largeSpec(resources: number): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: {
      type: 'object',
      required: ['code'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
    Audit: {
      type: 'object',
      properties: {
        createdAt: { type: 'string', format: 'date-time', readOnly: true },
        updatedAt: { type: 'string', format: 'date-time', readOnly: true, nullable: true },
        createdBy: { type: 'string', format: 'email' },
      },
    },
    Address: {
      type: 'object',
      required: ['line1', 'country'],
      properties: {
        line1: { type: 'string', maxLength: 200 },
        line2: { type: 'string', maxLength: 200, nullable: true },
        postcode: { type: 'string', pattern: '^[A-Z0-9 -]{3,10}$' },
        country: { type: 'string', minLength: 2, maxLength: 2 },
      },
    },
  };
  const paths: Record<string, unknown> = {};
  const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
  const json = (schema: unknown) => ({ 'application/json': { schema } });
  for (let i = 0; i < resources; i++) {
    const name = `Resource${i}`;
    schemas[name] = {
      allOf: [
        ref('Audit'),
        {
          type: 'object',
          required: ['name', 'status'],
          properties: {
            id: { type: 'string', format: 'uuid', readOnly: true },
            name: { type: 'string', minLength: 1, maxLength: 120 },
            status: { type: 'string', enum: ['active', 'suspended', 'closed'] },
            amount: { type: 'number', minimum: 0, exclusiveMinimum: true },
            count: { type: 'integer', format: 'int32' },
            address: ref('Address'),
            tags: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 40 } },
            parent: i > 0 ? ref(`Resource${i - 1}Summary`) : { type: 'string', nullable: true },
          },
        },
      ],
    };
    schemas[`${name}Summary`] = {
      type: 'object',
      properties: { id: { type: 'string' }, name: { type: 'string' } },
    };
    const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
    const errors = { default: { description: 'error', content: json(ref('Error')) } };
    paths[`/v1/resource-${i}`] = {
      get: {
        operationId: `list${name}`,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          {
            name: 'status',
            in: 'query',
            schema: { type: 'array', items: { type: 'string', enum: ['active', 'closed'] } },
          },
        ],
        responses: {
          '200': {
            description: 'page',
            content: json({
              type: 'object',
              properties: {
                items: { type: 'array', items: ref(name) },
                next: { type: 'string', nullable: true },
              },
            }),
          },
          ...errors,
        },
      },
      post: {
        operationId: `create${name}`,
        requestBody: { required: true, content: json(ref(name)) },
        responses: { '201': { description: 'created', content: json(ref(name)) }, ...errors },
      },
    };
    paths[`/v1/resource-${i}/{id}`] = {
      parameters: [idParam],
      get: {
        operationId: `get${name}`,
        responses: { '200': { description: 'one', content: json(ref(name)) }, ...errors },
      },
      put: {
        operationId: `replace${name}`,
        requestBody: { required: true, content: json(ref(name)) },
        responses: { '200': { description: 'replaced', content: json(ref(name)) }, ...errors },
      },
      patch: {
        operationId: `patch${name}`,
        requestBody: { content: { 'application/merge-patch+json': { schema: ref(`${name}Summary`) } } },
        responses: { '200': { description: 'patched', content: json(ref(name)) }, ...errors },
      },
      delete: { operationId: `delete${name}`, responses: { '204': { description: 'gone' }, ...errors } },
    };
  }
  return { openapi: '3.0.3', info: { title: 'Large', version: '1.0.0' }, paths, components: { schemas } };
}
