import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { UpstreamConfig } from '../config/types.js';

/** An upstream's timeouts with their defaults (ms; 0 = none). */
export function upstreamTimeouts(config: UpstreamConfig): {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
  totalMs: number;
} {
  const t = config.timeouts;
  return {
    connectMs: t?.connectMs ?? 5_000,
    headersMs: t?.headersMs ?? 60_000,
    bodyMs: t?.bodyMs ?? 300_000,
    totalMs: t?.totalMs ?? 0,
  };
}

/** One upstream target: its connection pool and health state. */
export class Target {
  readonly origin: string;
  readonly weight: number;
  readonly pool: Pool;
  inFlight = 0;
  /** Smooth weighted round-robin state. */
  currentWeight = 0;
  /** False while failing active health checks. */
  healthy = true;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  private checkSuccesses = 0;
  private checkFailures = 0;

  constructor(url: string, weight: number, config: UpstreamConfig, resolveFile: (p: string) => string) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.weight = weight;
    const tls = config.tls;
    const timeouts = upstreamTimeouts(config);
    const connect: Record<string, unknown> = {
      timeout: timeouts.connectMs,
      keepAlive: true,
    };
    if (parsed.protocol === 'https:') {
      connect.rejectUnauthorized = tls?.verify !== false;
      connect.minVersion = 'TLSv1.2';
      if (tls?.ca) connect.ca = readFileSync(resolveFile(tls.ca));
      if (tls?.cert) connect.cert = readFileSync(resolveFile(tls.cert));
      if (tls?.key) connect.key = readFileSync(resolveFile(tls.key));
      if (tls?.serverName) connect.servername = tls.serverName;
    }
    this.pool = new Pool(this.origin, {
      connections: config.connections ?? 128,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      // For health checks and WebSocket handshakes; proxied exchanges set their own (upstream.ts).
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      connect,
    });
  }

  available(now: number): boolean {
    return this.healthy && this.ejectedUntil <= now;
  }

  /** Records an active health-check result; returns true when the state changed. */
  recordCheck(ok: boolean, healthyThreshold: number, unhealthyThreshold: number): boolean {
    if (ok) {
      this.checkFailures = 0;
      this.checkSuccesses++;
      if (!this.healthy && this.checkSuccesses >= healthyThreshold) {
        this.healthy = true;
        return true;
      }
    } else {
      this.checkSuccesses = 0;
      this.checkFailures++;
      if (this.healthy && this.checkFailures >= unhealthyThreshold) {
        this.healthy = false;
        return true;
      }
    }
    return false;
  }
}
