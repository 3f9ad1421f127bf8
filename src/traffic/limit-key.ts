import type { RequestContext } from '../pipeline/context.js';
import { ipGroup } from './ip-prefix.js';

/** What a limit counts by: `consumer`, `credential`, `ip`, `route`, `operation`, `header:<name>`. */
export type KeyPart = string;

export const keyPartSchema = {
  type: 'string',
  pattern: "^(consumer|credential|ip|route|operation|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$",
  description:
    'consumer (falls back to the client IP when unauthenticated), credential, ip (IPv6 grouped by prefix), route, operation, or header:<name>.',
} as const;

export interface KeyOptions {
  readonly ipv6Prefix: number;
  readonly ipv4Prefix: number;
  /** Prepended to every key. */
  readonly prefix?: string;
}

type Extract = (ctx: RequestContext) => string;

/**
 * A compiled key as a constant head and a per-request subject: `head + subject(ctx)` is the
 * key. A single part with a fixed tag (`ip`, `route`, `header:`) puts the tag in the head, so
 * the subject is the bare value (for IPv4 `ip`, the request's own address string: nothing is
 * built per request).
 */
export interface CompiledKey {
  readonly head: string;
  readonly subject: Extract;
}

/** Compiles a key list into one function; several parts are length-prefixed so they cannot collide. */
export function compileKey(parts: readonly KeyPart[], options: KeyOptions): Extract {
  const { head, subject } = compileKeyParts(parts, options);
  return head === '' ? subject : (ctx) => head + subject(ctx);
}

export function compileKeyParts(parts: readonly KeyPart[], options: KeyOptions): CompiledKey {
  const prefix = options.prefix ?? '';
  if (parts.length === 1) {
    const part = parts[0] as KeyPart;
    const tag = fixedTag(part);
    if (tag !== undefined) return { head: prefix + tag, subject: bareValue(part, options) };
    return { head: prefix, subject: taggedValue(part, options) };
  }
  const extractors = parts.map((part) => taggedValue(part, options));
  return {
    head: prefix,
    subject: (ctx) => {
      let key = '';
      for (const extract of extractors) {
        const value = extract(ctx);
        key += `${value.length}.${value}`;
      }
      return key;
    },
  };
}

/** The tag of a part whose tag never changes (`consumer` falls back to `ip:`, and so on). */
function fixedTag(part: KeyPart): string | undefined {
  if (part === 'ip') return 'ip:';
  if (part === 'route') return 'r:';
  if (part.startsWith('header:')) return 'h:';
  return undefined;
}

/** The value of a fixed-tag part, without its tag. */
function bareValue(part: KeyPart, options: KeyOptions): Extract {
  const { ipv6Prefix, ipv4Prefix } = options;
  if (part === 'ip') return (ctx) => ipGroup(ctx.clientIp, ipv6Prefix, ipv4Prefix);
  if (part === 'route') return (ctx) => ctx.route.name;
  const name = part.slice('header:'.length).toLowerCase();
  return (ctx) => ctx.header(name) ?? '';
}

/** The value of any part with its tag (`ip:…`, `c:…`, `k:…`, `r:…`, `o:…`, `h:…`). */
function taggedValue(part: KeyPart, options: KeyOptions): Extract {
  const { ipv6Prefix, ipv4Prefix } = options;
  const ip: Extract = (ctx) => 'ip:' + ipGroup(ctx.clientIp, ipv6Prefix, ipv4Prefix);
  const consumer: Extract = (ctx) => {
    const id = ctx.identity?.consumerId ?? ctx.identity?.subject;
    return id === undefined ? ip(ctx) : 'c:' + id;
  };
  switch (part) {
    case 'consumer':
      return consumer;
    case 'credential':
      return (ctx) => {
        const id = ctx.identity?.credentialId;
        return id === undefined ? consumer(ctx) : 'k:' + id;
      };
    case 'ip':
      return ip;
    case 'route':
      return (ctx) => 'r:' + ctx.route.name;
    case 'operation':
      return (ctx) => {
        const op = ctx.operation;
        if (op === undefined) return 'r:' + ctx.route.name;
        return 'o:' + (op.operationId ?? `${op.method} ${op.pathTemplate}`);
      };
    default: {
      const name = part.slice('header:'.length).toLowerCase();
      return (ctx) => 'h:' + (ctx.header(name) ?? '');
    }
  }
}
