import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { watch } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../config/config-error.js';
import { readConfigDocument } from '../../config/load.js';
import { Gateway } from '../../gateway.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: portcullis start [--config FILE] [--workers N|auto]
Starts the gateway. SIGHUP (or a change of FILE) reloads the config; SIGTERM drains and stops.`;

function workerCount(value: unknown): number {
  if (value === 'auto') return availableParallelism();
  if (typeof value === 'number' && value >= 1) return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return 1;
}

/** `portcullis start`: one process, or a primary with `workers` cluster workers. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      workers: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const file = resolve(values.config ?? process.env.PORTCULLIS_CONFIG ?? 'portcullis.yaml');
  let workers: number;
  try {
    const raw = readConfigDocument(file).doc.toJS() as { workers?: unknown } | null;
    workers = workerCount(values.workers ?? raw?.workers);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(error.message);
      return 1;
    }
    throw error;
  }
  if (workers > 1 && cluster.isPrimary) return runPrimary(file, workers, io);
  return runGateway(file, io, cluster.isWorker);
}

async function runGateway(file: string, io: CliIo, isWorker: boolean): Promise<number> {
  let gateway: Gateway;
  try {
    gateway = await Gateway.start(file, { watchConfig: !isWorker });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(error.message);
      if (isWorker) process.exit(78);
      return 1;
    }
    io.stderr(`cannot start: ${(error as Error).message}`);
    if (isWorker) process.exit(1);
    return 1;
  }
  const logger = gateway.services.logger;
  const shutdownTimeout = gateway.config.limits?.shutdownTimeoutMs ?? 15_000;
  if (!isWorker) {
    for (const a of gateway.addresses()) logger.info({ listener: a.name, url: a.url }, 'listening');
    const admin = gateway.adminUrl();
    if (admin) logger.info({ url: admin }, 'admin listening');
  }
  // Log lines are batched; show start-up at once.
  logger.flush();
  const reload = () => void gateway.reload().catch(() => undefined);
  process.on('SIGHUP', reload);
  process.on('message', (message: unknown) => {
    if (message === 'portcullis:reload') reload();
    if (message === 'portcullis:stop') void stop('primary');
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    await gateway.stop(shutdownTimeout);
    logger.info('stopped');
    logger.flush?.();
    setTimeout(() => process.exit(0), 50).unref();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  if (isWorker) process.send?.('portcullis:ready');
  return -1;
}

function runPrimary(file: string, count: number, io: CliIo): Promise<number> {
  cluster.setupPrimary({ args: ['start', '--config', file, '--workers', '1'] });
  let stopping = false;
  let ready = 0;
  const fork = () => {
    const worker = cluster.fork();
    worker.on('message', (message: unknown) => {
      if (message === 'portcullis:ready' && ++ready === count)
        io.stderr(`portcullis: ${count} workers ready`);
    });
  };
  for (let i = 0; i < count; i++) fork();
  cluster.on('exit', (worker, code) => {
    if (stopping) return;
    if (code === 78) {
      io.stderr('portcullis: a worker rejected the configuration; stopping');
      void stopAll();
      return;
    }
    io.stderr(`portcullis: worker ${worker.process.pid} exited (${code}); restarting`);
    setTimeout(fork, 500);
  });
  const broadcast = (message: string) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send(message);
  };
  process.on('SIGHUP', () => broadcast('portcullis:reload'));
  let timer: NodeJS.Timeout | undefined;
  try {
    watch(file, { persistent: false }, () => {
      clearTimeout(timer);
      timer = setTimeout(() => broadcast('portcullis:reload'), 300);
    });
  } catch {
    // reload with SIGHUP only
  }
  const stopAll = async () => {
    stopping = true;
    broadcast('portcullis:stop');
    await new Promise<void>((done) => {
      const check = () => (Object.keys(cluster.workers ?? {}).length === 0 ? done() : setTimeout(check, 50));
      check();
    });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stopAll());
  process.once('SIGINT', () => void stopAll());
  return Promise.resolve(-1);
}
