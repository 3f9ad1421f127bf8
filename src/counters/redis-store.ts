import { createHash } from 'node:crypto';
import { GCRA_SCRIPT, INCREMENT_SCRIPT, RESERVE_SCRIPT, WINDOW_SCRIPT } from './redis-scripts.js';
import type { RedisClient } from './redis-client.js';
import {
  CounterStoreUnavailable,
  type CounterStore,
  type Decision,
  type GcraSpec,
  type QuotaCount,
  type Reservation,
  type ReserveSpec,
  type WindowSpec,
} from './types.js';

type Reply = (string | number)[];
type ScriptCommand = (key: string, ...args: (string | number)[]) => Promise<Reply>;

interface ScriptCommands {
  pcGcra: ScriptCommand;
  pcWindow: ScriptCommand;
  pcReserve: ScriptCommand;
  pcIncrement: ScriptCommand;
}

/** Longest logical key kept as written; longer ones (header values, ...) are hashed. */
const MAX_PLAIN_KEY = 120;

/**
 * Counters in Redis: every decision is one EVALSHA (ioredis `defineCommand` falls back to EVAL
 * on NOSCRIPT) touching one key, so one round trip; the key is wrapped in a hash tag so it maps
 * to a single Cluster slot. Every failure rejects with CounterStoreUnavailable.
 */
export class RedisCounterStore implements CounterStore {
  readonly kind = 'redis' as const;
  private readonly commands: ScriptCommands;

  constructor(
    readonly client: RedisClient,
    private readonly keyPrefix = 'portcullis:',
    private readonly ownsClient = true,
  ) {
    client.defineCommand('pcGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
    client.defineCommand('pcWindow', { numberOfKeys: 1, lua: WINDOW_SCRIPT });
    client.defineCommand('pcReserve', { numberOfKeys: 1, lua: RESERVE_SCRIPT });
    client.defineCommand('pcIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    this.commands = client as unknown as ScriptCommands;
  }

  /** The Redis key for a logical key: `prefix{key}` (one slot), long keys hashed. */
  redisKey(key: string): string {
    const plain =
      key.length <= MAX_PLAIN_KEY && !/[{}\s]/.test(key)
        ? key
        : 'h:' + createHash('sha256').update(key).digest('base64url');
    return `${this.keyPrefix}{${plain}}`;
  }

  async gcra(key: string, spec: GcraSpec, cost: number): Promise<Decision> {
    const r = await this.call(this.commands.pcGcra, key, spec.emissionMs, spec.burst, cost);
    return toDecision(r);
  }

  async slidingWindow(key: string, spec: WindowSpec, cost: number): Promise<Decision> {
    const r = await this.call(this.commands.pcWindow, key, spec.windowMs, spec.limit, cost);
    return toDecision(r);
  }

  async reserve(key: string, spec: ReserveSpec): Promise<Reservation> {
    const r = await this.call(this.commands.pcReserve, key, spec.emissionMs, spec.burst, spec.delayFree);
    return { allowed: r[0] === 1, delayMs: Number(r[1]), retryAfterMs: Number(r[2]) };
  }

  async increment(key: string, cost: number, limit: number, ttlMs: number): Promise<QuotaCount> {
    const r = await this.call(this.commands.pcIncrement, key, cost, limit, Math.max(1, Math.ceil(ttlMs)));
    return { allowed: r[0] === 1, count: Number(r[1]) };
  }

  async count(key: string): Promise<number> {
    try {
      const value = await this.client.get(this.redisKey(key));
      return value === null ? 0 : Number(value);
    } catch (error) {
      throw new CounterStoreUnavailable('redis read failed', { cause: error });
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.del(this.redisKey(key));
    } catch (error) {
      throw new CounterStoreUnavailable('redis delete failed', { cause: error });
    }
  }

  async close(): Promise<void> {
    if (!this.ownsClient) return;
    // a deliberate close is not an outage: drop the listeners that report one
    this.client.removeAllListeners('close');
    this.client.removeAllListeners('error');
    this.client.on('error', () => undefined);
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private async call(command: ScriptCommand, key: string, ...args: (string | number)[]): Promise<Reply> {
    try {
      return await command.call(this.client, this.redisKey(key), ...args);
    } catch (error) {
      throw new CounterStoreUnavailable('redis decision failed', { cause: error });
    }
  }
}

function toDecision(r: Reply): Decision {
  return {
    allowed: r[0] === 1,
    remaining: Number(r[1]),
    retryAfterMs: Number(r[2]),
    resetMs: Number(r[3]),
  };
}
