import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { GatewayError } from '../errors/gateway-error.js';
import type { Identity } from '../pipeline/identity.js';
import { sharedService } from '../pipeline/services.js';
import type { Consumer } from '../store/types.js';
import { ConsumerCache, type ConsumerRef } from './consumer-cache.js';
import { credentialServices } from './credential-services.js';
import { AuthenticationFailure, type Authenticator, type AuthenticatorFactory } from './authenticator.js';
import {
  clientCertSectionSchema,
  type ClientCertConfig,
  type ClientCertMappingConfig,
} from './client-cert-config.js';
import { loadCrl, type RevokedSerials } from './client-cert-crl.js';
import { certificateThumbprint } from './jwt-verifier.js';

export interface ClientCertAuthenticatorOptions {
  readonly realm: string;
  readonly subjectFrom: NonNullable<ClientCertConfig['subjectFrom']>;
  readonly requireTrusted: boolean;
  readonly requireMapping: boolean;
  readonly cas: readonly X509Certificate[];
  readonly revoked: RevokedSerials | undefined;
  readonly consumers: readonly ClientCertMappingConfig[];
  /** Resolves mappings that name a credential-store consumer. */
  readonly directory?: ConsumerCache;
  readonly now?: () => number;
}

/** What is derived from one certificate once (cached by its fingerprint). */
interface CertificateFacts {
  readonly certificate: X509Certificate;
  readonly fingerprint: string;
  readonly thumbprint: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly subject: string;
  readonly commonName: string | undefined;
  readonly sans: readonly string[];
  readonly mapping: ClientCertMappingConfig | undefined;
}

const normaliseFingerprint = (value: string): string => value.replaceAll(':', '').toUpperCase();
/** `CN=a,O=b` or node's `CN=a\nO=b` → one comparable form. */
const normaliseDn = (value: string): string =>
  value
    .split(/\n|,(?=\s*[A-Za-z.0-9]+=)/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .join(',');

function splitSans(value: string | undefined): string[] {
  return value === undefined
    ? []
    : value
        .split(/,\s*/)
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0);
}

function commonNameOf(subject: string): string | undefined {
  const line = subject.split('\n').find((part) => part.startsWith('CN='));
  return line === undefined ? undefined : line.slice(3);
}

/** The peer's certificate chain as X509Certificates, leaf first (at most 8). */
function peerChain(socket: TLSSocket, leafRaw: Buffer): X509Certificate[] {
  const chain = [new X509Certificate(leafRaw)];
  let current: DetailedPeerCertificate | undefined = socket.getPeerCertificate(
    true,
  ) as DetailedPeerCertificate;
  for (let depth = 0; depth < 8; depth += 1) {
    const issuer: DetailedPeerCertificate | undefined = current?.issuerCertificate;
    if (issuer === undefined || issuer === current || issuer.raw === undefined) break;
    chain.push(new X509Certificate(issuer.raw));
    current = issuer;
  }
  return chain;
}

/** True when the chain links, signature by signature, to one of `cas` (node:crypto verifies). */
export function issuedByOneOf(chain: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  for (let index = 0; index < chain.length; index += 1) {
    const current = chain[index] as X509Certificate;
    if (cas.some((ca) => current.checkIssued(ca) && current.verify(ca.publicKey))) return true;
    const next = chain[index + 1];
    if (next === undefined || !next.ca || !current.checkIssued(next) || !current.verify(next.publicKey))
      return false;
  }
  return false;
}

/**
 * Client-certificate authentication. The listener performs the TLS handshake (proof of the
 * private key) and chain verification against its CAs; this checks the outcome, the validity
 * period, an optional narrower CA set and CRL, and maps the certificate to an identity.
 */
