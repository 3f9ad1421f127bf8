import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect } from 'node:net';
import { once } from 'node:events';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Kills redis-server (SIGKILL: as abrupt as a crash). */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Runs one command with redis-cli and returns its output. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** A free loopback port: bind port 0, read it, close (redis-server cannot bind port 0 itself). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${out}`)),
    );
  });
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts a private redis-server on a free loopback port with persistence off and waits until it
 * answers PING. Fails (never skips) when redis-server is not installed.
 */
export async function startRedis(
  extraArgs: readonly string[] = [],
  fixedPort?: number,
): Promise<RedisServer> {
  const port = fixedPort ?? (await freePort());
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    const reap = (): void => {
      proc.kill('SIGKILL');
    };
    process.once('exit', reap);
    proc.once('exit', () => process.removeListener('exit', reap));
    const failed = new Promise<never>((_, reject) => {
      proc.once('error', (error) =>
        reject(
          new Error(`redis-server could not start (is it installed? .ci/run installs it): ${error.message}`),
        ),
      );
      proc.once('exit', (code) => reject(new Error(`redis-server exited early with ${code}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await Promise.race([ping(port), failed]);
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.removeAllListeners('exit');
    proc.removeAllListeners('error');
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: launch,
    cli: (...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]),
    stop: kill,
  };
}

export interface RedisCluster {
  readonly nodes: readonly { host: string; port: number }[];
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (port + 10000) is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 55_000) continue;
    const bus = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      bus.once('error', () => resolve(false));
      bus.listen(port + 10_000, '127.0.0.1', () => resolve(true));
    });
    if (ok) await new Promise<void>((resolve) => bus.close(() => resolve()));
    if (ok) return port;
  }
}

/** A private three-master Redis Cluster on loopback (no replicas), ready when cluster_state is ok. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-redis-cluster-'));
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freeClusterPort();
      servers.push(
        await startRedis(
          [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--dir',
            dir,
          ],
          port,
        ),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    for (const server of servers) {
      while (!(await server.cli('cluster', 'info')).includes('cluster_state:ok')) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    for (const server of servers) await server.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    nodes: servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    async stop() {
      for (const server of servers) await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisSentinelSetup {
  readonly name: string;
  readonly sentinels: readonly { host: string; port: number }[];
  readonly master: RedisServer;
  stop(): Promise<void>;
}

/** A master plus one Sentinel watching it as `mymaster` (quorum 1), on loopback. */
export async function startRedisSentinel(): Promise<RedisSentinelSetup> {
  const master = await startRedis();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-redis-sentinel-'));
  const port = await freePort();
  const conf = join(dir, 'sentinel.conf');
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 5000',
      '',
    ].join('\n'),
  );
  const proc = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const reap = (): void => {
    proc.kill('SIGKILL');
  };
  process.once('exit', reap);
  const stopSentinel = async (): Promise<void> => {
    process.removeListener('exit', reap);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
  };
  try {
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (proc.exitCode !== null) throw new Error('redis sentinel exited early');
      if (Date.now() > deadline) throw new Error('redis sentinel did not answer PING within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // wait until the sentinel knows the master
    for (;;) {
      const out = await run('redis-cli', [
        '-p',
        String(port),
        'sentinel',
        'get-master-addr-by-name',
        'mymaster',
      ]);
      if (out.includes(String(master.port))) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stopSentinel();
    await master.stop();
    throw error;
  }
  return {
    name: 'mymaster',
    sentinels: [{ host: '127.0.0.1', port }],
    master,
    async stop() {
      await stopSentinel();
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
