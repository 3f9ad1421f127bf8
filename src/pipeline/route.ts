import type { AccessStage, LogStage, ResponseStage } from './stage.js';
import type { RouteConfig } from '../config/types.js';
import type { Upstream } from '../proxy/upstream.js';

/** A route compiled at config load: its frozen stage lists and its upstream. */
export interface CompiledRoute {
  readonly name: string;
  readonly index: number;
  readonly config: RouteConfig;
  readonly access: readonly AccessStage[];
  readonly response: readonly ResponseStage[];
  /**
   * The lowest status any response stage acts on (each stage's `minStatus`, 0 when it has none;
   * Infinity without response stages): answers below it stream without a response context.
   */
  readonly responseFrom: number;
  readonly log: readonly LogStage[];
  /** Undefined for routes answered entirely by a stage (e.g. the OAuth server). */
  readonly upstream: Upstream | undefined;
  /** Maps the normalised request path to the path sent upstream (strip/replace prefix). */
  readonly rewritePath: (path: string) => string;
  /** Host header policy: `preserve` the client's, use the `upstream` target's, or a fixed value. */
  readonly hostHeader: 'preserve' | 'upstream' | { readonly value: string };
}