export function createClientCertAuthenticator(options: ClientCertAuthenticatorOptions): Authenticator {
  const now = options.now ?? Date.now;
  const facts = new LRUCache<string, CertificateFacts>({ max: 10_000 });

  function findMapping(
    fingerprint: string,
    subject: string,
    commonName: string | undefined,
    sans: readonly string[],
  ) {
    const dn = normaliseDn(subject);
    return options.consumers.find(
      (entry) =>
        (entry.fingerprint !== undefined && normaliseFingerprint(entry.fingerprint) === fingerprint) ||
        (entry.subjectCN !== undefined && entry.subjectCN === commonName) ||
        (entry.subject !== undefined && normaliseDn(entry.subject) === dn) ||
        (entry.san !== undefined && sans.includes(entry.san)),
    );
  }

  function learn(socket: TLSSocket, raw: Buffer): CertificateFacts {
    const thumbprint = certificateThumbprint(raw);
    const cached = facts.get(thumbprint);
    if (cached !== undefined) return cached;
    const certificate = new X509Certificate(raw);
    const fingerprint = normaliseFingerprint(certificate.fingerprint256);
    if (options.cas.length > 0 && !issuedByOneOf(peerChain(socket, raw), options.cas)) {
      throw new AuthenticationFailure('mtls_untrusted_issuer', { credentialId: fingerprint });
    }
    const sans = splitSans(certificate.subjectAltName);
    const commonName = commonNameOf(certificate.subject);
    const learned: CertificateFacts = {
      certificate,
      fingerprint,
      thumbprint,
      notBefore: Date.parse(certificate.validFrom),
      notAfter: Date.parse(certificate.validTo),
      subject: certificate.subject,
      commonName,
      sans,
      mapping: findMapping(fingerprint, certificate.subject, commonName, sans),
    };
    facts.set(thumbprint, learned);
    return learned;
  }

  function subjectOf(cert: CertificateFacts): string | undefined {
    if (cert.mapping?.name !== undefined) return cert.mapping.name;
    switch (options.subjectFrom) {
      case 'subject':
        return normaliseDn(cert.subject);
      case 'san':
        return cert.sans[0];
      case 'fingerprint':
        return cert.fingerprint;
      default:
        return cert.commonName;
    }
  }

  return {
    method: 'mtls',
    challenge: `Mutual realm="${options.realm}"`,
    authenticate(ctx): Identity | Promise<Identity> | undefined {
      const socket = ctx.tlsSocket;
      if (socket === undefined) return undefined;
      const raw = socket.getPeerCertificate().raw as Buffer | undefined;
      if (raw === undefined || raw.length === 0) return undefined;
      if (options.requireTrusted && !socket.authorized) {
        const code = String(socket.authorizationError ?? 'unverified').toLowerCase();
        throw new AuthenticationFailure(`mtls_untrusted_${code}`);
      }
      const cert = learn(socket, raw);
      const at = now();
      if (at < cert.notBefore)
        throw new AuthenticationFailure('mtls_not_yet_valid', { credentialId: cert.fingerprint });
      if (at > cert.notAfter)
        throw new AuthenticationFailure('mtls_expired', { credentialId: cert.fingerprint });
      if (options.revoked?.has(cert.certificate))
        throw new AuthenticationFailure('mtls_revoked', { credentialId: cert.fingerprint });
      if (cert.mapping === undefined && options.requireMapping) {
        throw new AuthenticationFailure('mtls_unmapped', { credentialId: cert.fingerprint });
      }
      const mapping = cert.mapping;
      const ref = mapping === undefined ? undefined : consumerRef(mapping);
      if (ref === undefined || options.directory === undefined) return identityOf(cert, undefined);
      const known = options.directory.cached(ref);
      if (known !== undefined) return identityOf(cert, known);
      return options.directory.load(ref).then(
        (consumer) => identityOf(cert, consumer),
        (error: unknown) => {
          throw new GatewayError('authn_unavailable', {
            reason: 'mtls_consumer_lookup_failed',
            cause: error,
            headers: { 'retry-after': '5' },
          });
        },
      );
    },
  };

  function identityOf(cert: CertificateFacts, consumer: Consumer | null | undefined): Identity {
    const mapping = cert.mapping;
    if (consumer === null)
      throw new AuthenticationFailure('mtls_consumer_missing', { credentialId: cert.fingerprint });
    if (consumer?.disabled === true) {
      throw new AuthenticationFailure('mtls_consumer_disabled', { credentialId: cert.fingerprint });
    }
    const subject = mapping?.name ?? consumer?.name ?? subjectOf(cert);
    if (subject === undefined)
      throw new AuthenticationFailure('mtls_no_subject', { credentialId: cert.fingerprint });
    const consumerId = consumer?.id ?? mapping?.consumerId;
    const tenant = mapping?.tenant ?? consumer?.tenant ?? undefined;
    return Object.freeze({
      subject,
      method: 'mtls',
      credentialId: cert.fingerprint,
      roles: Object.freeze([...new Set([...(mapping?.roles ?? []), ...(consumer?.roles ?? [])])]),
      scopes: Object.freeze([...(mapping?.scopes ?? [])]),
      attributes: Object.freeze({
        ...(consumer?.attributes ?? {}),
        certificateSubject: normaliseDn(cert.subject),
        certificateFingerprint: cert.fingerprint,
        certificateThumbprint: cert.thumbprint,
        ...(cert.sans.length > 0 ? { certificateSan: cert.sans } : {}),
      }),
      expiresAt: cert.notAfter,
      ...(consumerId === undefined ? {} : { consumerId }),
      ...(tenant === undefined ? {} : { tenant }),
    });
  }
}

