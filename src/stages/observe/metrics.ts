import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import type { CounterCell, HistogramCell } from '../../observe/metric-cells.js';

/** The cells of one status code on one route: its duration series and a request count per method. */
interface StatusCells {
  readonly duration: HistogramCell;
  /** The first method seen with this status (nearly always the only one), checked before the map. */
  readonly firstMethod: string;
  readonly firstRequests: CounterCell;
  readonly otherMethods: Map<string, CounterCell>;
}

/** Per-route cache entries kept (as before: the series themselves are bounded by route × method × status). */
const MAX_CACHED = 1000;

/**
 * Request count and latency histograms by route and status. The metric cells are looked up once
 * per route, status and method and cached here; a request adds to plain numbers (no label hashing).
 */
export default defineStage({
  name: 'observe.metrics',
  phase: 'log',
  order: ORDER.log.metrics,
  build(_config, build) {
    const metrics = build.services.metrics;
    const route = build.route.name;
    const upstream = metrics.upstreamDuration.cell({ route, upstream: build.route.upstream ?? '-' });
    // Indexed by status code (node only sends 100–999).
    const byStatus: (StatusCells | undefined)[] = new Array<StatusCells | undefined>(1000).fill(undefined);
    let cached = 0;

    const requestsCell = (method: string, code: number) =>
      metrics.requests.cell({ route, method, status: String(code) });

    /** A method other than the first one seen with this status. */
    const otherMethod = (cells: StatusCells, method: string, code: number): CounterCell => {
      let cell = cells.otherMethods.get(method);
      if (cell === undefined) {
        cell = requestsCell(method, code);
        if (cached < MAX_CACHED) {
          cells.otherMethods.set(method, cell);
          cached++;
        }
      }
      return cell;
    };

    return {
      name: 'observe.metrics',
      run(ctx, summary) {
        const code = summary.status;
        const method = ctx.method;
        let cells = byStatus[code];
        if (cells === undefined) {
          cells = {
            duration: metrics.duration.cell({ route, status: String(code) }),
            firstMethod: method,
            firstRequests: requestsCell(method, code),
            otherMethods: new Map(),
          };
          if (code >= 0 && code < 1000 && cached < MAX_CACHED) {
            byStatus[code] = cells;
            cached++;
          }
        }
        (cells.firstMethod === method ? cells.firstRequests : otherMethod(cells, method, code)).value++;
        cells.duration.observe(Number(summary.totalNs) / 1e9);
        if (summary.upstreamNs > 0n) upstream.observe(Number(summary.upstreamNs) / 1e9);
      },
    };
  },
});
