// Loads and compiles a large generated OpenAPI document through the real loader (src/openapi:
// loadDocument + compileApi, what `getOpenApi` runs at config load) and prints the time taken.
//   node --import tsx bench/openapi-load.ts [--resources 80] [--runs 3]
// Each resource has 5 operations (list, create, get, replace, delete) plus one action, so the
// default is 480 operations; schemas live in a second file reached by external $refs.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { compileApi } from '../src/openapi/compile.js';
import { loadDocument } from '../src/openapi/load.js';

const { values } = parseArgs({
  options: { resources: { type: 'string', default: '80' }, runs: { type: 'string', default: '3' } },
});

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `components.yaml#/components/schemas/${name}` });

function resourceSchemas(name: string, i: number): Record<string, Json> {
  const fields: Record<string, Json> = {
    id: { type: 'string', format: 'uuid', readOnly: true },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: ['string', 'null'], maxLength: 4000 },
    status: { type: 'string', enum: ['draft', 'active', 'suspended', 'archived'] },
    ownerId: { type: 'string', format: 'uuid' },
    tags: { type: 'array', maxItems: 50, items: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' } },
    amount: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
    ratio: { type: 'number', minimum: 0, maximum: 1 },
    contact: { $ref: '#/components/schemas/Contact' },
    address: { $ref: '#/components/schemas/Address' },
    createdAt: { type: 'string', format: 'date-time', readOnly: true },
    updatedAt: { type: 'string', format: 'date-time', readOnly: true },
  };
  for (let f = 0; f < 6 + (i % 7); f++) fields[`attribute${f}`] = { type: 'string', maxLength: 120 };
  return {
    [name]: { type: 'object', additionalProperties: false, required: ['name', 'status'], properties: fields },
    [`${name}Input`]: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: Object.fromEntries(
        Object.entries(fields).filter(([k]) => !['id', 'createdAt', 'updatedAt'].includes(k)),
      ),
    },
    [`${name}Page`]: {
      allOf: [
        { $ref: '#/components/schemas/PageInfo' },
        {
          type: 'object',
          required: ['items'],
          properties: { items: { type: 'array', items: { $ref: `#/components/schemas/${name}` } } },
        },
      ],
    },
  };
}

function generate(resources: number): { main: Json; components: Json; operations: number } {
  const schemas: Record<string, Json> = {
    Contact: {
      type: 'object',
      additionalProperties: false,
      properties: {
        email: { type: 'string', format: 'email' },
        phone: { type: 'string', pattern: '^\\+[0-9]{6,15}$' },
        website: { type: 'string', format: 'uri' },
      },
    },
    Address: {
      type: 'object',
      additionalProperties: false,
      required: ['country'],
      properties: {
        street: { type: 'string', maxLength: 200 },
        city: { type: 'string', maxLength: 100 },
        postalCode: { type: 'string', maxLength: 16 },
        country: { type: 'string', pattern: '^[A-Z]{2}$' },
      },
    },
    PageInfo: {
      type: 'object',
      required: ['total'],
      properties: { total: { type: 'integer', minimum: 0 }, next: { type: ['string', 'null'] } },
    },
    Problem: {
      type: 'object',
      properties: {
        type: { type: 'string' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
      },
    },
  };
  const paths: Record<string, Json> = {};
  const errors = {
    '400': {
      description: 'bad request',
      content: { 'application/problem+json': { schema: ref('Problem') } },
    },
    '404': { description: 'not found', content: { 'application/problem+json': { schema: ref('Problem') } } },
  };
  const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
  let operations = 0;
  for (let i = 0; i < resources; i++) {
    const name = `Resource${i}`;
    const plural = `resources-${i}`;
    Object.assign(schemas, resourceSchemas(name, i));
    const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };
    paths[`/v1/${plural}`] = {
      get: {
        operationId: `list${name}`,
        security: [{ oauth: [`${plural}:read`] }],
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          { name: 'cursor', in: 'query', schema: { type: 'string', maxLength: 200 } },
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['draft', 'active', 'suspended'] } },
          {
            name: 'tag',
            in: 'query',
            style: 'form',
            explode: true,
            schema: { type: 'array', items: { type: 'string' } },
          },
        ],
        responses: { '200': { description: 'page', ...json(ref(`${name}Page`)) }, ...errors },
      },
      post: {
        operationId: `create${name}`,
        security: [{ oauth: [`${plural}:write`] }],
        requestBody: { required: true, ...json(ref(`${name}Input`)) },
        responses: { '201': { description: 'created', ...json(ref(name)) }, ...errors },
      },
    };
    paths[`/v1/${plural}/{id}`] = {
      parameters: [idParam],
      get: {
        operationId: `get${name}`,
        responses: { '200': { description: 'one', ...json(ref(name)) }, ...errors },
      },
      put: {
        operationId: `replace${name}`,
        requestBody: { required: true, ...json(ref(`${name}Input`)) },
        responses: { '200': { description: 'replaced', ...json(ref(name)) }, ...errors },
      },
      delete: { operationId: `delete${name}`, responses: { '204': { description: 'deleted' }, ...errors } },
    };
    paths[`/v1/${plural}/{id}/actions/archive`] = {
      parameters: [idParam],
      post: {
        operationId: `archive${name}`,
        parameters: [
          {
            name: 'Idempotency-Key',
            in: 'header',
            required: true,
            schema: { type: 'string', maxLength: 64 },
          },
        ],
        requestBody: {
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: { reason: { type: 'string', maxLength: 500 } },
          }),
        },
        responses: { '200': { description: 'archived', ...json(ref(name)) }, ...errors },
      },
    };
    operations += 6;
  }
  const main = {
    openapi: '3.1.0',
    info: { title: 'Generated large API', version: '1.0.0' },
    servers: [{ url: 'https://api.example.com' }],
    components: {
      securitySchemes: {
        oauth: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: 'https://auth.example.com/token', scopes: {} } },
        },
      },
    },
    paths,
  };
  return {
    main,
    components: {
      openapi: '3.1.0',
      info: { title: 'components', version: '1' },
      paths: {},
      components: { schemas },
    },
    operations,
  };
}

async function main(): Promise<void> {
  const resources = Number(values.resources);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-openapi-load-'));
  try {
    const { main, components, operations } = generate(resources);
    const file = join(dir, 'openapi.yaml');
    writeFileSync(file, stringify(main));
    writeFileSync(join(dir, 'components.yaml'), stringify(components));
    const bytes = statSync(file).size + statSync(join(dir, 'components.yaml')).size;
    console.log(
      `generated ${operations} operations, ${Object.keys((components.components as Json).schemas as Json).length} schemas, ${(bytes / 1024).toFixed(0)} KiB of YAML in 2 files`,
    );
    for (let run = 1; run <= Number(values.runs); run++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const loaded = await loadDocument(file);
      const t1 = performance.now();
      const c1 = process.cpuUsage(c0);
      const api = compileApi(loaded, { strict: true });
      const t2 = performance.now();
      const c2 = process.cpuUsage(c0);
      const cpuMs = (c: NodeJS.CpuUsage) => ((c.user + c.system) / 1000).toFixed(0);
      console.log(
        `run ${run}: load+validate+dereference ${(t1 - t0).toFixed(0)} ms, compile ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms wall / ${cpuMs(c2)} ms CPU (load ${cpuMs(c1)}) (${api.operations.length} operations compiled)${run === 1 ? ' [cold: first in this process]' : ''}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`openapi-load failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
