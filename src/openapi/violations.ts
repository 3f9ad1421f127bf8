import type { ErrorObject } from 'ajv';
import { GatewayError } from '../errors/gateway-error.js';

/** One contract violation as sent to clients: where, which member, what is wrong. Never the value. */
export interface Violation {
  readonly in: 'path' | 'query' | 'header' | 'cookie' | 'body' | 'response';
  readonly pointer: string;
  readonly message: string;
}

/** Most violations listed in one problem. */
export const MAX_VIOLATIONS = 20;
const MAX_POINTER = 200;

function escapeToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function clip(pointer: string): string {
  return pointer.length > MAX_POINTER ? pointer.slice(0, MAX_POINTER) + '…' : pointer;
}

/** Turns Ajv errors into violations; `strip` removes a leading `/<name>` for parameter objects. */
export function fromAjv(
  location: Violation['in'],
  errors: readonly ErrorObject[] | null | undefined,
  out: Violation[],
): void {
  if (errors === null || errors === undefined) return;
  for (const error of errors) {
    if (out.length >= MAX_VIOLATIONS) return;
    let pointer = error.instancePath;
    let message = error.message ?? error.keyword;
    const params = error.params as Record<string, unknown>;
    if (error.keyword === 'required' && typeof params.missingProperty === 'string') {
      pointer += '/' + escapeToken(params.missingProperty);
      message = 'is required';
    } else if (error.keyword === 'unevaluatedProperties' && typeof params.unevaluatedProperty === 'string') {
      pointer += '/' + escapeToken(params.unevaluatedProperty);
      message = 'is not declared';
    } else if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      pointer += '/' + escapeToken(params.additionalProperty);
      message = 'is not declared';
    } else if (error.keyword === 'false schema') {
      message = 'is not allowed here';
    }
    // anyOf/oneOf summaries repeat what their branches said; keep the list short.
    if (error.keyword === 'if') continue;
    out.push({ in: location, pointer: clip(pointer), message });
  }
}

export function addViolation(out: Violation[], violation: Violation): void {
  if (out.length < MAX_VIOLATIONS) out.push({ ...violation, pointer: clip(violation.pointer) });
}

/** The 400 `validation_failed` problem listing the violations. */
export function validationFailed(violations: readonly Violation[], reason: string): GatewayError {
  return new GatewayError('validation_failed', {
    reason,
    extensions: { errors: violations.slice(0, MAX_VIOLATIONS) },
  });
}
