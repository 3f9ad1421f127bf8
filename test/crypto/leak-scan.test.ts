import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run as secretsCli } from '../../src/cli/commands/secrets.js';
import { keyringSectionsFromRaw, openSecretsForConfig } from '../../src/crypto/config-secrets.js';
import { setSecret } from '../../src/crypto/secrets.js';
import { prepareSecretsService, sharedSecretResolver } from '../../src/crypto/secrets-service.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { writeKekFile } from './helpers.js';

const ISSUER = 'https://gw.test';

test(
  'known secrets never appear in logs, answers, metrics, CLI output or the store files',
  { timeout: 60_000 },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-leak-'));
    let upstream: TestUpstream | undefined;
    let gw: TestGateway | undefined;
    try {
      upstream = await startUpstream();
      const adminToken = randomBytes(30).toString('base64url');
      const storedValue = `stored-${randomBytes(16).toString('hex')}`;
      await writeKekFile(dir, 'kek.key');
      const config = {
        store: { type: 'sqlite', path: './store.db' },
        secrets: { kek: { provider: 'file', path: './kek.key' } },
        admin: { host: '127.0.0.1', port: 0, token: '${secret:admin-token}' },
        oauthServer: { issuer: ISSUER, tokenTtlSec: 300 },
        authn: { jwt: { issuers: { gateway: { local: true, algorithms: ['ES256'], typ: 'at+jwt' } } } },
        upstreams: { echo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'oauth',
            match: { pathPrefix: '/oauth' },
            public: true,
            oauthServer: { basePath: '/oauth' },
          },
          {
            name: 'api',
            match: { pathPrefix: '/api' },
            upstream: 'echo',
            authentication: { anyOf: ['api_key', 'jwt:gateway'] },
            authorization: { roles: { authenticated: { permissions: ['*'] } } },
          },
        ],
      };
      const configFile = join(dir, 'portcullis.yaml');
      const seeded = await openSecretsForConfig(await keyringSectionsFromRaw(config, configFile));
      try {
        await setSecret(seeded.keyring, seeded.store, 'admin-token', adminToken);
        await setSecret(seeded.keyring, seeded.store, 'upstream-password', storedValue);
      } finally {
        await seeded.close();
      }

      const shared = new Map<string, unknown>();
      gw = await startGateway(config, {
        dir,
        shared,
        logLevel: 'debug',
        resolveSecret: sharedSecretResolver({ shared }),
        prepare: async (raw, services) => {
          await prepareSecretsService(raw, configFile, services);
        },
      });
      const gateway = gw;
      const scanned: string[] = [];
      const status = async (response: Response): Promise<number> => {
        scanned.push(`${response.status} ${JSON.stringify([...response.headers])}\n${await response.text()}`);
        return response.status;
      };
      const admin = (path: string, body?: unknown) =>
        fetch(`${gateway.adminUrl}${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });

      // creation answers are the one place a new key or client secret is shown: not scanned
      const consumer = (await (
        await admin('/admin/consumers', { name: 'shop', roles: ['reader'] })
      ).json()) as {
        id: string;
      };
      const apiKey = (
        (await (await admin(`/admin/consumers/${consumer.id}/keys`, {})).json()) as { key: string }
      ).key;
      const client = (await (
        await admin(`/admin/consumers/${consumer.id}/clients`, { allowedScopes: ['orders:read'] })
      ).json()) as { clientId: string; clientSecret: string };
      assert.equal(typeof apiKey, 'string');
      assert.equal(typeof client.clientSecret, 'string');

      // good and bad uses of every credential
      assert.equal(
        await status(await fetch(`${gateway.url}/api/a`, { headers: { 'x-api-key': apiKey } })),
        200,
      );
      const tampered = apiKey.slice(0, -3) + (apiKey.endsWith('AAA') ? 'BBB' : 'AAA');
      assert.equal(
        await status(await fetch(`${gateway.url}/api/b`, { headers: { 'x-api-key': tampered } })),
        401,
      );
      assert.equal(
        await status(await fetch(`${gateway.url}/api/c?api_key=${encodeURIComponent(apiKey)}`)),
        401,
      );
      const tokenRequest = (secret: string) =>
        fetch(`${gateway.url}/oauth/token`, {
          method: 'POST',
          headers: {
            authorization: `Basic ${Buffer.from(`${client.clientId}:${secret}`).toString('base64')}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: 'grant_type=client_credentials',
        });
      const tokenResponse = await tokenRequest(client.clientSecret);
      assert.equal(tokenResponse.status, 200);
      const accessToken = ((await tokenResponse.json()) as { access_token: string }).access_token;
      assert.equal(await status(await tokenRequest(`${client.clientSecret}x`)), 401);
      const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
      assert.equal(await status(await fetch(`${gateway.url}/api/d`, bearer(accessToken))), 200);
      assert.equal(await status(await fetch(`${gateway.url}/api/e`, bearer(`${accessToken}x`))), 401);
      await status(await admin('/admin/consumers'));
      await status(await admin(`/admin/keys?consumer=${consumer.id}`));
      await status(await admin(`/admin/clients?consumer=${consumer.id}`));
      await status(await fetch(`${gateway.adminUrl}/metrics`));
      assert.equal(
        await status(await fetch(`${gateway.adminUrl}/admin/consumers`, bearer(`${adminToken}x`))),
        401,
      );

      const cliOut: string[] = [];
      const io = { stdout: (s: string) => void cliOut.push(s), stderr: (s: string) => void cliOut.push(s) };
      assert.equal(await secretsCli(['--config', configFile, 'list', '--all', '--json'], io), 0);
      assert.equal(await secretsCli(['--config', configFile, 'list'], io), 0);
      scanned.push(...cliOut);

      const storeFiles = (await readdir(dir)).filter((f) => f.startsWith('store.db'));
      assert.ok(storeFiles.length >= 1);
      const atRest = await Promise.all(storeFiles.map((f) => readFile(join(dir, f))));
      const kek = (await readFile(join(dir, 'kek.key'), 'utf8')).trim();

      const outputs = scanned.join('\n') + '\n' + gateway.logText();
      const needles: [string, string][] = [
        ['admin token', adminToken],
        ['stored secret', storedValue],
        ['API key', apiKey],
        ['client secret', client.clientSecret],
        ['access token', accessToken],
        ['KEK', kek],
      ];
      for (const [what, value] of needles) {
        assert.ok(!outputs.includes(value), `${what} leaked into logs, answers or CLI output`);
        if (what === 'access token') continue;
        for (const bytes of atRest)
          assert.ok(!bytes.includes(Buffer.from(value)), `${what} is stored in clear`);
      }
      assert.ok(gateway.logText().length > 0, 'the gateway did log');
    } finally {
      await gw?.close();
      await upstream?.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
