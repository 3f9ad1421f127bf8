import { secretsConfigSchema } from '../crypto/config.js';
import { storeConfigSchema } from '../store/config.js';
import { loadSheddingConfigSchema } from '../traffic/load-shedder.js';
import type { JSONSchemaType } from '../pipeline/json-schema.js';

/** Top-level sections owned by services that are not stages. Stage sections come from the stages. */
export const SERVICE_SECTIONS: ReadonlyMap<string, JSONSchemaType> = new Map([
  ['store', storeConfigSchema],
  ['secrets', secretsConfigSchema],
  ['loadShedding', loadSheddingConfigSchema],
]);
