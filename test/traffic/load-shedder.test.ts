import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLoadShedder } from '../../src/traffic/load-shedder.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // block the event loop, as a CPU-bound overload would
  }
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await tick(5);
}

test('engages on event-loop delay and releases once the loop is responsive again', async () => {
  const shedder = createLoadShedder({ maxEventLoopDelayMs: 50, sampleIntervalMs: 20, retryAfterSec: 2 });
  try {
    shedder.sample();
    await tick(30);
    assert.equal(shedder.shouldShed(), false);
    // block the loop in bursts until a sample sees the lag (the flag lasts one sample interval)
    let seen: string | undefined;
    while (seen === undefined) {
      busy(150);
      for (let i = 0; i < 20 && seen === undefined; i++) {
        await tick(2);
        if (shedder.shouldShed()) seen = shedder.reason;
      }
    }
    assert.equal(seen, 'event_loop_delay');
    assert.equal(shedder.error.code, 'overloaded');
    assert.equal(shedder.error.status, 503);
    assert.equal(shedder.error.headers?.['retry-after'], '2');
    await until(() => !shedder.shouldShed());
    assert.equal(shedder.reason, undefined);
  } finally {
    shedder.close();
  }
});

test('engages on heap use above the ratio', async () => {
  const shedder = createLoadShedder({ maxHeapUsedRatio: 1e-6, sampleIntervalMs: 10 });
  try {
    await until(() => shedder.shouldShed());
    assert.equal(shedder.reason, 'heap');
  } finally {
    shedder.close();
  }
  const relaxed = createLoadShedder({ maxHeapUsedRatio: 1, sampleIntervalMs: 10 });
  try {
    relaxed.sample();
    assert.equal(relaxed.shouldShed(), false);
  } finally {
    relaxed.close();
  }
});

test('no thresholds: never sheds', () => {
  const shedder = createLoadShedder({});
  busy(50);
  shedder.sample();
  assert.equal(shedder.shouldShed(), false);
  shedder.close();
});
