import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SRC = fileURLToPath(new URL('../../src', import.meta.url));
const DIST_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const s = statSync(full);
    latest = Math.max(latest, s.isDirectory() ? newest(full) : s.mtimeMs);
  }
  return latest;
}

let cliArgs: string[] | undefined;

/**
 * How to run the CLI in a child process: the built `dist/` when it is newer than every source
 * file (as under `npm test`, which builds first: much faster to start), else the sources via tsx.
 */
export function cliCommand(): string[] {
  if (cliArgs === undefined) {
    const fresh = existsSync(DIST_CLI) && statSync(DIST_CLI).mtimeMs >= newest(SRC);
    cliArgs = fresh ? [DIST_CLI] : ['--import', 'tsx', CLI];
  }
  return cliArgs;
}

/** Runs the CLI to completion (through tsx). */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliCommand(), ...args], {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** Log lines parsed so far (JSON lines on stdout). */
  readonly logs: Record<string, unknown>[];
  output(): string;
  /** Resolves with the first log line matching. */
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `portcullis start --config file` as a separate process. */
export function spawnGateway(configFile: string, env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const child = spawn(process.execPath, [...cliCommand(), 'start', '--config', configFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let text = '';
  let buffer = '';
  const waiters: {
    predicate: (l: Record<string, unknown>) => boolean;
    resolve: (l: Record<string, unknown>) => void;
  }[] = [];
  const onLine = (line: string) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.predicate(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    } catch {
      // not a log line
    }
  };
  child.stdout!.on('data', (c: Buffer) => {
    text += c.toString();
    buffer += c.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      onLine(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
  });
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    output: () => text,
    waitForLog(predicate, timeoutMs = 60_000) {
      const found = logs.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for a log line; output:\n${text.slice(-3000)}`)),
          timeoutMs,
        );
        waiters.push({
          predicate,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`gateway exited; output:\n${text.slice(-3000)}`));
        });
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A free TCP port on 127.0.0.1 (for processes that cannot report a port-0 binding). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
