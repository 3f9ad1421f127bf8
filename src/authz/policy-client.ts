import { LRUCache } from 'lru-cache';
import { Pool } from 'undici';
import type { Services } from '../pipeline/services.js';
import { sharedService } from '../pipeline/services.js';
import type { PolicyConfig } from './config.js';

/** An external decision, e.g. from OPA's data API. Anything but a clear yes is a no. */
export interface PolicyOutcome {
  readonly allow: boolean;
  /** `allowed`, `denied`, or why the answer could not be used (`policy_timeout`, `policy_garbage`, ...). */
  readonly reason: string;
}

export interface PolicyClient {
  decide(input: Record<string, unknown>): Promise<PolicyOutcome>;
}

const MAX_ANSWER_BYTES = 64 * 1024;
const DEFAULTS = { timeoutMs: 200, cacheTtlMs: 5000, cacheSize: 10_000 } as const;

/**
 * A client of an HTTP policy endpoint that accepts OPA's data API shape: `POST {"input": ...}`
 * answered by `{"result": true}` or `{"result": {"allow": true}}`. Fails closed: an error, a
 * timeout, a non-200 status or any other answer denies. Clear answers are cached (bounded, TTL)
 * keyed by the whole input; identical concurrent questions share one call.
 */
export function createPolicyClient(config: PolicyConfig, services: Services): PolicyClient {
  const url = new URL(config.url);
  const pool = sharedService(services, `authz.policy.pool:${url.origin}`, () => {
    const created = new Pool(url.origin, { connections: 16, keepAliveTimeout: 10_000 });
    services.onClose(() => created.close());
    return created;
  });
  const timeoutMs = config.timeoutMs ?? DEFAULTS.timeoutMs;
  const ttl = config.cacheTtlMs ?? DEFAULTS.cacheTtlMs;
  const cache =
    ttl > 0
      ? new LRUCache<string, PolicyOutcome>({ max: config.cacheSize ?? DEFAULTS.cacheSize, ttl })
      : undefined;
  const inFlight = new Map<string, Promise<PolicyOutcome>>();
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...config.headers,
  };
  const path = url.pathname + url.search;

  async function ask(body: string): Promise<PolicyOutcome> {
    const signal = AbortSignal.timeout(timeoutMs);
    let answer: Buffer;
    try {
      const response = await pool.request({ method: 'POST', path, headers, body, signal });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          response.body.destroy();
          return { allow: false, reason: 'policy_answer_too_large' };
        }
        chunks.push(chunk as Buffer);
      }
      if (response.statusCode !== 200)
        return { allow: false, reason: `policy_status_${response.statusCode}` };
      answer = Buffer.concat(chunks);
    } catch (_error) {
      return { allow: false, reason: signal.aborted ? 'policy_timeout' : 'policy_unavailable' };
    }
    return interpretAnswer(answer);
  }

  return {
    decide(input) {
      const key = JSON.stringify(input);
      const cached = cache?.get(key);
      if (cached !== undefined) return Promise.resolve(cached);
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = ask(JSON.stringify({ input })).then((outcome) => {
          inFlight.delete(key);
          if (cache !== undefined && (outcome.reason === 'allowed' || outcome.reason === 'denied'))
            cache.set(key, outcome);
          return outcome;
        });
        inFlight.set(key, pending);
      }
      return pending;
    },
  };
}

/** `{"result": true}` and `{"result": {"allow": true}}` allow; `false` forms deny; anything else is garbage (deny). */
export function interpretAnswer(answer: Buffer): PolicyOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.toString('utf8'));
  } catch {
    return { allow: false, reason: 'policy_garbage' };
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    Array.isArray(parsed) ||
    !Object.hasOwn(parsed, 'result')
  ) {
    return { allow: false, reason: 'policy_garbage' };
  }
  const result = (parsed as { result: unknown }).result;
  if (result === true) return { allow: true, reason: 'allowed' };
  if (result === false) return { allow: false, reason: 'denied' };
  if (
    result !== null &&
    typeof result === 'object' &&
    !Array.isArray(result) &&
    Object.hasOwn(result, 'allow')
  ) {
    const allow = (result as { allow: unknown }).allow;
    if (allow === true) return { allow: true, reason: 'allowed' };
    if (allow === false) return { allow: false, reason: 'denied' };
  }
  return { allow: false, reason: 'policy_garbage' };
}
