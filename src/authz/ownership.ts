import type { RequestContext } from '../pipeline/context.js';
import type { OwnershipRuleConfig } from './config.js';
import type { Decision } from './decision.js';
import { shorten } from './decision.js';
import { compileIdentityRef, scalarString, type IdentityRef } from './identity-ref.js';
import type { JsonBody } from './json-body.js';
import { selectedOperations, type OperationInfo } from './operations.js';
import { bodyValues, compileRequestRef, queryValues, type RequestRef } from './request-ref.js';
import type { AuthzRequest } from './request-view.js';
import { parseSelector, type Selector } from './selector.js';

/** An object-level rule compiled at load: which operations, which request value, which identity value. */
export interface OwnershipRule {
  readonly text: string;
  readonly selectors: readonly Selector[];
  readonly ref: RequestRef;
  readonly expectedText: string;
  readonly expected: IdentityRef;
  readonly mode: 'equals' | 'in';
  readonly optional: boolean;
  readonly exemptRoles: ReadonlySet<string>;
}

export interface OwnershipContext {
  /** Operations of the route's OpenAPI document, when one is attached. */
  readonly operations: readonly OperationInfo[] | undefined;
  /** Request-path prefix of the document's paths. */
  readonly basePath?: string;
  /** Parameter names of the route's own path template (`match.path`), when it has one. */
  readonly routeParams: ReadonlySet<string>;
  /** Lets operationId selectors also guard their operation's path (see operations.ts). */
  widen?(selector: Selector): Selector;
  /** Throws a config error at `pointer` below the rule. */
  fail(message: string, pointer: string): never;
}

export function compileOwnershipRule(config: OwnershipRuleConfig, env: OwnershipContext): OwnershipRule {
  const texts = typeof config.operation === 'string' ? [config.operation] : config.operation;
  const selectors = texts.map((text, index) => {
    try {
      return parseSelector(text);
    } catch (error) {
      return env.fail(
        (error as Error).message,
        typeof config.operation === 'string' ? '/operation' : `/operation/${index}`,
      );
    }
  });
  let ref: RequestRef;
  try {
    ref = compileRequestRef(config.param);
  } catch (error) {
    return env.fail((error as Error).message, '/param');
  }
  const mode = config.equals !== undefined ? 'equals' : 'in';
  const expectedText = config.equals ?? config.in;
  if (expectedText === undefined || (config.equals !== undefined && config.in !== undefined)) {
    return env.fail('an ownership rule needs exactly one of "equals" or "in"', '');
  }
  let expected: IdentityRef;
  try {
    expected = compileIdentityRef(expectedText);
  } catch (error) {
    return env.fail((error as Error).message, mode === 'equals' ? '/equals' : '/in');
  }
  const widen = env.widen;
  const guarded = widen === undefined ? selectors : selectors.map((selector) => widen(selector));
  selectors.forEach((selector, index) =>
    checkParameterExists(selector, ref, env, index, typeof config.operation === 'string'),
  );
  return {
    text: `${texts.join('|')}: ${config.param} ${mode} ${expectedText}`,
    selectors: guarded,
    ref,
    expectedText,
    expected,
    mode,
    optional: config.optional === true,
    exemptRoles: new Set(config.exemptRoles ?? []),
  };
}

function checkParameterExists(
  selector: Selector,
  ref: RequestRef,
  env: OwnershipContext,
  index: number,
  single: boolean,
): void {
  const where = single ? '/operation' : `/operation/${index}`;
  if (env.operations !== undefined) {
    const ops = selectedOperations(selector, env.operations, env.basePath);
    if (ops.length === 0)
      env.fail(`"${selector.text}" names no operation of the route's OpenAPI document`, where);
    for (const op of ops) {
      const name = op.operationId ?? `${op.method} ${op.pathTemplate}`;
      const problem = missingParameter(op, ref);
      if (problem !== undefined)
        env.fail(`operation ${name} ${problem} (rule parameter ${ref.text})`, '/param');
    }
    return;
  }
  if (selector.kind === 'operation') {
    env.fail(
      `"${selector.text}" is an operationId but the route has no OpenAPI document; use "METHOD /path/{param}"`,
      where,
    );
  }
  if (ref.source === 'path') {
    const names = selector.template?.paramNames ?? [...env.routeParams];
    if (!names.includes(ref.name)) {
      env.fail(
        `path parameter "${ref.name}" is not in ${selector.template?.source ?? 'the route path'}`,
        '/param',
      );
    }
  }
}

