const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** JSON Schema of a duration: `500ms`, `1s`, `5m`, `1h`, `1d`, or a number of seconds. */
export const durationSchema = {
  oneOf: [
    { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(ms|s|m|h|d)$' },
    { type: 'number', exclusiveMinimum: 0 },
  ],
} as const;

/** Milliseconds of a duration written as in `durationSchema` (schema-validated input). */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)$/.exec(value);
  if (match === null) throw new TypeError(`not a duration: ${value}`);
  return Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000);
}
