import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { Services } from './services.js';

/** What a stage's `build` gets at config load. */
export interface BuildContext {
  /** Path of the config file being loaded (for messages). */
  readonly file: string;
  /** Directory relative paths in the config resolve against. */
  readonly configDir: string;
  /** The whole (validated, interpolated) config. */
  readonly config: GatewayConfig;
  readonly route: RouteConfig;
  readonly routeIndex: number;
  /** JSON pointer of this stage's section, e.g. `/routes/2/rateLimit`. */
  readonly pointer: string;
  readonly services: Services;
  /** Throws a ConfigError at `pointer` + `subPointer`, with file line/column when known. */
  fail(message: string, subPointer?: string): never;
  /** Records a warning shown by `portcullis validate` and logged at load. */
  warn(message: string, subPointer?: string): void;
  /** Resolves a path from the config against `configDir`. */
  resolvePath(path: string): string;
  /** Per-load memo shared by all routes (e.g. compiled OpenAPI documents keyed by file). */
  readonly memo: Map<string, unknown>;
}
