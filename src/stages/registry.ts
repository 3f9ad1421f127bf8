import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StageDefinition } from '../pipeline/stage.js';

let cached: Promise<readonly StageDefinition[]> | undefined;

/**
 * Discovers every stage: each module directly inside `stages/<group>/` default-exports one
 * StageDefinition. Adding a control is adding one file.
 */
export function loadStageDefinitions(): Promise<readonly StageDefinition[]> {
  cached ??= discover();
  return cached;
}

async function discover(): Promise<readonly StageDefinition[]> {
  const root = dirname(fileURLToPath(import.meta.url));
  const files: string[] = [];
  for (const group of readdirSync(root).sort()) {
    const dir = join(root, group);
    if (!statSync(dir).isDirectory()) continue;
    for (const name of readdirSync(dir).sort()) {
      if (/\.(ts|js)$/.test(name) && !name.endsWith('.d.ts')) files.push(join(dir, name));
    }
  }
  const definitions: StageDefinition[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(file).href)) as { default?: StageDefinition };
    const definition = module.default;
    if (!definition || typeof definition.build !== 'function' || typeof definition.name !== 'string') {
      throw new TypeError(`${file} does not default-export a stage definition`);
    }
    definitions.push(definition);
  }
  const names = new Set<string>();
  for (const d of definitions) {
    if (names.has(d.name)) throw new TypeError(`duplicate stage name ${d.name}`);
    names.add(d.name);
  }
  return definitions;
}
