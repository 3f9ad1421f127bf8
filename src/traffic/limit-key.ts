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
}

type Extract = (ctx: RequestContext) => string;

/** Compiles a key list into one function; several parts are length-prefixed so they cannot collide. */
export function compileKey(parts: readonly KeyPart[], options: KeyOptions): Extract {
  const ip: Extract = (ctx) => 'ip:' + ipGroup(ctx.clientIp, options.ipv6Prefix, options.ipv4Prefix);
  const consumer: Extract = (ctx) => {
    const id = ctx.identity?.consumerId ?? ctx.identity?.subject;
    return id === undefined ? ip(ctx) : 'c:' + id;
  };
  const extractors = parts.map((part): Extract => {
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
  });
  if (extractors.length === 1) return extractors[0] as Extract;
  return (ctx) => {
    let key = '';
    for (const extract of extractors) {
      const value = extract(ctx);
      key += `${value.length}.${value}`;
    }
    return key;
  };
}
