import type { JSONSchemaType } from './json-schema.js';
import type { RequestContext } from './context.js';
import type { ResponseContext } from './response.js';
import type { BuildContext } from './build-context.js';

export type Phase = 'access' | 'response' | 'log';

/** An intentional short-circuit answered by the gateway itself (e.g. a CORS preflight). */
export interface LocalReply {
  readonly status: number;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string | Buffer;
}

/** What a stage's `run` may return: nothing to continue, or a local reply to stop. */
export type StageResult = void | LocalReply | undefined;

export interface AccessStage {
  readonly name: string;
  /** Continue by returning nothing; short-circuit by returning a reply; deny by throwing a GatewayError. */
  run(ctx: RequestContext): StageResult | Promise<StageResult>;
}

export interface ResponseStage {
  readonly name: string;
  /**
   * The stage acts only on answers with at least this status. When no stage of a route applies,
   * the runner streams the answer without building a response context.
   */
  readonly minStatus?: number;
  /** May change status, headers and (by reading it) the body; may throw a GatewayError. */
  run(ctx: RequestContext, response: ResponseContext): void | Promise<void>;
}

export interface LogStage {
  readonly name: string;
  /** Runs after the response has been sent; cannot change it. Must not throw. */
  run(ctx: RequestContext, summary: ResponseSummary): void;
}

export interface ResponseSummary {
  readonly status: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Nanoseconds spent in the gateway outside the upstream call. */
  readonly gatewayNs: bigint;
  /** Nanoseconds from upstream request start to upstream response end (0 when not proxied). */
  readonly upstreamNs: bigint;
  readonly totalNs: bigint;
  readonly errorCode?: string | undefined;
  readonly aborted: boolean;
}

interface StageDefinitionBase<TConfig> {
  /** Dotted name, e.g. `authn.jwt`. */
  readonly name: string;
  /** Position inside its phase; bands are documented in `pipeline/order.ts`. */
  readonly order: number;
  /** Key of this stage's section in a route's config (omit for stages configured elsewhere). */
  readonly routeKey?: string;
  /** JSON Schema of that section; merged into the published config schema. */
  readonly routeSchema?: JSONSchemaType;
  /** Key and schema of an optional top-level section shared by all routes. */
  readonly globalKey?: string;
  readonly globalSchema?: JSONSchemaType;
  /**
   * Builds the stage for one route at config load. Return `undefined` when the control is not
   * enabled for this route: a disabled control is absent from the list. Throw a ConfigError (or
   * call `build.fail`) for operator mistakes.
   */
  build(config: TConfig | undefined, build: BuildContext): Promise<unknown> | unknown;
}

export interface AccessStageDefinition<TConfig = unknown> extends StageDefinitionBase<TConfig> {
  readonly phase: 'access';
  build(
    config: TConfig | undefined,
    build: BuildContext,
  ): AccessStage | undefined | Promise<AccessStage | undefined>;
}
export interface ResponseStageDefinition<TConfig = unknown> extends StageDefinitionBase<TConfig> {
  readonly phase: 'response';
  build(
    config: TConfig | undefined,
    build: BuildContext,
  ): ResponseStage | undefined | Promise<ResponseStage | undefined>;
}
export interface LogStageDefinition<TConfig = unknown> extends StageDefinitionBase<TConfig> {
  readonly phase: 'log';
  build(
    config: TConfig | undefined,
    build: BuildContext,
  ): LogStage | undefined | Promise<LogStage | undefined>;
}

export type StageDefinition<TConfig = unknown> =
  AccessStageDefinition<TConfig> | ResponseStageDefinition<TConfig> | LogStageDefinition<TConfig>;

/** Helper for typed definitions: `export default defineStage({...})`. */
export function defineStage<TConfig>(definition: StageDefinition<TConfig>): StageDefinition<TConfig> {
  return definition;
}
