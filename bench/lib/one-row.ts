import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROWS, type GatewayRow, type GatewaySetup } from '../rows.js';
import { benchKek, createFixtures, KEK_ENV } from './fixtures.js';
import type { RunningGateway } from './gateway.js';
import { writeLoadScript } from './load-script.js';
import { ORDERS_SPEC, startBenchUpstream, startRowGateway } from './stack.js';
import { runWrk, type WrkResult } from './wrk.js';

/** One row's gateway, running in front of the bench upstream. */
export interface RowUnderTest {
  readonly row: GatewayRow;
  readonly setup: GatewaySetup;
  readonly gateway: RunningGateway;
  /** The run's temporary directory (configs, logs; removed afterwards). */
  readonly dir: string;
  /** Date.now() just before the gateway process was started. */
  readonly startedAt: number;
  /** wrk with the row's request (one thread) for `durationSec`. */
  load(durationSec: number, connections: number): Promise<WrkResult>;
}

/**
 * Starts the bench upstream and one gateway row's gateway (`main`, with `nodeArgs`), runs `use`,
 * then stops both and removes the temporary directory. For the tools that study one row at a
 * time (bench/profile.ts, bench/alloc-profile.ts).
 */
export async function withRowGateway<T>(
  options: {
    readonly rowId: string;
    readonly main: string;
    /** Node flags for the gateway; given the run's temporary directory. */
    readonly nodeArgs: (dir: string) => readonly string[];
    /** Prefix of the temporary directory. */
    readonly tag: string;
  },
  use: (run: RowUnderTest) => Promise<T>,
): Promise<T> {
  const row = ROWS.find((r) => r.id === options.rowId);
  if (row === undefined || row.kind !== 'gateway') throw new Error(`no gateway row "${options.rowId}"`);
  const dir = mkdtempSync(join(tmpdir(), `portcullis-${options.tag}-`));
  const env = { ...process.env, [KEK_ENV]: benchKek(), NODE_ENV: 'production' };
  const upstream = await startBenchUpstream(dir);
  let fixtures: ReturnType<typeof createFixtures> | undefined;
  let gateway: RunningGateway | undefined;
  try {
    fixtures = createFixtures({
      dir,
      upstreamUrl: upstream.url,
      specFile: ORDERS_SPEC,
      main: options.main,
      env,
    });
    const setup = await row.setup(fixtures);
    const startedAt = Date.now();
    const started = await startRowGateway({
      name: row.id,
      main: options.main,
      setup,
      upstreamUrl: upstream.url,
      dir,
      env,
      nodeArgs: options.nodeArgs(dir),
    });
    gateway = started;
    const script = writeLoadScript(dir, row.id, setup.load);
    const url = started.url + setup.load.path;
    return await use({
      row,
      setup,
      gateway: started,
      dir,
      startedAt,
      load: (durationSec, connections) => runWrk({ url, threads: 1, connections, durationSec, script }),
    });
  } finally {
    await gateway?.service.stop();
    await upstream.service.stop();
    await fixtures?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
