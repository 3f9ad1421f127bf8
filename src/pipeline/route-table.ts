import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { LoadedConfig } from '../config/load.js';
import type { RouteConfig } from '../config/types.js';
import { Upstream } from '../proxy/upstream.js';
import { Router } from '../routing/router.js';
import { loadStageDefinitions } from '../stages/registry.js';
import type { BuildContext } from './build-context.js';
import type { CompiledRoute } from './route.js';
import type { Services } from './services.js';
import type { AccessStage, LogStage, ResponseStage, StageDefinition } from './stage.js';

/** One config generation: the router, compiled routes and upstreams. Swapped atomically on reload. */
export interface RouteTable {
  readonly generation: number;
  readonly loaded: LoadedConfig;
  readonly router: Router<CompiledRoute>;
  readonly routes: readonly CompiledRoute[];
  /** Log stages for requests that matched no route (bad path, 404, 405). */
  readonly unmatched: CompiledRoute;
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly warnings: readonly ConfigIssue[];
  /** Starts health checks; called when the table goes live. */
  activate(): void;
  /** Closes upstream pools after in-flight requests finished with them. */
  close(): Promise<void>;
}

let generationCounter = 0;

const UNMATCHED_ROUTE: RouteConfig = { name: '-', match: {}, upstream: '', public: true };

/** Builds a whole route table beside the serving one. Throws ConfigError; never half-applies. */
export async function buildRouteTable(loaded: LoadedConfig, services: Services): Promise<RouteTable> {
  const { config, file, configDir } = loaded;
  const definitions = await loadStageDefinitions();
  const issues: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const memo = new Map<string, unknown>();
  const resolvePath = (p: string) => (isAbsolute(p) ? p : resolve(configDir, p));
  const located = (pointer: string, message: string): ConfigIssue => {
    const at = loaded.locate(pointer);
    return at ? { pointer, message, line: at.line, column: at.column } : { pointer, message };
  };

  const upstreams = new Map<string, Upstream>();
  const closeUpstreams = async () => {
    await Promise.all([...upstreams.values()].map((u) => u.close()));
  };
  try {
    for (const [name, upstreamConfig] of Object.entries(config.upstreams)) {
      try {
        upstreams.set(
          name,
          new Upstream(name, upstreamConfig, resolvePath, services.logger, services.metrics),
        );
      } catch (error) {
        issues.push(located(`/upstreams/${name}`, `cannot set up upstream: ${(error as Error).message}`));
      }
    }

    const names = new Set<string>();
    const routes: CompiledRoute[] = [];
    for (let index = 0; index < config.routes.length; index++) {
      const route = config.routes[index]!;
      const pointer = `/routes/${index}`;
      if (names.has(route.name))
        issues.push(located(`${pointer}/name`, `duplicate route name "${route.name}"`));
      names.add(route.name);
      const upstream = route.upstream === undefined ? undefined : upstreams.get(route.upstream);
      if (route.upstream !== undefined && upstream === undefined) {
        issues.push(
          located(
            `${pointer}/upstream`,
            `unknown upstream "${route.upstream}"; expected one of: ${[...upstreams.keys()].join(', ') || '(none defined)'}`,
          ),
        );
      }
      try {
        const stages = await buildStages(
          definitions,
          route,
          index,
          pointer,
          loaded,
          services,
          memo,
          resolvePath,
          warnings,
          located,
        );
        routes.push(compileRoute(route, index, stages, upstream, pointer, located, issues));
      } catch (error) {
        if (error instanceof ConfigError) issues.push(...error.issues);
        else issues.push(located(pointer, `cannot build route: ${(error as Error).message}`));
      }
    }
    if (issues.length > 0) throw new ConfigError(file, issues);

    let router: Router<CompiledRoute>;
    try {
      router = new Router(
        routes.map((r) => ({
          value: r,
          hosts: r.config.match.hosts,
          methods: r.config.match.methods,
          path: r.config.match.path,
          pathPrefix: r.config.match.pathPrefix,
        })),
        {
          caseInsensitive:
            (config.paths as { caseInsensitiveRouting?: boolean } | undefined)?.caseInsensitiveRouting ===
            true,
        },
      );
    } catch (error) {
      throw new ConfigError(file, [{ pointer: '/routes', message: (error as Error).message }]);
    }
    const unmatchedStages = await buildStages(
      definitions,
      UNMATCHED_ROUTE,
      -1,
      '/routes',
      loaded,
      services,
      memo,
      resolvePath,
      [],
      located,
      'log',
    );
    const unmatched: CompiledRoute = {
      name: '-',
      index: -1,
      config: UNMATCHED_ROUTE,
      access: [],
      response: [],
      responseFrom: Infinity,
      log: unmatchedStages.log,
      upstream: undefined,
      rewritePath: (p) => p,
      hostHeader: 'preserve',
    };
    const generation = ++generationCounter;
    return {
      generation,
      loaded,
      router,
      routes,
      unmatched,
      upstreams,
      warnings,
      activate() {
        for (const u of upstreams.values()) u.start();
      },
      close: closeUpstreams,
    };
  } catch (error) {
    await closeUpstreams();
    throw error;
  }
}

