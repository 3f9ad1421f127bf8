import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { releaseSlot } from '../../traffic/concurrency-slot.js';

/**
 * Releases the concurrency slot once the response is finished (the log phase runs after it).
 * A `101` opened a WebSocket tunnel on the request's connection: its slot stays taken until the
 * tunnel closes, which closes that connection (holdSlot releases on its `close`).
 */
export default defineStage<unknown>({
  name: 'traffic.concurrency-release',
  phase: 'log',
  order: ORDER.log.accessLog - 50,
  routeKey: 'concurrency',
  build(config) {
    if (config === undefined) return undefined;
    return {
      name: 'traffic.concurrency-release',
      run: (ctx, summary) => {
        if (summary.status !== 101) releaseSlot(ctx);
      },
    };
  },
});
