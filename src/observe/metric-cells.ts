import { Counter, Gauge, type Metric, type Registry } from 'prom-client';

/*
 * Hot-path metrics: requests record into plain numbers held by long-lived cells (one per label
 * combination, looked up once and cached by the caller); prom-client reads them at scrape time
 * and formats the exposition. A prom-client `inc`/`observe` validates and re-hashes the labels
 * on every call, which cost more than the rest of the log phase.
 */

type Labels<L extends string> = Readonly<Record<L, string>>;

/** Finds or creates the cell for a label combination: one map level per label, no key strings. */
class CellTree<L extends string, C> {
  private readonly root = new Map<string, unknown>();

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: (labels: Labels<L>) => C,
  ) {}

  get(labels: Labels<L>): C {
    const names = this.labelNames;
    let level = this.root;
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i]!];
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(value, (next = new Map()));
      level = next;
    }
    const value = labels[names[last]!];
    let cell = level.get(value) as C | undefined;
    if (cell === undefined) {
      // a copy in label-name order: the exposition lists labels in that order
      const copy = {} as Record<L, string>;
      for (const name of names) copy[name] = String(labels[name]);
      level.set(value, (cell = this.create(copy)));
    }
    return cell;
  }
}

/** One counter series. Add to `value`; the counter picks up the difference at the next scrape. */
export class CounterCell<L extends string = string> {
  value = 0;
  /** What the prom-client counter holds already. */
  synced = 0;

  constructor(readonly labels: Labels<L>) {}
}

/**
 * A prom-client counter fed from cells. `inc(labels, value)` keeps the prom-client signature;
 * hot paths keep `cell(labels)` and add to its `value`.
 */
export class CellCounter<L extends string> {
  readonly metric: Counter<L>;
  private readonly name: string;
  private readonly cells: CounterCell<L>[] = [];
  private readonly tree: CellTree<L, CounterCell<L>>;

  constructor(config: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    this.name = config.name;
    const cells = this.cells;
    this.tree = new CellTree(config.labelNames, (labels) => {
      const cell = new CounterCell(labels);
      cells.push(cell);
      return cell;
    });
    this.metric = new Counter<L>({
      name: config.name,
      help: config.help,
      labelNames: config.labelNames,
      registers: [config.registry],
      collect(this: Counter<L>) {
        for (const cell of cells) {
          const delta = cell.value - cell.synced;
          if (delta !== 0) {
            cell.synced = cell.value;
            this.inc(cell.labels as never, delta);
          }
        }
      },
    });
  }

  cell(labels: Labels<L>): CounterCell<L> {
    return this.tree.get(labels);
  }

  inc(labels: Labels<L>, value = 1): void {
    if (!(value >= 0) || value === Infinity)
      throw new TypeError(`counter ${this.name}: invalid increment ${String(value)}`);
    this.tree.get(labels).value += value;
  }
}

/** A gauge without labels held in a number (`inc`/`dec`/`set`); read at scrape. */
export class PlainGauge {
  value = 0;
  readonly metric: Gauge;

  constructor(config: { name: string; help: string; registry: Registry }) {
    const read = () => this.value;
    this.metric = new Gauge({
      name: config.name,
      help: config.help,
      registers: [config.registry],
      collect(this: Gauge) {
        this.set(read());
      },
    });
  }

  inc(value = 1): void {
    this.value += value;
  }

  dec(value = 1): void {
    this.value -= value;
  }

  set(value: number): void {
    this.value = value;
  }
}

/** One histogram series: counts per bucket (not cumulative), sum and count. */
export class HistogramCell<L extends string = string> {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels<L>,
    private readonly bounds: Float64Array,
    private readonly owner: CellHistogram<L>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`histogram: value is not a valid number: ${value}`);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) this.counts[i]!++;
    this.sum += value;
    if (this.count++ === 0) this.owner.appeared(this);
  }
}

interface SeriesValue {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/**
 * A histogram registered in a prom-client Registry as a metric object: `get()` returns the same
 * series prom-client's Histogram would (cumulative `_bucket` with `le` first, `+Inf`, `_sum`,
 * `_count`, series in order of first observation), and the Registry formats them.
 */
export class CellHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly upperBounds: readonly number[];
  private readonly bounds: Float64Array;
  private readonly tree: CellTree<L, HistogramCell<L>>;
  /** Cells with at least one observation, in order of their first. */
  private observed: HistogramCell<L>[] = [];

  constructor(config: {
    name: string;
    help: string;
    labelNames: readonly L[];
    buckets: readonly number[];
    registry: Registry;
  }) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    this.upperBounds = [...config.buckets].sort((a, b) => a - b);
    this.bounds = Float64Array.from(this.upperBounds);
    this.tree = new CellTree(config.labelNames, (labels) => new HistogramCell(labels, this.bounds, this));
    config.registry.registerMetric(this as unknown as Metric);
  }

  cell(labels: Labels<L>): HistogramCell<L> {
    return this.tree.get(labels);
  }

  observe(labels: Labels<L>, value: number): void {
    this.tree.get(labels).observe(value);
  }

  /** Called by a cell on its first observation. */
  appeared(cell: HistogramCell<L>): void {
    this.observed.push(cell);
  }

  /** Like prom-client's `reset()`: every series disappears until observed again. */
  reset(): void {
    for (const cell of this.observed) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
    this.observed = [];
  }

  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: SeriesValue[];
  }> {
    const bucket = `${this.name}_bucket`;
    const values: SeriesValue[] = [];
    for (const cell of this.observed) {
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += cell.counts[i]!;
        values.push({
          value: cumulative,
          labels: { le: this.upperBounds[i]!, ...cell.labels },
          metricName: bucket,
        });
      }
      values.push(
        { value: cell.count, labels: { le: '+Inf', ...cell.labels }, metricName: bucket },
        { value: cell.sum, labels: { ...cell.labels }, metricName: `${this.name}_sum` },
        { value: cell.count, labels: { ...cell.labels }, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