interface BuiltStages {
  access: AccessStage[];
  response: ResponseStage[];
  log: LogStage[];
}

async function buildStages(
  definitions: readonly StageDefinition[],
  route: RouteConfig,
  routeIndex: number,
  routePointer: string,
  loaded: LoadedConfig,
  services: Services,
  memo: Map<string, unknown>,
  resolvePath: (p: string) => string,
  warnings: ConfigIssue[],
  located: (pointer: string, message: string) => ConfigIssue,
  onlyPhase?: 'log',
): Promise<BuiltStages> {
  const ordered = [...definitions].sort((a, b) => a.order - b.order);
  const built: { order: number; phase: string; stage: AccessStage | ResponseStage | LogStage }[] = [];
  for (const definition of ordered) {
    if (onlyPhase && definition.phase !== onlyPhase) continue;
    const pointer = definition.routeKey ? `${routePointer}/${definition.routeKey}` : routePointer;
    const build: BuildContext = {
      file: loaded.file,
      configDir: loaded.configDir,
      config: loaded.config,
      route,
      routeIndex,
      pointer,
      services,
      memo,
      resolvePath,
      fail(message, subPointer = '') {
        throw new ConfigError(loaded.file, [located(pointer + subPointer, message)]);
      },
      warn(message, subPointer = '') {
        warnings.push(located(pointer + subPointer, message));
      },
    };
    const section = definition.routeKey ? route[definition.routeKey] : undefined;
    const stage = await definition.build(section as never, build);
    if (stage) built.push({ order: definition.order, phase: definition.phase, stage: stage as AccessStage });
  }
  return {
    access: built.filter((b) => b.phase === 'access').map((b) => b.stage as AccessStage),
    response: built.filter((b) => b.phase === 'response').map((b) => b.stage as ResponseStage),
    log: built.filter((b) => b.phase === 'log').map((b) => b.stage as LogStage),
  };
}

function compileRoute(
  route: RouteConfig,
  index: number,
  stages: BuiltStages,
  upstream: Upstream | undefined,
  pointer: string,
  located: (pointer: string, message: string) => ConfigIssue,
  issues: ConfigIssue[],
): CompiledRoute {
  const strip = route.stripPrefix?.replace(/\/$/, '');
  const add = route.addPrefix?.replace(/\/$/, '') ?? '';
  if (strip !== undefined) {
    const prefix = route.match.pathPrefix ?? route.match.path;
    if (prefix === undefined || !(prefix === strip || prefix.startsWith(strip + '/') || strip === '')) {
      issues.push(
        located(
          `${pointer}/stripPrefix`,
          `stripPrefix "${route.stripPrefix}" must be a prefix of the route's match path`,
        ),
      );
    }
  }
  const rewritePath =
    strip === undefined && add === ''
      ? (p: string) => p
      : (p: string) => {
          let rest = p;
          if (strip !== undefined && (p === strip || p.startsWith(strip + '/')))
            rest = p.slice(strip.length) || '/';
          return add + rest;
        };
  const hostHeader =
    route.hostHeader === undefined || route.hostHeader === 'preserve'
      ? 'preserve'
      : route.hostHeader === 'upstream'
        ? 'upstream'
        : { value: route.hostHeader };
  return Object.freeze({
    name: route.name,
    index,
    config: route,
    access: Object.freeze(stages.access),
    response: Object.freeze(stages.response),
    responseFrom: Math.min(Infinity, ...stages.response.map((stage) => stage.minStatus ?? 0)),
    log: Object.freeze(stages.log),
    upstream,
    rewritePath,
    hostHeader,
  }) as CompiledRoute;
}
