import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startService, waitFor, type Service } from './process.js';

export interface BenchRedis {
  readonly url: string;
  readonly service: Service;
  /** Total calls per command from INFO commandstats (e.g. { evalsha: 1234 }). */
  commandCalls(): Promise<Record<string, number>>;
  /**
   * Watches MONITOR while `during` runs and counts commands sent by clients (round trips) apart
   * from those run inside Lua scripts (INFO commandstats counts both).
   */
  monitor<T>(
    during: () => Promise<T>,
  ): Promise<{ result: T; topLevel: Record<string, number>; inScripts: Record<string, number> }>;
  stop(): Promise<void>;
}

/** A private redis-server on a free loopback port, persistence off. */
export async function startRedis(dir: string): Promise<BenchRedis> {
  const port = await freePort();
  const service = startService(
    'redis',
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { logFile: join(dir, 'redis.log') },
  );
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined); // start-up races and shutdown; waitFor reports real failures
  await waitFor('redis-server', async () => {
    if (client.status !== 'ready') await client.connect();
    return (await client.ping()) === 'PONG';
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    service,
    async commandCalls() {
      const text = await client.info('commandstats');
      const calls: Record<string, number> = {};
      for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        calls[match[1] as string] = Number(match[2]);
      }
      return calls;
    },
    async monitor(during) {
      const watcher = await client.monitor();
      watcher.on('error', () => undefined);
      const topLevel: Record<string, number> = {};
      const inScripts: Record<string, number> = {};
      watcher.on('monitor', (_time: string, args: string[], source: string) => {
        const name = (args[0] ?? '').toLowerCase();
        const bucket = source === 'lua' || source.endsWith(' lua') ? inScripts : topLevel;
        bucket[name] = (bucket[name] ?? 0) + 1;
      });
      try {
        const result = await during();
        return { result, topLevel, inScripts };
      } finally {
        watcher.disconnect();
      }
    },
    async stop() {
      client.disconnect();
      await service.stop();
    },
  };
}

/** Commands counted between two INFO snapshots, by command, excluding the INFO calls themselves. */
export function commandDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const n = calls - (before[name] ?? 0);
    if (name !== 'info' && n > 0) delta[name] = n;
  }
  return delta;
}
