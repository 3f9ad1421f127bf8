import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { buildConfigSchema } from '../../src/config/schema.js';
import { loadStageDefinitions } from '../../src/stages/registry.js';

test('docs/config.schema.json is the schema the loader enforces (run `npm run schema` to refresh)', async () => {
  const published = JSON.parse(
    readFileSync(new URL('../../docs/config.schema.json', import.meta.url), 'utf8'),
  ) as unknown;
  const current = JSON.parse(JSON.stringify(buildConfigSchema(await loadStageDefinitions()))) as unknown;
  assert.deepEqual(published, current);
});
