import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formBodyHasOverride, overrideMethod, stripOverrideParam } from '../../src/authz/method-override.js';

describe('method override helpers', () => {
  test('_method is removed in every spelling and the rest kept', () => {
    assert.deepEqual(stripOverrideParam('a=1&_method=DELETE&b=2'), { query: 'a=1&b=2', removed: ['DELETE'] });
    assert.deepEqual(stripOverrideParam('_METHOD=put'), { query: '', removed: ['put'] });
    assert.deepEqual(stripOverrideParam('%5Fmethod=DELETE'), { query: '', removed: ['DELETE'] });
    assert.deepEqual(stripOverrideParam('_%6Dethod=DELETE'), { query: '', removed: ['DELETE'] });
    assert.deepEqual(stripOverrideParam('_method'), { query: '', removed: [''] });
    assert.deepEqual(stripOverrideParam('x_method=1&_methods=2'), {
      query: 'x_method=1&_methods=2',
      removed: [],
    });
    assert.deepEqual(stripOverrideParam('a=%zz'), { query: 'a=%zz', removed: [] });
  });

  test('only ordinary methods may be selected', () => {
    assert.equal(overrideMethod(' delete '), 'DELETE');
    assert.equal(overrideMethod('PATCH'), 'PATCH');
    for (const bad of ['CONNECT', 'TRACE', 'TRACK', 'DELETE, GET', '', 'PROPFIND'])
      assert.equal(overrideMethod(bad), undefined, bad);
  });

  test('form bodies carrying _method are detected', () => {
    assert.ok(formBodyHasOverride('application/x-www-form-urlencoded', Buffer.from('a=1&_method=DELETE')));
    assert.ok(formBodyHasOverride('application/x-www-form-urlencoded', Buffer.from('%5Fmethod=DELETE')));
    assert.ok(!formBodyHasOverride('application/x-www-form-urlencoded', Buffer.from('a=_method')));
    assert.ok(
      formBodyHasOverride(
        'multipart/form-data',
        Buffer.from('--x\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--x--'),
      ),
    );
    assert.ok(!formBodyHasOverride('application/json', Buffer.from('{"_method":"DELETE"}')));
  });
});

describe('multipart _method detection', () => {
  test('only a part named _method counts', () => {
    const part = (disposition: string) => Buffer.from(`--x\r\n${disposition}\r\n\r\nDELETE\r\n--x--\r\n`);
    assert.ok(
      formBodyHasOverride('multipart/form-data', part('Content-Disposition: form-data; name=_method')),
    );
    assert.ok(
      formBodyHasOverride('multipart/form-data', part('content-disposition: form-data; name="_method"; x=1')),
    );
    assert.ok(
      !formBodyHasOverride('multipart/form-data', part('Content-Disposition: form-data; name="_methods"')),
    );
    assert.ok(
      !formBodyHasOverride(
        'multipart/form-data',
        part('Content-Disposition: form-data; name="note"\r\n\r\nname="_method"'),
      ),
    );
  });
});
