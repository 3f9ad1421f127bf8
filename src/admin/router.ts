import type { GatewayConfig } from '../config/types.js';
import type { Services } from '../pipeline/services.js';

export interface AdminRequest {
  readonly method: string;
  readonly path: string;
  readonly params: Record<string, string>;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (`{}` when empty); refuses non-JSON and bodies over 1 MiB with admin_bad_request. */
  json(): Promise<unknown>;
}

export interface AdminResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Send `body` as-is (string) with this content type instead of JSON. */
  readonly contentType?: string;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse> | AdminResponse;

interface AdminRoute {
  readonly method: string;
  readonly segments: readonly string[];
  readonly handler: AdminHandler;
  readonly public: boolean;
}

/** What an admin route module gets. */
export interface AdminModuleContext {
  readonly services: Services;
  /** The config currently serving (changes on reload). */
  currentConfig(): GatewayConfig;
  /** Directory relative config paths resolve against. */
  readonly configDir: string;
}

/**
 * Every module in `src/admin/routes/` default-exports an AdminModule that registers its
 * endpoints. All routes require admin authentication unless registered with `{ public: true }`.
 */
export type AdminModule = (router: AdminRouter, context: AdminModuleContext) => void | Promise<void>;

export class AdminRouter {
  private readonly routes: AdminRoute[] = [];

  /** Registers `METHOD /path/{param}`. */
  route(method: string, path: string, handler: AdminHandler, options: { public?: boolean } = {}): void {
    this.routes.push({
      method: method.toUpperCase(),
      segments: path.split('/').filter(Boolean),
      handler,
      public: options.public === true,
    });
  }

  match(
    method: string,
    path: string,
  ): { route: AdminRoute; params: Record<string, string> } | { allow: string[] } | undefined {
    const parts = path.split('/').filter(Boolean);
    const allow: string[] = [];
    for (const route of this.routes) {
      if (route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < parts.length; i++) {
        const seg = route.segments[i]!;
        const part = parts[i]!;
        if (seg.startsWith('{') && seg.endsWith('}')) {
          try {
            params[seg.slice(1, -1)] = decodeURIComponent(part);
          } catch {
            ok = false;
            break;
          }
        } else if (seg !== part) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
      allow.push(route.method);
    }
    return allow.length ? { allow } : undefined;
  }
}
