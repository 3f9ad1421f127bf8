import { watch, type FSWatcher } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from './config/config-error.js';
import { loadConfigFile, readConfigDocument, type LoadOptions } from './config/load.js';
import type { GatewayConfig } from './config/types.js';
import { createAdminServer, weakTokenReason, type AdminServer } from './admin/server.js';
import { createLogger, type Logger } from './observe/logger.js';
import { Metrics } from './observe/metrics.js';
import { buildRouteTable, type RouteTable } from './pipeline/route-table.js';
import { Runner } from './pipeline/runner.js';
import type { Services } from './pipeline/services.js';
import { TrustedProxies } from './proxy/client-address.js';
import { createListener, listen, resolveLimits, type Listener } from './server/listeners.js';
import { createLoadShedder, type LoadSheddingConfig } from './traffic/load-shedder.js';
import {
  prepareSecretsService,
  SECRETS_SERVICE_KEY,
  sharedSecretResolver,
} from './crypto/secrets-service.js';
import type { OpenedSecrets } from './crypto/config-secrets.js';

export interface GatewayOptions extends LoadOptions {
  /** Use this logger instead of one built from `logging` (tests). */
  readonly logger?: Logger;
  /** Watch the config file and reload on change (default true for `start`). */
  readonly watchConfig?: boolean;
  /** Extra services set before the first build (tests, embedding). */
  readonly shared?: Map<string, unknown>;
  /** Called before each config (re)load to give interpolation a secret resolver. */
  readonly prepare?: (config: GatewayConfig, services: Services) => Promise<void>;
}

export interface BoundAddress {
  readonly name: string;
  readonly url: string;
}

/**
 * A running gateway: listeners, the admin listener, and the serving route table, which
 * `reload()` replaces atomically (an invalid config never replaces the one serving).
 */
export class Gateway {
  private table!: RouteTable;
  private runner!: Runner;
  private listeners: Listener[] = [];
  private admin: AdminServer | undefined;
  private watcher: FSWatcher | undefined;
  private closers: (() => Promise<void> | void)[] = [];
  private reloading: Promise<void> = Promise.resolve();
  /** `${secret:…}` names the load in progress resolved, and those the serving config uses. */
  private loadingSecrets = new Set<string>();
  private secretsInUse: ReadonlySet<string> = new Set();
  private unwatchSecrets: (() => void) | undefined;
  private readonly loadOptions: LoadOptions;
  private stopping = false;
  readonly services: Services;
  readonly file: string;

  private constructor(
    file: string,
    private readonly options: GatewayOptions,
    logger: Logger,
  ) {
    this.file = file;
    this.services = {
      logger,
      metrics: new Metrics(),
      shared: options.shared ?? new Map(),
      onClose: (fn) => this.closers.push(fn),
    };
    // `${secret:…}` references resolve through the keyring opened at start (see boot()).
    const resolveSecret = options.resolveSecret ?? sharedSecretResolver(this.services);
    this.loadOptions = {
      ...options,
      resolveSecret: (name) => {
        this.loadingSecrets.add(name);
        return resolveSecret(name);
      },
    };
  }

  get config(): GatewayConfig {
    return this.table.loaded.config;
  }

  get generation(): number {
    return this.table.generation;
  }

  /** Loads the config, builds the route table, binds every listener. */
  static async start(file: string, options: GatewayOptions = {}): Promise<Gateway> {
    const absolute = isAbsolute(file) ? file : resolve(file);
    // The raw document gives the logging and secrets settings needed before a full load.
    const raw = (readConfigDocument(absolute, options.text).doc.toJS() ?? {}) as GatewayConfig;
    const logging = typeof raw.logging === 'object' && raw.logging !== null ? raw.logging : {};
    const logger = options.logger ?? createLogger(logging);
    const gateway = new Gateway(absolute, options, logger);
    try {
      await gateway.boot(raw);
    } catch (error) {
      await gateway.stop(0).catch(() => undefined);
      throw error;
    }
    return gateway;
  }

  private async boot(raw: GatewayConfig): Promise<void> {
    // The keyring opens before the first load so that a missing, weak or wrong KEK stops the
    // start, and `${secret:…}` references can be resolved.
    await prepareSecretsService(raw as unknown as Record<string, unknown>, this.file, this.services);
    await this.options.prepare?.(raw, this.services);
    this.loadingSecrets = new Set();
    const loaded = await loadConfigFile(this.file, this.loadOptions);
    this.secretsInUse = this.loadingSecrets;
    const config = loaded.config;
    if (config.admin?.token !== undefined) {
      const weak = weakTokenReason(config.admin.token);
      if (weak)
        throw new ConfigError(loaded.file, [
          {
            pointer: '/admin/token',
            message: `admin token ${weak}; generate one with \`openssl rand -base64 32\``,
          },
        ]);
    }
    this.table = await buildRouteTable(loaded, this.services);
    for (const w of this.table.warnings)
      this.services.logger.warn({ pointer: w.pointer, line: w.line }, w.message);
    const limits = resolveLimits(config.limits);
    const hstsListener = config.listeners.find((l) => l.tls?.hsts);
    const hsts = hstsListener?.tls?.hsts;
    const sheddingConfig = config.loadShedding as LoadSheddingConfig | undefined;
    const shed = sheddingConfig ? createLoadShedder(sheddingConfig) : undefined;
    if (shed) this.services.onClose(() => shed.close());
    this.runner = new Runner(this.table, this.services, {
      trustedProxies: new TrustedProxies(config.trustedProxies ?? []),
      forwardedHeaders: config.forwardedHeaders ?? 'x-forwarded',
      normalize: {
        allowSemicolons:
          (config.paths as { allowSemicolons?: boolean } | undefined)?.allowSemicolons === true,
      },
      maxBodyBytes: limits.maxBodyBytes,
      maxUrlLength: limits.maxUrlLength,
      maxResponseBufferBytes: 16 * 1024 * 1024,
      ...(shed ? { shedder: shed } : {}),
      ...(hsts
        ? {
            secureHeaders: {
              'strict-transport-security': `max-age=${hsts.maxAge}${hsts.includeSubDomains ? '; includeSubDomains' : ''}${hsts.preload ? '; preload' : ''}`,
            },
          }
        : {}),
    });
    this.table.activate();
    for (const listenerConfig of config.listeners) {
      const { listener } = await createListener(
        listenerConfig,
        limits,
        this.runner.handle,
        this.services.logger,
        (p) => this.resolvePath(p),
      );
      await listen(listener, listenerConfig.host ?? '127.0.0.1', listenerConfig.port);
      this.listeners.push(listener);
    }
    if (config.admin) {
      this.admin = await createAdminServer(
        config.admin,
        this.services,
        { currentConfig: () => this.table.loaded.config, configDir: loaded.configDir },
        (p) => this.resolvePath(p),
      );
      await new Promise<void>((resolveListen, reject) => {
        this.admin!.server.once('error', reject);
        this.admin!.server.listen(
          { host: config.admin!.host ?? '127.0.0.1', port: config.admin!.port ?? 9901 },
          () => resolveListen(),
        );
      });
      this.admin.setReady(true);
    }
    if (this.options.watchConfig) this.watchConfigFile();
    await this.watchSecrets();
  }

