import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FormatsPlugin } from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives as `module.exports` under NodeNext.
const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

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
