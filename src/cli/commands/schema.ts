import { buildConfigSchema } from '../../config/schema.js';
import { loadStageDefinitions } from '../../stages/registry.js';
import type { CliIo } from '../io.js';

/** `portcullis schema`: prints the config JSON Schema (also published as docs/config.schema.json). */
export async function run(_args: string[], io: CliIo): Promise<number> {
  io.stdout(JSON.stringify(buildConfigSchema(await loadStageDefinitions()), null, 2));
  return 0;
}
