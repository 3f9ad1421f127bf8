#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { processIo, type CommandModule } from './io.js';

const HELP = `portcullis — API security gateway

Usage: portcullis <command> [options]

  start [--config FILE]            start the gateway (default config: ./portcullis.yaml)
  validate FILE                    check a config file; exits non-zero on errors
  schema                           print the config JSON Schema
  secrets init|set|list|delete|rotate   manage the keyring and stored secrets
  store backup FILE                consistent online backup of the embedded store
  consumers|keys|clients ...       manage consumers, API keys and OAuth clients (--json)
  quotas show|reset ...            inspect and reset calendar quotas
  routes from-openapi SPEC --upstream URL   print routes for every operation of a spec
  version                          print the version

Run 'portcullis <command> --help' for a command's options.`;

const GROUPS = [
  'start',
  'validate',
  'schema',
  'secrets',
  'store',
  'consumers',
  'keys',
  'clients',
  'quotas',
  'routes',
];

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    processIo.stdout(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === 'version' || command === '--version') {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };
    processIo.stdout(pkg.version);
    return 0;
  }
  if (!GROUPS.includes(command)) {
    processIo.stderr(`unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const file = ['ts', 'js']
    .map((ext) => join(here, 'commands', `${command}.${ext}`))
    .find((f) => existsSync(f));
  if (!file) {
    processIo.stderr(`command "${command}" is not available in this build`);
    return 2;
  }
  const module = (await import(pathToFileURL(file).href)) as CommandModule;
  return module.run(rest, processIo);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error: unknown) => {
    processIo.stderr(`portcullis: ${(error as Error).message ?? String(error)}`);
    process.exitCode = 1;
  },
);
