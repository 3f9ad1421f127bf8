import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { compileApi } from '../../openapi/compile.js';
import { generateRoutes } from '../../openapi/generate-routes.js';
import { loadDocument, OpenApiLoadError } from '../../openapi/load.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: portcullis routes from-openapi SPEC --upstream URL [--prefix /path] [--name NAME] [--lenient] [--json]

Prints a config snippet with one route per operation of an OpenAPI 3.0/3.1 document.
  --upstream URL   where the API runs (required)
  --prefix PATH    serve the API under this gateway path prefix (stripped before forwarding)
  --name NAME      upstream name in the snippet (default: api)
  --lenient        strict: false (undeclared paths, parameters and properties pass)
  --json           print JSON instead of YAML
Operations without security requirements are marked public; the others need an
authentication section before the config loads.`;

/** `portcullis routes from-openapi SPEC --upstream URL [--prefix P]`. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'from-openapi') {
    (sub === undefined || sub === '--help' || sub === '-h' ? io.stdout : io.stderr)(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        upstream: { type: 'string' },
        prefix: { type: 'string' },
        name: { type: 'string' },
        lenient: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  const spec = positionals[0];
  if (spec === undefined || values.upstream === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    new URL(values.upstream);
  } catch {
    io.stderr(`--upstream must be an absolute URL, got ${JSON.stringify(values.upstream)}`);
    return 2;
  }
  if (values.prefix !== undefined && !values.prefix.startsWith('/')) {
    io.stderr('--prefix must start with "/"');
    return 2;
  }
  let snippet;
  try {
    const api = compileApi(await loadDocument(resolve(spec)), { strict: false });
    snippet = generateRoutes(api, {
      spec,
      upstreamUrl: values.upstream,
      ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
      ...(values.name === undefined ? {} : { upstreamName: values.name }),
      strict: values.lenient !== true,
    });
  } catch (error) {
    io.stderr(
      error instanceof OpenApiLoadError ? error.message : `cannot read ${spec}: ${(error as Error).message}`,
    );
    return 1;
  }
  io.stdout(values.json ? JSON.stringify(snippet, null, 2) : stringify(snippet));
  return 0;
}
