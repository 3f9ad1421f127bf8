import { compilePathTemplate, type MatchMode, type PathTemplate } from './path-template.js';
import type { AuthzRequest } from './request-view.js';

/**
 * Names one operation or a set of them, in permissions and rules:
 * - `*`: every operation of the route;
 * - `getAccount`: an OpenAPI operationId;
 * - `GET /accounts/{accountId}`, `* /admin/**`: a method (or `*`) and a path template.
 */
export interface Selector {
  readonly text: string;
  readonly kind: 'all' | 'operation' | 'route';
  readonly operationId: string | undefined;
  /** Upper case, or `*`. */
  readonly method: string | undefined;
  readonly template: PathTemplate | undefined;
  /** Names exactly one operation (no wildcard method, no `**`): may grant a privileged operation. */
  readonly specific: boolean;
  matches(request: AuthzRequest, mode: MatchMode): boolean;
  /**
   * Matches in restrict mode in one pass: the path parameters the template captured (empty for
   * selectors without a template), or undefined when the request is not selected.
   */
  capture(request: AuthzRequest): Readonly<Record<string, string>> | undefined;
}

const NONE: Readonly<Record<string, string>> = Object.freeze({});
const OPERATION_ID = /^[A-Za-z0-9_.:-]+$/;
const METHOD = /^(\*|[A-Z]+)$/;

/** Parses a selector; throws TypeError with the reason when malformed. */
export function parseSelector(text: string): Selector {
  const trimmed = text.trim();
  if (trimmed === '*') {
    return {
      text,
      kind: 'all',
      operationId: undefined,
      method: undefined,
      template: undefined,
      specific: false,
      matches: () => true,
      capture: () => NONE,
    };
  }
  const space = trimmed.indexOf(' ');
  if (space === -1) {
    if (!OPERATION_ID.test(trimmed)) {
      throw new TypeError(`"${text}" is neither an operationId, "*", nor "METHOD /path/template"`);
    }
    return {
      text,
      kind: 'operation',
      operationId: trimmed,
      method: undefined,
      template: undefined,
      specific: true,
      matches: (request) => request.operationId === trimmed,
      capture: (request) => (request.operationId === trimmed ? NONE : undefined),
    };
  }
  const method = trimmed.slice(0, space);
  const path = trimmed.slice(space + 1).trim();
  if (!METHOD.test(method))
    throw new TypeError(`"${text}": the method must be upper case (GET, POST, ...) or "*"`);
  if (method === 'HEAD') throw new TypeError(`"${text}": HEAD is authorised as GET; write GET`);
  const template = compilePathTemplate(path);
  const anyMethod = method === '*';
  return {
    text,
    kind: 'route',
    operationId: undefined,
    method,
    template,
    specific: !anyMethod && !template.open,
    matches: (request, mode) =>
      (anyMethod || request.method === method) &&
      template.matchParts(request.parts(mode), mode) !== undefined,
    capture: (request) =>
      anyMethod || request.method === method
        ? template.matchParts(request.parts('restrict'), 'restrict')
        : undefined,
  };
}
