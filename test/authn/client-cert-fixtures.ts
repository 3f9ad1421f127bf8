import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: Pem;
  readonly server: Pem;
  readonly client: Pem;
  readonly client2: Pem;
  readonly expired: Pem;
  readonly revoked: Pem;
  readonly otherCa: Pem;
  readonly rogue: Pem;
  readonly crlFile: string;
  cleanup(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A small PKI made with the `openssl` CLI in a fresh temp dir: CA, clients, a CRL, a rogue CA. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pki-'));
  const run = (args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const read = (name: string): Pem => ({
    cert: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    key: readFileSync(join(dir, `${name}.key`), 'utf8'),
    certFile: join(dir, `${name}.crt`),
  });

  function makeCa(name: string, cn: string): void {
    mkdirSync(join(dir, `${name}-db`, 'newcerts'), { recursive: true });
    writeFileSync(join(dir, `${name}-db`, 'index.txt'), '');
    writeFileSync(join(dir, `${name}-db`, 'serial'), '1000\n');
    writeFileSync(join(dir, `${name}-db`, 'crlnumber'), '01\n');
    writeFileSync(
      join(dir, `${name}.cnf`),
      [
        '[ ca ]',
        'default_ca = CA_default',
        '[ CA_default ]',
        `dir = ${join(dir, `${name}-db`)}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/newcerts',
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'default_md = sha256',
        'default_days = 2',
        'default_crl_days = 2',
        'policy = policy_any',
        'unique_subject = no',
        'copy_extensions = copy',
        '[ policy_any ]',
        'commonName = supplied',
        'organizationName = optional',
        '[ client_ext ]',
        'basicConstraints = CA:FALSE',
        'keyUsage = critical,digitalSignature',
        'extendedKeyUsage = clientAuth',
        '',
      ].join('\n'),
    );
    run([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }

  function makeClient(ca: string, name: string, cn: string, dates?: [string, string]): void {
    run([
      'req',
      '-new',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}/O=Acme`,
      '-addext',
      `subjectAltName=DNS:${cn}.internal,URI:spiffe://acme/${cn}`,
    ]);
    const validity = dates === undefined ? [] : ['-startdate', dates[0], '-enddate', dates[1]];
    run([
      'ca',
      '-batch',
      '-notext',
      '-config',
      `${ca}.cnf`,
      '-keyfile',
      `${ca}.key`,
      '-cert',
      `${ca}.crt`,
      '-extensions',
      'client_ext',
      '-in',
      `${name}.csr`,
      '-out',
      `${name}.crt`,
      ...validity,
    ]);
  }

  makeCa('ca', 'Portcullis Test CA');
  makeCa('other-ca', 'Rogue CA');
  run([
    'req',
    '-x509',
    ...EC,
    '-keyout',
    'server.key',
    '-out',
    'server.crt',
    '-subj',
    '/CN=localhost',
    '-days',
    '2',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  makeClient('ca', 'client', 'svc-a');
  makeClient('ca', 'client2', 'svc-b');
  makeClient('ca', 'expired', 'svc-old', ['200101000000Z', '200201000000Z']);
  makeClient('ca', 'revoked', 'svc-revoked');
  makeClient('other-ca', 'rogue', 'svc-a');
  run(['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-revoke', 'revoked.crt']);
  run(['ca', '-config', 'ca.cnf', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-gencrl', '-out', 'crl.pem']);

  return {
    dir,
    ca: read('ca'),
    server: read('server'),
    client: read('client'),
    client2: read('client2'),
    expired: read('expired'),
    revoked: read('revoked'),
    otherCa: read('other-ca'),
    rogue: read('rogue'),
    crlFile: join(dir, 'crl.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