function missingParameter(op: OperationInfo, ref: RequestRef): string | undefined {
  switch (ref.source) {
    case 'path':
      return op.pathParams.has(ref.name) ? undefined : `has no path parameter "${ref.name}"`;
    case 'query':
      return op.queryParams.has(ref.name) ? undefined : `has no query parameter "${ref.name}"`;
    case 'header':
      return op.headerParams.has(ref.name) ? undefined : `has no header parameter "${ref.name}"`;
    case 'body': {
      if (op.bodyProperties === undefined) return 'has no JSON request body';
      const first = ref.pointer[0] as string;
      return op.bodyProperties === 'any' || op.bodyProperties.has(first)
        ? undefined
        : `has no body property "${first}"`;
    }
  }
}

/**
 * The path parameters captured by the first selector of the rule that guards this request, or
 * undefined when the rule does not apply. Restrictions match broadly (see path-template.ts).
 */
export function ruleCaptures(
  rule: OwnershipRule,
  request: AuthzRequest,
): Readonly<Record<string, string>> | undefined {
  for (const selector of rule.selectors) {
    const captured = selector.capture(request);
    if (captured !== undefined) return captured;
  }
  return undefined;
}

/**
 * Checks one rule; returns the refusal, or undefined when the rule holds. `captured` comes from
 * `ruleCaptures`; `body` is the parsed JSON body for body rules (read by the caller, which is async).
 */
export function checkOwnership(
  rule: OwnershipRule,
  captured: Readonly<Record<string, string>>,
  ctx: RequestContext,
  roles: readonly string[],
  body: JsonBody | undefined,
): Decision | undefined {
  for (const role of roles) if (rule.exemptRoles.has(role)) return undefined;
  const identity = ctx.identity;
  if (identity === undefined) return { check: 'ownership', rule: rule.text, reason: 'no_identity' };
  const values = requestValues(rule, captured, ctx, body);
  if (values === undefined) return { check: 'ownership', rule: rule.text, reason: 'unusable_value' };
  if (values.length === 0) {
    return rule.optional ? undefined : { check: 'ownership', rule: rule.text, reason: 'missing_value' };
  }
  const raw = rule.expected(identity);
  if (rule.mode === 'equals') {
    const expected = scalarString(raw);
    if (expected === undefined) return refuse(rule, values, raw, 'identity_value_missing');
    for (const value of values) if (value !== expected) return refuse(rule, values, raw, 'not_equal');
    return undefined;
  }
  const allowed = Array.isArray(raw) ? raw.map(scalarString) : [scalarString(raw)];
  for (const value of values) if (!allowed.includes(value)) return refuse(rule, values, raw, 'not_in');
  return undefined;
}

function refuse(rule: OwnershipRule, values: readonly string[], raw: unknown, reason: string): Decision {
  return {
    check: 'ownership',
    rule: rule.text,
    reason,
    inputs: { [rule.ref.text]: shorten(values), [rule.expectedText]: shorten(raw) },
  };
}

function requestValues(
  rule: OwnershipRule,
  captured: Readonly<Record<string, string>>,
  ctx: RequestContext,
  body: JsonBody | undefined,
): string[] | undefined {
  const ref = rule.ref;
  switch (ref.source) {
    case 'path': {
      const value = Object.hasOwn(captured, ref.name)
        ? captured[ref.name]
        : Object.hasOwn(ctx.params, ref.name)
          ? ctx.params[ref.name]
          : undefined;
      return value === undefined || value.length === 0 ? [] : [value];
    }
    case 'query':
      return queryValues(ctx, ref.name);
    case 'header': {
      const value = ctx.header(ref.name);
      return value === undefined || value.length === 0 ? [] : [value];
    }
    case 'body':
      if (body === undefined || body.kind === 'none') return [];
      if (body.kind === 'other') return undefined;
      return bodyValues(body.value, ref.pointer);
  }
}
