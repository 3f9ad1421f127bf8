import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ParameterFormatError,
  readCookieParameter,
  readHeaderParameter,
  readPathParameter,
  readQueryParameter,
  splitCookies,
  splitQuery,
} from '../../src/openapi/parameters.js';
import type { CompiledParameter, ParameterShape, ParameterStyle } from '../../src/openapi/types.js';

function param(
  location: CompiledParameter['in'],
  style: ParameterStyle,
  explode: boolean,
  shape: ParameterShape,
  propertyNames: string[] = [],
): CompiledParameter {
  return {
    name: 'id',
    in: location,
    required: false,
    style,
    explode,
    shape,
    propertyNames,
    contentType: undefined,
    schema: undefined,
  };
}

describe('path parameter styles (OpenAPI style examples)', () => {
  const table: [ParameterStyle, boolean, ParameterShape, string, unknown][] = [
    ['simple', false, 'primitive', '5', '5'],
    ['simple', false, 'array', '3,4,5', ['3', '4', '5']],
    ['simple', false, 'object', 'role,admin,firstName,Alex', { role: 'admin', firstName: 'Alex' }],
    ['simple', true, 'object', 'role=admin,firstName=Alex', { role: 'admin', firstName: 'Alex' }],
    ['simple', false, 'primitive', 'a%20b', 'a b'],
    ['simple', false, 'array', 'a%2Cb,c', ['a,b', 'c']],
    ['label', false, 'primitive', '.5', '5'],
    ['label', false, 'array', '.3,4,5', ['3', '4', '5']],
    ['label', true, 'array', '.3.4.5', ['3', '4', '5']],
    ['label', false, 'object', '.role,admin,firstName,Alex', { role: 'admin', firstName: 'Alex' }],
    ['label', true, 'object', '.role=admin.firstName=Alex', { role: 'admin', firstName: 'Alex' }],
    ['matrix', false, 'primitive', ';id=5', '5'],
    ['matrix', false, 'array', ';id=3,4,5', ['3', '4', '5']],
    ['matrix', true, 'array', ';id=3;id=4;id=5', ['3', '4', '5']],
    ['matrix', false, 'object', ';id=role,admin,firstName,Alex', { role: 'admin', firstName: 'Alex' }],
    ['matrix', true, 'object', ';role=admin;firstName=Alex', { role: 'admin', firstName: 'Alex' }],
  ];
  for (const [style, explode, shape, raw, expected] of table) {
    test(`${style} explode=${explode} ${shape} ${raw}`, () => {
      assert.deepEqual(readPathParameter(param('path', style, explode, shape), raw), expected);
    });
  }

  const bad: [ParameterStyle, boolean, ParameterShape, string][] = [
    ['label', false, 'primitive', '5'],
    ['matrix', false, 'primitive', 'id=5'],
    ['matrix', false, 'primitive', ';other=5'],
    ['matrix', false, 'primitive', ';id=1;id=2'],
    ['simple', false, 'object', 'role,admin,odd'],
    ['simple', true, 'object', 'role'],
    ['simple', false, 'object', '__proto__,x'],
    ['simple', true, 'object', 'a=1,a=2'],
    ['simple', false, 'primitive', '%E0%A4%A'],
  ];
  for (const [style, explode, shape, raw] of bad) {
    test(`refuses ${style} explode=${explode} ${shape} ${raw}`, () => {
      assert.throws(() => readPathParameter(param('path', style, explode, shape), raw), ParameterFormatError);
    });
  }
});

describe('query parameter styles', () => {
  const table: [ParameterStyle, boolean, ParameterShape, string, unknown, string[]?][] = [
    ['form', true, 'primitive', 'id=5', '5'],
    ['form', true, 'primitive', 'id=a+b%21', 'a b!'],
    ['form', true, 'array', 'id=3&id=4&id=5', ['3', '4', '5']],
    ['form', false, 'array', 'id=3,4,5', ['3', '4', '5']],
    ['form', false, 'object', 'id=role,admin,firstName,Alex', { role: 'admin', firstName: 'Alex' }],
    [
      'form',
      true,
      'object',
      'role=admin&firstName=Alex',
      { role: 'admin', firstName: 'Alex' },
      ['role', 'firstName'],
    ],
    ['spaceDelimited', false, 'array', 'id=3%204%205', ['3', '4', '5']],
    ['spaceDelimited', false, 'array', 'id=3+4+5', ['3', '4', '5']],
    ['pipeDelimited', false, 'array', 'id=3|4|5', ['3', '4', '5']],
    ['pipeDelimited', false, 'array', 'id=3%7C4%7C5', ['3', '4', '5']],
    [
      'deepObject',
      true,
      'object',
      'id%5Brole%5D=admin&id[firstName]=Alex',
      { role: 'admin', firstName: 'Alex' },
    ],
    ['form', true, 'primitive', 'other=1', undefined],
    ['form', false, 'array', 'id=', []],
  ];
  for (const [style, explode, shape, query, expected, names] of table) {
    test(`${style} explode=${explode} ${shape} ${query}`, () => {
      assert.deepEqual(
        readQueryParameter(param('query', style, explode, shape, names), splitQuery(query)),
        expected,
      );
    });
  }

  const bad: [ParameterStyle, boolean, ParameterShape, string][] = [
    ['form', true, 'primitive', 'id=1&id=2'],
    ['form', false, 'array', 'id=1&id=2'],
    ['deepObject', true, 'object', 'id[a][b]=1'],
    ['deepObject', true, 'object', 'id[__proto__]=1'],
    ['deepObject', true, 'object', 'id[a]=1&id[a]=2'],
    ['form', true, 'primitive', 'id=%zz'],
  ];
  for (const [style, explode, shape, query] of bad) {
    test(`refuses ${style} ${query}`, () => {
      assert.throws(
        () => readQueryParameter(param('query', style, explode, shape), splitQuery(query)),
        ParameterFormatError,
      );
    });
  }
});

describe('header and cookie parameters', () => {
  test('headers: simple style, not percent-decoded', () => {
    assert.equal(readHeaderParameter(param('header', 'simple', false, 'primitive'), 'a%20b'), 'a%20b');
    assert.deepEqual(readHeaderParameter(param('header', 'simple', false, 'array'), '1, 2,3'), [
      '1',
      '2',
      '3',
    ]);
    assert.deepEqual(readHeaderParameter(param('header', 'simple', true, 'object'), 'a=1,b=2'), {
      a: '1',
      b: '2',
    });
    assert.equal(readHeaderParameter(param('header', 'simple', false, 'primitive'), undefined), undefined);
  });

  test('cookies: form style; the first of a repeated cookie wins', () => {
    const cookies = splitCookies('id=3,4; other=x; id=9');
    assert.deepEqual(readCookieParameter(param('cookie', 'form', false, 'array'), cookies), ['3', '4']);
    assert.equal(
      readCookieParameter(param('cookie', 'form', true, 'primitive'), splitCookies('a=1')),
      undefined,
    );
  });
});
