import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { compileApi } from '../../src/openapi/compile.js';
import { loadDocument } from '../../src/openapi/load.js';
import { OPERATION_STATE_KEY } from '../../src/openapi/operation-context.js';
import { createResponseChecker, type ResponseFinding } from '../../src/openapi/response-validator.js';
import type { ResponseMode } from '../../src/openapi/route-config.js';
import type { CompiledApi } from '../../src/openapi/types.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { ResponseContext } from '../../src/pipeline/response.js';

let dir: string;
let api: CompiledApi;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-response-'));
  const file = join(dir, 'tree.yaml');
  await writeFile(
    file,
    stringify({
      openapi: '3.1.0',
      info: { title: 'tree', version: '1' },
      paths: {
        '/tree': {
          get: {
            operationId: 'getTree',
            responses: {
              '200': {
                description: 'tree',
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } },
              },
            },
          },
        },
      },
      components: {
        schemas: {
          Node: {
            type: 'object',
            properties: {
              label: { type: 'string' },
              children: { type: 'array', items: { $ref: '#/components/schemas/Node' } },
            },
          },
        },
      },
    }),
  );
  api = compileApi(await loadDocument(file), { strict: true });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function run(mode: ResponseMode, body: string): Promise<{ sent: string; findings: ResponseFinding[] }> {
  const operation = api.operationsById.get('getTree');
  assert.ok(operation);
  const ctx = {
    method: 'GET',
    state: new Map([[OPERATION_STATE_KEY, { api, operation, rawParams: {} }]]),
    logFields: {},
  } as unknown as RequestContext;
  let sent = body;
  const response: ResponseContext = {
    status: 200,
    headers: { 'content-type': 'application/json' },
    mediaType: 'application/json',
    local: false,
    read: async () => Buffer.from(body),
    replace: (next) => {
      sent = next.toString();
    },
    parsed: new Map(),
  };
  const findings: ResponseFinding[] = [];
  const check = createResponseChecker(
    api,
    { mode, blockUndeclaredStatus: false, blockUndeclaredContentType: false, maxBodyBytes: 1 << 24 },
    (_ctx, finding) => findings.push(finding),
  );
  return Promise.resolve(check(ctx, response)).then(() => ({ sent, findings }));
}

function deepTree(depth: number): string {
  return '{"label":"x","children":['.repeat(depth) + '{"label":"leaf","secret":1}' + ']}'.repeat(depth);
}

describe('response checker on recursive schemas', () => {
  test('strip walks a recursive schema', async () => {
    const { sent, findings } = await run('strip', deepTree(3));
    assert.doesNotMatch(sent, /secret/);
    assert.deepEqual(findings, [{ kind: 'stripped', removed: 1 }]);
  });

  test('strip fails closed when a body is nested too deeply to walk', async () => {
    await assert.rejects(run('strip', deepTree(50_000)), (error: unknown) => {
      return error instanceof GatewayError && error.code === 'response_contract_violation';
    });
  });

  test('report records the same body without failing', async () => {
    const { sent, findings } = await run('report', deepTree(50_000));
    assert.match(sent, /secret/);
    assert.equal(findings[0]?.kind, 'invalid_json');
  });
});
