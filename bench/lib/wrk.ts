import { runCommand } from './process.js';

export interface WrkOptions {
  readonly url: string;
  readonly threads: number;
  readonly connections: number;
  readonly durationSec: number;
  /** A Lua script (method, body, headers, rotating requests). */
  readonly script?: string;
  readonly headers?: readonly string[];
}

export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses that were not 2xx or 3xx. */
  readonly non2xx: number;
  readonly socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(text: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
  if (match === null) throw new Error(`wrk output has no ${percentile}% latency:\n${text}`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Parses the text `wrk --latency` prints. */
export function parseWrk(text: string): WrkResult {
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)/m.exec(text);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (total === null || rps === null) throw new Error(`cannot parse wrk output:\n${text}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return {
    requests: Number(total[1]),
    seconds: (Number(total[2]) * (UNIT_MS[total[3] as string] as number)) / 1000,
    rps: Number(rps[1]),
    p50Ms: latencyMs(text, '50'),
    p99Ms: latencyMs(text, '99'),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors,
  };
}

export function wrkArgs(options: WrkOptions): string[] {
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    '--latency',
    '--timeout',
    '5s',
  ];
  for (const header of options.headers ?? []) args.push('-H', header);
  if (options.script !== undefined) args.push('-s', options.script);
  args.push(options.url);
  return args;
}

export async function runWrk(options: WrkOptions): Promise<WrkResult & { output: string }> {
  const { stdout } = await runCommand('wrk', wrkArgs(options), { nice: true });
  return { ...parseWrk(stdout), output: stdout };
}
