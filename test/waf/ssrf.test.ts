import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSsrf } from '../../src/waf/ssrf.js';
import { embeddedIPv4, isBlockedAddress } from '../../src/waf/ip-ranges.js';

describe('SSRF address checks', () => {
  test('alternative IPv4 spellings are canonicalised before the range check', async () => {
    const ssrf = compileSsrf({ lookup: async () => [] });
    for (const url of [
      'http://2130706433/',
      'http://017700000001/',
      'http://0x7f.0x0.0x0.0x1/',
      'http://0x7f.1/',
      'http://127.1/',
      'http://0/',
      'http://2852039166/latest/meta-data/',
      'http://0251.0376.0251.0376/',
      'http://１２７.０.０.１/',
      'http:\\\\127.0.0.1\\admin',
      'http://user:pass@127.0.0.1/',
    ]) {
      assert.equal((await ssrf.check(url)).blocked, true, url);
    }
  });
  test('IPv6 loopback, ULA (fd00:ec2::254), link-local and IPv4-mapped / NAT64 / 6to4 forms are blocked', () => {
    for (const address of [
      '::1',
      '::',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::a9fe:a9fe',
      '2002:7f00:1::',
      '::127.0.0.1',
    ]) {
      assert.equal(isBlockedAddress(address), true, address);
    }
    assert.equal(embeddedIPv4('::ffff:169.254.169.254'), '169.254.169.254');
    for (const address of [
      '8.8.8.8',
      '93.184.215.14',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '100.128.0.1',
      '172.32.0.1',
    ]) {
      assert.equal(isBlockedAddress(address), false, address);
    }
  });
  test('private, CGNAT, metadata and internal names are blocked; schemes other than http(s) too', async () => {
    const ssrf = compileSsrf({ lookup: async () => ['93.184.215.14'] });
    for (const url of [
      'http://10.1.2.3/',
      'http://172.16.5.4/',
      'http://192.168.0.1/',
      'http://100.64.0.1/',
      'http://169.254.169.254/',
      'http://100.100.100.200/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://metadata.google.internal./',
      'http://db.internal/',
      'http://printer.local/',
      'file:///etc/passwd',
      'gopher://example.com/',
      'dict://example.com:11211/',
    ]) {
      assert.equal((await ssrf.check(url)).blocked, true, url);
    }
    assert.equal((await ssrf.check('https://example.com/hook')).blocked, false);
  });
});

describe('SSRF name resolution', () => {
  test('a name that resolves to loopback (localhost, through the real resolver) is refused', async () => {
    const verdict = await compileSsrf().check('http://localhost:6379/');
    assert.deepEqual(verdict, { blocked: true, reason: 'resolves-private' });
  });
  test('every resolved address is checked: one private address among public ones is enough', async () => {
    const ssrf = compileSsrf({ lookup: async () => ['93.184.215.14', '10.0.0.7'] });
    assert.deepEqual(await ssrf.check('https://rebind.example/'), {
      blocked: true,
      reason: 'resolves-private',
    });
  });
  test('verdicts are cached per host for a short time, so repeated names are resolved once', async () => {
    let lookups = 0;
    const lookup = async (): Promise<readonly string[]> => {
      lookups++;
      return ['10.0.0.9'];
    };
    const ssrf = compileSsrf({ lookup });
    assert.equal((await ssrf.check('https://same.example/a')).blocked, true);
    assert.equal((await ssrf.check('https://same.example:8443/b')).blocked, true);
    assert.equal(lookups, 1);
    const uncached = compileSsrf({ lookup, cacheTtlMs: 0 });
    await uncached.check('https://same.example/a');
    await uncached.check('https://same.example/a');
    assert.equal(lookups, 3);
  });
  test('unresolvable names are refused by default, accepted with onResolveError: allow', async () => {
    const failing = async (): Promise<readonly string[]> => {
      throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    assert.deepEqual(await compileSsrf({ lookup: failing }).check('https://nx.example/'), {
      blocked: true,
      reason: 'unresolvable',
    });
    assert.equal(
      (await compileSsrf({ lookup: failing, onResolveError: 'allow' }).check('https://nx.example/')).blocked,
      false,
    );
  });
  test('a resolver that hangs is cut off by the timeout', async () => {
    const hanging = () => new Promise<readonly string[]>(() => undefined);
    // the stage's timer is unref'd (a server keeps the loop alive in the gateway): hold it here
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      assert.deepEqual(
        await compileSsrf({ lookup: hanging, resolveTimeoutMs: 20 }).check('https://slow.example/'),
        {
          blocked: true,
          reason: 'unresolvable',
        },
      );
    } finally {
      clearInterval(keepAlive);
    }
  });
});

describe('SSRF host allow-list', () => {
  test('allowHosts accepts listed hosts whatever they resolve to, without a look-up', async () => {
    let lookups = 0;
    const ssrf = compileSsrf({
      allowHosts: ['hooks.internal.example', '*.partner.example'],
      lookup: async () => {
        lookups++;
        return ['10.0.0.1'];
      },
    });
    assert.equal((await ssrf.check('https://hooks.internal.example/x')).blocked, false);
    assert.equal((await ssrf.check('https://a.b.partner.example/x')).blocked, false);
    assert.equal(lookups, 0);
    assert.equal((await ssrf.check('https://partner.example.evil.example/x')).blocked, true);
    assert.equal((await ssrf.check('https://evilpartner.example/x')).blocked, true);
  });
  test('allowListOnly refuses every other host, even public ones', async () => {
    const ssrf = compileSsrf({
      allowHosts: ['api.example.com'],
      allowListOnly: true,
      lookup: async () => ['93.184.215.14'],
    });
    assert.equal((await ssrf.check('https://api.example.com/')).blocked, false);
    assert.deepEqual(await ssrf.check('https://example.org/'), { blocked: true, reason: 'not-allowed' });
  });
});
