import { DEFAULT_DETECTORS, DETECTOR_IDS, type DetectorId } from './detectors.js';

/** The `sensitiveData` section of a route. */
export interface SensitiveDataConfig {
  readonly mode?: 'mask' | 'block' | 'report';
  readonly detectors?: readonly DetectorId[];
  readonly maxBodyBytes?: number;
  /** Also inspect error responses (4xx/5xx from the upstream). Default true. */
  readonly errorResponses?: boolean;
}

export const SENSITIVE_DATA_ROUTE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'Sensitive-data detection on upstream responses (docs/sensitive-data.md).',
  properties: {
    mode: {
      enum: ['mask', 'block', 'report'],
      description:
        'mask (default): replace matches; block: 502 sensitive_data_blocked; report: log and count only.',
    },
    detectors: {
      type: 'array',
      uniqueItems: true,
      minItems: 1,
      items: { enum: [...DETECTOR_IDS] },
      description: `Detectors (default ${DEFAULT_DETECTORS.join(', ')}).`,
    },
    maxBodyBytes: {
      type: 'integer',
      minimum: 1,
      description: 'Largest response body inspected (default 1 MiB); a larger body is refused with 502.',
    },
    errorResponses: {
      type: 'boolean',
      description: 'Inspect 4xx/5xx upstream responses too (default true).',
    },
  },
} as const;
