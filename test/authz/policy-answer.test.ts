import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interpretAnswer } from '../../src/authz/policy-client.js';

describe('policy answers (OPA data API shape)', () => {
  test('only a clear yes allows', () => {
    const allow = [
      '{"result":true}',
      '{"result":{"allow":true}}',
      '{"result":{"allow":true,"why":"owner"}}',
      '{"decision_id":"x","result":true}',
    ];
    for (const text of allow) assert.equal(interpretAnswer(Buffer.from(text)).allow, true, text);
  });

  test('explicit no', () => {
    for (const text of ['{"result":false}', '{"result":{"allow":false}}']) {
      assert.deepEqual(interpretAnswer(Buffer.from(text)), { allow: false, reason: 'denied' });
    }
  });

  test('everything else is garbage and denies', () => {
    const garbage = [
      '',
      '{}',
      'true',
      '[true]',
      'null',
      '{"result":null}',
      '{"result":"true"}',
      '{"result":1}',
      '{"result":[true]}',
      '{"result":{}}',
      '{"result":{"allow":"true"}}',
      '{"result":{"allow":1}}',
      '{"Result":true}',
      '{"result":tru',
      '<html>',
      '{"__proto__":{"result":true}}',
    ];
    for (const text of garbage)
      assert.deepEqual(interpretAnswer(Buffer.from(text)), { allow: false, reason: 'policy_garbage' }, text);
  });
});
