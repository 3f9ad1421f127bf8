import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { GatewayError } from '../errors/gateway-error.js';
import type { JSONSchemaType } from '../pipeline/json-schema.js';

export interface LoadSheddingConfig {
  /** Shed while the event-loop delay (p99 over the last sample) is above this. */
  readonly maxEventLoopDelayMs?: number;
  /** Shed while used heap / heap limit is above this (0..1). */
  readonly maxHeapUsedRatio?: number;
  /** `Retry-After` on shed requests (default 1). */
  readonly retryAfterSec?: number;
  /** How often the sample is taken (default 250 ms). */
  readonly sampleIntervalMs?: number;
}

/** The top-level `loadShedding:` section (merged into the config schema by the core). */
export const loadSheddingConfigSchema: JSONSchemaType = {
  type: 'object',
  description:
    'Adaptive load shedding: while the event loop lags or the heap is nearly full, new requests get 503 overloaded before any parsing. Admin and health endpoints keep answering.',
  additionalProperties: false,
  properties: {
    maxEventLoopDelayMs: {
      type: 'number',
      exclusiveMinimum: 0,
      description: 'Shed while the p99 event-loop delay of the last sample is above this (e.g. 200).',
    },
    maxHeapUsedRatio: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      description: 'Shed while used heap / heap size limit is above this (e.g. 0.9).',
    },
    retryAfterSec: { type: 'integer', minimum: 0, description: 'Retry-After on shed requests (default 1).' },
    sampleIntervalMs: { type: 'integer', minimum: 10, description: 'Sampling interval (default 250).' },
  },
};

export interface LoadShedder {
  /** O(1): reads a flag set by the sampler. Call first thing for each request. */
  shouldShed(): boolean;
  /** The error to answer a shed request with (503 overloaded, Retry-After). */
  readonly error: GatewayError;
  /** Why the last sample shed (`event_loop_delay` / `heap`), or undefined. */
  readonly reason: string | undefined;
  /** Takes a sample now (the interval does this on its own). */
  sample(): void;
  close(): void;
}

/**
 * Samples event-loop delay (perf_hooks histogram, reset every interval) and heap use on an
 * unref'd interval and keeps one boolean; the request path only reads it. Shedding releases on
 * the first sample back under both thresholds.
 */
export function createLoadShedder(config: LoadSheddingConfig): LoadShedder {
  const intervalMs = config.sampleIntervalMs ?? 250;
  const maxDelayNs = config.maxEventLoopDelayMs === undefined ? Infinity : config.maxEventLoopDelayMs * 1e6;
  const maxHeap = config.maxHeapUsedRatio ?? Infinity;
  const heapLimit = getHeapStatistics().heap_size_limit;
  let histogram: IntervalHistogram | undefined;
  if (maxDelayNs !== Infinity) {
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
  }
  let shed = false;
  let reason: string | undefined;
  const sample = (): void => {
    let next: string | undefined;
    if (histogram !== undefined) {
      if (histogram.count > 0 && histogram.percentile(99) > maxDelayNs) next = 'event_loop_delay';
      histogram.reset();
    }
    if (next === undefined && maxHeap !== Infinity && process.memoryUsage().heapUsed / heapLimit > maxHeap) {
      next = 'heap';
    }
    reason = next;
    shed = next !== undefined;
  };
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  const error = new GatewayError('overloaded', {
    headers: { 'retry-after': String(config.retryAfterSec ?? 1) },
    reason: 'load_shed',
  });
  return {
    shouldShed: () => shed,
    error,
    get reason() {
      return reason;
    },
    sample,
    close() {
      clearInterval(timer);
      histogram?.disable();
    },
  };
}