function consumerRef(mapping: ClientCertMappingConfig): ConsumerRef | undefined {
  if (mapping.consumerId !== undefined) return { id: mapping.consumerId };
  if (mapping.consumer !== undefined) return { name: mapping.consumer };
  return undefined;
}

function readCas(file: string): X509Certificate[] {
  const pem = readFileSync(file, 'utf8');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((block) => new X509Certificate(block));
}

export const clientCertFactory: AuthenticatorFactory = {
  kind: 'mtls',
  globalKey: 'mtls',
  globalSchema: clientCertSectionSchema,
  async create(instance, build) {
    if (instance !== undefined) return build.fail('`mtls` takes no instance name (write `mtls`)');
    const authn = build.config.authn as { mtls?: ClientCertConfig; realm?: string } | undefined;
    const config = authn?.mtls ?? {};
    let cas: X509Certificate[] = [];
    if (config.ca !== undefined) {
      try {
        cas = readCas(build.resolvePath(config.ca));
      } catch (error) {
        return build.fail(`cannot read CA file: ${(error as Error).message}`, '/authn/mtls/ca');
      }
      if (cas.length === 0) return build.fail('no PEM certificate in the CA file', '/authn/mtls/ca');
    }
    let revoked: RevokedSerials | undefined;
    if (config.crl !== undefined) {
      if (cas.length === 0) return build.fail('`crl` needs `ca` (the CRL issuer)', '/authn/mtls/crl');
      try {
        revoked = loadCrl(readFileSync(build.resolvePath(config.crl)), cas);
      } catch (error) {
        return build.fail(`cannot use the CRL: ${(error as Error).message}`, '/authn/mtls/crl');
      }
    }
    const consumers = config.consumers ?? [];
    let directory: ConsumerCache | undefined;
    if (consumers.some((entry) => consumerRef(entry) !== undefined)) {
      try {
        const { store, beforeClose } = await credentialServices(
          build.services,
          build.config,
          build.configDir,
        );
        directory = sharedService(build.services, 'authn.mtls.consumers', () => {
          const created = new ConsumerCache(store);
          beforeClose(() => created.close());
          return created;
        });
      } catch (error) {
        return build.fail(
          `consumer mappings need the credential store: ${(error as Error).message}`,
          '/authn/mtls/consumers',
        );
      }
    }
    return createClientCertAuthenticator({
      realm: authn?.realm ?? 'portcullis',
      subjectFrom: config.subjectFrom ?? 'subjectCN',
      requireTrusted: config.requireTrusted ?? true,
      requireMapping: config.requireMapping ?? false,
      cas,
      revoked,
      consumers,
      ...(directory === undefined ? {} : { directory }),
    });
  },
};
