import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { Gateway, type GatewayOptions } from '../../src/gateway.js';
import { createLogger } from '../../src/observe/logger.js';

export interface TestGateway {
  readonly gateway: Gateway;
  /** Base URL of the first listener, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every listener's URL. */
  readonly urls: string[];
  /** Admin listener URL, when `admin` is configured. */
  readonly adminUrl: string | undefined;
  /** Directory holding the config file (put fixtures here). */
  readonly dir: string;
  readonly configFile: string;
  /** Every log line written so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Raw log text (for leak scans). */
  logText(): string;
  /** Writes a new config and reloads (throws if rejected; the old config keeps serving). */
  reload(config: Record<string, unknown> | string): Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions extends Omit<GatewayOptions, 'logger'> {
  /** Files to write next to the config before start: name → content. */
  readonly files?: Record<string, string | Buffer>;
  /** Log level (default `info`). */
  readonly logLevel?: string;
  /** Reuse this directory instead of a fresh temporary one. */
  readonly dir?: string;
}

/**
 * Starts an in-process gateway from a config object (or YAML text). Listeners default to one
 * HTTP listener on 127.0.0.1 port 0; `version` defaults to 1. Logs are captured in memory.
 */
export async function startGateway(
  config: Record<string, unknown> | string,
  options: StartOptions = {},
): Promise<TestGateway> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'portcullis-test-')));
  for (const [name, content] of Object.entries(options.files ?? {}))
    await writeFile(join(dir, name), content);
  const configFile = join(dir, 'portcullis.yaml');
  await writeFile(configFile, render(config));
  const logs: Record<string, unknown>[] = [];
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, callback) {
      const s = chunk.toString('utf8');
      text += s;
      for (const line of s.split('\n')) {
        if (line.trim()) {
          try {
            logs.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not JSON
          }
        }
      }
      callback();
    },
  });
  const logger = createLogger({ level: options.logLevel ?? 'info', stream: sink });
  const gateway = await Gateway.start(configFile, { watchConfig: false, ...options, logger });
  const urls = gateway.addresses().map((a) => a.url);
  return {
    gateway,
    url: urls[0]!,
    urls,
    adminUrl: gateway.adminUrl(),
    dir,
    configFile,
    logs,
    logText: () => text,
    async reload(next) {
      await writeFile(configFile, render(next));
      await gateway.reload();
    },
    async close() {
      await gateway.stop(2_000);
      if (!options.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function render(config: Record<string, unknown> | string): string {
  if (typeof config === 'string') return config;
  const full: Record<string, unknown> = {
    version: 1,
    listeners: [{ host: '127.0.0.1', port: 0 }],
    ...config,
  };
  return stringify(full);
}
