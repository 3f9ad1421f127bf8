/** One measured wrk run of one row. */
export interface Sample {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly cpuSec: number;
  readonly unexpected: number;
  readonly socketErrors: number;
  /** Redis commands by name during the run (rows using Redis). */
  readonly redisCommands?: Readonly<Record<string, number>>;
}

export interface RowResult {
  readonly id: string;
  readonly label: string;
  readonly compareTo?: string;
  readonly target?: number;
  readonly samples: readonly Sample[];
  /** Why the row was not measured. */
  readonly skipped?: string;
  readonly notes: readonly string[];
}

export interface Summary {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly redisPerRequest?: number;
  readonly redisByCommand?: Readonly<Record<string, number>>;
  readonly unexpected: number;
  readonly socketErrors: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function redisSummary(samples: readonly Sample[]): Pick<Summary, 'redisPerRequest' | 'redisByCommand'> {
  const perRequest = (s: Sample, name?: string) => {
    const calls = s.redisCommands ?? {};
    const n = name === undefined ? Object.values(calls).reduce((a, b) => a + b, 0) : (calls[name] ?? 0);
    return n / Math.max(1, s.requests);
  };
  const names = new Set(samples.flatMap((s) => Object.keys(s.redisCommands ?? {})));
  const byCommand: Record<string, number> = {};
  for (const name of names) byCommand[name] = median(samples.map((s) => perRequest(s, name)));
  return { redisPerRequest: median(samples.map((s) => perRequest(s))), redisByCommand: byCommand };
}

export function summarise(samples: readonly Sample[]): Summary {
  const redis = samples.filter((s) => s.redisCommands !== undefined);
  return {
    rps: median(samples.map((s) => s.rps)),
    p50Ms: median(samples.map((s) => s.p50Ms)),
    p99Ms: median(samples.map((s) => s.p99Ms)),
    cpuUsPerRequest: median(samples.map((s) => (s.cpuSec * 1e6) / Math.max(1, s.requests))),
    ...(redis.length === 0 ? {} : redisSummary(redis)),
    unexpected: samples.reduce((sum, s) => sum + s.unexpected, 0),
    socketErrors: samples.reduce((sum, s) => sum + s.socketErrors, 0),
  };
}

const fixed = (n: number, digits: number) => n.toFixed(digits);
const ratio = (a: number, b: number | undefined) =>
  b === undefined || b === 0 ? '–' : `${fixed(a / b, 2)}×`;

/** The markdown results table: medians over rounds, ratios to nginx, to plain and to the row's baseline. */
export function renderTable(results: readonly RowResult[]): string {
  const summaries = new Map<string, Summary>();
  for (const r of results)
    if (r.skipped === undefined && r.samples.length > 0) summaries.set(r.id, summarise(r.samples));
  const nginx = summaries.get('nginx');
  const plain = summaries.get('plain');
  const lines = [
    '| row | req/s | p50 ms | p99 ms | × nginx | × plain | × baseline (target) | CPU µs/req | notes |',
    '|---|---:|---:|---:|---:|---:|---|---:|---|',
  ];
  for (const r of results) {
    const s = summaries.get(r.id);
    if (s === undefined) {
      lines.push(`| ${r.label} | – | – | – | – | – | – | – | skipped: ${r.skipped ?? 'no samples'} |`);
      continue;
    }
    let baseline = '–';
    const base = r.compareTo === undefined ? undefined : summaries.get(r.compareTo);
    if (r.compareTo !== undefined && base !== undefined) {
      const value = s.rps / base.rps;
      const target =
        r.target === undefined ? '' : ` (≥ ${r.target}: ${value >= r.target ? 'met' : 'MISSED'})`;
      const extraCpu = s.cpuUsPerRequest - base.cpuUsPerRequest;
      baseline = `${fixed(value, 2)}× ${r.compareTo}${target}, CPU ${extraCpu >= 0 ? '+' : '−'}${fixed(Math.abs(extraCpu), 0)} µs`;
    } else if (r.compareTo !== undefined) {
      baseline = `${r.compareTo} not measured`;
    }
    const notes = [...r.notes];
    if (s.redisPerRequest !== undefined) {
      const parts = Object.entries(s.redisByCommand ?? {})
        .filter(([, n]) => n >= 0.001)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${fixed(n, 3)}`);
      notes.push(`Redis commands/request: ${fixed(s.redisPerRequest, 3)} (${parts.join(', ')})`);
    }
    if (s.unexpected > 0) notes.push(`${s.unexpected} responses with an unexpected status`);
    if (s.socketErrors > 0) notes.push(`${s.socketErrors} socket errors`);
    lines.push(
      `| ${r.label} | ${Math.round(s.rps)} | ${fixed(s.p50Ms, 2)} | ${fixed(s.p99Ms, 2)} | ${ratio(s.rps, nginx?.rps)} | ${ratio(
        s.rps,
        plain?.rps,
      )} | ${baseline} | ${fixed(s.cpuUsPerRequest, 0)} | ${notes.join('; ')} |`,
    );
  }
  return lines.join('\n');
}

/** Per-round raw numbers, for the results file. */
export function renderRounds(results: readonly RowResult[]): string {
  const lines = ['| row | round | req/s | p50 ms | p99 ms | CPU µs/req |', '|---|---:|---:|---:|---:|---:|'];
  for (const r of results) {
    r.samples.forEach((s, i) => {
      lines.push(
        `| ${r.id} | ${i + 1} | ${Math.round(s.rps)} | ${fixed(s.p50Ms, 2)} | ${fixed(s.p99Ms, 2)} | ${fixed(
          (s.cpuSec * 1e6) / Math.max(1, s.requests),
          0,
        )} |`,
      );
    });
  }
  return lines.join('\n');
}

/** Pass/fail of the core targets of issue 2 for the plain-proxy row. */
export function coreTargets(results: readonly RowResult[]): string[] {
  const get = (id: string) => {
    const r = results.find((x) => x.id === id);
    return r === undefined || r.skipped !== undefined || r.samples.length === 0
      ? undefined
      : summarise(r.samples);
  };
  const plain = get('plain');
  const nginx = get('nginx');
  if (plain === undefined || nginx === undefined) return ['core targets: plain or nginx row missing'];
  const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const tput = plain.rps / nginx.rps;
  const p99 = plain.p99Ms / nginx.p99Ms;
  const versusBare = (
    [
      ['bare-node', 'the bare node:http + undici proxy'],
      ['bare-dispatch', 'the bare proxy on undici dispatch'],
    ] as const
  ).flatMap(([id, label]) => {
    const bare = get(id);
    if (bare === undefined) return [];
    const extra = plain.cpuUsPerRequest - bare.cpuUsPerRequest;
    return [
      `plain proxy throughput ${fixed(plain.rps / bare.rps, 2)}× ${label}, CPU ${fixed(Math.abs(extra), 0)} µs/request ${extra >= 0 ? 'more' : 'less'} (${fixed(bare.cpuUsPerRequest, 0)} µs for that proxy)`,
    ];
  });
  return [
    ...versusBare,
    `plain proxy throughput ${fixed(tput, 2)}× nginx-1-worker (target ≥ 0.5: ${mark(tput >= 0.5)})`,
    `plain proxy CPU ${fixed(plain.cpuUsPerRequest, 0)} µs/request (target ≤ 150: ${mark(plain.cpuUsPerRequest <= 150)})`,
    `plain proxy p99 ${fixed(p99, 2)}× nginx's (target ≤ 2: ${mark(p99 <= 2)})`,
  ];
}
