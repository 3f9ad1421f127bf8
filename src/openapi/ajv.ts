import { Ajv2020 } from 'ajv/dist/2020.js';
import type { CodeKeywordDefinition, KeywordCxt } from 'ajv';
import { _, operators } from 'ajv/dist/compile/codegen/index.js';
import { useFunc } from 'ajv/dist/compile/util.js';
import ucs2length from 'ajv/dist/runtime/ucs2length.js';
import limitLengthModule from 'ajv/dist/vocabularies/validation/limitLength.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives as `module.exports` under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// CommonJS modules: their default export arrives as `module.exports` under NodeNext.
const countCodePoints = ((ucs2length as unknown as { default?: (s: string) => number }).default ??
  ucs2length) as (s: string) => number;
const limitLength = ((limitLengthModule as unknown as { default?: CodeKeywordDefinition }).default ??
  limitLengthModule) as CodeKeywordDefinition;

const HIGH_SURROGATE = /[\uD800-\uDBFF]/;

/**
 * JSON Schema counts a string's length in code points. Ajv counts them one UTF-16 unit at a time
 * in JavaScript (a quarter of a 2 KB body's validation time in bench/icount.ts); without a high
 * surrogate every unit is a code point, and a native search for one decides that.
 */
export function codePointLength(value: string): number {
  return HIGH_SURROGATE.test(value) ? countCodePoints(value) : value.length;
}
/** For Ajv's `useFunc` (which would name it in standalone code, not used here). */
const codePointLengthFunc = Object.assign(codePointLength, { code: 'codePointLength' });

/** Ajv's own maxLength/minLength keyword (its messages and parameters), counting with codePointLength. */
const fastLimitLength: CodeKeywordDefinition = {
  ...limitLength,
  code(cxt: KeywordCxt) {
    const { keyword, data, schemaCode } = cxt;
    const op = keyword === 'maxLength' ? operators.GT : operators.LT;
    cxt.fail$data(_`${useFunc(cxt.gen, codePointLengthFunc)}(${data}) ${op} ${schemaCode}`);
  },
};

/**
 * A fresh Ajv (draft 2020-12) for one loaded document. OpenAPI schemas carry annotation keywords
 * Ajv does not know (`example`, `xml`, ...), hence `strict: false`. OpenAPI's own formats are
 * added (`int32` and `int64` are range checks; `float`, `double`, `binary` and `password` are
 * annotations).
 */
export function createAjv(options: { coerceTypes: boolean }): Ajv2020 {
  const ajv = new Ajv2020({
    strict: false,
    allErrors: true,
    coerceTypes: options.coerceTypes ? 'array' : false,
    logger: false,
    validateFormats: true,
    // The OpenAPI parser has validated the document; meta-validating every schema again
    // (draft 2020-12 dynamic refs) would dominate load time on large documents.
    validateSchema: false,
  });
  ajv.removeKeyword('maxLength');
  ajv.removeKeyword('minLength');
  ajv.addKeyword(fastLimitLength);
  addFormats(ajv);
  ajv.addFormat('int32', {
    type: 'number',
    validate: (value: number) => Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX,
  });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isInteger(value) });
  ajv.addFormat('float', { type: 'number', validate: () => true });
  ajv.addFormat('double', { type: 'number', validate: () => true });
  ajv.addFormat('byte', BASE64);
  ajv.addFormat('binary', () => true);
  ajv.addFormat('password', () => true);
  return ajv;
}
