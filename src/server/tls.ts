import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import {
  createSecureContext,
  type SecureContext,
  type SecureContextOptions,
  type TlsOptions,
} from 'node:tls';
import { generate } from 'selfsigned';
import type { ListenerTlsConfig } from '../config/types.js';
import type { Logger } from '../observe/logger.js';

/** TLS 1.2 suites: ECDHE key exchange and AEAD ciphers only. TLS 1.3 suites are all AEAD. */
export const DEFAULT_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

interface CertPair {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  readonly serverNames: readonly string[];
}

/** Generates a self-signed certificate for local development (never for production). */
export async function generateDevCertificate(): Promise<{ cert: string; key: string }> {
  const pems = await generate(
    [{ name: 'commonName', value: 'Portcullis DEVELOPMENT certificate (localhost)' }],
    {
      keyType: 'ec',
      curve: 'P-256',
      notAfterDate: new Date(Date.now() + 30 * 24 * 3600 * 1000),
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/**
 * Secure contexts for one TLS listener: a default certificate, more chosen by SNI, client
 * certificate verification, and reload when certificate files change.
 */
export class TlsContexts {
  private defaultContext!: SecureContext;
  private exact = new Map<string, SecureContext>();
  private wildcard: { suffix: string; context: SecureContext }[] = [];
  private watched: string[] = [];
  serverOptions!: TlsOptions;

  private constructor(
    private readonly config: ListenerTlsConfig,
    private readonly resolvePath: (p: string) => string,
    private readonly logger: Logger,
  ) {}

  static async create(
    config: ListenerTlsConfig,
    resolvePath: (p: string) => string,
    logger: Logger,
  ): Promise<TlsContexts> {
    const contexts = new TlsContexts(config, resolvePath, logger);
    let pairs: CertPair[];
    if (config.certificates?.length) pairs = contexts.readPairs();
    else if (config.devCertificate !== false) {
      const dev = await generateDevCertificate();
      logger.warn(
        'no TLS certificate configured: serving a self-signed DEVELOPMENT certificate (not for production)',
      );
      pairs = [{ cert: dev.cert, key: dev.key, serverNames: [] }];
    } else throw new TypeError('a TLS listener needs `certificates` (or `devCertificate: true`)');
    contexts.install(pairs);
    return contexts;
  }

  private readPairs(): CertPair[] {
    return (this.config.certificates ?? []).map((c) => ({
      cert: readFileSync(this.resolvePath(c.cert)),
      key: readFileSync(this.resolvePath(c.key)),
      serverNames: c.serverNames ?? [],
    }));
  }

  private baseOptions(): SecureContextOptions {
    const auth = this.config.clientAuth;
    const options: SecureContextOptions = {
      minVersion: this.config.minVersion ?? 'TLSv1.2',
      ciphers: this.config.ciphers ?? DEFAULT_CIPHERS,
      honorCipherOrder: true,
      ecdhCurve: 'X25519:P-256:P-384',
    };
    if (auth && auth.mode !== 'none') {
      if (auth.ca) options.ca = readFileSync(this.resolvePath(auth.ca));
      if (auth.crl) options.crl = readFileSync(this.resolvePath(auth.crl));
    }
    return options;
  }

  private install(pairs: CertPair[]): void {
    const base = this.baseOptions();
    const exact = new Map<string, SecureContext>();
    const wildcard: { suffix: string; context: SecureContext }[] = [];
    let first: SecureContext | undefined;
    for (const pair of pairs) {
      const context = createSecureContext({ ...base, cert: pair.cert, key: pair.key });
      first ??= context;
      for (const name of pair.serverNames) {
        const lower = name.toLowerCase();
        if (lower.startsWith('*.')) wildcard.push({ suffix: lower.slice(1), context });
        else exact.set(lower, context);
      }
    }
    wildcard.sort((a, b) => b.suffix.length - a.suffix.length);
    this.defaultContext = first!;
    this.exact = exact;
    this.wildcard = wildcard;
    const auth = this.config.clientAuth;
    const firstPair = pairs[0]!;
    this.serverOptions = {
      ...base,
      cert: firstPair.cert,
      key: firstPair.key,
      requestCert: auth !== undefined && auth.mode !== 'none',
      rejectUnauthorized: auth?.mode === 'require',
      SNICallback: (servername, callback) => callback(null, this.contextFor(servername)),
    };
  }

  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const exact = this.exact.get(name);
    if (exact) return exact;
    for (const { suffix, context } of this.wildcard) {
      if (name.endsWith(suffix) && name.length > suffix.length) return context;
    }
    return this.defaultContext;
  }

  /** Reloads certificates when any configured file changes; a bad file keeps the old ones. */
  watch(onReload: (options: TlsOptions) => void): void {
    const files = [
      ...(this.config.certificates ?? []).flatMap((c) => [c.cert, c.key]),
      ...(this.config.clientAuth?.ca ? [this.config.clientAuth.ca] : []),
      ...(this.config.clientAuth?.crl ? [this.config.clientAuth.crl] : []),
    ].map(this.resolvePath);
    let timer: NodeJS.Timeout | undefined;
    const reload = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        try {
          this.install(this.readPairs());
          onReload(this.serverOptions);
          this.logger.info({ files }, 'TLS certificates reloaded');
        } catch (error) {
          this.logger.error(
            { err: error },
            'TLS certificate reload failed; keeping the previous certificates',
          );
        }
      }, 200);
      timer.unref();
    };
    for (const file of new Set(files)) {
      watchFile(file, { interval: 1000, persistent: false }, reload);
      this.watched.push(file);
    }
  }

  close(): void {
    for (const file of this.watched) unwatchFile(file);
    this.watched = [];
  }
}
