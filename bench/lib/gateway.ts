import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, startService, waitFor, type Service } from './process.js';

export interface Probe {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly expectStatus: number;
}

/** Sends one request and returns its status (the body is drained). */
export async function probeStatus(baseUrl: string, probe: Omit<Probe, 'expectStatus'>): Promise<number> {
  const init: RequestInit = { method: probe.method ?? 'GET' };
  if (probe.headers !== undefined) init.headers = probe.headers;
  if (probe.body !== undefined) init.body = probe.body;
  const res = await fetch(baseUrl + probe.path, init);
  await res.arrayBuffer();
  return res.status;
}

export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return file;
}

/** `portcullis validate`: undefined when the config is accepted, else the first error lines. */
export async function validateConfig(
  main: string,
  file: string,
  env: NodeJS.ProcessEnv,
): Promise<string | undefined> {
  const result = await runCommand(process.execPath, [main, 'validate', file], { env, allowFailure: true });
  if (result.code === 0) return undefined;
  const text = (result.stderr + result.stdout).trim().split('\n').slice(0, 3).join(' ');
  return text.replaceAll(file, '<config>') || `validate exited ${result.code}`;
}

export interface RunningGateway {
  readonly service: Service;
  readonly url: string;
}

/** Starts the built gateway (plain node, no tsx) and waits until `ready` answers as expected. */
export async function startGateway(options: {
  readonly name: string;
  readonly main: string;
  readonly configFile: string;
  readonly port: number;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly nodeArgs?: readonly string[];
  readonly ready: Probe;
}): Promise<RunningGateway> {
  const service = startService(
    options.name,
    process.execPath,
    [...(options.nodeArgs ?? []), options.main, 'start', '--config', options.configFile],
    { logFile: join(options.dir, `${options.name}.log`), env: options.env, cwd: options.dir },
  );
  const url = `http://127.0.0.1:${options.port}`;
  let last = 0;
  try {
    await waitFor(
      `gateway ${options.name}`,
      async () => {
        last = await probeStatus(url, options.ready);
        return last === options.ready.expectStatus;
      },
      20_000,
      () => (service.child.exitCode === null ? undefined : `exited with code ${service.child.exitCode}`),
    );
  } catch (error) {
    await service.stop();
    const detail = last === 0 ? '' : ` (last status ${last})`;
    throw new Error(`${(error as Error).message}${detail}; see ${join(options.dir, `${options.name}.log`)}`);
  }
  return { service, url };
}
