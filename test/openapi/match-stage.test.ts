import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RouteConfig } from '../../src/config/types.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { matchedOperation, type OperationView } from '../../src/openapi/operation-context.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { AccessStage } from '../../src/pipeline/stage.js';
import matchStage from '../../src/stages/openapi/match.js';
import { fakeBuildContext } from './build-context.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/openapi');

function fakeContext(method: string, path: string): RequestContext {
  return {
    method,
    path,
    query: '',
    params: {},
    operation: undefined,
    state: new Map(),
    logFields: {},
    header: () => undefined,
  } as unknown as RequestContext;
}

async function build(openapi: Record<string, unknown>): Promise<AccessStage> {
  const route = { name: 'r', match: { pathPrefix: '/' }, upstream: 'u', openapi } as RouteConfig;
  const stage = await matchStage.build(
    openapi as never,
    fakeBuildContext(join(FIXTURES, 'portcullis.yaml'), route),
  );
  assert.ok(stage);
  return stage as AccessStage;
}

function refusal(stage: AccessStage, method: string, path: string): GatewayError {
  try {
    void stage.run(fakeContext(method, path));
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail(`${method} ${path} was not refused`);
}

describe('openapi.match stage', () => {
  test('sets ctx.operation, ctx.params (decoded) and the match state', async () => {
    const stage = await build({ spec: './petstore.yaml' });
    const ctx = fakeContext('GET', '/pets/4%32');
    assert.equal(stage.run(ctx), undefined, 'runs synchronously');
    const operation = ctx.operation as OperationView;
    assert.equal(operation.operationId, 'getPet');
    assert.equal(operation.method, 'GET');
    assert.equal(operation.pathTemplate, '/pets/{petId}');
    assert.deepEqual(operation.security, [{ apiKey: [] }]);
    assert.equal(operation.privileged, false);
    assert.deepEqual(ctx.params, { petId: '42' });
    assert.deepEqual(matchedOperation(ctx)?.rawParams, { petId: '4%32' });
    assert.equal(ctx.logFields.operationId, 'getPet');
  });

  test('HEAD uses the GET operation', async () => {
    const stage = await build({ spec: './petstore.yaml' });
    const ctx = fakeContext('HEAD', '/pets');
    stage.run(ctx);
    assert.equal(ctx.operation?.operationId, 'listPets');
  });

  test('strict: 404 for undeclared paths, 405 with Allow for undeclared methods', async () => {
    const stage = await build({ spec: './petstore.yaml' });
    assert.equal(refusal(stage, 'GET', '/admin').code, 'not_found');
    assert.equal(refusal(stage, 'GET', '/pets/').code, 'not_found');
    const method = refusal(stage, 'DELETE', '/pets');
    assert.equal(method.code, 'method_not_allowed');
    assert.deepEqual(method.headers, { allow: 'GET, POST, HEAD' });
    assert.equal(refusal(stage, 'GET', '/pets/%E0%A4%A').code, 'validation_failed');
  });

  test('lenient: undeclared requests pass without an operation', async () => {
    const stage = await build({ spec: './petstore.yaml', strict: false });
    const ctx = fakeContext('GET', '/admin');
    stage.run(ctx);
    assert.equal(ctx.operation, undefined);
  });

  test('basePath is removed before matching; other paths are undeclared', async () => {
    const stage = await build({ spec: './petstore.yaml', basePath: '/api/' });
    const ctx = fakeContext('GET', '/api/pets/mine');
    stage.run(ctx);
    assert.equal(ctx.operation?.operationId, 'myPets');
    assert.equal(refusal(stage, 'GET', '/pets/mine').code, 'not_found');
    assert.equal(refusal(stage, 'GET', '/apipets').code, 'not_found');
  });

  test('routes without openapi get no stage', async () => {
    const stage = await matchStage.build(
      undefined as never,
      fakeBuildContext(join(FIXTURES, 'portcullis.yaml'), {
        name: 'r',
        match: {},
        upstream: 'u',
      } as RouteConfig),
    );
    assert.equal(stage, undefined);
  });
});
