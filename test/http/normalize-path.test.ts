import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { normalizeTarget } from '../../src/http/normalize-path.js';

const normalized: [string, string][] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a//b', '/a/b'],
  ['//admin', '/admin'],
  ['/a/./b', '/a/b'],
  ['/a/b/../c', '/a/c'],
  ['/a/%2e%2e/b', '/b'],
  ['/a/%2E%2E/b', '/b'],
  ['/a/.%2e/b', '/b'],
  ['/a/%2e/b', '/a/b'],
  ['/%61dmin', '/admin'],
  ['/a%7Eb', '/a~b'],
  ['/a/b/', '/a/b/'],
  ['/a/b/.', '/a/b/'],
  ['/a/b/..', '/a/'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  ['/a%20b', '/a%20b'],
  ['/My%20Doc.pdf', '/My%20Doc.pdf'],
  ['/a%3fb', '/a%3Fb'],
  ['/a%23b', '/a%23b'],
  ['/users/me@example.com', '/users/me@example.com'],
];

const refused: [string, string][] = [
  ['/a%2fb', 'encoded_slash'],
  ['/a%2Fb', 'encoded_slash'],
  ['/a%5cb', 'encoded_backslash'],
  ['/a\\b', 'backslash_in_path'],
  ['/a%00b', 'encoded_control_character'],
  ['/a%0d%0aSet-Cookie:x', 'encoded_control_character'],
  ['/..', 'dot_segment_above_root'],
  ['/a/../../etc/passwd', 'dot_segment_above_root'],
  ['/%2e%2e/%2e%2e/etc/passwd', 'dot_segment_above_root'],
  ['/%c0%ae%c0%ae/etc', 'invalid_utf8'],
  ['/%c0%af', 'invalid_utf8'],
  ['/%e0%80%af', 'invalid_utf8'],
  ['/%ff', 'invalid_utf8'],
  ['/%zz', 'bad_percent_encoding'],
  ['/%2', 'bad_percent_encoding'],
  ['/admin;jsessionid=x', 'semicolon_in_path'],
  ['/admin%3bx', 'encoded_semicolon'],
  ['/admin#frag', 'bad_path_character'],
  ['/admin%20', 'whitespace_at_segment_edge'],
  ['/%20admin/x', 'whitespace_at_segment_edge'],
  ['/a b', 'bad_path_character'],
  ['/a\tb', 'bad_path_character'],
  ['/caf\u00e9', 'bad_path_character'],
  ['http://evil.example/admin', 'target_not_origin_form'],
  ['*', 'target_not_origin_form'],
  ['', 'target_not_origin_form'],
];

describe('path normalisation', () => {
  for (const [input, expected] of normalized) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normalizeTarget(input).path, expected);
    });
  }
  for (const [input, reason] of refused) {
    test(`${JSON.stringify(input)} is refused (${reason})`, () => {
      assert.throws(
        () => normalizeTarget(input),
        (error: unknown) =>
          error instanceof GatewayError && error.code === 'bad_path' && error.reason === reason,
      );
    });
  }
  test('normalising twice changes nothing (idempotent)', () => {
    for (const [input] of normalized) {
      const once = normalizeTarget(input).path;
      assert.equal(normalizeTarget(once).path, once);
    }
  });
  test('query string is kept verbatim but control characters are refused', () => {
    assert.deepEqual(normalizeTarget('/a?x=%2f&y=1'), { path: '/a', query: 'x=%2f&y=1' });
    assert.throws(() => normalizeTarget('/a?x=\u0001'));
  });
  test('semicolons can be allowed explicitly', () => {
    assert.equal(normalizeTarget('/a;v=1/b', { allowSemicolons: true }).path, '/a;v=1/b');
  });
});
