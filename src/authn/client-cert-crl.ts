import { verify as verifySignature, type X509Certificate } from 'node:crypto';

/** Serial numbers revoked by a verified CRL, scoped to the CA that signed it. */
export interface RevokedSerials {
  /** True when `certificate` is revoked, or when the CRL is past `nextUpdate` (fail closed). */
  has(certificate: X509Certificate): boolean;
  readonly size: number;
  readonly nextUpdate: number | undefined;
}

interface Node {
  readonly tag: number;
  /** Offset of the whole element (header included). */
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads one DER element header at `offset` (definite lengths only, as DER requires). */
function readNode(der: Buffer, offset: number, limit: number): Node {
  if (offset + 2 > limit) throw new Error('truncated DER');
  const tag = der[offset] as number;
  let length = der[offset + 1] as number;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > limit) throw new Error('bad DER length');
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (der[contentStart + i] as number);
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > limit) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

function children(der: Buffer, parent: Node): Node[] {
  const out: Node[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const node = readNode(der, offset, parent.end);
    out.push(node);
    offset = node.end;
  }
  return out;
}

function decodeOid(bytes: Buffer): string {
  const first = bytes[0] as number;
  const parts = [Math.floor(first / 40), first % 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i += 1) {
    const byte = bytes[i] as number;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(value);
      value = 0;
    }
  }
  return parts.join('.');
}

function decodeTime(der: Buffer, node: Node): number {
  const text = der.subarray(node.contentStart, node.end).toString('latin1');
  const match =
    node.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) throw new Error('bad CRL time');
  let year = Number(match[1]);
  if (node.tag === 0x17) year += year < 50 ? 2000 : 1900;
  return Date.UTC(
    year,
    Number(match[2]) - 1,
    Number(match[3]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6]),
  );
}

const serialKey = (hex: string): string => hex.toUpperCase().replace(/^0+(?=.)/, '');

/** Signature algorithm OID → node:crypto digest (null for Ed25519/Ed448). */
const SIGNATURE_DIGESTS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

function toDer(file: Buffer): Buffer {
  const text = file.toString('latin1');
  const pem = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(text);
  return pem === null ? file : Buffer.from((pem[1] as string).replace(/\s+/g, ''), 'base64');
}

/**
 * Parses an X.509 CRL (RFC 5280 §5), checks its signature with node:crypto against one of `cas`
 * and returns the revoked serials. Only the element boundaries are read here; every
 * cryptographic check is node:crypto's.
 */
export function loadCrl(
  file: Buffer,
  cas: readonly X509Certificate[],
  now: () => number = Date.now,
): RevokedSerials {
  const der = toDer(file);
  const root = readNode(der, 0, der.length);
  const [tbs, algorithm, signature] = children(der, root);
  if (root.tag !== 0x30 || tbs?.tag !== 0x30 || algorithm?.tag !== 0x30 || signature?.tag !== 0x03)
    throw new Error('not a CRL');
  const oidNode = children(der, algorithm)[0];
  if (oidNode?.tag !== 0x06) throw new Error('bad CRL signature algorithm');
  const oid = decodeOid(der.subarray(oidNode.contentStart, oidNode.end));
  if (!Object.hasOwn(SIGNATURE_DIGESTS, oid)) throw new Error(`unsupported CRL signature algorithm ${oid}`);
  const digest = SIGNATURE_DIGESTS[oid] ?? null;
  const tbsBytes = der.subarray(tbs.start, tbs.end);
  const signatureBytes = der.subarray(signature.contentStart + 1, signature.end);
  const issuer = cas.find((ca) => {
    try {
      return verifySignature(digest, tbsBytes, ca.publicKey, signatureBytes);
    } catch {
      return false;
    }
  });
  if (issuer === undefined) throw new Error('the CRL signature does not verify against any configured CA');

  const fields = children(der, tbs);
  let index = fields[0]?.tag === 0x02 ? 1 : 0; // optional version
  index += 2; // signature algorithm, issuer
  const thisUpdate = fields[index];
  if (thisUpdate === undefined || (thisUpdate.tag !== 0x17 && thisUpdate.tag !== 0x18))
    throw new Error('bad CRL thisUpdate');
  index += 1;
  let nextUpdate: number | undefined;
  const maybeNext = fields[index];
  if (maybeNext !== undefined && (maybeNext.tag === 0x17 || maybeNext.tag === 0x18)) {
    nextUpdate = decodeTime(der, maybeNext);
    index += 1;
  }
  const serials = new Set<string>();
  const revokedList = fields[index];
  if (revokedList !== undefined && revokedList.tag === 0x30) {
    for (const entry of children(der, revokedList)) {
      const serial = children(der, entry)[0];
      if (serial?.tag !== 0x02) throw new Error('bad CRL entry');
      serials.add(serialKey(der.subarray(serial.contentStart, serial.end).toString('hex')));
    }
  }
  return {
    size: serials.size,
    nextUpdate,
    has(certificate) {
      if (!certificate.checkIssued(issuer)) return false;
      if (nextUpdate !== undefined && now() > nextUpdate) return true;
      return serials.has(serialKey(certificate.serialNumber));
    },
  };
}
