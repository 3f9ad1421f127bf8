import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { releaseSlot } from '../../traffic/concurrency-slot.js';

/** Releases the concurrency slot once the response is finished (the log phase runs after it). */
export default defineStage<unknown>({
  name: 'traffic.concurrency-release',
  phase: 'log',
  order: ORDER.log.accessLog - 50,
  routeKey: 'concurrency',
  build(config) {
    if (config === undefined) return undefined;
    return { name: 'traffic.concurrency-release', run: (ctx) => releaseSlot(ctx) };
  },
});