  /**
   * Reloads when a stored secret the serving config uses changes, on this node or another
   * (`portcullis secrets set`, admin API): the store's change feed reports it within about a
   * second, and the new value is resolved and swapped in like any reload (a failing reload
   * keeps the old config serving).
   */
  private async watchSecrets(): Promise<void> {
    const opening = this.services.shared.get(SECRETS_SERVICE_KEY) as Promise<OpenedSecrets> | undefined;
    if (opening === undefined) return;
    const { store } = await opening;
    let timer: NodeJS.Timeout | undefined;
    this.unwatchSecrets = store.subscribe((event) => {
      if (event.kind !== 'secret' || this.stopping) return;
      if (event.id !== '*' && !this.secretsInUse.has(event.id)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        this.services.logger.info({ secret: event.id }, 'a stored secret the config uses changed; reloading');
        void this.reload().catch(() => undefined);
      }, 300);
      timer.unref();
    });
  }

  private resolvePath(p: string): string {
    return isAbsolute(p) ? p : resolve(this.table.loaded.configDir, p);
  }

  /** Addresses of the bound listeners, e.g. `http://127.0.0.1:8080`. */
  addresses(): BoundAddress[] {
    return this.listeners.map((l) => {
      const a = l.address();
      const host = a.host.includes(':') ? `[${a.host}]` : a.host;
      return { name: l.name, url: `${l.secure ? 'https' : 'http'}://${host}:${a.port}` };
    });
  }

  adminUrl(): string | undefined {
    const a = this.admin?.server.address();
    if (!a || typeof a === 'string') return undefined;
    return `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;
  }

  /**
   * Builds a new route table beside the serving one and swaps it in. On any error the old
   * table keeps serving and the error is logged and rethrown. Listener, admin and worker
   * settings need a restart.
   */
  reload(): Promise<void> {
    const next = this.reloading.then(async () => {
      const started = Date.now();
      try {
        this.loadingSecrets = new Set();
        const loaded = await loadConfigFile(this.file, this.loadOptions);
        const table = await buildRouteTable(loaded, this.services);
        this.secretsInUse = this.loadingSecrets;
        const old = this.table;
        this.table = table;
        this.runner.table = table;
        table.activate();
        for (const w of table.warnings)
          this.services.logger.warn({ pointer: w.pointer, line: w.line }, w.message);
        this.services.logger.info(
          { generation: table.generation, ms: Date.now() - started },
          'configuration reloaded',
        );
        this.services.logger.flush();
        // Requests in flight keep their references to the old routes and pools; close later.
        setTimeout(() => void old.close(), 30_000).unref();
      } catch (error) {
        this.services.logger.error(
          {
            err: error instanceof ConfigError ? undefined : error,
            problems: error instanceof ConfigError ? error.message : undefined,
          },
          'configuration reload rejected; the previous configuration keeps serving',
        );
        this.services.logger.flush();
        throw error;
      }
    });
    this.reloading = next.catch(() => undefined);
    return next;
  }

  private watchConfigFile(): void {
    let timer: NodeJS.Timeout | undefined;
    try {
      this.watcher = watch(this.file, { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => void this.reload().catch(() => undefined), 300);
        timer.unref();
      });
    } catch (error) {
      this.services.logger.warn({ err: error }, 'cannot watch the config file; reload with SIGHUP');
    }
  }

  /** Stops accepting, drains in-flight requests up to `timeoutMs`, then closes everything. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.watcher?.close();
    this.unwatchSecrets?.();
    this.admin?.setReady(false);
    const drained = Promise.all(this.listeners.map((l) => l.close()));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const result = await Promise.race([drained.then(() => 'drained' as const), timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.services.logger.warn({ timeoutMs }, 'shutdown timeout: closing remaining connections');
      for (const l of this.listeners) l.destroy();
    }
    await this.admin?.close();
    await this.table?.close();
    for (const close of this.closers.reverse()) {
      try {
        await close();
      } catch (error) {
        this.services.logger.error({ err: error }, 'error while closing');
      }
    }
    this.services.logger.flush?.();
  }
}
