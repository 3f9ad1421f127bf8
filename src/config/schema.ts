import type { JSONSchemaType } from '../pipeline/json-schema.js';
import type { StageDefinition } from '../pipeline/stage.js';
import { coreSchema } from './core-schema.js';
import { SERVICE_SECTIONS } from './sections.js';

/**
 * The full config schema: the core schema plus every stage's route and global sections.
 * Unknown keys anywhere are errors.
 */
export function buildConfigSchema(stages: readonly StageDefinition[]): JSONSchemaType {
  const schema = structuredClone(coreSchema) as {
    properties: Record<string, unknown> & {
      routes: { items: { properties: Record<string, unknown>; additionalProperties?: boolean } };
    };
  };
  const routeProps = schema.properties.routes.items.properties;
  for (const [key, section] of SERVICE_SECTIONS) schema.properties[key] = section;
  for (const stage of stages) {
    if (stage.routeKey !== undefined && stage.routeSchema !== undefined) {
      if (routeProps[stage.routeKey] !== undefined && routeProps[stage.routeKey] !== stage.routeSchema) {
        throw new TypeError(`route key ${stage.routeKey} is claimed twice (${stage.name})`);
      }
      routeProps[stage.routeKey] = stage.routeSchema;
    }
    if (stage.globalKey !== undefined && stage.globalSchema !== undefined) {
      schema.properties[stage.globalKey] = stage.globalSchema;
    }
  }
  schema.properties.routes.items.additionalProperties = false;
  return schema as unknown as JSONSchemaType;
}
