import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { missingScopes } from '../../src/authz/scopes.js';

describe('OpenAPI security requirements', () => {
  test('alternatives and conjunctions', () => {
    const reqs = [{ oauth: ['accounts:read', 'accounts:write'] }, { oauth: ['admin'], mtls: [] }];
    assert.equal(missingScopes(reqs, new Set(['accounts:read', 'accounts:write'])), undefined);
    assert.equal(missingScopes(reqs, new Set(['admin'])), undefined);
    assert.deepEqual(missingScopes(reqs, new Set(['accounts:read'])), ['accounts:read', 'accounts:write']);
    assert.deepEqual(missingScopes(reqs, new Set()), ['accounts:read', 'accounts:write']);
  });

  test('no requirement or a scope-less one needs no scope', () => {
    assert.equal(missingScopes([], new Set()), undefined);
    assert.equal(missingScopes([{}], new Set()), undefined);
    assert.equal(missingScopes([{ apiKey: [] }], new Set()), undefined);
  });
});
