import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CATALOGUE, problemType, type ErrorCode } from '../../src/errors/catalogue.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { renderProblem } from '../../src/errors/render.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^## ([a-z_]+)$/gm)].map((m) => m[1]));

test('every catalogue code is documented in docs/errors.md, and nothing else is', () => {
  const codes = new Set(Object.keys(ERROR_CATALOGUE));
  for (const code of codes) assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  for (const code of documented) assert.ok(codes.has(code!), `docs/errors.md documents unknown code ${code}`);
});

test('every documented section states the catalogue status', () => {
  for (const [code, spec] of Object.entries(ERROR_CATALOGUE)) {
    const section = doc.split(`## ${code}\n`)[1]?.split('\n## ')[0] ?? '';
    assert.match(
      section,
      new RegExp(`Status ${spec.status}\\b`),
      `${code} section must say Status ${spec.status}`,
    );
  }
});

test('problem documents are RFC 9457 shaped and leak nothing', () => {
  for (const code of Object.keys(ERROR_CATALOGUE) as ErrorCode[]) {
    const cause = new Error('SELECT * FROM users -- secret internals at /srv/app.js:12');
    const rendered = renderProblem(new GatewayError(code, { cause, reason: 'internal_reason_xyz' }), 'req-1');
    const body = JSON.parse(rendered.body) as Record<string, unknown>;
    assert.equal(rendered.headers['content-type'], 'application/problem+json');
    assert.equal(body.type, problemType(code));
    assert.equal(body.status, ERROR_CATALOGUE[code].status);
    assert.equal(body.code, code);
    assert.equal(body.requestId, 'req-1');
    assert.doesNotMatch(rendered.body, /secret internals|internal_reason_xyz|\.js:\d+/);
  }
});

test('unknown errors render as a generic 500 without their message or stack', () => {
  const rendered = renderProblem(new TypeError('cannot read property x of undefined at /srv/x.js:1:2'));
  assert.equal(rendered.status, 500);
  assert.doesNotMatch(rendered.body, /undefined|x\.js|TypeError/);
});
