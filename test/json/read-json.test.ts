import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readJsonBody } from '../../src/authz/json-body.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { DEFAULT_JSON_LIMITS } from '../../src/json/limits.js';
import { cachedJson, JSON_BODY_KEY, NOT_CACHED, readJson } from '../../src/json/read-json.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { RequestBody } from '../../src/pipeline/request-body.js';

function context(text: string): { ctx: RequestContext; reads: () => number } {
  let reads = 0;
  const buffer = Buffer.from(text);
  const body: RequestBody = {
    present: buffer.length > 0,
    declaredLength: buffer.length,
    mediaType: 'application/json',
    buffered: false,
    async read(limit: number) {
      reads++;
      if (buffer.length > limit) throw new GatewayError('payload_too_large');
      return buffer;
    },
    replace: () => undefined,
    parsed: new Map(),
  };
  return { ctx: { body } as unknown as RequestContext, reads: () => reads };
}

describe('readJson', () => {
  test('parses once and shares the value under ctx.body.parsed', async () => {
    const { ctx, reads } = context('{"a":[1,2]}');
    const first = await readJson(ctx);
    const second = await readJson(ctx);
    assert.deepEqual(first, { a: [1, 2] });
    assert.equal(first, second);
    assert.equal(ctx.body.parsed.get(JSON_BODY_KEY), first);
    assert.equal(reads(), 1);
  });

  test('an empty body reads as undefined', async () => {
    assert.equal(await readJson(context('').ctx), undefined);
  });

  test('oversized bodies are payload_too_large', async () => {
    await assert.rejects(
      readJson(context('{"a":1}').ctx, { ...DEFAULT_JSON_LIMITS, maxBodyBytes: 3 }),
      (error: unknown) => {
        return error instanceof GatewayError && error.code === 'payload_too_large';
      },
    );
  });

  test('hostile JSON is validation_failed with a pointer and a reason for logs', async () => {
    await assert.rejects(readJson(context('{"user":{"__proto__":{"admin":true}}}').ctx), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'validation_failed');
      assert.equal(error.status, 400);
      assert.equal(error.reason, 'json_forbidden_key');
      assert.deepEqual(error.extensions, {
        errors: [{ in: 'body', pointer: '/user/__proto__', message: 'forbidden member name "__proto__"' }],
      });
      return true;
    });
  });
});

describe('readJson after another reader', () => {
  test('a value cached under looser or unknown limits is checked again against the route limits', async () => {
    const { ctx } = context('{"a":{"b":{"c":1}}}');
    ctx.body.parsed.set(JSON_BODY_KEY, { a: { b: { c: 1 } } });
    await assert.rejects(readJson(ctx, { ...DEFAULT_JSON_LIMITS, maxDepth: 2 }), (error: unknown) => {
      return error instanceof GatewayError && error.reason === 'json_depth';
    });
    const { ctx: loose } = context('[1,2,3]');
    assert.deepEqual(await readJson(loose, { ...DEFAULT_JSON_LIMITS, maxArrayLength: 100 }), [1, 2, 3]);
    await assert.rejects(readJson(loose, { ...DEFAULT_JSON_LIMITS, maxArrayLength: 2 }));
  });

  test('stricter or equal earlier checks are reused without reading again', async () => {
    const { ctx, reads } = context('{"a":1}');
    await readJson(ctx, { ...DEFAULT_JSON_LIMITS, maxDepth: 4 });
    await readJson(ctx, { ...DEFAULT_JSON_LIMITS, maxDepth: 8 });
    assert.equal(reads(), 1);
  });
});

describe('cachedJson', () => {
  test('gives the shared value only when it was checked under limits at least as strict', async () => {
    const { ctx } = context('{"a":"' + 'x'.repeat(50) + '"}');
    assert.equal(cachedJson(ctx, DEFAULT_JSON_LIMITS), NOT_CACHED, 'nothing parsed yet');
    const loose = { ...DEFAULT_JSON_LIMITS, maxStringLength: 1000 };
    const value = await readJson(ctx, loose);
    assert.equal(cachedJson(ctx, loose), value);
    assert.equal(cachedJson(ctx, { ...loose, maxStringLength: 2000 }), value, 'stricter limits were checked');
    const strict = { ...DEFAULT_JSON_LIMITS, maxStringLength: 10 };
    assert.equal(cachedJson(ctx, strict), NOT_CACHED, 'a looser earlier check is not trusted');
    await assert.rejects(readJson(ctx, strict), (e: unknown) => e instanceof GatewayError);
  });
});

describe('readJson after the authorization stages read the body', () => {
  test('the body is parsed once when request validation has the same limits', async () => {
    const { ctx, reads } = context('{"owner":"u1","items":[1,2]}');
    const authz = await readJsonBody(ctx, DEFAULT_JSON_LIMITS);
    assert.equal(authz.kind, 'json');
    const value = await readJson(ctx, DEFAULT_JSON_LIMITS);
    assert.deepEqual(value, { owner: 'u1', items: [1, 2] });
    assert.equal(authz.kind === 'json' ? authz.value : undefined, value);
    assert.equal(reads(), 1);
  });

  test('stricter validation limits still check the body again', async () => {
    const { ctx, reads } = context('{"items":[1,2,3]}');
    await readJsonBody(ctx, DEFAULT_JSON_LIMITS);
    await assert.rejects(readJson(ctx, { ...DEFAULT_JSON_LIMITS, maxArrayLength: 2 }), (error: unknown) => {
      return error instanceof GatewayError && error.reason === 'json_array_length';
    });
    assert.equal(reads(), 2);
  });
});
