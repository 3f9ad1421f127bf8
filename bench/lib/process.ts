import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

let niceness = 0;

/**
 * Scheduling priority for the processes under test and the load generator (`nice -n`); a
 * negative value (root only) keeps other work on a shared machine from distorting the run.
 */
export function setNiceness(value: number): void {
  niceness = value;
}

function withNice(command: string, args: readonly string[]): [string, string[]] {
  return niceness === 0 ? [command, [...args]] : ['nice', ['-n', String(niceness), command, ...args]];
}

export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Whatever the process wrote to stdout so far. */
  stdout(): string;
  stop(): Promise<void>;
}

/** Starts a long-running process; stdout is kept in memory (small), stderr goes to `logFile`. */
export function startService(
  name: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string },
): Service {
  const [file, argv] = withNice(command, args);
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(options.logFile);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    if (out.length < 1 << 20) out += chunk.toString();
    log.write(chunk);
  });
  child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  const pid = child.pid;
  return {
    name,
    child,
    pid,
    stdout: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
      if (!done) {
        child.kill('SIGKILL');
        await exited;
      }
      log.end();
    },
  };
}

/** Runs a command to completion and returns its output; rejects on a non-zero exit. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; allowFailure?: boolean; nice?: boolean } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const [file, argv] = options.nice === true ? withNice(command, args) : [command, [...args]];
    const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { code: code ?? -1, stdout, stderr };
      if (code === 0 || options.allowFailure === true) resolve(result);
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}\n${stderr || stdout}`));
    });
  });
}

/** A free loopback port (bind 0, read, close): for servers that cannot report their own. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls until `probe` resolves true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 15_000,
  failed: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = failed();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    try {
      if (await probe()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Whether an executable is on PATH (or at an absolute path). */
export async function hasExecutable(name: string): Promise<string | undefined> {
  const found = await runCommand('sh', ['-c', `command -v ${name}`], { allowFailure: true });
  const path = found.stdout.trim();
  return found.code === 0 && path !== '' ? path : undefined;
}
