import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accepts } from '../../src/openapi/accept.js';

describe('Accept negotiation', () => {
  const json = ['application/json', 'application/problem+json'];
  const table: [string | undefined, readonly string[], boolean][] = [
    [undefined, json, true],
    ['', json, true],
    ['*/*', json, true],
    ['application/json', json, true],
    ['Application/JSON; charset=utf-8', json, true],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', json, true],
    ['application/*', json, true],
    ['application/xml', json, false],
    ['text/*', json, false],
    ['application/json;q=0', json, false],
    ['application/json;q=0, */*;q=0', json, false],
    ['image/png', ['image/*'], true],
    ['text/plain', [], true],
  ];
  for (const [header, produced, expected] of table) {
    test(`${header ?? '(absent)'} vs ${produced.join(' ') || '(nothing declared)'} -> ${expected}`, () => {
      assert.equal(accepts(header, produced), expected);
    });
  }
});
